//! A drill as a team runs it in the app: the owner starts a shipped
//! scenario from the Drills tab, its inject arrives in Approvals from the
//! drill's own backend, the owner narrows it there and signs with the key
//! in the real Secret Service, and the drill view follows: the timeline,
//! the graph of what the approval would break, and the report with the
//! signature verified.

use std::sync::Arc;

use countersign::Store;
use countersign::signing::{Keys, OsKeyring};
use countersign::store::{APPROVER_GROUPS_KEY, ChangeContext};
use countersign_e2e::AppSession;

#[tokio::test(flavor = "multi_thread")]
async fn one_drill_inject_is_answered_through_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("drill.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    let ctx = ChangeContext::new("alice", "e2e");
    store
        .set_setting(APPROVER_GROUPS_KEY, "identity-governance", &ctx)
        .await
        .unwrap();
    Keys::new(&store, Arc::new(OsKeyring))
        .init(&ctx)
        .await
        .expect("a signing key in the Secret Service (run under scripts/test)");
    store.close().await;

    let app = AppSession::start_with_env(&db, &[("COUNTERSIGN_ACTOR", "alice")]).await;
    app.click("[data-testid=tab-drills]").await;
    app.wait_for("[data-testid=drill-scenario] option[value=shared-kafka-credential]")
        .await;
    app.wait_for("[data-testid=drill-scenario]")
        .await
        .select_by_value("shared-kafka-credential")
        .await
        .unwrap();
    app.wait_for("[data-testid=drill-speed]")
        .await
        .select_by_value("10")
        .await
        .unwrap();
    app.click("[data-testid=drill-start]").await;

    // The inject is issued at T+0 and waits for a decision.
    app.wait_for("[data-testid=drill-row][data-inject=kafka-leak][data-state=open]")
        .await;
    app.wait_for_text_containing("[data-testid=drill-status]", "Running")
        .await;
    app.screenshot("drill-running").await;

    // Answered where real requests are answered.
    app.click("[data-testid=drill-row] button.link").await;
    app.wait_for_text_containing(
        "[data-testid=inbox-drill]",
        "Shared Kafka credential leaked",
    )
    .await;
    app.click("[data-testid=inbox-item][data-id$=kafka-leak]")
        .await;
    app.wait_for_text_containing("[data-testid=evidence]", "secret in public repository")
        .await;
    app.click("[data-testid=verdict-narrow]").await;
    app.wait_for("[data-testid=narrow-action]")
        .await
        .select_by_value("rotate_secret")
        .await
        .unwrap();
    app.wait_for("[data-testid=reason]")
        .await
        .send_keys("Rotate the shared secret; disabling it stops six consumers.")
        .await
        .unwrap();
    app.click("[data-testid=sign]").await;
    app.click("[data-testid=confirm-sign]").await;
    // Settled, the one inject ends the drill, and its request leaves
    // Approvals at once: the drill view is where it is followed.

    // The drill view saw it: the outcome, who decided, and the graph of
    // what the approved action breaks.
    app.click("[data-testid=tab-drills]").await;
    app.wait_for_text_containing("[data-testid=drill-outcome]", "approved: rotate secret")
        .await;
    app.wait_for_text_containing("[data-testid=drill-decision]", "alice: Approved narrowed")
        .await;
    app.wait_for_text_containing("[data-testid=drill-broken]", "What would be broken now:")
        .await;
    app.wait_for(".drill-graph canvas").await;

    // One inject, settled: the drill ends and reports the signature verified.
    app.wait_for_text_containing("[data-testid=drill-signatures]", "1 of 1 decision")
        .await;
    app.wait_for_text_containing("[data-testid=drill-report]", "1 approved")
        .await;
    app.wait_for_text_containing("[data-testid=drill-report]", "Expectations met: 1 of 1")
        .await;
    // The graph is drawn, not blank (waited for, frame by frame).
    app.wait_for_drawn(".drill-graph .graph-canvas", 0, 6).await;
    // Every node labelled, and the whole graph in view with its labels
    // (issue 20: it was clipped at the right).
    app.wait_for_attr(".drill-graph .graph-canvas", "data-labels-missing", "0")
        .await;
    app.wait_for_attr(".drill-graph .graph-canvas", "data-labels-clipped", "0")
        .await;
    app.screenshot("drill-report").await;

    // The drill is over: Approvals holds real work only (issue 19) — not
    // the request it answered, decided as it was, and no drill banner.
    app.click("[data-testid=tab-approvals]").await;
    app.wait_for("[data-testid=connect-form]").await;
    app.wait_for("[data-testid=request-gone]").await;
    app.wait_gone("[data-testid=inbox-drill]").await;
    app.wait_gone("[data-testid=inbox-item]").await;
    app.screenshot("issue19-after-drill-approvals").await;
    app.close().await;
}
