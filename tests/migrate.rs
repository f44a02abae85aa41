//! Moving up: a local inventory with its audit trail, signing key records
//! and decisions copied into an empty database (PostgreSQL, or another
//! SQLite file), checked after, and never merged into one that has data.

mod common;
use common::{TestDb, countersign};

use std::path::Path;

use countersign::store::ChangeContext;
use sqlx::Connection as _;

/// A SQLite inventory that uses every table: the demo, an edit, a setting,
/// a signing key and a signed decision in the outbox.
async fn local_inventory() -> TestDb {
    inventory_on(TestDb::sqlite()).await
}

/// `db` filled as [`local_inventory`] describes.
async fn inventory_on(db: TestDb) -> TestDb {
    let store = db.open().await;
    countersign::demo::load(&store, false, "amira")
        .await
        .unwrap();
    let ctx = ChangeContext::new("amira", "test");
    store
        .set_setting("review_stale_days", "45", &ctx)
        .await
        .unwrap();
    common::sign_a_denial(&store, "amira", "req-2026-11-24-0001").await;
    store.close().await;
    db
}

async fn a_local_inventory_moves_up_whole(target: TestDb) {
    let source = local_inventory().await;
    countersign(Path::new(&source.target()))
        .args(["migrate", "--to", &target.target()])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "row counts match and the audit trail verifies",
        ));

    let (from, to) = (source.open().await, target.open().await);
    copied_whole(&from, &to).await;
    if let TestDb::Postgres { .. } = target {
        // The planner has statistics for what was copied, as after any
        // bulk load, without waiting for autovacuum.
        let mut conn = sqlx::AnyConnection::connect(&target.target())
            .await
            .unwrap();
        let unanalysed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_user_tables
             WHERE relname IN ('identities', 'services', 'audit_log') AND last_analyze IS NULL",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(unanalysed, 0, "migrate analyses the target");
        conn.close().await.unwrap();
    }
    // Work goes on on the target, on the same chain.
    countersign::demo::load(&to, false, "jonas").await.unwrap();
    to.set_setting(
        "review_stale_days",
        "30",
        &ChangeContext::new("jonas", "test"),
    )
    .await
    .unwrap();
    assert!(to.verify_audit().await.unwrap().is_ok());

    // A second copy into the now non-empty target is refused, untouched.
    let out = countersign(Path::new(&source.target()))
        .args(["migrate", "--to", &target.target()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already holds data"), "{stderr}");
    assert_eq!(
        to.setting("review_stale_days").await.unwrap().as_deref(),
        Some("30")
    );
}

/// `to` holds what `from` does: inventory, decisions, key records, the
/// settings, and the audit trail as it was (actors, times, hashes), which
/// verifies there with the same head.
async fn copied_whole(from: &countersign::Store, to: &countersign::Store) {
    assert_eq!(to.snapshot().await.unwrap(), from.snapshot().await.unwrap());
    assert_eq!(
        to.decisions(None).await.unwrap(),
        from.decisions(None).await.unwrap()
    );
    assert_eq!(
        to.signing_keys().await.unwrap(),
        from.signing_keys().await.unwrap()
    );
    assert_eq!(
        to.setting("review_stale_days").await.unwrap().as_deref(),
        Some("45")
    );
    let verified = to.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.head, from.audit_head().await.unwrap());
    assert_eq!(
        to.audit_log(None, 1000).await.unwrap(),
        from.audit_log(None, 1000).await.unwrap(),
        "the trail is copied as it was: actors, times and hashes"
    );
}

on_both_engines!(a_local_inventory_moves_up_whole);

/// A mistyped `--from` is not created empty and "copied".
#[test]
fn a_missing_source_is_refused_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mistyped.db");
    let target = dir.path().join("target.db");
    let out = countersign(&missing)
        .args(["migrate", "--to", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mistyped.db: no such database; nothing to copy"),
        "{stderr}"
    );
    assert!(!missing.exists(), "the source is not created");
    assert!(!target.exists(), "nor the target");
}

/// And back down: the team's PostgreSQL inventory copied into a SQLite file
/// (to work offline, or to leave team mode), the same checks applied.
#[tokio::test]
async fn a_team_inventory_moves_down_to_a_file() {
    let source = inventory_on(TestDb::postgres().await).await;
    let target = TestDb::sqlite();
    countersign(Path::new(&source.target()))
        .args(["migrate", "--to", &target.target()])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "row counts match and the audit trail verifies",
        ));
    copied_whole(&source.open().await, &target.open().await).await;
}

/// A copy that fails part way — here the last table holds a value the
/// target cannot store (PostgreSQL text has no NUL) — leaves the target as
/// empty as it was: one transaction, rolled back.
#[tokio::test]
async fn a_copy_that_fails_part_way_leaves_the_target_empty() {
    use sqlx::Connection as _;
    let source = local_inventory().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", source.target()))
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET last_error = 'bad' || char(0) || 'byte'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let target = TestDb::postgres().await;
    let out = countersign(Path::new(&source.target()))
        .args(["migrate", "--to", &target.target()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("outbox") || stderr.contains("0x00"),
        "{stderr}"
    );
    let to = target.open().await;
    let empty = to.snapshot().await.unwrap();
    assert!(
        empty.owners.is_empty() && empty.services.is_empty() && empty.identities.is_empty(),
        "nothing of the failed copy stays"
    );
    assert_eq!(to.verify_audit().await.unwrap().unwrap().rows, 0);
    assert!(to.decisions(None).await.unwrap().is_empty());
}

/// The copy carries every column of every table the migrations create.
#[tokio::test]
async fn the_copy_covers_every_column() {
    use sqlx::Connection as _;
    let db = TestDb::sqlite();
    db.open().await.close().await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.target()))
        .await
        .unwrap();
    let mut schema: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    schema.sort();
    let mut copied: Vec<(String, String)> = countersign::store::copied_columns()
        .into_iter()
        .map(|(t, c)| (t.to_owned(), c.to_owned()))
        .collect();
    copied.sort();
    assert_eq!(copied, schema);
}
