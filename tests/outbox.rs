//! Signing-key records and the decision outbox on both engines: what the
//! approval flow stores and how delivery state moves, query by query.

mod common;
use common::TestDb;

use std::sync::Arc;

use countersign::approval::{Decision, DecisionInput, decide};
use countersign::signing::{KeyStatus, Keys, MemorySecrets};
use countersign::store::{ChangeContext, Receipt};

fn request(id: &str) -> serde_json::Value {
    let mut r: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    r["id"] = id.into();
    r["expires_at"] = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1))
        .to_string()
        .into();
    r
}

async fn keys_and_the_outbox_work_the_same(db: TestDb) {
    let store = db.open().await;
    countersign::demo::load(&store, false, "t").await.unwrap();
    let ctx = ChangeContext::new("amira", "test");
    let keys = Keys::new(&store, Arc::new(MemorySecrets::default()));

    // Keys: one active, rotation keeps the old one as previous, retiring it.
    let first = keys.init(&ctx).await.unwrap();
    let second = keys.rotate(&ctx).await.unwrap();
    let listed = keys.list().await.unwrap();
    assert_eq!(listed[0].kid, second.kid);
    assert_eq!(listed[0].status, KeyStatus::Active);
    assert_eq!(listed[1].status, KeyStatus::Previous);
    assert_eq!(
        keys.jwks().await.unwrap()["keys"].as_array().unwrap().len(),
        2
    );
    assert!(keys.retire(&first.kid, &ctx).await.unwrap());
    assert_eq!(keys.list().await.unwrap()[1].status, KeyStatus::Retired);
    assert!(
        !keys.retire(&second.kid, &ctx).await.unwrap(),
        "the active key stays"
    );

    // Decisions for two backends, one kept local.
    for (id, to) in [
        ("req-a", Some("https://soar-a.test")),
        ("req-b", Some("https://soar-b.test")),
        ("req-c", None),
    ] {
        decide(
            &store,
            &keys,
            DecisionInput {
                request: &request(id),
                decision: Decision::Deny,
                reason: "not now",
                audience: to.unwrap_or("https://soar-a.test"),
                destination: to,
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    }
    assert_eq!(store.decisions(None).await.unwrap().len(), 3);
    assert_eq!(store.decisions(Some("req-b")).await.unwrap().len(), 1);
    assert_eq!(store.undelivered(None).await.unwrap(), 2);
    assert_eq!(
        store
            .undelivered(Some("https://soar-a.test"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.outbox_destinations().await.unwrap(),
        ["https://soar-a.test", "https://soar-b.test"]
    );

    let now = jiff::Timestamp::now();
    let due = store.due_deliveries(now, None, 10).await.unwrap();
    assert_eq!(due.len(), 2);
    let a = store
        .due_deliveries(now, Some("https://soar-a.test"), 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 1);

    // A failed attempt waits until its next time; "retry now" brings it back.
    store
        .mark_attempt_failed(
            &a[0].jti,
            "connection refused",
            now + jiff::SignedDuration::from_mins(5),
        )
        .await
        .unwrap();
    assert_eq!(store.due_deliveries(now, None, 10).await.unwrap().len(), 1);
    assert_eq!(store.retry_deliveries_now().await.unwrap(), 2);
    let due = store
        .due_deliveries(jiff::Timestamp::now(), None, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(due.iter().find(|d| d.jti == a[0].jti).unwrap().attempts, 1);

    // Delivered with the backend's receipt: final, never sent again.
    store
        .mark_delivered(
            &a[0].jti,
            &Receipt {
                status: "rejected".into(),
                reason: Some("request_expired".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(store.undelivered(None).await.unwrap(), 1);
    let row = store.decisions(Some("req-a")).await.unwrap().remove(0);
    assert_eq!(row.receipt.as_deref(), Some("rejected"));
    assert_eq!(row.receipt_reason.as_deref(), Some("request_expired"));
    assert_eq!(row.attempts, Some(2));
    assert!(row.delivered_at.is_some() && row.last_error.is_none());
    assert!(store.verify_audit().await.unwrap().is_ok());
}

on_both_engines!(keys_and_the_outbox_work_the_same);
