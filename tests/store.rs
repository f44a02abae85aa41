//! The store against real SQLite files: migrations, the demo load, queries,
//! and the errors a user sees for a bad database path.

use countersign::Store;
use countersign::inventory::Inventory;
use countersign::model::{IdentityKind, Tier};
use countersign::store::StoreError;

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("inv.db")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn migrations_create_an_empty_inventory_in_wal_mode() {
    let (dir, store) = fresh().await;
    assert!(store.counts().await.unwrap().is_empty());
    assert_eq!(store.schema_version().await.unwrap(), 1);
    store.close().await;
    // WAL leaves its side files next to the database while it is open; the
    // journal mode itself is persistent in the file header.
    let header = std::fs::read(dir.path().join("inv.db")).unwrap();
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!(
        (header[18], header[19]),
        (2, 2),
        "file format versions 2 = WAL"
    );
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.db");
    let store = Store::open(&path).await.unwrap();
    countersign::demo::load(&store, false).await.unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.counts().await.unwrap().identities, 41);
}

#[tokio::test]
async fn demo_load_fills_every_table_and_is_idempotent() {
    let (_dir, store) = fresh().await;
    let first = countersign::demo::load(&store, false)
        .await
        .unwrap()
        .unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!(first, counts);
    assert_eq!(counts.identities, 41);
    assert_eq!(counts.services, 25);
    assert!(counts.usages > 50 && counts.dependencies > 20, "{counts:?}");

    countersign::demo::load(&store, false).await.unwrap();
    assert_eq!(
        store.counts().await.unwrap(),
        counts,
        "a second load changes nothing"
    );

    assert_eq!(countersign::demo::load(&store, true).await.unwrap(), None);
}

#[tokio::test]
async fn identity_detail_lists_the_services_that_use_it() {
    let (_dir, store) = fresh().await;
    countersign::demo::load(&store, false).await.unwrap();
    let d = store.identity_detail("tok-kafka-shared").await.unwrap();
    assert_eq!(d.identity.kind, IdentityKind::Token);
    assert_eq!(d.identity.owner, "team-streaming");
    let ids: Vec<_> = d.used_by.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[0], "payments-api", "most critical first");
    assert!(ids.contains(&"search") && ids.contains(&"etl-pipeline"));

    let err = store.identity_detail("no-such-thing").await.unwrap_err();
    assert!(matches!(err, StoreError::IdentityNotFound(ref id) if id == "no-such-thing"));
}

#[tokio::test]
async fn search_matches_id_name_owner_and_kind_and_treats_wildcards_literally() {
    let (_dir, store) = fresh().await;
    countersign::demo::load(&store, false).await.unwrap();
    let all = store.list_identities(None).await.unwrap();
    assert_eq!(all.len(), 41);
    assert!(
        all.windows(2)
            .all(|w| w[0].identity.tier <= w[1].identity.tier)
    );

    let by_owner = store.list_identities(Some("team-risk")).await.unwrap();
    assert_eq!(by_owner.len(), 2);
    let by_kind = store.list_identities(Some("break_glass")).await.unwrap();
    assert!(by_kind.iter().all(|r| r.identity.break_glass));
    assert_eq!(by_kind.len(), 2);
    let case = store.list_identities(Some("KAFKA")).await.unwrap();
    assert_eq!(case[0].identity.id, "tok-kafka-shared");
    assert_eq!(case[0].used_by_count, 6);
    assert!(store.list_identities(Some("%")).await.unwrap().is_empty());

    let services = store.list_services(Some("payments-api")).await.unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].service.tier, Tier::MOST_CRITICAL);
    assert_eq!(
        services[0].depends_on,
        [
            "auth-gateway",
            "card-processor",
            "kafka-events",
            "ledger-db"
        ]
    );
}

#[tokio::test]
async fn reloading_a_changed_inventory_replaces_edges_of_listed_entities() {
    let (_dir, store) = fresh().await;
    let v1 = Inventory::parse(
        "version: 1\nservices:\n  - {id: a, name: A, owner: o, tier: 1}\n  - {id: b, name: B, owner: o, tier: 2}\nidentities:\n  - {id: k, kind: api_key, name: K, owner: o, environment: production, tier: 1, used_by: [a, b]}\n",
        "v1.yaml",
    )
    .unwrap();
    store.load_inventory(&v1).await.unwrap();
    let v2 = Inventory::parse(
        "version: 1\nidentities:\n  - {id: k, kind: api_key, name: K2, owner: o2, environment: staging, tier: 3, used_by: []}\n",
        "v2.yaml",
    );
    // v2 refers to no service, so it validates on its own.
    store.load_inventory(&v2.unwrap()).await.unwrap();
    let d = store.identity_detail("k").await.unwrap();
    assert_eq!(
        (d.identity.name.as_str(), d.identity.owner.as_str()),
        ("K2", "o2")
    );
    assert!(d.used_by.is_empty());
    assert_eq!(
        store.counts().await.unwrap().services,
        2,
        "services it did not list stay"
    );
}

#[tokio::test]
async fn a_load_that_fails_half_way_writes_nothing() {
    let (_dir, store) = fresh().await;
    // Bypass validation to make the database reject the second identity's
    // edge (a service that does not exist): the first identity must not land.
    let mut inv = Inventory::parse(
        "version: 1\nservices:\n  - {id: a, name: A, owner: o, tier: 1}\nidentities:\n  - {id: k1, kind: api_key, name: K, owner: o, environment: production, tier: 1, used_by: [a]}\n  - {id: k2, kind: api_key, name: K, owner: o, environment: production, tier: 1, used_by: [a]}\n",
        "inv.yaml",
    )
    .unwrap();
    inv.identities[1].used_by = vec!["missing".into()];
    let err = store.load_inventory(&inv).await.unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    assert!(store.counts().await.unwrap().is_empty());
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

#[tokio::test]
async fn a_row_the_model_rejects_is_reported_not_panicked_on() {
    let (dir, store) = fresh().await;
    countersign::demo::load(&store, false).await.unwrap();
    store.close().await;
    let path = dir.path().join("inv.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        path.display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE identities SET kind = 'robot' WHERE id = 'key-maps'")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let store = Store::open(&path).await.unwrap();
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
