//! Review campaigns through the core, on SQLite and PostgreSQL: started
//! over the demo, attested by two owners (a member of the owning team and
//! a backup owner), refused to someone who reviews nothing, overdue once
//! its due date passed; each attestation signed and recorded with its
//! audit row. The export verifies offline with Python's joserfc and
//! rfc8785 and the export's JWKS alone (`--ignored`, as the interop tests).
//!
//! Keys here are held in memory; the CLI's path through the OS keyring is
//! the same `Keys` over `OsKeyring`.

mod common;
use common::TestDb;

use std::sync::Arc;

use countersign::campaign::{self, Answers, CampaignError};
use countersign::signing::{Keys, MemorySecrets};
use countersign::store::{CampaignScope, ChangeContext};

const YES: Answers = Answers {
    still_needed: true,
    owners_right: true,
    consumers_complete: true,
    containment_right: true,
};

async fn campaign_with_two_attestations(db: &TestDb) -> (countersign::Store, serde_json::Value) {
    let store = db.open().await;
    countersign::demo::load(&store, false, "test")
        .await
        .unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    let keys = Keys::new(&store, secrets);
    keys.init(&ChangeContext::new("governance", "test"))
        .await
        .unwrap();
    let due = jiff::civil::date(2026, 10, 1);
    let started = campaign::start(
        &store,
        ("q4-prod", "Q4 production review"),
        CampaignScope {
            environment: Some("production".into()),
            ..CampaignScope::default()
        },
        (due, None),
        &ChangeContext::new("governance", "test"),
    )
    .await
    .unwrap();
    let n = started.items;
    assert!(n > 10, "{n} production identities");
    assert_eq!(started.campaign.due_on, "2026-10-01");
    // Nobody could attest what nobody owns: left out, and named.
    assert_eq!(started.unowned, ["ssh-finance-sftp"]);

    // Li Wei, of the data platform team, confirms one of the team's.
    let li = ChangeContext::new("li.wei", "test");
    let item = campaign::attest(
        &store,
        &keys,
        ("q4-prod", "sa-ledger-writer"),
        (YES, ""),
        None,
        &li,
    )
    .await
    .unwrap();
    assert_eq!(item.verdict.as_deref(), Some("confirmed"));
    // Amira Haddad, its backup owner, says a payments identity needs work.
    let amira = ChangeContext::new("amira.haddad", "test");
    let changes = Answers {
        consumers_complete: false,
        ..YES
    };
    campaign::attest(
        &store,
        &keys,
        ("q4-prod", "sa-payments-api"),
        (
            changes,
            "the reconciliation job is missing from its consumers",
        ),
        None,
        &amira,
    )
    .await
    .unwrap();
    // Nobody else's to attest, and never twice.
    let err = campaign::attest(
        &store,
        &keys,
        ("q4-prod", "sa-payments-api"),
        (YES, ""),
        None,
        &li,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CampaignError::NotTheReviewer { .. }), "{err}");
    let err = campaign::attest(
        &store,
        &keys,
        ("q4-prod", "sa-ledger-writer"),
        (YES, ""),
        None,
        &li,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("not awaiting an attestation"),
        "{err}"
    );

    // Progress, and overdue: the due date has passed with items pending.
    let s = campaign::status(&store, "q4-prod", jiff::civil::date(2026, 12, 2))
        .await
        .unwrap();
    assert_eq!((s.confirmed, s.changes_needed), (1, 1));
    assert_eq!(s.pending, n - 2);
    assert!(s.overdue);
    let data = s
        .by_reviewer
        .iter()
        .find(|r| r.reviewer == "team-data-platform")
        .unwrap();
    assert_eq!(data.attested, 1);
    // A confirmation records the review.
    let reviewed = store
        .identity("sa-ledger-writer")
        .await
        .unwrap()
        .review
        .unwrap();
    assert_eq!(reviewed.by, "li.wei");
    // Audited, with the signed attestation.
    let log = store.audit_log(None, 500).await.unwrap();
    assert!(log.iter().any(|e| e.entity == "attestation"
        && e.entity_id == "q4-prod#sa-payments-api"
        && e.actor == "amira.haddad"));
    // Keys are rotated and the old one retired: what it signed stays
    // evidence, so the export still carries it.
    let gov = ChangeContext::new("governance", "test");
    let old_kid = keys.list().await.unwrap()[0].kid.clone();
    keys.rotate(&gov).await.unwrap();
    keys.retire(&old_kid, &gov).await.unwrap();
    let export = campaign::export(&store, &keys, "q4-prod", jiff::civil::date(2026, 12, 2))
        .await
        .unwrap();
    (store, export)
}

async fn a_campaign_is_started_attested_and_overdue(db: TestDb) {
    use countersign::attention::Rule;
    let (store, export) = campaign_with_two_attestations(&db).await;
    // Needs attention: the items still waiting past the due date, and the
    // attestation that says the record is wrong while it is unchanged.
    let findings = store.attention().await.unwrap();
    let of = |rule: Rule, id: &str| {
        findings
            .iter()
            .find(|f| f.rule == rule && f.id == id)
            .map(|f| f.message.clone())
    };
    let overdue = findings
        .iter()
        .filter(|f| f.rule == Rule::ReviewOverdue)
        .count();
    assert_eq!(
        overdue,
        export["status"]["pending"].as_u64().unwrap() as usize
    );
    let m = of(Rule::ReviewOverdue, "sa-customer-db").unwrap();
    assert!(
        m.contains("not attested in campaign q4-prod, due 2026-10-01"),
        "{m}"
    );
    assert!(m.contains("its reviewer is team-data-platform"), "{m}");
    assert_eq!(of(Rule::ReviewOverdue, "sa-ledger-writer"), None);
    let m = of(Rule::AttestedChangesNeeded, "sa-payments-api").unwrap();
    assert!(
        m.starts_with("amira.haddad attested on ")
            && m.contains("(campaign q4-prod) that its consumers are incomplete: \"the reconciliation job is missing from its consumers\""),
        "{m}"
    );
    assert_eq!(of(Rule::AttestedChangesNeeded, "sa-ledger-writer"), None);
    // Attested in a later campaign, an identity is reviewed: the older
    // campaign's item is no longer overdue.
    let today = jiff::ZonedDateTime::now().date();
    let gov = ChangeContext::new("governance", "test");
    campaign::start(
        &store,
        ("q1-next", "Next quarter"),
        CampaignScope::default(),
        (
            today.checked_add(jiff::Span::new().days(30)).unwrap(),
            Some(today),
        ),
        &gov,
    )
    .await
    .unwrap();
    // A new key for this test's signer (the earlier ones' private halves
    // were in another in-memory keyring).
    let keys = Keys::new(&store, Arc::new(MemorySecrets::default()));
    keys.rotate(&gov).await.unwrap();
    campaign::attest(
        &store,
        &keys,
        ("q1-next", "sa-customer-db"),
        (YES, ""),
        None,
        &ChangeContext::new("li.wei", "test"),
    )
    .await
    .unwrap();
    let findings = store.attention().await.unwrap();
    assert!(
        !findings
            .iter()
            .any(|f| f.rule == Rule::ReviewOverdue && f.id == "sa-customer-db")
    );
    // Closed, its pending items are no longer overdue.
    campaign::close(
        &store,
        "q4-prod",
        "superseded",
        &ChangeContext::new("governance", "test"),
    )
    .await
    .unwrap();
    let findings = store.attention().await.unwrap();
    assert!(!findings.iter().any(|f| f.rule == Rule::ReviewOverdue));
    assert!(
        findings
            .iter()
            .any(|f| f.rule == Rule::AttestedChangesNeeded)
    );
    // Once the record changes (here: reviewed again), the finding goes.
    store
        .attest_review(
            "sa-payments-api",
            None,
            &ChangeContext::new("amira.haddad", "test"),
        )
        .await
        .unwrap();
    let findings = store.attention().await.unwrap();
    assert!(
        !findings
            .iter()
            .any(|f| f.rule == Rule::AttestedChangesNeeded)
    );
    assert_eq!(export["status"]["overdue"], true);
    assert_eq!(
        export["jwks"]["keys"].as_array().unwrap().len(),
        2,
        "the retired key too"
    );
}

on_both_engines!(a_campaign_is_started_attested_and_overdue);

#[tokio::test]
#[ignore = "needs the Python environment from scripts/test"]
async fn the_export_verifies_offline_with_joserfc_and_the_jwks_alone() {
    let db = TestDb::sqlite();
    let (_store, export) = campaign_with_two_attestations(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q4.json");
    std::fs::write(&path, export.to_string()).unwrap();
    let python = std::env::var("COUNTERSIGN_PYTHON").expect("COUNTERSIGN_PYTHON");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/verify_campaign.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(": 2 of 2 attestations verified"), "{said}");
    // A record changed after it was attested no longer verifies.
    let mut tampered = export.clone();
    let items = tampered["status"]["items"].as_array_mut().unwrap();
    let item = items
        .iter_mut()
        .find(|i| i["identity"] == "sa-payments-api")
        .unwrap();
    item["record"] = item["record"]
        .as_str()
        .unwrap()
        .replace("team-payments", "team-other")
        .into();
    std::fs::write(&path, tampered.to_string()).unwrap();
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("record_digest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An item dropped, or its attestation cleared, or a count changed, is
    // found by the manifest; keys obtained elsewhere decide, not the file's.
    let run = |doc: &serde_json::Value| {
        std::fs::write(&path, doc.to_string()).unwrap();
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut dropped = export.clone();
    dropped["status"]["items"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["identity"] != "sa-payments-api");
    let (ok, err) = run(&dropped);
    assert!(!ok && err.contains("differ from the manifest"), "{err}");
    let mut cleared = export.clone();
    for i in cleared["status"]["items"].as_array_mut().unwrap() {
        if i["identity"] == "sa-payments-api" {
            i["jws"] = serde_json::Value::Null;
            i["verdict"] = serde_json::Value::Null;
        }
    }
    let (ok, err) = run(&cleared);
    assert!(!ok && err.contains("in the manifest"), "{err}");
    let mut counts = export.clone();
    counts["status"]["pending"] = 0.into();
    let (ok, err) = run(&counts);
    assert!(!ok && err.contains("pending"), "{err}");
    // What is shown beside the signatures is checked too: the answers and
    // comment against the signed ones, an item's deletion mark, its
    // attestation time, the campaign's name and the progress per team
    // against the manifest.
    let tamper = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut doc = export.clone();
        edit(&mut doc);
        run(&doc)
    };
    fn item_of<'a>(doc: &'a mut serde_json::Value, id: &str) -> &'a mut serde_json::Value {
        doc["status"]["items"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|i| i["identity"] == id)
            .unwrap()
    }
    type Edit<'a> = &'a dyn Fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 8] = [
        (
            &|d| {
                d["status"]["campaign"]["closed"] =
                    serde_json::json!({"at": "2026-12-01T00:00:00Z", "by": "x", "reason": "y"})
            },
            "closing differs",
        ),
        (
            &|d| item_of(d, "sa-customer-db")["comment"] = "approved by the CISO".into(),
            "comment is shown without an attestation",
        ),
        (
            &|d| item_of(d, "sa-payments-api")["answers"]["consumers_complete"] = true.into(),
            "answers in the file are not the signed ones",
        ),
        (
            &|d| item_of(d, "sa-payments-api")["comment"] = "all good".into(),
            "comment in the file is not the signed one",
        ),
        (
            &|d| item_of(d, "sa-customer-db")["removed"] = true.into(),
            "removed is True in the file",
        ),
        (
            &|d| item_of(d, "sa-ledger-writer")["attested_at"] = "2026-01-01T00:00:00Z".into(),
            "attested_at",
        ),
        (
            &|d| d["status"]["campaign"]["name"] = "Another review".into(),
            "name differs",
        ),
        (
            &|d| d["status"]["by_team"][0]["attested"] = 99.into(),
            "by_team differs",
        ),
    ];
    for (edit, expected) in cases {
        let (ok, err) = tamper(edit);
        assert!(!ok && err.contains(expected), "{expected}: {err}");
    }
    let other = dir.path().join("other-jwks.json");
    std::fs::write(&other, r#"{"keys": []}"#).unwrap();
    std::fs::write(&path, export.to_string()).unwrap();
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&path)
        .arg(&other)
        .output()
        .unwrap();
    assert!(!out.status.success(), "keys from elsewhere decide");
}

/// The app's Reviews through the app layer (what the Tauri commands
/// call): a campaign started from the form, each person's queue (theirs
/// by team membership or backup ownership, nobody else's), an
/// attestation from the queue that leaves it, progress per team, the
/// refusals the window shows by code, and the export's text.
async fn the_reviews_view_queues_each_persons_items(db: TestDb) {
    use countersign::app::Workspace;
    use countersign::app::reviews::{AttestInput, StartInput};
    use countersign::campaign::ReviewRole;
    let store = db.open().await;
    countersign::demo::load(&store, false, "test")
        .await
        .unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    Keys::new(&store, secrets.clone())
        .init(&ChangeContext::new("governance", "test"))
        .await
        .unwrap();
    let ws = |actor: &str| {
        Workspace::on(
            store.clone(),
            None,
            secrets.clone(),
            ChangeContext::new(actor, "app"),
        )
    };
    let today = jiff::ZonedDateTime::now().date();
    let governance = ws("governance");
    let start = |due: jiff::civil::Date, environment: &str| StartInput {
        id: "q1-review".into(),
        name: " ".into(),
        due_on: due.to_string(),
        scope: CampaignScope {
            owner: Some(String::new()),
            environment: Some(environment.into()),
            ..CampaignScope::default()
        },
    };
    let yesterday = today.yesterday().unwrap();
    let err = governance
        .start_campaign(start(yesterday, "production"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
    let err = governance
        .start_campaign(start(today, "nowhere"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--environment"), "{err}");
    let started = governance
        .start_campaign(start(today, "production"))
        .await
        .unwrap();
    let err = governance
        .start_campaign(start(today, "production"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    // An empty name is the id; an empty owner no criterion.
    assert_eq!(started.campaign.name, "q1-review");
    assert!(started.items > 10);

    let li = ws("li.wei");
    let view = li.reviews().await.unwrap();
    assert_eq!(view.acting_as, "li.wei");
    assert_eq!(view.today, today.to_string());
    assert!(!view.queue.is_empty());
    assert!(
        view.queue
            .iter()
            .all(|q| !q.overdue && q.campaign == "q1-review")
    );
    let ledger = view
        .queue
        .iter()
        .find(|q| q.identity == "sa-ledger-writer")
        .expect("the data platform team's identity is in Li Wei's queue");
    assert_eq!(ledger.role, ReviewRole::TeamMember);
    assert_eq!(ledger.reviewer.as_deref(), Some("team-data-platform"));
    // Nothing of another team's, unless Li Wei backs it up.
    for q in &view.queue {
        let identity = store.identity(&q.identity).await.unwrap();
        assert!(
            q.reviewer.as_deref() == Some("team-data-platform")
                || identity.backup_owner.as_deref() == Some("li.wei")
                || identity.owner.as_deref() == Some("li.wei"),
            "{q:?}"
        );
    }
    let progress = &view.campaigns[0];
    assert_eq!(progress.total, started.items);
    assert!(!progress.overdue);
    assert!(
        progress
            .by_team
            .iter()
            .any(|t| t.reviewer == "team-data-platform")
    );

    // A "no" without a word of what is wrong is refused; with one it is
    // signed, and the item leaves the queue.
    let no = Answers {
        owners_right: false,
        ..YES
    };
    let shown = li.review_record("sa-ledger-writer").await.unwrap();
    assert_eq!(
        shown.detail.identity.owner.as_deref(),
        Some("team-data-platform")
    );
    let input = |comment: &str| AttestInput {
        campaign: "q1-review".into(),
        identity: "sa-ledger-writer".into(),
        answers: no,
        comment: comment.into(),
        record_digest: shown.record_digest.clone(),
    };
    // What is signed is what was read: a record changed meanwhile is
    // refused, nothing signed.
    let stale = AttestInput {
        record_digest: "not-the-digest".into(),
        ..input("the backup owner moved to payments")
    };
    let err = li.attest(stale).await.unwrap_err();
    assert_eq!(err.code(), "record_changed", "{err}");
    assert!(err.hint().unwrap().starts_with("Nothing was signed."));
    let err = li.attest(input("  ")).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
    let item = li
        .attest(input("the backup owner moved to payments"))
        .await
        .unwrap();
    assert_eq!(item.verdict.as_deref(), Some("changes_needed"));
    assert_eq!(item.attested_by.as_deref(), Some("li.wei"));
    let view = li.reviews().await.unwrap();
    assert!(!view.queue.iter().any(|q| q.identity == "sa-ledger-writer"));
    let team = view.campaigns[0]
        .by_team
        .iter()
        .find(|t| t.reviewer == "team-data-platform")
        .unwrap();
    assert_eq!(team.attested, 1);
    assert_eq!(view.campaigns[0].changes_needed, 1);
    let err = li.attest(input("again")).await.unwrap_err();
    assert!(err.hint().unwrap().contains("attested it already"), "{err}");

    // A team is nobody's signature: its id cannot attest, listed among
    // the owners or not (team-web owns identities but is not listed).
    for team in ["team-data-platform", "team-web"] {
        let err = ws(team)
            .attest(AttestInput {
                identity: "sa-customer-db".into(),
                answers: YES,
                ..input("")
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_a_person", "{err}");
        assert!(err.to_string().contains("never a team's"), "{err}");
    }
    // A person of another team does not have it in their queue and is
    // refused by code.
    let stranger = ws("jonas.weber");
    assert!(
        !stranger
            .reviews()
            .await
            .unwrap()
            .queue
            .iter()
            .any(|q| q.identity == "sa-payments-api")
    );
    let err = stranger
        .attest(AttestInput {
            identity: "sa-payments-api".into(),
            answers: YES,
            ..input("")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_the_reviewer", "{err}");
    assert!(err.hint().is_some());
    let err = stranger.campaign_status("no-such").await.unwrap_err();
    assert_eq!(err.code(), "not_found", "{err}");

    // An identity deleted before anyone attested it leaves the queue and
    // the pending count, and is counted apart; the campaign can finish.
    let before = li.campaign_status("q1-review").await.unwrap();
    assert!(
        li.reviews()
            .await
            .unwrap()
            .queue
            .iter()
            .any(|q| q.identity == "tok-warehouse-pat")
    );
    store
        .edit(
            countersign::store::Edit::DeleteIdentity("tok-warehouse-pat".into()),
            None,
            &ChangeContext::new("li.wei", "test"),
        )
        .await
        .unwrap();
    let after = li.campaign_status("q1-review").await.unwrap();
    assert_eq!((after.pending, after.removed), (before.pending - 1, 1));
    assert!(
        after
            .items
            .iter()
            .any(|i| i.identity == "tok-warehouse-pat" && i.removed)
    );
    assert!(
        !li.reviews()
            .await
            .unwrap()
            .queue
            .iter()
            .any(|q| q.identity == "tok-warehouse-pat")
    );

    // Closed, with a reason: nothing in it is due or attested any more,
    // what was attested stays, and the trail still verifies.
    let err = governance
        .close_campaign("q1-review", " ")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
    let closed = governance
        .close_campaign("q1-review", "replaced by the quarterly review")
        .await
        .unwrap();
    assert_eq!(closed.by, "governance");
    let view = li.reviews().await.unwrap();
    assert!(view.queue.is_empty(), "{:?}", view.queue);
    assert!(view.campaigns[0].campaign.closed.is_some());
    assert_eq!(view.campaigns[0].changes_needed, 1);
    let err = li.attest(input("again")).await.unwrap_err();
    assert_eq!(err.code(), "campaign_closed", "{err}");
    let err = governance
        .close_campaign("q1-review", "twice")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is closed already"), "{err}");
    assert!(store.verify_audit().await.unwrap().is_ok());

    // The export the window saves is the CLI's.
    let text = li.campaign_export("q1-review").await.unwrap();
    let export: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["format"], "countersign-campaign-export");
    assert_eq!(export["status"]["changes_needed"], 1);
}

on_both_engines!(the_reviews_view_queues_each_persons_items);

/// A campaign changed around Countersign (the write guards lifted, as an
/// insider with the database could) is named by `audit verify`: items
/// dropped, a verdict rewritten, the due date moved, an attestation
/// cleared.
async fn campaigns_changed_around_countersign_fail_audit_verify(db: TestDb) {
    let cases: [(&'static str, &str); 9] = [
        (
            "UPDATE campaign_items SET attested_by = 'li.wei', attested_at = '2026-12-01T00:00:00Z', verdict = 'confirmed' WHERE identity_id = 'sa-customer-db'",
            "is marked attested without a signature",
        ),
        (
            "UPDATE campaign_items SET attested_at = '2026-09-01T00:00:00Z' WHERE identity_id = 'sa-ledger-writer'",
            "attestation q4-prod#sa-ledger-writer differs",
        ),
        (
            "UPDATE campaign_items SET record = '{}' WHERE identity_id = 'sa-ledger-writer'",
            "attestation q4-prod#sa-ledger-writer differs",
        ),
        (
            "UPDATE campaigns SET closed_at = '2026-12-01T00:00:00Z', closed_by = 'x', closed_reason = 'y'",
            "was closed without an audit record",
        ),
        (
            "DELETE FROM campaign_items WHERE campaign_id = 'q4-prod' AND attested_at IS NULL",
            "added, dropped or reassigned",
        ),
        (
            "UPDATE campaign_items SET reviewer = 'team-payments' WHERE identity_id = 'sa-customer-db'",
            "added, dropped or reassigned",
        ),
        (
            "UPDATE campaign_items SET verdict = 'confirmed' WHERE identity_id = 'sa-payments-api'",
            "attestation q4-prod#sa-payments-api differs from its last audited state",
        ),
        (
            "UPDATE campaigns SET due_on = '2099-01-01'",
            "its name, due date or scope",
        ),
        (
            "UPDATE campaign_items SET attested_at = NULL, attested_by = NULL, verdict = NULL, jws = NULL, record = NULL WHERE identity_id = 'sa-ledger-writer'",
            "was cleared",
        ),
    ];
    for (sql, expected) in cases {
        let db = db.fresh().await;
        let (store, _) = campaign_with_two_attestations(&db).await;
        assert!(store.verify_audit().await.unwrap().is_ok(), "{sql}");
        db.execute(sql).await.unwrap();
        let broken = store.verify_audit().await.unwrap().unwrap_err();
        assert!(broken.to_string().contains(expected), "{sql}: {broken}");
        store.close().await;
    }
}

on_both_engines!(campaigns_changed_around_countersign_fail_audit_verify);
