//! The app layer (`countersign::app`) as the desktop calls it, without a
//! window: a workspace connects to the reference backend on loopback,
//! polls its inbox, shows a request, and decides on it — refusing when the
//! inventory moved while the request was open, and signing the blast
//! radius it showed when it did not. The Tauri commands are one-line
//! callers of these same methods.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign::Store;
use countersign::app::Workspace;
use countersign::app::approvals::{DecideInput, Verdict};
use countersign::backend::{self, ServeConfig};
use countersign::client::BackendClient;
use countersign::model::Usage;
use countersign::signing::MemorySecrets;
use countersign::store::{ChangeContext, Edit};
use serde_json::{Value, json};

const TOKEN: &str = "app-layer-test-token-0123456789";

fn request(id: &str) -> Value {
    let mut r: Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    let now = jiff::Timestamp::now().as_second();
    r["id"] = id.into();
    r["requested_by"] = json!({ "kind": "analyst", "id": "soar-analyst" });
    r["created_at"] = jiff::Timestamp::from_second(now - 60)
        .unwrap()
        .to_string()
        .into();
    r["expires_at"] = jiff::Timestamp::from_second(now + 1800)
        .unwrap()
        .to_string()
        .into();
    r
}

fn decide(id: &str, version: Option<String>) -> DecideInput {
    serde_json::from_value(json!({
        "id": id,
        "verdict": "approve",
        "reason": "rotation is safe: consumers reload the secret",
        "inventoryVersion": version,
    }))
    .unwrap()
}

fn payload(jws: &str) -> Value {
    let part = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Alice's app on a database in `dir` (the demo inventory when `demo`),
/// with keys in memory.
async fn workspace(dir: &tempfile::TempDir, demo: bool) -> Workspace {
    let store = Store::open(&dir.path().join("inv.db")).await.unwrap();
    if demo {
        countersign::demo::load(&store, false, "alice")
            .await
            .unwrap();
    }
    Workspace::on(
        store,
        None,
        Arc::new(MemorySecrets::default()),
        ChangeContext::new("alice", "app"),
    )
}

#[tokio::test]
async fn the_desktop_path_decides_on_what_it_showed_and_refuses_after_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(&dir, true).await;
    // No backend yet: the inbox says so, deciding says what to do.
    assert!(ws.inbox().await.unwrap().backend.is_none());
    ws.create_signing_key().await.unwrap();

    let running = backend::spawn(ServeConfig::new("127.0.0.1:0", TOKEN))
        .await
        .unwrap();
    let url = running.url();
    // A bad token is refused before anything is kept.
    let e = ws.connect_backend(&url, "  ").await.unwrap_err();
    assert_eq!(e.code(), "invalid_input", "{e}");
    // A wrong address or token is found before anything is kept, and said
    // plainly (not "client error (Connect)").
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = ws
        .connect_backend(&format!("http://{closed}"), TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "backend_unreachable", "{e}");
    assert!(e.to_string().contains("could not connect"), "{e}");
    assert!(!e.to_string().contains("client error"), "{e}");
    let e = ws.connect_backend(&url, "not-the-token").await.unwrap_err();
    assert_eq!(e.code(), "backend_unauthorized", "{e}");
    assert!(ws.inbox().await.unwrap().backend.is_none(), "nothing kept");
    ws.connect_backend(&format!("{url}/"), TOKEN).await.unwrap();
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    soar.create_request(&request("req-app-1")).await.unwrap();

    let polled = ws.poll().await;
    assert_eq!(polled.new.len(), 1, "the new request is announced once");
    assert_eq!(polled.awaiting, 1);
    assert!(ws.poll().await.new.is_empty(), "not announced twice");
    let inbox = ws.inbox().await.unwrap();
    assert_eq!(inbox.backend.as_deref(), Some(url.as_str()));
    assert_eq!((inbox.items.len(), inbox.awaiting), (1, 1));
    assert!(inbox.signing_key.is_some());

    // The owner opens the request; another owner edits the identity.
    let view = ws.request_view("req-app-1").await.unwrap();
    assert!(view.inventory_version.is_some() && view.blast_radius_digest.is_some());
    let store = ws.store().unwrap();
    let mut identity = store.identity("tok-kafka-shared").await.unwrap();
    identity.used_by.push(Usage::of("ledger-db"));
    store
        .edit(
            Edit::SaveIdentity(Box::new(identity)),
            None,
            &ChangeContext::new("bob", "desktop"),
        )
        .await
        .unwrap();
    let e = ws
        .decide(decide("req-app-1", view.inventory_version.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "inventory_changed");
    assert_eq!(
        e.to_string(),
        "the inventory changed since you opened this request; review it again"
    );
    let shown = serde_json::to_value(&e).unwrap();
    assert_eq!(shown["code"], "inventory_changed");
    assert!(
        shown["hint"]
            .as_str()
            .unwrap()
            .contains("Open the request again")
    );
    assert!(
        store.decisions(None).await.unwrap().is_empty(),
        "nothing signed"
    );

    // Reviewed again: signed, with the digest of the blast radius shown.
    let again = ws.request_view("req-app-1").await.unwrap();
    assert_ne!(again.inventory_version, view.inventory_version);
    let row = ws
        .decide(decide("req-app-1", again.inventory_version.clone()))
        .await
        .unwrap();
    let claims = payload(&row.jws);
    assert_eq!(
        claims["blast_radius_digest"].as_str(),
        again.blast_radius_digest.as_deref()
    );
    assert_eq!(claims["aud"].as_str(), Some(url.as_str()));
    assert_eq!(row.destination.as_deref(), Some(url.as_str()));

    // The next poll delivers it; the inbox no longer counts it.
    let polled = ws.poll().await;
    assert_eq!(polled.awaiting, 0);
    let delivered = &store.decisions(Some("req-app-1")).await.unwrap()[0];
    assert!(delivered.receipt.is_some(), "{delivered:?}");
    assert_eq!(store.undelivered(None).await.unwrap(), 0);

    // Signing one request changes no inventory: a second request opened
    // before it is still decided on the version it showed.
    soar.create_request(&request("req-app-2")).await.unwrap();
    soar.create_request(&request("req-app-3")).await.unwrap();
    ws.poll().await;
    let second = ws.request_view("req-app-2").await.unwrap();
    let third = ws.request_view("req-app-3").await.unwrap();
    assert_eq!(second.inventory_version, third.inventory_version);
    ws.decide(DecideInput {
        verdict: Verdict::Deny,
        ..decide("req-app-2", second.inventory_version.clone())
    })
    .await
    .unwrap();
    ws.decide(decide("req-app-3", third.inventory_version.clone()))
        .await
        .expect("another decision is no inventory change");
    // A version that is not one says so, rather than "changed".
    soar.create_request(&request("req-app-4")).await.unwrap();
    ws.poll().await;
    let e = ws
        .decide(decide("req-app-4", Some("garbage".into())))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("not an inventory version"), "{e}");

    // A request for an identity this inventory does not know: the view
    // says so, approving is refused, denying signs what was shown.
    let mut unknown = request("req-app-5");
    unknown["target"] = json!({ "external_id": "vault:secret/nowhere" });
    soar.create_request(&unknown).await.unwrap();
    ws.poll().await;
    let view = ws.request_view("req-app-5").await.unwrap();
    assert!(
        view.problem
            .as_deref()
            .unwrap()
            .contains("vault:secret/nowhere")
    );
    let e = ws
        .decide(decide("req-app-5", view.inventory_version.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unknown_target");
    let row = ws
        .decide(DecideInput {
            verdict: Verdict::Deny,
            ..decide("req-app-5", view.inventory_version.clone())
        })
        .await
        .unwrap();
    assert_eq!(
        payload(&row.jws)["blast_radius_digest"].as_str(),
        view.blast_radius_digest.as_deref(),
        "the denial signs the problem shown"
    );

    // Changing to a wrong backend keeps the one that works; disconnecting
    // forgets it (and its token) and empties the inbox.
    let e = ws
        .connect_backend("http://127.0.0.1:9", TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "backend_unreachable", "{e}");
    assert_eq!(
        ws.inbox().await.unwrap().backend.as_deref(),
        Some(url.as_str())
    );
    assert_eq!(
        ws.disconnect_backend().await.unwrap().as_deref(),
        Some(url.as_str())
    );
    // Your own decisions stay listed (and the one still queued stays
    // queued); nothing from the backend is offered any more.
    let inbox = ws.inbox().await.unwrap();
    assert!(inbox.backend.is_none(), "{:?}", inbox.backend);
    assert_eq!(inbox.awaiting, 0);
    assert!(inbox.items.iter().all(|i| i.decision.is_some()));
    assert_eq!(inbox.queued, 1);
    assert_eq!(ws.disconnect_backend().await.unwrap(), None);
}

#[tokio::test]
async fn decide_input_is_checked_before_anything_is_signed() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(&dir, false).await;
    let cases = [
        (
            json!({"id": "r", "verdict": "approve", "reason": " "}),
            "reason",
        ),
        (
            json!({"id": "", "verdict": "deny", "reason": "x"}),
            "request",
        ),
        (
            json!({"id": "r", "verdict": "narrow", "reason": "x"}),
            "action",
        ),
        (
            json!({"id": "r", "verdict": "narrow", "action": "revoke_token", "until": "soon", "reason": "x"}),
            "until",
        ),
    ];
    for (input, field) in cases {
        let input: DecideInput = serde_json::from_value(input).unwrap();
        let e = ws.decide(input).await.unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(
            e.to_string().starts_with(&format!("invalid {field}:")),
            "{e}"
        );
    }
    // A well-formed decision with no backend connected says so.
    let e = ws
        .decide(DecideInput {
            verdict: Verdict::Deny,
            ..decide("r", None)
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), "no_backend");
    // Unknown fields from the window are refused, not ignored.
    assert!(
        serde_json::from_value::<DecideInput>(
            json!({"id": "r", "verdict": "deny", "reason": "x", "approver": "mallory"})
        )
        .is_err()
    );
}

/// A drill's requests are in the inbox while it runs (marked by the
/// inbox's `drill`), and none is left once it ends, with no backend of the
/// owner's own (issue 19: they stayed after the drill).
#[tokio::test]
async fn a_finished_drill_leaves_no_request_in_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(&dir, true).await;
    ws.create_signing_key().await.unwrap();
    let (_session, run) = ws
        .start_drill(
            "leaked-deploy-key",
            countersign::app::drills::MAX_SPEED,
            true,
        )
        .await
        .unwrap();
    let drilling = async {
        // Polled while it runs: its requests arrive, marked as the drill's.
        let mut seen = false;
        for _ in 0..200 {
            ws.poll().await;
            let inbox = ws.inbox().await.unwrap();
            if inbox.drill.is_some() && !inbox.items.is_empty() {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        seen
    };
    let (seen, ()) = tokio::join!(drilling, ws.run_drill(run, |_| {}));
    assert!(seen, "the drill's requests reached the inbox");
    ws.poll().await;
    let inbox = ws.inbox().await.unwrap();
    assert!(inbox.drill.is_none());
    assert!(
        inbox.items.is_empty(),
        "a drill request left in the inbox: {:?}",
        inbox
            .items
            .iter()
            .map(|i| i.request.id())
            .collect::<Vec<_>>()
    );
    assert_eq!(inbox.awaiting, 0);
}

/// Issue 19 (1): the app knows before its Sign button is enabled whether
/// a signature would count, by the backend's own rules — refused with the
/// reason when the owner is in none of a dual approval's groups, put right
/// by setting the groups in the app (which enrolls them again), refused
/// when the groups claimed are not the ones enrolled, refused for the
/// first approver's second signature; and a backend that cannot be asked
/// leaves it unchecked rather than refused.
#[tokio::test]
async fn the_app_knows_before_signing_whether_a_signature_would_count() {
    use countersign::approval::Standing;
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(&dir, true).await;
    let check = ws.sign_check("req-dual-app").await.unwrap();
    assert_eq!(
        check.approve_refused.as_ref().map(|r| r.code.as_str()),
        Some("no_signing_key")
    );
    ws.create_signing_key().await.unwrap();
    let check = ws.sign_check("req-dual-app").await.unwrap();
    assert_eq!(check.unchecked.as_deref(), Some("no backend is connected"));
    assert!(check.approve_refused.is_none());

    let running = backend::spawn(ServeConfig::new("127.0.0.1:0", TOKEN))
        .await
        .unwrap();
    let url = running.url();
    ws.connect_backend(&url, TOKEN).await.unwrap();
    let soar = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    let mut r = request("req-dual-app");
    r["tier"] = "dual_approval".into();
    soar.create_request(&r).await.unwrap();
    ws.poll().await;

    // No groups: the first of a dual approval would be refused.
    let check = ws.sign_check("req-dual-app").await.unwrap();
    let refused = check.approve_refused.expect("refused before signing");
    assert_eq!(refused.code, "not_in_required_group");
    assert!(
        refused.message.contains("identity-governance"),
        "{}",
        refused.message
    );
    assert!(check.deny_refused.is_none(), "a denial still counts");
    assert_eq!(check.required_groups, backend::DEFAULT_DUAL_GROUPS);

    // Groups set in the app are checked, kept and enrolled at once.
    let e = ws
        .set_approver_groups(&["sre,security".into()])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input", "{e}");
    let saved = ws
        .set_approver_groups(&[
            " identity-governance ".into(),
            "".into(),
            "identity-governance".into(),
        ])
        .await
        .unwrap();
    assert_eq!(saved.groups, ["identity-governance"]);
    assert_eq!(saved.enrolled_at.as_deref(), Some(url.as_str()));
    let check = ws.sign_check("req-dual-app").await.unwrap();
    assert!(
        check.approve_refused.is_none(),
        "{:?}",
        check.approve_refused
    );
    assert_eq!(check.standing, Some(Standing::FirstOfTwo));
    assert_eq!(check.your_groups, ["identity-governance"]);

    // Groups changed behind the backend's back (the CLI's setting with no
    // backend told): the decision would claim what is not enrolled.
    let store = ws.store().unwrap();
    store
        .set_setting(
            countersign::store::APPROVER_GROUPS_KEY,
            "incident-response",
            &ChangeContext::new("alice", "cli"),
        )
        .await
        .unwrap();
    let refused = ws
        .sign_check("req-dual-app")
        .await
        .unwrap()
        .approve_refused
        .unwrap();
    assert_eq!(
        (refused.code.as_str(), refused.fix.as_deref()),
        ("approver_mismatch", Some("enroll"))
    );
    ws.enroll_if_connected().await.unwrap();
    assert!(
        ws.sign_check("req-dual-app")
            .await
            .unwrap()
            .approve_refused
            .is_none()
    );

    // Signed: the backend awaits a second approver, and says a second
    // signature of hers would not be one.
    let mut input = decide("req-dual-app", None);
    input.reason = "both teams agreed".into();
    ws.decide(input).await.unwrap();
    ws.poll().await;
    let check = ws.sign_check("req-dual-app").await.unwrap();
    assert_eq!(check.approvals.len(), 1);
    assert_eq!(
        check.approve_refused.map(|r| r.code),
        Some("same_approver_twice".to_owned())
    );

    // A backend that cannot be asked: unchecked, not refused.
    running.shut_down().await.unwrap();
    let check = ws.sign_check("req-dual-app").await.unwrap();
    assert!(check.approve_refused.is_none());
    assert!(
        check
            .unchecked
            .as_deref()
            .is_some_and(|u| u.contains("could not be asked")),
        "{:?}",
        check.unchecked
    );
}

/// A drill stopped before its later injects were due reports them as not
/// issued, apart from the ones issued and left unanswered (issue 19: the
/// report counted them all as unanswered).
#[tokio::test]
async fn a_drill_stopped_early_reports_what_was_never_issued() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(&dir, true).await;
    ws.create_signing_key().await.unwrap();
    // Real time: the first inject is due at once, the later ones minutes on.
    let (_session, run) = ws
        .start_drill("leaked-deploy-key", 1.0, false)
        .await
        .unwrap();
    let stopper = async {
        for _ in 0..200 {
            ws.poll().await;
            if !ws.inbox().await.unwrap().items.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        ws.drills.stop();
    };
    let ((), ()) = tokio::join!(stopper, ws.run_drill(run, |_| {}));
    let report = ws.drills.current().unwrap().report.expect("a report");
    let t = &report.totals;
    assert!(t.unanswered >= 1, "{t:?}");
    assert!(t.not_issued >= 1, "{t:?}");
    assert_eq!(
        t.injects,
        t.approved + t.denied + t.unanswered + t.not_issued
    );
}
