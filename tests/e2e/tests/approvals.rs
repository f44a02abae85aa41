//! The second approver as a person uses it: the reference backend issues a
//! containment request, the real app under Xvfb shows it in the Approvals
//! inbox, the owner reads it and approves through the UI, and the backend
//! records a verified, signed approval. The signing key lives in the real
//! Secret Service (scripts/test starts gnome-keyring in this D-Bus session).

use std::sync::Arc;
use std::time::{Duration, Instant};

use countersign::Store;
use countersign::client::BackendClient;
use countersign::signing::{Keys, OsKeyring, SecretStore};
use countersign::store::{APPROVER_GROUPS_KEY, ChangeContext};
use countersign_e2e::{AppSession, UI_TIMEOUT, live_request, start_reference_backend};

const TOKEN: &str = "e2e-backend-token";

/// The native window title, read from the X server (not the document).
fn window_titles() -> String {
    std::process::Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_from_the_backend_is_approved_in_the_app_and_verified_by_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("approvals.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    let ctx = ChangeContext::new("alice", "e2e");
    store
        .set_setting(APPROVER_GROUPS_KEY, "identity-governance", &ctx)
        .await
        .unwrap();
    let keys = Keys::new(&store, Arc::new(OsKeyring));
    let key = keys
        .init(&ctx)
        .await
        .expect("a signing key in the Secret Service (run under scripts/test)");

    let url = start_reference_backend(TOKEN).await;
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    soar.enroll(
        "alice",
        &["identity-governance".to_owned()],
        &keys.jwks().await.unwrap(),
        None,
    )
    .await
    .unwrap();
    store.close().await;

    soar.create_request(&live_request("req-e2e-kafka"))
        .await
        .unwrap();

    // Watch the session bus for the desktop notification the app raises.
    let mut monitor = std::process::Command::new("dbus-monitor")
        .args([
            "--session",
            "interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("dbus-monitor (Debian package dbus-bin)");

    let app = AppSession::start_with_env(
        &db,
        &[
            ("COUNTERSIGN_BACKEND", &url),
            ("COUNTERSIGN_BACKEND_TOKEN", TOKEN),
            ("COUNTERSIGN_ACTOR", "alice"),
        ],
    )
    .await;

    // The inbox count shows without opening the tab, and in the title.
    app.wait_for_text("[data-testid=awaiting-count]", "1").await;
    let deadline = Instant::now() + UI_TIMEOUT;
    while !window_titles().contains("1 request awaiting your decision") {
        assert!(
            Instant::now() < deadline,
            "window title never showed the count:\n{}",
            window_titles()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let _ = monitor.kill();
    let watched = monitor.wait_with_output().unwrap();
    let watched = String::from_utf8_lossy(&watched.stdout);
    assert!(
        watched.contains("Approval needed: rotate secret on Kafka shared client credential"),
        "no desktop notification for the new request:\n{watched}"
    );

    app.click("[data-testid=tab-approvals]").await;
    app.click("[data-testid=inbox-item][data-id=req-e2e-kafka]")
        .await;
    app.wait_for_text_containing("[data-testid=evidence]", "secret in public repository")
        .await;
    app.wait_for_text_containing("[data-testid=policy]", "Single approval")
        .await;
    app.wait_for_text_containing(
        "[data-testid=policy]",
        "single-approval-rotation-and-revocation",
    )
    .await;
    app.wait_for_text_containing("[data-testid=request-blast]", "services")
        .await;
    app.wait_for("[data-testid=freshness]").await;
    app.screenshot("approval-request").await;

    app.click("[data-testid=verdict-approve]").await;
    app.wait_for("[data-testid=reason]")
        .await
        .send_keys("Leaked in a public fork; rotation breaks nothing for long.")
        .await
        .unwrap();
    app.click("[data-testid=sign]").await;
    app.wait_for_text_containing("[data-testid=confirm-text]", "Approve Rotate secret")
        .await;
    app.wait_for_text_containing("[data-testid=confirm-text]", &key.kid[..12])
        .await;
    app.screenshot("approval-confirm").await;
    app.click("[data-testid=confirm-sign]").await;

    app.wait_for_text_containing("[data-testid=delivery-state]", "Delivered and accepted")
        .await;
    app.screenshot("approval-delivered").await;

    // The backend verified the signature against alice's enrolled key and
    // applied the approval once.
    let seen = soar.request_by_id("req-e2e-kafka").await.unwrap();
    assert_eq!(seen["status"], "approved", "{seen}");
    let receipts = seen["decisions"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{seen}");
    assert_eq!(receipts[0]["status"], "accepted");
    assert_eq!(receipts[0]["approver"], "alice");
    assert_eq!(receipts[0]["decision"], "approve");
    app.close().await;

    // The key's private half is in the Secret Service and nowhere in the
    // database file.
    let store = Store::open(&db).await.unwrap();
    let row = store.decisions(Some("req-e2e-kafka")).await.unwrap();
    assert_eq!(row[0].receipt.as_deref(), Some("accepted"));
    store.close().await;
    let secret = OsKeyring
        .get(&format!("signing-key:{}", key.kid))
        .unwrap()
        .expect("the private key is in the keyring");
    let raw = std::fs::read(&db).unwrap();
    assert!(
        !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the private key must never be written to the database"
    );
}
