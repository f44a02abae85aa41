//! Review campaigns as an owner meets them in the app: two campaigns over
//! the demo (one past its due date), Li Wei of the data platform team
//! opens Reviews, sees the team's identities in their queue with the
//! overdue one marked and the progress per team, answers the four
//! questions for the ledger writer and signs with the key the real Secret
//! Service holds. The attestation lands in the database and verifies
//! against the key's public JWK.

use std::sync::Arc;

use countersign::Store;
use countersign::campaign::{self, ATTESTATION_TYP};
use countersign::signing::{Keys, OsKeyring};
use countersign::store::{CampaignScope, ChangeContext};
use countersign_e2e::AppSession;

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_attests_from_their_review_queue_with_the_keyring_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reviews.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    let key = Keys::new(&store, Arc::new(OsKeyring))
        .init(&ChangeContext::new("li.wei", "e2e"))
        .await
        .expect("a signing key in the Secret Service (run under scripts/test)");
    let governance = ChangeContext::new("governance", "e2e");
    let today = jiff::ZonedDateTime::now().date();
    let production = CampaignScope {
        environment: Some("production".into()),
        ..CampaignScope::default()
    };
    campaign::start(
        &store,
        ("last-quarter", "Last quarter's review"),
        production.clone(),
        // Recorded with its own dates: it ran elsewhere and is overdue.
        (today.checked_sub(jiff::Span::new().days(10)).unwrap(), None),
        &governance,
    )
    .await
    .unwrap();
    campaign::start(
        &store,
        ("this-quarter", "This quarter's review"),
        production,
        (
            today.checked_add(jiff::Span::new().days(30)).unwrap(),
            Some(today),
        ),
        &governance,
    )
    .await
    .unwrap();
    store.close().await;

    let app = AppSession::start_with_env(&db, &[("COUNTERSIGN_ACTOR", "li.wei")]).await;
    app.click("[data-testid=tab-reviews]").await;
    app.wait_for_text_containing("[data-testid=reviews-acting-as]", "li.wei")
        .await;
    app.wait_for_text_containing("[data-testid=queue-count]", "overdue")
        .await;
    // Overdue first: the last quarter's items lead the queue.
    let first = app.wait_for("[data-testid=queue-row]").await;
    assert!(
        first.text().await.unwrap().contains("overdue"),
        "the first row is the overdue campaign's"
    );
    app.wait_for_text_containing("[data-testid=team-progress]", "/")
        .await;
    // The first ledger writer row is the overdue campaign's.
    app.click("[data-testid=queue-row][data-identity=sa-ledger-writer] [data-testid=attest-open]")
        .await;
    app.wait_for_text_containing("[data-testid=attest-record]", "team-data-platform")
        .await;
    for q in [
        "still_needed",
        "owners_right",
        "consumers_complete",
        "containment_right",
    ] {
        app.click(&format!("[data-testid=answer-{q}-yes]")).await;
    }
    app.client
        .execute(
            "document.querySelector('[data-testid=attest-form]').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    app.screenshot("reviews-attest-form").await;
    app.click("[data-testid=attest-sign]").await;
    app.wait_for_text_containing("[data-testid=attest-signed]", "confirmed, signed by li.wei")
        .await;
    app.client
        .execute(
            "document.querySelector('[data-testid=reviews-acting-as]').scrollIntoView({block: 'start'})",
            vec![],
        )
        .await
        .unwrap();
    app.screenshot("reviews-queue").await;
    app.close().await;

    // In the database: signed with the keyring's key, over the record.
    let store = Store::open(&db).await.unwrap();
    let (_, items) = store.campaign("last-quarter").await.unwrap().unwrap();
    let item = items
        .iter()
        .find(|i| i.identity == "sa-ledger-writer")
        .unwrap();
    assert_eq!(item.attested_by.as_deref(), Some("li.wei"));
    assert_eq!(item.verdict.as_deref(), Some("confirmed"));
    let jwks = serde_json::json!({ "keys": [key.public_jwk] });
    let claims = countersign::signing::verify_signature(
        item.jws.as_deref().unwrap(),
        &jwks,
        ATTESTATION_TYP,
    )
    .unwrap();
    assert_eq!(claims["sub"], "li.wei");
    assert_eq!(claims["campaign"], "last-quarter");
    // The other campaign's item is still waiting.
    let (_, items) = store.campaign("this-quarter").await.unwrap().unwrap();
    assert!(
        items
            .iter()
            .find(|i| i.identity == "sa-ledger-writer")
            .unwrap()
            .attested_at
            .is_none()
    );
    store.close().await;
}
