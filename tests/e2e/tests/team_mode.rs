//! Team mode as owners live it: the app opens a shared inventory on a real
//! PostgreSQL server, and a change another owner makes (here through the
//! core, as their app or CLI would) shows in this open window within
//! seconds, in the list and in the detail being read.

use countersign::Store;
use countersign::store::{ChangeContext, Edit};
use countersign_e2e::AppSession;

/// A new database on the test server (`scripts/test` starts one and sets
/// COUNTERSIGN_TEST_POSTGRES to its admin URL).
async fn team_database() -> String {
    use sqlx::{Connection as _, Executor as _};
    let admin = std::env::var("COUNTERSIGN_TEST_POSTGRES").expect(
        "COUNTERSIGN_TEST_POSTGRES: scripts/test starts a PostgreSQL for the team-mode test",
    );
    sqlx::any::install_default_drivers();
    let name = format!("e2e_{}", std::process::id());
    let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .await
    .unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread")]
async fn another_owners_change_shows_in_an_open_app() {
    let url = team_database().await;
    let store = Store::connect(&url).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();

    let app = AppSession::start_with_env(std::path::Path::new(&url), &[]).await;
    app.wait_for_text(
        "[data-testid=inventory-summary]",
        "41 identities · 25 services",
    )
    .await;
    app.wait_for("[data-id=tok-kafka-shared]")
        .await
        .click()
        .await
        .unwrap();
    app.wait_for_text("[data-testid=detail-owner]", "team-streaming")
        .await;

    // Another owner renames it and changes its owner.
    let mut identity = store.identity("tok-kafka-shared").await.unwrap();
    identity.name = "Kafka client credential (rotating)".into();
    identity.owner = Some("team-platform".into());
    store
        .edit(
            Edit::SaveIdentity(Box::new(identity)),
            Some(1),
            &ChangeContext::new("jonas.weber", "app"),
        )
        .await
        .unwrap();

    app.wait_for_text("[data-testid=detail-owner]", "team-platform")
        .await;
    app.wait_for_text_containing(
        "[data-testid=identity-row][data-id=tok-kafka-shared]",
        "Kafka client credential (rotating)",
    )
    .await;
    app.wait_for_text_containing(
        "[data-testid=identity-row][data-id=tok-kafka-shared]",
        "team-platform",
    )
    .await;
    app.screenshot("team-mode").await;
    app.close().await;
    store.close().await;
}
