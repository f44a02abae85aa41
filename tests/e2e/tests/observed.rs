//! Observed usage as an approver meets it: the demo inventory with the
//! shipped Zipkin dependency links and servicegraph export recorded, a
//! request from the reference backend to rotate the Kafka credential, and
//! the app's request view flagging the consumer tracing saw use it that
//! nobody documented (support-portal), beside the blast radius.

use countersign::Store;
use countersign::client::BackendClient;
use countersign::import::observed::{Format, Window, read_files};
use countersign::store::ChangeContext;
use countersign_e2e::{AppSession, live_request};

const TOKEN: &str = "e2e-backend-token";

#[tokio::test(flavor = "multi_thread")]
async fn the_request_view_flags_an_observed_consumer_nobody_documented() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("observed.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let links = root.join("assets/demo/observed/zipkin-dependencies.json");
    let graph = root.join("assets/demo/observed/servicegraph.prom");
    let read = read_files(
        &[links.as_path(), graph.as_path()],
        Format::Auto,
        Window::default(),
        &store.snapshot().await.unwrap(),
    )
    .unwrap();
    store
        .record_observations(
            &read.observations,
            "assets/demo/observed",
            &ChangeContext::new("e2e", "e2e"),
        )
        .await
        .unwrap();
    store.close().await;

    let url = countersign_e2e::start_reference_backend(TOKEN).await;
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    soar.create_request(&live_request("req-e2e-observed"))
        .await
        .unwrap();

    let app = AppSession::start_with_env(
        &db,
        &[
            ("COUNTERSIGN_BACKEND", &url),
            ("COUNTERSIGN_BACKEND_TOKEN", TOKEN),
            ("COUNTERSIGN_ACTOR", "dana"),
        ],
    )
    .await;
    app.click("[data-testid=tab-approvals]").await;
    app.click("[data-testid=inbox-item][data-id=req-e2e-observed]")
        .await;
    app.wait_for_text_containing("[data-testid=request-blast]", "services")
        .await;
    app.wait_for_text_containing(
        "[data-testid=observed-undocumented]",
        "support-portal was observed using tok-kafka-shared (1302 calls",
    )
    .await;
    app.client
        .execute(
            "document.querySelector('[data-testid=request-observed]').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    app.screenshot("observed-request-view").await;
    app.close().await;
}
