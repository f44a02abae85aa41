//! The store on both engines (a SQLite file and a real PostgreSQL server):
//! migrations, the demo load, queries, edits with optimistic concurrency,
//! and the errors a user sees.

mod common;
use common::TestDb;

use countersign::Store;
use countersign::inventory::{ChangeSet, Inventory, MergeMode, Operation, file};
use countersign::model::{IdentityKind, Tier, Usage};
use countersign::store::{ChangeContext, Edit, StoreError};

async fn with_demo(db: &TestDb) -> Store {
    let store = db.open().await;
    countersign::demo::load(&store, false, "tester")
        .await
        .unwrap();
    store
}

fn ctx() -> ChangeContext {
    ChangeContext::new("alice", "test")
}

async fn migrations_create_an_empty_inventory(db: TestDb) {
    let store = db.open().await;
    assert!(store.counts().await.unwrap().is_empty());
    let folder = match db {
        TestDb::Sqlite(_) => "sqlite",
        TestDb::Postgres { .. } => "postgres",
    };
    let migrations = std::fs::read_dir(format!(
        "{}/migrations/{folder}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .count() as i64;
    assert_eq!(
        store.schema_version().await.unwrap(),
        migrations,
        "every migration applied"
    );
    // Opening again finds nothing to do.
    store.close().await;
    assert_eq!(db.open().await.schema_version().await.unwrap(), migrations);
}

#[tokio::test]
async fn a_sqlite_database_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("inv.db")).await.unwrap();
    store.close().await;
    let header = std::fs::read(dir.path().join("inv.db")).unwrap();
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!(
        (header[18], header[19]),
        (2, 2),
        "file format versions 2 = WAL"
    );
}

async fn reopening_keeps_data(db: TestDb) {
    let store = with_demo(&db).await;
    store.close().await;
    let store = db.open().await;
    assert_eq!(store.counts().await.unwrap().identities, 41);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn demo_load_round_trips_through_the_store_and_is_idempotent(db: TestDb) {
    let store = with_demo(&db).await;
    let counts = store.counts().await.unwrap();
    assert_eq!(
        (counts.identities, counts.services, counts.owners),
        (41, 25, 12)
    );
    // Every field of every entity survives the database.
    let mut expected = countersign::demo::inventory().unwrap();
    expected.sort();
    assert_eq!(store.snapshot().await.unwrap(), expected);

    let again = countersign::demo::load(&store, false, "tester")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.changes, 0, "a second load changes nothing");
    assert_eq!(
        countersign::demo::load(&store, true, "tester")
            .await
            .unwrap(),
        None
    );
}

async fn identity_detail_lists_the_services_that_use_it(db: TestDb) {
    let store = with_demo(&db).await;
    let d = store.identity_detail("tok-kafka-shared").await.unwrap();
    assert_eq!(d.identity.kind, IdentityKind::Token);
    assert_eq!(d.identity.owner.as_deref(), Some("team-streaming"));
    let ids: Vec<_> = d.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[0], "payments-api", "in the documented order");
    assert_eq!(d.version, 1);
    let parent = store.identity_detail("sa-payments-api").await.unwrap();
    assert_eq!(parent.derived, ["wi-payments-api"]);

    let err = store.identity_detail("no-such-thing").await.unwrap_err();
    assert!(matches!(err, StoreError::IdentityNotFound(ref id) if id == "no-such-thing"));
}

async fn search_matches_id_name_owner_and_kind_and_treats_wildcards_literally(db: TestDb) {
    let store = with_demo(&db).await;
    let all = store.list_identities(None, None, None).await.unwrap().rows;
    assert_eq!(all.len(), 41);
    assert!(all.windows(2).all(|w| w[0].tier <= w[1].tier));
    assert_eq!(
        store
            .list_identities(Some("team-risk"), None, None)
            .await
            .unwrap()
            .rows
            .len(),
        2
    );
    let bg = store
        .list_identities(Some("break_glass"), None, None)
        .await
        .unwrap()
        .rows;
    assert_eq!(bg.len(), 2);
    assert!(bg.iter().all(|r| r.break_glass));
    let case = store
        .list_identities(Some("KAFKA"), None, None)
        .await
        .unwrap()
        .rows;
    assert_eq!(
        (case[0].id.as_str(), case[0].used_by_count),
        ("tok-kafka-shared", 6)
    );
    assert!(
        store
            .list_identities(Some("%"), None, None)
            .await
            .unwrap()
            .rows
            .is_empty()
    );

    let services = store
        .list_services(Some("payments-api"), None, None)
        .await
        .unwrap()
        .rows;
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].service.tier, Tier::MOST_CRITICAL);
    assert_eq!(
        services[0].service.depends_on,
        [
            "ledger-db",
            "auth-gateway",
            "kafka-events",
            "card-processor"
        ]
    );
}

/// The lists are read a page at a time (issue 20: a 250k-identity
/// inventory opens on its first page): pages continue one another in list
/// order, without repeats or gaps even when rows are added between pages;
/// the first page carries the total.
async fn lists_are_paged_in_list_order(db: TestDb) {
    let store = with_demo(&db).await;
    let whole = store.list_identities(None, None, None).await.unwrap();
    assert_eq!(whole.total, Some(41));
    assert_eq!(whole.next, None);
    let mut paged = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_identities(None, after.as_ref(), Some(7))
            .await
            .unwrap();
        assert_eq!(page.total, if pages == 0 { Some(41) } else { None });
        assert!(page.rows.len() <= 7);
        paged.extend(page.rows);
        pages += 1;
        if pages == 2 {
            // Added after the pages read so far, in list order: the
            // next pages include it once.
            let mut late = store.identity("key-maps").await.unwrap();
            late.id = "zz-late".into();
            late.name = "ZZ late".into();
            late.tier = Tier::try_from(3).unwrap();
            late.external_ids.clear();
            store
                .edit(Edit::SaveIdentity(Box::new(late)), None, &ctx())
                .await
                .unwrap();
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let now = store.list_identities(None, None, None).await.unwrap().rows;
    assert_eq!(now.len(), 42);
    assert_eq!(paged, now, "pages make up the list, in order");
    assert_eq!(pages, 6);

    let search = store
        .list_identities(Some("payments"), None, Some(2))
        .await
        .unwrap();
    let all_matching = store
        .list_identities(Some("payments"), None, None)
        .await
        .unwrap();
    assert_eq!(search.total, all_matching.total);
    assert_eq!(search.rows, all_matching.rows[..2]);
    let rest = store
        .list_identities(Some("payments"), search.next.as_ref(), None)
        .await
        .unwrap();
    assert_eq!(rest.total, None);
    assert_eq!(
        [search.rows, rest.rows].concat(),
        all_matching.rows,
        "a search pages like the whole list"
    );

    let services = store.list_services(None, None, None).await.unwrap();
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_services(None, after.as_ref(), Some(5))
            .await
            .unwrap();
        paged.extend(page.rows);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(Some(paged.len() as u32), services.total);
    assert_eq!(paged, services.rows);
    assert!(services.rows.windows(2).all(
        |w| (w[0].service.tier, &w[0].service.name) <= (w[1].service.tier, &w[1].service.name)
    ));
}

/// Needs attention is checked while the inventory is read in batches and
/// keeps only the page asked for: the same findings as the whole-inventory
/// rules, whatever the batch size, with every rule counted.
async fn attention_is_checked_in_batches_and_paged(db: TestDb) {
    use countersign::attention::{Query, Severity, findings};
    let store = with_demo(&db).await;
    let snapshot = store.snapshot().await.unwrap();
    let today = jiff::ZonedDateTime::now().date();
    let expected = findings(
        &snapshot,
        today,
        store.attention_thresholds().await.unwrap(),
    );
    assert_eq!(store.attention().await.unwrap(), expected);

    // Batches of 4 read the same identities, in the same order.
    let mut batched = Vec::new();
    let mut sizes = Vec::new();
    store
        .identities_in_batches(4, |b| {
            sizes.push(b.len());
            batched.extend(b);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(batched, snapshot.identities);
    assert_eq!(sizes.len(), 11, "41 identities in batches of 4");

    let report = store
        .attention_report(Query {
            limit: Some(2),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(report.total as usize, expected.len());
    for severity in [Severity::High, Severity::Medium, Severity::Low] {
        let all: Vec<_> = expected.iter().filter(|f| f.severity == severity).collect();
        assert_eq!(report.count_of(severity) as usize, all.len());
        let first: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        assert_eq!(
            first,
            all[..all.len().min(2)],
            "{severity:?}: the first two"
        );
        // The rest of the severity, page by page.
        let mut paged: Vec<_> = first.into_iter().cloned().collect();
        while let Some(last) = paged.last().filter(|_| paged.len() < all.len()) {
            let page = store
                .attention_report(Query {
                    severity: Some(severity),
                    after: Some(last.key()),
                    limit: Some(3),
                })
                .await
                .unwrap();
            assert!(!page.findings.is_empty() && page.findings.len() <= 3);
            assert!(page.findings.iter().all(|f| f.severity == severity));
            paged.extend(page.findings);
        }
        assert_eq!(paged.iter().collect::<Vec<_>>(), all);
    }
    let counts_only = store
        .attention_report(Query {
            limit: Some(0),
            ..Query::default()
        })
        .await
        .unwrap();
    assert!(counts_only.findings.is_empty());
    assert_eq!(counts_only.total, report.total);

    // The request view's findings: one identity and its services, by key.
    let on = store
        .attention_on(&["tok-kafka-shared".into()], &["payments-api".into()])
        .await
        .unwrap();
    let wanted: Vec<_> = expected
        .iter()
        .filter(|f| {
            (f.entity == "identity" && f.id == "tok-kafka-shared")
                || (f.entity == "service" && f.id == "payments-api")
        })
        .cloned()
        .collect();
    assert!(!wanted.is_empty());
    assert_eq!(on, wanted);
}

async fn an_edit_is_audited_with_before_and_after(db: TestDb) {
    let store = with_demo(&db).await;
    let mut i = store.identity("key-maps").await.unwrap();
    i.owner = Some("team-checkout".into());
    i.used_by.push(Usage::of("mobile-backend"));
    let change = store
        .edit(Edit::SaveIdentity(Box::new(i.clone())), Some(1), &ctx())
        .await
        .unwrap()
        .expect("a change");
    assert_eq!(change.operation, Operation::Update);
    assert_eq!(change.changed_fields(), ["owner", "used_by"]);
    assert_eq!(store.identity("key-maps").await.unwrap(), i);
    let log = store
        .audit_log(Some(("identity", "key-maps")), 10)
        .await
        .unwrap();
    assert_eq!(log[0].actor, "alice");
    assert!(log[0].before.as_ref().unwrap().contains("team-web"));
    assert!(log[0].after.as_ref().unwrap().contains("team-checkout"));
    assert_eq!(store.identity_detail("key-maps").await.unwrap().version, 2);

    // Saving the same thing again is not a change.
    assert!(
        store
            .edit(Edit::SaveIdentity(Box::new(i)), Some(2), &ctx())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_stale_edit_is_refused_not_lost(db: TestDb) {
    let store = with_demo(&db).await;
    let mut mine = store.identity("key-maps").await.unwrap();
    let mut theirs = mine.clone();
    theirs.description = "theirs".into();
    store
        .edit(Edit::SaveIdentity(Box::new(theirs)), Some(1), &ctx())
        .await
        .unwrap();
    mine.description = "mine".into();
    let err = store
        .edit(Edit::SaveIdentity(Box::new(mine)), Some(1), &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                actual: Some(2),
                ..
            }
        ),
        "{err}"
    );
    // The refusal shows the change that got there first.
    let text = err.to_string();
    assert!(text.contains("was changed by alice at "), "{text}");
    assert!(text.contains("(description)"), "{text}");
    assert!(
        text.contains("reload it and apply your change again"),
        "{text}"
    );
    assert_eq!(
        store.identity("key-maps").await.unwrap().description,
        "theirs"
    );
}

async fn invalid_edits_and_blocked_deletes_explain_themselves(db: TestDb) {
    let store = with_demo(&db).await;
    let mut i = store.identity("key-maps").await.unwrap();
    i.used_by.push(Usage::of("no-such-service"));
    let err = store
        .edit(Edit::SaveIdentity(Box::new(i)), None, &ctx())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "identities (id \"key-maps\").used_by: unknown service \"no-such-service\""
    );

    let err = store
        .edit(Edit::DeleteService("ledger-db".into()), None, &ctx())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot delete service \"ledger-db\": "),
        "{err}"
    );
    let err = store
        .edit(Edit::DeleteIdentity("sa-payments-api".into()), None, &ctx())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("derived_from still refers to it"),
        "{err}"
    );

    let deleted = store
        .edit(Edit::DeleteIdentity("key-maps".into()), Some(1), &ctx())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.operation, Operation::Delete);
    assert!(matches!(
        store.identity("key-maps").await,
        Err(StoreError::IdentityNotFound(_))
    ));
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn a_change_set_that_fails_half_way_writes_nothing(db: TestDb) {
    let store = db.open().await;
    let inv = file::parse_complete(
        "version: 1\nservices:\n  - {id: a, name: A, tier: 1}\nidentities:\n  - {id: k1, kind: api_key, name: K, environment: production, tier: 1, used_by: [a]}\n",
        "inv.yaml",
    )
    .unwrap();
    let mut set = ChangeSet::plan_import(&Inventory::default(), &inv, MergeMode::Replace);
    // Corrupt the last change the way a bug would: a usage of a missing service.
    let last = set.changes.last_mut().unwrap();
    let Some(countersign::inventory::EntityState::Identity(identity)) = last.after.as_mut() else {
        panic!("the last change is the identity's")
    };
    identity.used_by[0].service = "missing".into();
    let err = store.apply(&set, &ctx()).await.unwrap_err();
    // SQLite says FOREIGN KEY, PostgreSQL names the constraint.
    let text = err.to_string();
    assert!(
        text.contains("FOREIGN KEY") || text.contains("foreign key"),
        "{text}"
    );
    assert!(store.counts().await.unwrap().is_empty());
    assert!(
        store.audit_log(None, 10).await.unwrap().is_empty(),
        "no audit row without its change"
    );
}

#[tokio::test]
async fn bad_paths_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("nope").join("x.db");
    let err = Store::open(&missing_dir).await.unwrap_err().to_string();
    assert!(err.contains(&missing_dir.display().to_string()), "{err}");
    assert!(err.contains("does not exist"), "{err}");

    let err = Store::open(dir.path()).await.unwrap_err().to_string();
    assert!(err.contains("is a directory"), "{err}");

    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, vec![0x5a; 8192]).unwrap();
    let err = Store::open(&corrupt).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(&corrupt.display().to_string()));
}

async fn a_row_the_model_rejects_is_reported_not_panicked_on(db: TestDb) {
    let store = with_demo(&db).await;
    store.close().await;
    db.execute("UPDATE identities SET kind = 'robot' WHERE id = 'key-maps'")
        .await
        .unwrap();
    let store = db.open().await;
    let err = store
        .identity_detail("key-maps")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid kind for identity \"key-maps\""),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_named_without_its_password() {
    let err = Store::connect("postgres://owner:s3cret@127.0.0.1:1/inventory")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:1/inventory"), "{err}");
    assert!(
        !err.contains("s3cret"),
        "the password must not be shown: {err}"
    );
}

async fn services_reviews_settings_and_the_policy_round_trip(db: TestDb) {
    let store = with_demo(&db).await;
    let ledger = store.service_detail("ledger-db").await.unwrap();
    assert_eq!(ledger.version, 1);
    assert!(ledger.identities.contains(&"bg-db-admin".to_owned()));
    assert!(ledger.dependents.contains(&"payments-api".to_owned()));

    let reviewed = store
        .attest_review("key-maps", Some(1), &ctx())
        .await
        .unwrap()
        .expect("a change");
    assert_eq!(reviewed.changed_fields(), ["review"]);
    assert_eq!(
        store.identity("key-maps").await.unwrap().review.unwrap().by,
        "alice"
    );
    let log = store
        .audit_log(Some(("identity", "key-maps")), 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "created by the demo, then reviewed");

    let text =
        countersign::policy::DEFAULT_POLICY.replace("confidence_pct >= 80", "confidence_pct >= 85");
    assert_ne!(text, countersign::policy::DEFAULT_POLICY);
    store.set_approval_policy(&text, &ctx()).await.unwrap();
    assert_eq!(store.approval_policy().await.unwrap().1, text);
    store
        .set_setting("review_stale_days", "30", &ctx())
        .await
        .unwrap();
    assert_eq!(store.review_stale_days().await.unwrap(), 30);
    // The threshold is what attention() applies: an identity reviewed
    // `age` days ago is stale with a threshold of age - 1, not with age + 1
    // (worked out from today, so the check holds on any date).
    let today = jiff::ZonedDateTime::now().date();
    let (id, age) = store
        .snapshot()
        .await
        .unwrap()
        .identities
        .into_iter()
        .filter_map(|i| {
            let age = (today - i.review.as_ref()?.on).get_days();
            (age >= 2).then_some((i.id, age))
        })
        .next()
        .expect("the demo has an identity reviewed days ago");
    let stale = |findings: Vec<countersign::attention::Finding>| {
        findings
            .iter()
            .any(|f| f.id == id && f.rule == countersign::attention::Rule::StaleReview)
    };
    for (threshold, expected) in [(age - 1, true), (age + 1, false)] {
        store
            .set_setting("review_stale_days", &threshold.to_string(), &ctx())
            .await
            .unwrap();
        assert_eq!(
            stale(store.attention().await.unwrap()),
            expected,
            "{id} reviewed {age} days ago, threshold {threshold}"
        );
    }
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// An owner nobody knew yet is created only explicitly, with the edit that
/// names it, in one transaction (issue 19): an existing owner is not
/// "created" over, and a refused edit creates no owner.
async fn a_new_owner_is_created_with_the_edit_or_not_at_all(db: TestDb) {
    use countersign::model::{Owner, OwnerKind};
    let store = with_demo(&db).await;
    let jon = Owner {
        id: "jon".into(),
        kind: OwnerKind::Person,
        name: String::new(),
        email: None,
        parent: None,
        left_on: None,
    };
    // Known: the listed owners, and the ones the inventory names without
    // listing them.
    let known = store.known_owners().await.unwrap();
    let web = known.iter().find(|k| k.id == "team-web").unwrap();
    assert!(!web.listed && web.kind.is_none());
    let sre = known.iter().find(|k| k.id == "team-sre").unwrap();
    assert!(sre.listed && sre.kind == Some(OwnerKind::Team), "{sre:?}");
    assert!(!known.iter().any(|k| k.id == "jon"));
    let mut i = store.identity("key-maps").await.unwrap();
    i.backup_owner = Some("jon".into());
    // Refused (a stale version): neither lands.
    let err = store
        .edit_with(
            vec![Edit::SaveOwner(jon.clone())],
            Edit::SaveIdentity(Box::new(i.clone())),
            Some(7),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(!store.owners().await.unwrap().iter().any(|o| o.id == "jon"));
    let changes = store
        .edit_with(
            vec![Edit::SaveOwner(jon.clone())],
            Edit::SaveIdentity(Box::new(i.clone())),
            Some(1),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.entity.as_str(), c.operation))
            .collect::<Vec<_>>(),
        [
            ("owner", Operation::Create),
            ("identity", Operation::Update)
        ]
    );
    assert!(store.owners().await.unwrap().contains(&jon));
    assert_eq!(
        store
            .identity("key-maps")
            .await
            .unwrap()
            .backup_owner
            .as_deref(),
        Some("jon")
    );
    // Creating an owner that exists is refused, naming it.
    let err = store
        .edit_with(
            vec![Edit::SaveOwner(jon)],
            Edit::SaveIdentity(Box::new(i)),
            Some(2),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("owner \"jon\" already exists"),
        "{err}"
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// An edit is checked against what it touches, read inside its write
/// (issue 20): the rules that span the inventory — external ids unique,
/// lineage without cycles through stored parents, no delete that leaves a
/// stored reference dangling — hold without reading the inventory whole,
/// and an engine graph catches up with edits made through another
/// connection by patching, answering as a rebuild of the store does.
async fn an_edit_is_checked_against_what_it_touches_and_the_graph_patched(db: TestDb) {
    use countersign::graph::blast_radius::BlastGraph;
    use countersign::graph::cache::{GraphCache, Refresh};
    use countersign::model::ContainmentAction;
    let store = with_demo(&db).await;
    let cache = GraphCache::new();
    assert_eq!(cache.refresh(&store).await.unwrap().2, Refresh::Rebuilt);

    // Another identity's external id.
    let mut i = store.identity("key-maps").await.unwrap();
    i.external_ids
        .push("arn:aws:iam::111122223333:role/payments-api".into());
    let err = store
        .edit(Edit::SaveIdentity(Box::new(i)), None, &ctx())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "identities (id \"key-maps\").external_ids: \"arn:aws:iam::111122223333:role/payments-api\" is already the external id of \"sa-payments-api\""
    );
    // A lineage loop through a stored child: the parent derived from
    // what is derived from it.
    let mut parent = store.identity("sa-payments-api").await.unwrap();
    parent.derived_from = Some("wi-payments-api".into());
    let err = store
        .edit(Edit::SaveIdentity(Box::new(parent)), None, &ctx())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lineage forms a cycle"), "{err}");
    // A service still used by a stored identity.
    let err = store
        .edit(Edit::DeleteService("payments-api".into()), None, &ctx())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot delete service \"payments-api\": "),
        "{err}"
    );
    assert_eq!(cache.refresh(&store).await.unwrap().2, Refresh::Current);

    // Edits through another connection (another app, the CLI): created,
    // rewired, deleted.
    let other = db.open().await;
    let mut svc = other.service("ledger-db").await.unwrap();
    svc.id = "ledger-replica".into();
    svc.name = "Ledger replica".into();
    svc.depends_on = vec!["ledger-db".into()];
    other
        .edit(Edit::SaveService(svc), None, &ctx())
        .await
        .unwrap();
    let mut i = other.identity("key-maps").await.unwrap();
    i.used_by.push(Usage::of("ledger-replica"));
    i.derived_from = Some("sa-payments-api".into());
    other
        .edit(Edit::SaveIdentity(Box::new(i)), None, &ctx())
        .await
        .unwrap();
    let mut fresh = other.identity("key-maps").await.unwrap();
    fresh.id = "key-maps-2".into();
    fresh.external_ids.clear();
    other
        .edit(Edit::SaveIdentity(Box::new(fresh)), None, &ctx())
        .await
        .unwrap();
    other
        .edit(Edit::DeleteIdentity("key-maps-2".into()), None, &ctx())
        .await
        .unwrap();
    other.close().await;

    let (_, patched, how) = cache.refresh(&store).await.unwrap();
    assert_eq!(how, Refresh::Patched(4));
    let rebuilt = BlastGraph::new(&store.snapshot().await.unwrap());
    assert_eq!(patched.rank(), rebuilt.rank());
    for x in store.snapshot().await.unwrap().identities {
        for &action in ContainmentAction::ALL {
            assert_eq!(
                patched.blast(&[(x.id.as_str(), action)]),
                rebuilt.blast(&[(x.id.as_str(), action)])
            );
        }
    }
    let hit = patched
        .blast(&[("sa-payments-api", ContainmentAction::DisableAccount)])
        .unwrap();
    assert!(hit.contained.iter().any(|c| c == "key-maps"));
    assert!(hit.impacted.iter().any(|s| s.id == "ledger-replica"));
    assert!(store.verify_audit().await.unwrap().is_ok());
}

on_both_engines!(
    lists_are_paged_in_list_order,
    attention_is_checked_in_batches_and_paged,
    an_edit_is_checked_against_what_it_touches_and_the_graph_patched,
    a_new_owner_is_created_with_the_edit_or_not_at_all,
    services_reviews_settings_and_the_policy_round_trip,
    migrations_create_an_empty_inventory,
    demo_load_round_trips_through_the_store_and_is_idempotent,
    identity_detail_lists_the_services_that_use_it,
    search_matches_id_name_owner_and_kind_and_treats_wildcards_literally,
    an_edit_is_audited_with_before_and_after,
    a_stale_edit_is_refused_not_lost,
    invalid_edits_and_blocked_deletes_explain_themselves,
    a_change_set_that_fails_half_way_writes_nothing,
    reopening_keeps_data,
    a_row_the_model_rejects_is_reported_not_panicked_on,
);

/// The two engines' migrations are kept in step: the same tables with the
/// same columns, and the same migration versions.
#[tokio::test]
async fn both_engines_have_the_same_schema() {
    use sqlx::Connection as _;
    async fn columns(db: &TestDb, sql: &'static str) -> Vec<(String, String)> {
        let url = match db {
            TestDb::Sqlite(_) => format!("sqlite://{}", db.target()),
            TestDb::Postgres { url } => url.clone(),
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let mut rows: Vec<(String, String)> =
            sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
        rows.sort();
        rows
    }
    let (sqlite, postgres) = (TestDb::sqlite(), TestDb::postgres().await);
    sqlite.open().await.close().await;
    postgres.open().await.close().await;
    let a = columns(
        &sqlite,
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> '_sqlx_migrations'",
    )
    .await;
    let b = columns(
        &postgres,
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .await;
    assert!(a.len() > 50, "{a:?}");
    assert_eq!(a, b, "the SQLite and PostgreSQL schemas differ");
    let versions = |folder: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{folder}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        v.sort();
        v
    };
    assert_eq!(versions("sqlite"), versions("postgres"));
}
