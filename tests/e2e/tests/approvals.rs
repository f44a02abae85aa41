//! The second approver as a person uses it: the reference backend issues a
//! containment request, the real app under Xvfb shows it in the Approvals
//! inbox, the owner signs in with the organisation's identity provider (a
//! real one: oidc-provider on loopback; the browser step played by the
//! test from the address the window shows), which enrolls their key with
//! the backend that trusts only that provider, reads the request and
//! approves through the UI, and the backend records a verified, signed
//! approval by the provider's `sub` with the token's group. The signing
//! key and the session live in the real Secret Service (scripts/test
//! starts gnome-keyring in this D-Bus session).

use std::sync::Arc;
use std::time::{Duration, Instant};

use countersign::Store;
use countersign::backend::IdentityProvider;
use countersign::client::BackendClient;
use countersign::signing::{Keys, OsKeyring, SecretStore};
use countersign::store::ChangeContext;
use countersign_e2e::oidc::{Provider, browse, password};
use countersign_e2e::{AppSession, UI_TIMEOUT, live_request, start_reference_backend_trusting};

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
    /// Signs out whatever happens, so later tests on this session bus do
    /// not act as the test's person.
    struct SignOut;
    impl Drop for SignOut {
        fn drop(&mut self) {
            let _ = countersign::oidc::forget(&OsKeyring);
        }
    }
    let _sign_out = SignOut;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("approvals.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    // The key exists before signing in: the sign-in is asked for it.
    let keys = Keys::new(&store, Arc::new(OsKeyring));
    let key = keys
        .init(&ChangeContext::new("alice", "e2e"))
        .await
        .expect("a signing key in the Secret Service (run under scripts/test)");
    store.close().await;

    let provider = Provider::start();
    let url = start_reference_backend_trusting(
        TOKEN,
        Some(IdentityProvider {
            issuer: provider.issuer.clone(),
            audience: "countersign".into(),
            groups_claim: "groups".into(),
        }),
    )
    .await;
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();

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
            // The test plays the browser, from the address the window shows.
            ("COUNTERSIGN_NO_BROWSER", "1"),
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
    // Nobody vouches for the local mode, and the window says so.
    app.wait_for_text_containing("[data-testid=local-mode]", "no identity provider vouches")
        .await;
    app.wait_for("[data-testid=issuer]")
        .await
        .send_keys(&provider.issuer)
        .await
        .unwrap();
    app.click("[data-testid=sign-in-button]").await;
    let address = app
        .wait_for("[data-testid=sign-in-address]")
        .await
        .prop("value")
        .await
        .unwrap()
        .expect("the sign-in address is shown");
    assert!(address.starts_with(&provider.issuer), "{address}");
    app.screenshot("approval-sign-in-waiting").await;
    tokio::task::spawn_blocking(move || browse(&address, "alice", &password("alice")))
        .await
        .unwrap()
        .expect("alice signs in at the provider");
    app.wait_for_text_containing("[data-testid=signed-in-as]", "Alice Governance")
        .await;
    app.wait_for_text_containing("[data-testid=signed-in-as]", "identity-governance")
        .await;
    app.screenshot("approval-signed-in").await;
    // Signing in enrolled the key it was asked for, bound to alice's sub
    // and her token's group, at the backend that trusts only the provider.
    let enrolled = soar.approver_jwks("alice").await.unwrap();
    assert_eq!(enrolled["keys"][0]["kid"], key.kid.as_str(), "{enrolled}");
    assert_eq!(
        enrolled["groups"],
        serde_json::json!(["identity-governance"])
    );

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
    // The session is in the keyring, kept for the next start.
    assert!(countersign::oidc::load(&OsKeyring).unwrap().is_some());

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

/// Issue 19 (1): an owner who may not sign a request learns it before the
/// Sign button, with the fix, not after confirming a signature that
/// "cannot be taken back". Local mode, a backend with the default dual
/// groups: the key is not enrolled (fixed from the request view), then the
/// owner is in none of the groups (set in the app, which enrolls them),
/// and only then does the approval sign — accepted by the backend as the
/// first of two.
#[tokio::test(flavor = "multi_thread")]
async fn issue_19_a_signature_that_would_not_count_is_refused_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("eligible.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    let key = Keys::new(&store, Arc::new(OsKeyring))
        .init(&ChangeContext::new("dana", "e2e"))
        .await
        .expect("a signing key in the Secret Service (run under scripts/test)");
    store.close().await;

    let url = countersign_e2e::start_reference_backend(TOKEN).await;
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    let mut request = live_request("req-e2e-dual");
    request["tier"] = "dual_approval".into();
    soar.create_request(&request).await.unwrap();

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
    app.click("[data-testid=inbox-item][data-id=req-e2e-dual]")
        .await;
    // Not enrolled: said at once, with the fix beside it.
    app.wait_for_text_containing("[data-testid=sign-refused]", "no key is enrolled for dana")
        .await;
    let approve = app.wait_for("[data-testid=verdict-approve]").await;
    assert!(!approve.is_enabled().await.unwrap());
    app.click("[data-testid=sign-fix]").await;
    // Enrolled, but in none of the groups a dual approval needs here.
    app.wait_for_text_containing(
        "[data-testid=sign-refused]",
        "must hold one of groups identity-governance, incident-response",
    )
    .await;
    let approve = app.wait_for("[data-testid=verdict-approve]").await;
    assert!(!approve.is_enabled().await.unwrap());
    app.screenshot("issue19-sign-refused").await;
    let enrolled = soar.approver_jwks("dana").await.unwrap();
    assert_eq!(enrolled["keys"][0]["kid"], key.kid.as_str(), "{enrolled}");

    // The groups are set in the app (from the refusal itself), and enrolled
    // with the backend at once.
    app.click("[data-testid=sign-fix-groups]").await;
    app.wait_for("[data-testid=approver-groups]")
        .await
        .send_keys("identity-governance")
        .await
        .unwrap();
    app.click("[data-testid=save-groups]").await;
    app.wait_for_text_containing(
        "[data-testid=groups-saved]",
        &format!("Enrolled with {url}"),
    )
    .await;
    assert_eq!(
        soar.approver_jwks("dana").await.unwrap()["groups"],
        serde_json::json!(["identity-governance"])
    );
    app.wait_gone("[data-testid=sign-refused]").await;
    app.wait_for_text_containing(
        "[data-testid=dual-groups]",
        "Yours would be the first of the two signatures",
    )
    .await;
    app.click("[data-testid=verdict-approve]").await;
    app.wait_for("[data-testid=reason]")
        .await
        .send_keys("Rotation is safe; a second owner confirms.")
        .await
        .unwrap();
    app.click("[data-testid=sign]").await;
    app.click("[data-testid=confirm-sign]").await;
    app.wait_for("[data-testid=delivery-state]").await;
    app.screenshot("issue19-sign-first-of-two").await;
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let seen = soar.request_by_id("req-e2e-dual").await.unwrap();
        if seen["status"] == "awaiting_second_approval" {
            assert_eq!(seen["decisions"][0]["approver"], "dana", "{seen}");
            break;
        }
        assert!(Instant::now() < deadline, "never accepted: {seen}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.close().await;
}

/// Issue 19 (2): a wrong backend address or token is refused before
/// anything is saved, said plainly at the form, and the connection is
/// changed and removed in the app — no CLI needed to recover.
#[tokio::test(flavor = "multi_thread")]
async fn issue_19_a_wrong_backend_is_refused_then_changed_in_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connect.db");
    let store = Store::open(&db).await.unwrap();
    countersign::demo::load(&store, false, "e2e").await.unwrap();
    store.close().await;
    let url = countersign_e2e::start_reference_backend(TOKEN).await;
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    soar.create_request(&live_request("req-e2e-connect"))
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();

    let app = AppSession::start_with_env(&db, &[("COUNTERSIGN_ACTOR", "erin")]).await;
    app.click("[data-testid=tab-approvals]").await;
    let fill = |address: String, token: &'static str| {
        let app = &app;
        async move {
            let url_field = app
                .wait_for("[data-testid=connect-form] input[type=url]")
                .await;
            url_field.clear().await.unwrap();
            url_field.send_keys(&address).await.unwrap();
            let token_field = app
                .wait_for("[data-testid=connect-form] input[type=password]")
                .await;
            token_field.clear().await.unwrap();
            token_field.send_keys(token).await.unwrap();
            app.click("[data-testid=connect]").await;
        }
    };
    // Nothing listens there: said plainly, nothing saved, the form stays.
    fill(format!("http://{closed}"), TOKEN).await;
    app.wait_for_text_containing("[role=alert]", "cannot be reached (could not connect")
        .await;
    app.wait_for_text_containing("[role=alert]", "nothing was saved")
        .await;
    let alert = app.wait_for("[role=alert]").await.text().await.unwrap();
    assert!(
        !alert.contains("client error") && !alert.contains("countersign "),
        "{alert}"
    );
    app.screenshot("issue19-connect-refused").await;
    app.wait_for("[data-testid=connect-form]").await;

    // The right address and token: connected, the request arrives.
    fill(url.clone(), TOKEN).await;
    app.wait_for_text_containing("[data-testid=inbox-status]", &url)
        .await;
    app.wait_for("[data-testid=inbox-item][data-id=req-e2e-connect]")
        .await;

    // Changing to a wrong token is refused; the connection stays.
    app.click("[data-testid=change-backend]").await;
    fill(url.clone(), "not-the-token").await;
    app.wait_for_text_containing("[role=alert]", "refused this token")
        .await;
    app.screenshot("issue19-change-refused").await;
    app.click("[data-testid=connect-form] button[type=button]")
        .await;
    app.wait_for_text_containing("[data-testid=inbox-status]", &url)
        .await;

    // Disconnected after a confirmation: back to the form.
    app.click("[data-testid=disconnect-backend]").await;
    app.click("[data-testid=confirm-disconnect-yes]").await;
    app.wait_for("[data-testid=connect-form]").await;
    app.screenshot("issue19-disconnected").await;
    app.close().await;
}
