//! The broker keeps what it knows (issue 18): `backend serve --state`
//! journals every change in a database, so `kill -9` loses nothing that
//! was answered and a decision, once applied, is never applied again —
//! after a restart, and across brokers sharing one PostgreSQL database.

mod common;

use std::sync::Arc;

use common::approver::Approver;
use common::{ServedBackend, TestDb, live_request};
use countersign::backend::{self, ServeConfig};
use countersign::client::BackendClient;
use serde_json::Value;

const TOKEN: &str = "broker-test-token-0123456789abcdef";

fn client(url: &str) -> BackendClient {
    BackendClient::new(url, TOKEN.to_owned().into()).unwrap()
}

#[tokio::test]
async fn a_killed_broker_restarts_with_everything_it_answered_and_accepts_no_replay() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("broker.db");
    let state = state.to_str().unwrap();
    let serve =
        || ServedBackend::start(&["--state", state], &[("COUNTERSIGN_BACKEND_TOKEN", TOKEN)]);
    let alice = Approver::new("alice").await;
    let bob = Approver::new("bob").await;

    let first = serve();
    let audience = first.url.clone();
    let c = client(&first.url);
    for who in [&alice, &bob] {
        let group = if who.id == "alice" {
            "identity-governance"
        } else {
            "incident-response"
        };
        who.enroll(&c, group).await;
    }
    let single = live_request("req-broker-single", "single_approval", "soar-analyst");
    let dual = live_request("req-broker-dual", "dual_approval", "soar-analyst");
    c.create_request(&single).await.unwrap();
    c.create_request(&dual).await.unwrap();
    let approved = alice.approve(&single, &audience).await;
    assert_eq!(c.submit(&approved).await.unwrap().status, "accepted");
    let half = alice.approve(&dual, &audience).await;
    assert_eq!(
        c.submit(&half).await.unwrap().status,
        "awaiting_second_approval"
    );
    drop(first); // SIGKILL: no shutdown, no flush

    // On another port, the same state: the same audience, every request,
    // enrollment and receipt.
    let second = serve();
    assert_ne!(second.url, audience, "a new port");
    let c = client(&second.url);
    let seen = c.request_by_id("req-broker-single").await.unwrap();
    assert_eq!(seen["status"], "approved", "{seen}");
    assert_eq!(seen["decisions"].as_array().unwrap().len(), 1);
    let seen = c.request_by_id("req-broker-dual").await.unwrap();
    assert_eq!(seen["status"], "awaiting_second_approval", "{seen}");
    // The same decision again: its first receipt, not a second approval.
    let again = c.submit(&half).await.unwrap();
    assert_eq!(again.status, "awaiting_second_approval");
    let seen = c.request_by_id("req-broker-dual").await.unwrap();
    assert_eq!(seen["decisions"].as_array().unwrap().len(), 1, "{seen}");
    // Alice again, with a fresh jti: still one person.
    let twice = alice.approve(&dual, &audience).await;
    assert_eq!(
        c.submit(&twice).await.unwrap().reason.as_deref(),
        Some("same_approver_twice")
    );
    // Bob, enrolled before the crash, completes it.
    let second_half = bob.approve(&dual, &audience).await;
    assert_eq!(c.submit(&second_half).await.unwrap().status, "accepted");
    drop(second);

    // And once more: the completed approval is still complete.
    let third = serve();
    let seen = client(&third.url)
        .request_by_id("req-broker-dual")
        .await
        .unwrap();
    assert_eq!(seen["status"], "approved", "{seen}");
}

/// Two brokers on one PostgreSQL database: a request created at one is
/// seen at the other, and the same decision sent to both at once is
/// applied once.
#[tokio::test]
async fn brokers_sharing_postgres_apply_a_decision_once() {
    let db = TestDb::postgres().await;
    let start = |audience: &str| {
        backend::spawn(ServeConfig {
            audience: Some(audience.to_owned()),
            state: Some(db.target()),
            ..ServeConfig::new("127.0.0.1:0", TOKEN)
        })
    };
    let audience = "https://broker.example";
    let one = start(audience).await.unwrap();
    let two = start(audience).await.unwrap();
    let (c1, c2) = (client(&one.url()), client(&two.url()));
    let alice = Approver::new("alice").await;
    alice.enroll(&c1, "identity-governance").await;
    let r = live_request("req-broker-shared", "single_approval", "soar-analyst");
    c2.create_request(&r).await.unwrap();
    assert_eq!(
        c1.request_by_id("req-broker-shared").await.unwrap()["status"],
        "pending"
    );

    let jws = alice.approve(&r, audience).await;
    let (a, b) = tokio::join!(c1.submit(&jws), c2.submit(&jws));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.status.as_str(), b.status.as_str()),
        ("accepted", "accepted")
    );
    for c in [&c1, &c2] {
        let seen = c.request_by_id("req-broker-shared").await.unwrap();
        assert_eq!(seen["status"], "approved");
        assert_eq!(
            seen["decisions"].as_array().unwrap().len(),
            1,
            "applied once: {seen}"
        );
    }
    // Two different decisions on one request, one at each broker at once:
    // the brokers apply changes in one order, so exactly one is accepted.
    let r = live_request("req-broker-race", "single_approval", "soar-analyst");
    c1.create_request(&r).await.unwrap();
    let (x, y) = (
        alice.approve(&r, audience).await,
        alice.approve(&r, audience).await,
    );
    let (a, b) = tokio::join!(c1.submit(&x), c2.submit(&y));
    let mut statuses = [a.unwrap(), b.unwrap()].map(|r| (r.status, r.reason));
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("accepted".to_owned(), None),
            ("rejected".to_owned(), Some("already_decided".to_owned()))
        ]
    );

    // A broker started afterwards rebuilds the same from the journal.
    let three = start(audience).await.unwrap();
    let seen = client(&three.url())
        .request_by_id("req-broker-shared")
        .await
        .unwrap();
    assert_eq!(seen["decisions"].as_array().unwrap().len(), 1);
}

/// `GET /v1/requests/{id}?wait=SECONDS` holds the answer until the
/// request has its outcome — a decision, or its expiry — the way a SOAR's
/// polling command waits; without an outcome it answers at the timeout.
#[tokio::test]
async fn a_long_poll_answers_when_the_outcome_exists() {
    let running = backend::spawn(ServeConfig::new("127.0.0.1:0", TOKEN))
        .await
        .unwrap();
    let url = running.url();
    let c = client(&url);
    let alice = Approver::new("alice").await;
    alice.enroll(&c, "identity-governance").await;
    let http = reqwest::Client::new();
    let poll = |id: &str, wait: u64| {
        http.get(format!("{url}/v1/requests/{id}?wait={wait}"))
            .bearer_auth(TOKEN)
            .send()
    };

    // Decided while the poll waits: answered then, not at the timeout.
    let r = live_request("req-poll-decided", "single_approval", "soar-analyst");
    c.create_request(&r).await.unwrap();
    let jws = alice.approve(&r, &running.audience).await;
    let started = std::time::Instant::now();
    let (answer, _) = tokio::join!(poll("req-poll-decided", 30), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        c.submit(&jws).await.unwrap()
    });
    let body: Value = answer.unwrap().json().await.unwrap();
    assert_eq!(body["status"], "approved", "{body}");
    assert!(body["decisions"][0]["jws"].is_string());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // Nobody decides and it expires: answered at its expiry as `expired`.
    let mut soon = live_request("req-poll-expiring", "single_approval", "soar-analyst");
    soon["expires_at"] = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2))
        .to_string()
        .into();
    c.create_request(&soon).await.unwrap();
    let body: Value = poll("req-poll-expiring", 30)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "expired", "{body}");

    // Still pending at the timeout: answered with its pending status.
    let open = live_request("req-poll-open", "single_approval", "soar-analyst");
    c.create_request(&open).await.unwrap();
    let body: Value = poll("req-poll-open", 1)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "pending");
    // Longer than the broker holds a request: refused with the limit.
    let refused = poll("req-poll-open", 3600).await.unwrap();
    assert_eq!(refused.status(), 422);
}

/// A callback receiver (the SOAR side waiting on a webhook): answers 503
/// to the first `down_for` POSTs, then 200; keeps every body it got.
async fn receiver(down_for: usize) -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
    let got: Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
    let seen = Arc::clone(&got);
    let app = Router::new()
        .route(
            "/hook",
            post(
                move |State(got): State<Arc<std::sync::Mutex<Vec<Value>>>>,
                      Json(body): Json<Value>| async move {
                    let mut got = got.lock().unwrap();
                    got.push(body);
                    if got.len() <= down_for {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                },
            ),
        )
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A request's outcome reaches its callback signed by the broker (verified
/// with the broker's JWKS), retried while the receiver is down, sent once
/// acknowledged and not again after a restart; an expiry is an outcome too.
#[tokio::test]
async fn outcomes_reach_their_callback_signed_retried_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("broker.db").display().to_string();
    let config = || ServeConfig {
        audience: Some("https://broker.example".into()),
        state: Some(state.clone()),
        ..ServeConfig::new("127.0.0.1:0", TOKEN)
    };
    let running = backend::spawn(config()).await.unwrap();
    let c = client(&running.url());
    let alice = Approver::new("alice").await;
    alice.enroll(&c, "identity-governance").await;
    let (hook, got) = receiver(2).await;

    let mut r = live_request("req-callback", "single_approval", "soar-analyst");
    r["callback"] = format!("{hook}?sig=receiver-secret").into();
    c.create_request(&r).await.unwrap();
    // Approvers see (and sign the digest of) the request without its
    // callback: the receiver's credential stays with the broker.
    let listed = c.proposed_request("req-callback").await.unwrap();
    assert!(listed.get("callback").is_none(), "{listed}");
    let pending = c.pending_requests(None).await.unwrap();
    assert!(!format!("{pending:?}").contains("receiver-secret"));
    let jws = alice.approve(&listed, "https://broker.example").await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");
    // Down twice (503), retried with backoff, then acknowledged.
    wait_for("the third delivery", || got.lock().unwrap().len() >= 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3, "nothing after the acknowledgement");

    // The body verifies with the broker's published key, no token needed.
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", running.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = &bodies[2];
    let claims = countersign::signing::verify_signature(
        last["jws"].as_str().unwrap(),
        &jwks,
        backend::callbacks::OUTCOME_TYP,
    )
    .unwrap();
    assert_eq!(claims["outcome_id"], "req-callback/approved");
    assert_eq!(claims["status"], "approved");
    assert_eq!(claims["decisions"][0], jws.as_str());
    assert_eq!(last["outcome"]["outcome_id"], "req-callback/approved");
    assert!(
        bodies
            .iter()
            .all(|b| b["outcome"]["outcome_id"] == "req-callback/approved")
    );

    // Restarted on the same state: the acknowledged outcome is not sent
    // again, and the key (and so the JWKS) is the same.
    drop(running);
    let running = backend::spawn(config()).await.unwrap();
    let again: Value = reqwest::get(format!("{}/.well-known/jwks.json", running.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, jwks);
    // Nobody decides this one: its expiry is its outcome.
    let c = client(&running.url());
    let mut soon = live_request("req-callback-expiring", "single_approval", "soar-analyst");
    soon["callback"] = hook.into();
    soon["expires_at"] = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1))
        .to_string()
        .into();
    c.create_request(&soon).await.unwrap();
    wait_for("the expiry's delivery", || got.lock().unwrap().len() >= 4).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    assert_eq!(
        bodies[3]["outcome"]["outcome_id"],
        "req-callback-expiring/expired"
    );
    assert_eq!(bodies[3]["outcome"]["status"], "expired");

    // The audience is the state's: another one would judge the journal's
    // decisions for the wrong backend, so it is refused before serving.
    drop(running);
    let Err(e) = backend::spawn(ServeConfig {
        audience: Some("https://elsewhere.example".into()),
        ..config()
    })
    .await
    else {
        panic!("a broker started on a state with another audience");
    };
    assert!(
        e.to_string()
            .contains("answers to the audience \"https://broker.example\""),
        "{e}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the state (with the broker's key) is its owner's only"
        );
    }
}

/// The same offline verification in Node.js with panva's `jose`
/// (integrations/node/verify.mjs), for backend teams that are not in
/// Python: a real callback from the broker and the decision inside it
/// verify; a tampered outcome, another request's id, another broker's key
/// and a decision checked against the broker's key are refused.
#[tokio::test]
async fn node_verifies_decisions_and_callbacks_with_panva_jose() {
    let running = backend::spawn(ServeConfig {
        audience: Some("https://broker.example".into()),
        ..ServeConfig::new("127.0.0.1:0", TOKEN)
    })
    .await
    .unwrap();
    let c = client(&running.url());
    let alice = Approver::new("alice").await;
    let alice_jwks = alice.keys().jwks().await.unwrap();
    c.enroll("alice", &["identity-governance".into()], &alice_jwks, None)
        .await
        .unwrap();
    let (hook, got) = receiver(0).await;
    let mut r = live_request("req-node", "single_approval", "soar-analyst");
    r["callback"] = hook.into();
    c.create_request(&r).await.unwrap();
    let listed = c.proposed_request("req-node").await.unwrap();
    let jws = alice.approve(&listed, "https://broker.example").await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");
    wait_for("the callback", || !got.lock().unwrap().is_empty()).await;
    let body = got.lock().unwrap()[0].clone();
    let broker_jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", running.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let body_file = write("body.json", body.to_string());
    let broker_file = write("broker.json", broker_jwks.to_string());
    let alice_file = write("alice.json", alice_jwks.to_string());
    let jws_file = write("decision.jws", jws.clone());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/integrations/node/verify.mjs");
    let node = |args: &[&str]| {
        let out = std::process::Command::new("node")
            .arg(script)
            .args(args)
            .output()
            .expect("node runs (scripts/test installs Node.js and the npm packages)");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            said,
        )
    };

    let (ok, out, said) = node(&[
        "callback",
        &body_file,
        &broker_file,
        "req-node",
        "https://broker.example",
    ]);
    assert!(ok, "{said}");
    let outcome: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(outcome["status"], "approved");
    assert_eq!(outcome["decisions"][0], jws.as_str());
    let (ok, out, said) = node(&["decision", &jws_file, &alice_file, "req-node"]);
    assert!(ok, "{said}");
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["approver"]["id"], "alice");
    assert_eq!(claims["decision"], "approve");

    let mut tampered = body.clone();
    tampered["outcome"]["status"] = "denied".into();
    let tampered_file = write("tampered.json", tampered.to_string());
    for (args, why) in [
        (
            vec!["callback", &tampered_file, &broker_file],
            "differs from the signed one",
        ),
        (
            vec!["callback", &body_file, &broker_file, "req-other"],
            "not req-other",
        ),
        (
            vec!["callback", &body_file, &alice_file],
            "no applicable key found",
        ),
        (
            vec!["decision", &jws_file, &broker_file],
            "no applicable key found",
        ),
    ] {
        let (ok, _, said) = node(&args);
        assert!(!ok, "{args:?} verified");
        assert!(
            said.to_lowercase().contains(&why.to_lowercase()),
            "{args:?}: {said}"
        );
    }
}

/// An owner signing from the request as the SOAR posted it (callback and
/// all) or as `GET /v1/requests/{id}` answers it (status, decisions) signs
/// the same digest the broker checks, and keeps no callback credential.
#[tokio::test]
async fn a_decision_on_the_request_as_posted_or_as_answered_is_accepted_and_keeps_no_callback() {
    let running = backend::spawn(ServeConfig {
        audience: Some("https://broker.example".into()),
        ..ServeConfig::new("127.0.0.1:0", TOKEN)
    })
    .await
    .unwrap();
    let c = client(&running.url());
    let alice = Approver::new("alice").await;
    alice.enroll(&c, "identity-governance").await;
    let mut posted = live_request("req-as-posted", "single_approval", "soar-analyst");
    posted["callback"] = "https://hooks.example/run?sig=receiver-secret".into();
    c.create_request(&posted).await.unwrap();
    let jws = alice.approve(&posted, "https://broker.example").await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");
    let kept = alice.store.decisions(Some("req-as-posted")).await.unwrap();
    assert!(
        !format!("{kept:?}").contains("receiver-secret"),
        "the callback's credential was kept with the decision"
    );

    let mut other = live_request("req-as-answered", "single_approval", "soar-analyst");
    other["callback"] = "https://hooks.example/run?sig=receiver-secret".into();
    c.create_request(&other).await.unwrap();
    let answered = c.request_by_id("req-as-answered").await.unwrap();
    assert_eq!(answered["status"], "pending");
    let jws = alice.approve(&answered, "https://broker.example").await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");
}
