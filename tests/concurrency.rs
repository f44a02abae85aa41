//! Many owners editing the same rows at once, each through their own
//! connection pool (as separate apps and CLIs do): every edit either lands
//! or is refused as a conflict and retried on fresh data, none is lost, and
//! the audit chain stays whole.

mod common;
use common::TestDb;

use countersign::store::{ChangeContext, Edit, StoreError};

const WRITERS: usize = 6;
const EDITS_EACH: usize = 8;
/// Few rows, so writers collide often.
const ROWS: [&str; 3] = ["key-maps", "tok-kafka-shared", "sa-payments-api"];

async fn many_writers_lose_no_update(db: TestDb) {
    let store = db.open().await;
    countersign::demo::load(&store, false, "setup")
        .await
        .unwrap();
    store.close().await;

    // Every writer reads its first row, then all write at once: two
    // writers hold the same version of each row, so at least one of each
    // pair must be refused — contention is certain, not left to timing.
    let together = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let target = db.target();
        let together = together.clone();
        tasks.push(tokio::spawn(async move {
            let store = countersign::Store::connect(&target).await.unwrap();
            let ctx = ChangeContext::new(format!("owner-{w}"), "test");
            let mut conflicts = 0;
            for e in 0..EDITS_EACH {
                let row = ROWS[(w + e) % ROWS.len()];
                let marker = format!("[{w}.{e}]");
                // Read, change, write with the version read; on a conflict
                // read again, as the app tells its user to.
                let mut first_try = e == 0;
                loop {
                    let detail = store.identity_detail(row).await.unwrap();
                    if std::mem::take(&mut first_try) {
                        together.wait().await;
                    }
                    let mut identity = detail.identity;
                    identity.description.push_str(&marker);
                    match store
                        .edit(
                            Edit::SaveIdentity(Box::new(identity)),
                            Some(detail.version),
                            &ctx,
                        )
                        .await
                    {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(other) => panic!("writer {w}: {other}"),
                    }
                }
            }
            store.close().await;
            conflicts
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }

    let first_round_pairs = ROWS.len();
    assert!(
        conflicts >= first_round_pairs,
        "writers that read the same version must collide: {conflicts} conflicts"
    );

    let store = db.open().await;
    let mut landed = 0;
    for row in ROWS {
        let detail = store.identity_detail(row).await.unwrap();
        for w in 0..WRITERS {
            for e in (0..EDITS_EACH).filter(|e| ROWS[(w + e) % ROWS.len()] == row) {
                assert_eq!(
                    detail
                        .identity
                        .description
                        .matches(&format!("[{w}.{e}]"))
                        .count(),
                    1,
                    "edit {w}.{e} on {row} was lost or applied twice: {:?}",
                    detail.identity.description
                );
            }
        }
        // One version per edit that landed on it, after the demo's first.
        let edits_on_row = detail.identity.description.matches('[').count();
        assert_eq!(detail.version, 1 + edits_on_row as i64, "{row}");
        landed += edits_on_row;
    }
    // Counted from the data: every edit is there once, and nothing else.
    assert_eq!(landed, WRITERS * EDITS_EACH, "zero lost updates");
    let audit = store
        .verify_audit()
        .await
        .unwrap()
        .expect("the audit chain is whole after concurrent writers");
    // The demo's rows, then one per edit, each naming who made it.
    assert_eq!(audit.rows as usize, 78 + WRITERS * EDITS_EACH);
    let log = store
        .audit_log(Some(("identity", "key-maps")), 100)
        .await
        .unwrap();
    assert!(log.iter().any(|r| r.actor.starts_with("owner-")));
    eprintln!(
        "{} edits by {WRITERS} writers landed, {conflicts} conflicts refused and retried",
        WRITERS * EDITS_EACH
    );
}

on_both_engines!(many_writers_lose_no_update);
