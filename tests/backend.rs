//! The reference backend against real signed decisions: every forgery the
//! protocol names is rejected with its reason, every valid decision is
//! accepted exactly once, and queued decisions arrive once a backend that
//! was down comes up. The backend runs in-process on a loopback port; the
//! decisions come from the same `decide` path the app and CLI use.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign::Store;
use countersign::approval::{self, Decision, DecisionInput, Narrowing};
use countersign::backend::{self, BackendState, Shared, Submitted};
use countersign::client::{self, BackendClient};
use countersign::model::ContainmentAction;
use countersign::signing::{Keys, MemorySecrets};
use countersign::store::{APPROVER_GROUPS_KEY, ChangeContext};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const TOKEN: &str = "test-token-0123456789";

/// One approver's installation: their own database and keys.
struct Approver {
    id: &'static str,
    store: Store,
    secrets: Arc<MemorySecrets>,
    _dir: tempfile::TempDir,
}

impl Approver {
    async fn new(id: &'static str, groups: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        countersign::demo::load(&store, false, id).await.unwrap();
        let ctx = ChangeContext::new(id, "test");
        store
            .set_setting(APPROVER_GROUPS_KEY, groups, &ctx)
            .await
            .unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        Keys::new(&store, secrets.clone()).init(&ctx).await.unwrap();
        Approver {
            id,
            store,
            secrets,
            _dir: dir,
        }
    }

    fn keys(&self) -> Keys<'_> {
        Keys::new(&self.store, self.secrets.clone())
    }

    async fn jwks(&self) -> Value {
        self.keys().jwks().await.unwrap()
    }

    /// Decides through the real path, queueing for `destination`.
    async fn decide(&self, request: &Value, decision: Decision, audience: &str) -> String {
        self.decide_for(request, decision, audience, Some(audience))
            .await
    }

    async fn decide_for(
        &self,
        request: &Value,
        decision: Decision,
        audience: &str,
        destination: Option<&str>,
    ) -> String {
        approval::decide(
            &self.store,
            &self.keys(),
            DecisionInput {
                request,
                decision,
                reason: "checked the blast radius",
                audience,
                destination,
                inventory_version: None,
            },
            &ChangeContext::new(self.id, "test"),
        )
        .await
        .unwrap()
        .jws
    }

    /// An approval of `request` signed without the app's own refusal to
    /// approve one's own request (the backend must refuse it too): a real
    /// decision on another request, re-aimed.
    async fn decide_raw_approval(&self, target: &Value, audience: &str) -> String {
        let other = request("req-someone-elses", "single_approval", "someone-else");
        let mut claims = claims_of(
            &self
                .decide_for(&other, Decision::Approve, audience, None)
                .await,
        );
        claims["request_id"] = target["id"].clone();
        claims["request_digest"] = countersign::signing::request_digest(target).into();
        claims["jti"] = uuid_like("7").into();
        self.sign_raw(&claims).await
    }

    /// Signs arbitrary claims with this approver's active key, bypassing
    /// the app's own checks (what a compromised or buggy client could send).
    async fn sign_raw(&self, claims: &Value) -> String {
        self.keys()
            .active()
            .await
            .unwrap()
            .sign(claims, approval::DECISION_TYP)
            .unwrap()
    }
}

fn request(id: &str, tier: &str, requester: &str) -> Value {
    let mut r: Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    let now = jiff::Timestamp::now().as_second();
    r["id"] = id.into();
    r["tier"] = tier.into();
    r["requested_by"] = json!({ "kind": "analyst", "id": requester });
    r["created_at"] = ts(now - 60).into();
    r["expires_at"] = ts(now + 1800).into();
    r
}

fn ts(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

struct Running {
    url: String,
    shared: Shared,
    client: BackendClient,
}

async fn start_on(listener: tokio::net::TcpListener) -> Running {
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shared = Shared {
        state: Arc::new(Mutex::new(BackendState::new(
            url.clone(),
            backend::DEFAULT_DUAL_GROUPS.map(String::from).to_vec(),
        ))),
        token: TOKEN.into(),
        identity: None,
        journal: None,
        changed: Default::default(),
        key: Arc::new(countersign::signing::SigningKeyPair::from_seed(&[7u8; 32]).unwrap()),
        stopping: Default::default(),
    };
    let app = backend::router(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    Running {
        url,
        shared,
        client,
    }
}

async fn start() -> Running {
    start_on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

async fn enroll(b: &Running, who: &Approver, groups: &[&str]) {
    let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    b.client
        .enroll(who.id, &groups, &who.jwks().await, None)
        .await
        .unwrap();
}

async fn submit(b: &Running, jws: &str) -> client::WireReceipt {
    b.client.submit(jws).await.unwrap()
}

fn claims_of(jws: &str) -> Value {
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The backend's judgement of `who` approving request `id` now: `Ok` with
/// the standing, or `Err` with the rejection code it predicts.
async fn may_approve(b: &Running, id: &str, who: &str) -> Result<String, String> {
    let e = b.client.eligibility(id, who).await.unwrap();
    assert_eq!((e.request_id.as_str(), e.approver.as_str()), (id, who));
    match (e.approve.allowed, e.approve.standing, e.approve.reason) {
        (true, Some(s), None) => Ok(serde_json::to_value(s).unwrap().as_str().unwrap().into()),
        (false, None, Some(reason)) => Err(reason),
        other => panic!("an incoherent judgement: {other:?}"),
    }
}

async fn status_of(b: &Running, id: &str) -> String {
    b.client.request_by_id(id).await.unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn forged_and_invalid_decisions_are_rejected_with_their_reason() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    let mallory = Approver::new("mallory", "").await;
    let bob = Approver::new("bob", "incident-response").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    enroll(&b, &bob, &["incident-response"]).await;

    // A missing or wrong token is refused before anything else.
    let wrong = BackendClient::new(&b.url, "nope".to_owned().into()).unwrap();
    assert!(matches!(
        wrong.pending_requests(None).await,
        Err(client::ClientError::Unauthorized { .. })
    ));

    let mut reasons = Vec::new();
    let mut expect = |receipt: client::WireReceipt, reason: &str| {
        assert_eq!(receipt.status, "rejected", "{receipt:?}");
        assert_eq!(receipt.reason.as_deref(), Some(reason), "{receipt:?}");
        reasons.push(reason.to_owned());
    };

    let r1 = request("req-forgeries", "single_approval", "soar-analyst");
    b.client.create_request(&r1).await.unwrap();

    // Bad signature: the payload changed after signing.
    let jws = alice.decide(&r1, Decision::Approve, &b.url).await;
    let mut claims = claims_of(&jws);
    claims["decision"] = "deny".into();
    let parts: Vec<&str> = jws.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    expect(submit(&b, &forged).await, "bad_signature");

    // Unknown key: never enrolled.
    let jws = mallory.decide(&r1, Decision::Approve, &b.url).await;
    expect(submit(&b, &jws).await, "unknown_key");

    // Tampered request: the approver was shown a different request.
    let mut tampered = r1.clone();
    tampered["severity"] = "low".into();
    let jws = alice.decide(&tampered, Decision::Approve, &b.url).await;
    expect(submit(&b, &jws).await, "digest_mismatch");

    // Wrong audience: signed for another backend.
    let jws = alice
        .decide_for(&r1, Decision::Approve, "https://other-soar.example", None)
        .await;
    expect(submit(&b, &jws).await, "wrong_audience");

    // Approval by the requester (the app refuses this; a modified client
    // could still sign it, so the backend checks too).
    let r2 = request("req-by-bob", "single_approval", "bob");
    b.client.create_request(&r2).await.unwrap();
    let mut claims = claims_of(&bob.decide(&r1, Decision::Approve, &b.url).await);
    claims["request_id"] = "req-by-bob".into();
    claims["request_digest"] = countersign::signing::request_digest(&r2).into();
    claims["jti"] = uuid_like("1").into();
    expect(
        submit(&b, &bob.sign_raw(&claims).await).await,
        "approver_is_requester",
    );
    // A decision claiming groups its approver was not enrolled with.
    let mut claims = claims_of(&alice.decide(&r1, Decision::Approve, &b.url).await);
    claims["approver"]["groups"] = serde_json::json!(["identity-governance", "incident-response"]);
    claims["jti"] = uuid_like("3").into();
    expect(
        submit(&b, &alice.sign_raw(&claims).await).await,
        "approver_mismatch",
    );

    // Nor under a look-alike spelling of the requester's name (full-width
    // letters, another case): compared after compatibility caseless matching.
    for (n, lookalike) in ["\u{ff42}\u{ff4f}\u{ff42}", "BOB"].into_iter().enumerate() {
        let id = format!("req-by-bob-{n}");
        let r = request(&id, "single_approval", lookalike);
        b.client.create_request(&r).await.unwrap();
        let mut claims = claims_of(&bob.decide(&r1, Decision::Approve, &b.url).await);
        claims["request_id"] = id.into();
        claims["request_digest"] = countersign::signing::request_digest(&r).into();
        claims["jti"] = uuid_like(&format!("2{n}")).into();
        expect(
            submit(&b, &bob.sign_raw(&claims).await).await,
            "approver_is_requester",
        );
    }

    // A valid approval is accepted once; the identical JWS again returns
    // the first receipt, and a different JWS reusing its jti is a replay.
    let jws = alice.decide(&r1, Decision::Approve, &b.url).await;
    let first = submit(&b, &jws).await;
    assert_eq!(first.status, "accepted");
    assert_eq!(
        submit(&b, &jws).await,
        first,
        "a resend is answered with the first receipt"
    );
    let mut replay = claims_of(&jws);
    replay["reason"] = "same jti, other content".into();
    expect(
        submit(&b, &alice.sign_raw(&replay).await).await,
        "replayed_jti",
    );
    assert_eq!(status_of(&b, "req-forgeries").await, "approved");

    // Retired key: alice rotates and re-enrolls without the old key; a
    // decision the old key signed before is refused as such.
    let r3 = request("req-retired", "single_approval", "soar-analyst");
    b.client.create_request(&r3).await.unwrap();
    let old = alice.decide(&r3, Decision::Deny, &b.url).await;
    let ctx = ChangeContext::new("alice", "test");
    let previous = alice.keys().active().await.unwrap().kid;
    alice.keys().rotate(&ctx).await.unwrap();
    assert!(alice.keys().retire(&previous, &ctx).await.unwrap());
    enroll(&b, &alice, &["identity-governance"]).await;
    expect(submit(&b, &old).await, "retired_key");
    // The new key still works.
    let fresh = alice.decide(&r3, Decision::Deny, &b.url).await;
    assert_eq!(submit(&b, &fresh).await.status, "accepted");
    assert_eq!(status_of(&b, "req-retired").await, "denied");

    // Expired: the same decision, seen after its `exp`.
    let r4 = request("req-late", "single_approval", "soar-analyst");
    b.client.create_request(&r4).await.unwrap();
    let jws = alice.decide(&r4, Decision::Approve, &b.url).await;
    let exp = claims_of(&jws)["exp"].as_i64().unwrap();
    let later = jiff::Timestamp::from_second(exp + backend::LEEWAY_SECONDS + 1).unwrap();
    let mut state = b.shared.state.lock().await;
    let Submitted::New(receipt) = state.submit(&jws, later) else {
        panic!("first submission")
    };
    drop(state);
    assert_eq!(receipt.reason, Some("expired"));
    reasons.push("expired".into());

    // The backend's own log names each rejection.
    let log = b.shared.state.lock().await.log.clone();
    let logged: Vec<&str> = log.iter().filter_map(|r| r.reason).collect();
    for reason in &reasons {
        assert!(
            logged.contains(&reason.as_str()),
            "{reason} not in {logged:?}"
        );
    }
    let accepted = log
        .iter()
        .filter(|r| r.status == backend::ReceiptStatus::Accepted)
        .count();
    assert_eq!(accepted, 2, "each valid decision applied once: {log:?}");
}

/// Enrolls `id` with an Ed25519 key made from `seed`, outside the app's
/// own signing path (what another JOSE library would use); returns the
/// key, its base64url public half and its RFC 7638 `kid`.
async fn enroll_raw_key(
    b: &Running,
    id: &str,
    seed: u8,
) -> (ed25519_dalek::SigningKey, String, String) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(json!({"kty": "OKP", "crv": "Ed25519", "x": x})).unwrap();
    let kid = jwk
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap();
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid}]});
    b.client.enroll(id, &[], &jwks, None).await.unwrap();
    (key, x, kid)
}

fn uuid_like(n: &str) -> String {
    format!("00000000-0000-4000-8000-{:0>12}", n)
}

#[tokio::test]
async fn dual_approval_needs_two_distinct_approvers_from_the_named_groups() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    let carol = Approver::new("carol", "identity-governance").await;
    let bob = Approver::new("bob", "incident-response").await;
    let dave = Approver::new("dave", "finance").await;
    for (who, groups) in [
        (&alice, ["identity-governance"]),
        (&carol, ["identity-governance"]),
        (&bob, ["incident-response"]),
        (&dave, ["finance"]),
    ] {
        enroll(&b, who, &groups).await;
    }
    let r = request("req-dual", "dual_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    // Before anything is signed, the backend says what each would meet
    // (the app's Sign button follows it): each prediction below is then
    // checked against the receipt of a real submission.
    let requester = Approver::new("soar-analyst", "identity-governance").await;
    enroll(&b, &requester, &["identity-governance"]).await;
    assert_eq!(
        may_approve(&b, "req-dual", "soar-analyst").await,
        Err("approver_is_requester".into())
    );
    let jws = requester.decide_raw_approval(&r, &b.url).await;
    assert_eq!(
        submit(&b, &jws).await.reason.as_deref(),
        Some("approver_is_requester")
    );
    let stranger = b.client.eligibility("req-dual", "erin").await.unwrap();
    assert!(stranger.enrolled_kids.is_empty());
    assert_eq!(stranger.approve.reason.as_deref(), Some("unknown_key"));
    assert_eq!(stranger.deny.reason.as_deref(), Some("unknown_key"));
    let missing = b.client.eligibility("no-such-request", "alice").await;
    assert!(missing.unwrap_err().to_string().contains("404"));
    let e = b.client.eligibility("req-dual", "dave").await.unwrap();
    assert_eq!(e.groups, ["finance"]);
    assert_eq!(e.required_groups, backend::DEFAULT_DUAL_GROUPS);
    assert!(e.deny.allowed, "anyone enrolled may deny");
    assert_eq!(
        may_approve(&b, "req-dual", "dave").await,
        Err("not_in_required_group".into())
    );
    assert_eq!(
        may_approve(&b, "req-dual", "alice").await,
        Ok("first_of_two".into())
    );

    // Someone outside the named groups cannot start it.
    let jws = dave.decide(&r, Decision::Approve, &b.url).await;
    assert_eq!(
        submit(&b, &jws).await.reason.as_deref(),
        Some("not_in_required_group")
    );

    // One approval is not enough.
    let jws = alice.decide(&r, Decision::Approve, &b.url).await;
    assert_eq!(submit(&b, &jws).await.status, "awaiting_second_approval");
    assert_eq!(status_of(&b, "req-dual").await, "awaiting_second_approval");
    let e = b.client.eligibility("req-dual", "bob").await.unwrap();
    assert_eq!(
        e.approvals,
        [approval::Signer {
            approver: "alice".into(),
            groups: vec!["identity-governance".into()]
        }]
    );
    assert_eq!(
        may_approve(&b, "req-dual", "alice").await,
        Err("same_approver_twice".into())
    );
    assert_eq!(
        may_approve(&b, "req-dual", "carol").await,
        Err("groups_not_covered".into())
    );
    assert_eq!(
        may_approve(&b, "req-dual", "bob").await,
        Ok("second_of_two".into())
    );

    // The same person twice is not two approvers.
    let jws = alice.decide(&r, Decision::Approve, &b.url).await;
    assert_eq!(
        submit(&b, &jws).await.reason.as_deref(),
        Some("same_approver_twice")
    );
    // Two people from the same group do not cover both groups.
    let jws = carol.decide(&r, Decision::Approve, &b.url).await;
    assert_eq!(
        submit(&b, &jws).await.reason.as_deref(),
        Some("groups_not_covered")
    );
    // A second approval of something else does not complete the first.
    let narrowed = Decision::ApproveNarrowed(Narrowing {
        action: None,
        scope: vec![],
        until: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(600)),
    });
    let jws = bob.decide(&r, narrowed, &b.url).await;
    assert_eq!(
        submit(&b, &jws).await.reason.as_deref(),
        Some("approvals_disagree")
    );
    assert_eq!(status_of(&b, "req-dual").await, "awaiting_second_approval");

    // Identity governance plus incident response: approved.
    let jws = bob.decide(&r, Decision::Approve, &b.url).await;
    assert_eq!(submit(&b, &jws).await.status, "accepted");
    assert_eq!(status_of(&b, "req-dual").await, "approved");
    assert_eq!(
        may_approve(&b, "req-dual", "dave").await,
        Err("already_decided".into())
    );
    let pending = match b.client.pending_requests(None).await.unwrap() {
        client::Listing::Changed { requests, .. } => requests,
        client::Listing::NotModified => unreachable!(),
    };
    assert!(
        pending.is_empty(),
        "decided requests leave the pending list"
    );
}

#[tokio::test]
async fn the_backend_accepts_rfc_9864_fully_specified_ed25519() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    let r = request("req-9864", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    // Claims from the real path, re-signed by a key of Erin's own with
    // `alg: Ed25519` (what a newer JOSE library emits).
    let mut claims = claims_of(&alice.decide_for(&r, Decision::Approve, &b.url, None).await);
    claims["iss"] = "erin".into();
    claims["approver"] = json!({ "id": "erin", "groups": [] });
    let (key, x, kid) = enroll_raw_key(&b, "erin", 7).await;
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "Ed25519", "kid": kid, "typ": approval::DECISION_TYP}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = key.sign(format!("{header}.{payload}").as_bytes());
    let jws = format!(
        "{header}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    );
    assert_eq!(submit(&b, &jws).await.status, "accepted");

    // A kid that is not the key's thumbprint cannot be enrolled.
    let bad = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "made-up"}]});
    let err = b.client.enroll("erin", &[], &bad, None).await.unwrap_err();
    assert!(err.to_string().contains("thumbprint"), "{err}");
}

#[tokio::test]
async fn listing_is_cheap_to_poll_with_etag_and_cursor() {
    let b = start().await;
    b.client
        .create_request(&request("req-a", "single_approval", "x"))
        .await
        .unwrap();
    let client::Listing::Changed {
        requests,
        etag,
        next_cursor,
    } = b.client.pending_requests(None).await.unwrap()
    else {
        panic!("first listing")
    };
    assert_eq!(requests.len(), 1);
    assert_eq!(
        b.client.pending_requests(etag.as_deref()).await.unwrap(),
        client::Listing::NotModified
    );
    b.client
        .create_request(&request("req-b", "single_approval", "x"))
        .await
        .unwrap();
    assert!(matches!(
        b.client.pending_requests(etag.as_deref()).await.unwrap(),
        client::Listing::Changed { .. }
    ));
    // The cursor returns only what is newer.
    let http = reqwest::Client::new();
    let body: Value = http
        .get(format!("{}/v1/requests?since={next_cursor}", b.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["req-b"]);
    // The same request twice is fine; other content under its id is not.
    let mut clash = request("req-a", "single_approval", "x");
    clash["severity"] = "critical".into();
    let err = b.client.create_request(&clash).await.unwrap_err();
    assert!(err.to_string().contains("409"), "{err}");
}

#[tokio::test]
async fn decisions_queued_while_the_backend_is_down_arrive_once_it_is_up() {
    // Reserve a port, then leave it closed: the backend is "down".
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}");
    let alice = Approver::new("alice", "identity-governance").await;
    let requests: Vec<Value> = (0..5)
        .map(|i| request(&format!("req-down-{i}"), "single_approval", "soar"))
        .collect();
    let client = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
    for r in &requests {
        alice.decide(r, Decision::Approve, &url).await;
    }
    let before = jiff::Timestamp::now();
    let report = client::deliver_due(&alice.store, &client).await.unwrap();
    let after = jiff::Timestamp::now();
    assert_eq!(report.delivered, 0);
    // Unreachable: the whole queue backs off together, not one at a time.
    assert_eq!(report.failed, 5, "{report:?}");
    assert!(
        report.last_error.unwrap().contains("cannot be reached"),
        "the error says what happened"
    );
    assert_eq!(alice.store.undelivered(None).await.unwrap(), 5);
    let rows = alice.store.decisions(None).await.unwrap();
    assert!(
        rows.iter()
            .all(|d| d.last_error.is_some() && d.attempts == Some(1)),
        "{rows:?}"
    );
    // The first retry waits 2 s less up to 20 % jitter: judged on the
    // store's own times, not on how fast this machine runs.
    let due = |at: jiff::Timestamp| {
        let store = &alice.store;
        let url = url.clone();
        async move {
            store
                .due_deliveries(at, Some(&url), 50)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(
        due(before + jiff::SignedDuration::from_millis(1500)).await,
        0
    );
    assert_eq!(
        due(after + jiff::SignedDuration::from_millis(2001)).await,
        5
    );

    // Up again, on the same address, with the requests it had issued.
    let b = start_on(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
    enroll(&b, &alice, &["identity-governance"]).await;
    for r in &requests {
        b.client.create_request(r).await.unwrap();
    }
    // "Retry now" makes them due at once.
    alice.store.retry_deliveries_now().await.unwrap();
    let report = client::deliver_due(&alice.store, &client).await.unwrap();
    assert_eq!(report.delivered, 5, "{report:?}");
    assert_eq!(alice.store.undelivered(None).await.unwrap(), 0);
    for r in &requests {
        assert_eq!(status_of(&b, r["id"].as_str().unwrap()).await, "approved");
    }
    let rows = alice.store.decisions(None).await.unwrap();
    assert!(
        rows.iter()
            .all(|d| d.receipt.as_deref() == Some("accepted"))
    );
    // Delivering again sends nothing.
    alice.store.retry_deliveries_now().await.unwrap();
    let again = client::deliver_due(&alice.store, &client).await.unwrap();
    assert_eq!(again, client::DeliveryReport::default());
}

/// A decision is one of a closed set, and every reader fails closed: a
/// "Deny" spelled otherwise, an empty decision, a narrowing without
/// `approve_narrowed` (or the reverse), and empty or oversized ids and
/// reasons are each refused as `invalid_claims`, and the request stays
/// pending, never approved (issue 14; ../shared/security/r02).
#[tokio::test]
async fn a_decision_outside_the_closed_set_is_refused_never_approved() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    let r = request("req-closed-set", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let good = claims_of(&alice.decide_for(&r, Decision::Deny, &b.url, None).await);

    let narrowing = json!({"action": "revoke_token"});
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change)> = vec![
        ("Deny", Box::new(|c| c["decision"] = "Deny".into())),
        ("DENY", Box::new(|c| c["decision"] = "DENY".into())),
        ("reject", Box::new(|c| c["decision"] = "reject".into())),
        ("denied", Box::new(|c| c["decision"] = "denied".into())),
        ("approved", Box::new(|c| c["decision"] = "approved".into())),
        ("empty decision", Box::new(|c| c["decision"] = "".into())),
        ("padded", Box::new(|c| c["decision"] = "approve ".into())),
        (
            "narrowed without a narrowing",
            Box::new(|c| c["decision"] = "approve_narrowed".into()),
        ),
        (
            "narrowed with an empty narrowing",
            Box::new(|c| {
                c["decision"] = "approve_narrowed".into();
                c["narrowed"] = json!({});
            }),
        ),
        (
            "approve with a narrowing",
            Box::new(move |c| {
                c["decision"] = "approve".into();
                c["narrowed"] = narrowing.clone();
            }),
        ),
        ("empty reason", Box::new(|c| c["reason"] = " ".into())),
        (
            "reason too long",
            Box::new(|c| c["reason"] = "x".repeat(approval::MAX_REASON_BYTES + 1).into()),
        ),
        ("empty jti", Box::new(|c| c["jti"] = "".into())),
        (
            "jti too long",
            Box::new(|c| c["jti"] = "j".repeat(approval::MAX_ID_BYTES + 1).into()),
        ),
    ];
    for (n, (what, change)) in cases.iter().enumerate() {
        let mut claims = good.clone();
        claims["jti"] = uuid_like(&format!("c{n}")).into();
        change(&mut claims);
        let receipt = submit(&b, &alice.sign_raw(&claims).await).await;
        assert_eq!(receipt.status, "rejected", "{what}: {receipt:?}");
        assert_eq!(
            receipt.reason.as_deref(),
            Some("invalid_claims"),
            "{what}: {receipt:?}"
        );
        assert_eq!(status_of(&b, "req-closed-set").await, "pending", "{what}");
    }
    // The real denial still denies.
    let jws = alice.decide_for(&r, Decision::Deny, &b.url, None).await;
    assert_eq!(submit(&b, &jws).await.status, "accepted");
    assert_eq!(status_of(&b, "req-closed-set").await, "denied");
}

/// `decide` refuses to sign what every reader would refuse.
#[tokio::test]
async fn decide_does_not_sign_claims_a_reader_would_refuse() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    let r = request("req-long-reason", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let long = "x".repeat(approval::MAX_REASON_BYTES + 1);
    let err = approval::decide(
        &alice.store,
        &alice.keys(),
        DecisionInput {
            request: &r,
            decision: Decision::ApproveNarrowed(Narrowing {
                action: None,
                scope: vec![],
                until: None,
            }),
            reason: "narrowed to nothing",
            audience: &b.url,
            destination: None,
            inventory_version: None,
        },
        &ChangeContext::new("alice", "test"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            approval::DecisionError::InvalidClaims(approval::ClaimsProblem::NarrowingMissing)
        ),
        "{err}"
    );
    let err = approval::decide(
        &alice.store,
        &alice.keys(),
        DecisionInput {
            request: &r,
            decision: Decision::Approve,
            reason: &long,
            audience: &b.url,
            destination: None,
            inventory_version: None,
        },
        &ChangeContext::new("alice", "test"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("reason is longer than"), "{err}");
    assert!(alice.store.decisions(None).await.unwrap().is_empty());
}

/// The JOSE header fails closed as well: a `crit` extension (known or
/// not), `b64: false`, a missing or other `typ` are refused as
/// `unsupported_header`, while the decision type in the spellings RFC 7515
/// allows is accepted (issue 14; ../shared/security/r06).
#[tokio::test]
async fn a_header_the_verifier_does_not_implement_is_refused() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    let r = request("req-headers", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let mut claims = claims_of(&alice.decide_for(&r, Decision::Approve, &b.url, None).await);
    claims["iss"] = "erin".into();
    claims["approver"] = json!({ "id": "erin", "groups": [] });
    let (key, _, kid) = enroll_raw_key(&b, "erin", 9).await;
    let sign = |header: Value, n: &str| {
        let mut claims = claims.clone();
        claims["jti"] = uuid_like(&format!("h{n}")).into();
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signature = key.sign(format!("{header}.{payload}").as_bytes());
        format!(
            "{header}.{payload}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    };
    let typ = approval::DECISION_TYP;
    let refused = [
        (
            "crit unknown",
            json!({"alg": "EdDSA", "kid": kid, "typ": typ, "crit": ["x-unknown"], "x-unknown": 1}),
        ),
        (
            "crit registered",
            json!({"alg": "EdDSA", "kid": kid, "typ": typ, "crit": ["exp"]}),
        ),
        (
            "b64 false",
            json!({"alg": "EdDSA", "kid": kid, "typ": typ, "b64": false, "crit": ["b64"]}),
        ),
        (
            "b64 false alone",
            json!({"alg": "EdDSA", "kid": kid, "typ": typ, "b64": false}),
        ),
        ("typ JWT", json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"})),
        ("no typ", json!({"alg": "EdDSA", "kid": kid})),
    ];
    for (n, (what, header)) in refused.into_iter().enumerate() {
        let receipt = submit(&b, &sign(header, &n.to_string())).await;
        assert_eq!(receipt.status, "rejected", "{what}: {receipt:?}");
        assert_eq!(
            receipt.reason.as_deref(),
            Some("unsupported_header"),
            "{what}: {receipt:?}"
        );
    }
    assert_eq!(status_of(&b, "req-headers").await, "pending");
    let upper = format!("application/{}", typ.to_ascii_uppercase());
    let accepted = sign(json!({"alg": "EdDSA", "kid": kid, "typ": upper}), "ok");
    assert_eq!(submit(&b, &accepted).await.status, "accepted");
}

/// A narrowed approval approves less than was asked, never more: each
/// broader action, wider scope or out-of-window `until` is refused by the
/// backend as `invalid_narrowing` (the request stays pending) and by
/// `decide` before anything is signed — one core check for both (issue 14;
/// ../shared/security/r03).
#[tokio::test]
async fn a_narrowing_broader_than_the_request_is_refused_by_backend_and_decide() {
    use approval::NarrowingProblem as P;
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    let now = jiff::Timestamp::now().as_second();
    let write = "kafka:topic/orders:write";
    // (what, requested action, tier, request scope, narrowed, decide's refusal)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Vec<&'static str>,
        Value,
        fn(&P) -> bool,
    );
    let cases: Vec<Case> = vec![
        (
            "rotate -> disable",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"action": "disable_account"}),
            |p| matches!(p, P::BroaderAction { .. }),
        ),
        (
            "rotate -> quarantine",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"action": "quarantine"}),
            |p| matches!(p, P::BroaderAction { .. }),
        ),
        (
            "rotate -> revoke session",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"action": "revoke_session"}),
            |p| matches!(p, P::BroaderAction { .. }),
        ),
        (
            "revoke token -> disable (policy: dual)",
            "revoke_token",
            "single_approval",
            vec![],
            json!({"action": "disable_account"}),
            |p| matches!(p, P::StricterTier { .. }),
        ),
        (
            "scope -> *",
            "reduce_scope",
            "single_approval",
            vec![write],
            json!({"scope": ["*"]}),
            |p| matches!(p, P::ScopeWildcard { .. }),
        ),
        (
            "a request listing * -> *",
            "reduce_scope",
            "single_approval",
            vec!["*", write],
            json!({"scope": ["*"]}),
            |p| matches!(p, P::ScopeWildcard { .. }),
        ),
        (
            "a scope entry twice",
            "reduce_scope",
            "single_approval",
            vec![write, "kafka:topic/payments:write"],
            json!({"scope": [write, write]}),
            |p| matches!(p, P::ScopeRepeated { .. }),
        ),
        (
            "scope -> another topic",
            "reduce_scope",
            "single_approval",
            vec![write],
            json!({"scope": [write, "kafka:topic/payments:write"]}),
            |p| matches!(p, P::ScopeOutsideRequest { .. }),
        ),
        (
            "unscoped -> *",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"scope": ["*"]}),
            |p| matches!(p, P::ScopeWildcard { .. }),
        ),
        (
            "until in the past",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"until": "2001-01-01T00:00:00Z"}),
            |p| matches!(p, P::UntilPast { .. }),
        ),
        (
            "until after the request expires",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"until": ts(now + 7200)}),
            |p| matches!(p, P::UntilAfterExpiry { .. }),
        ),
        (
            "same action, nothing else",
            "rotate_secret",
            "single_approval",
            vec![],
            json!({"action": "rotate_secret"}),
            |p| matches!(p, P::NothingNarrowed),
        ),
    ];
    for (n, (what, action, tier, scope, narrowed, expected)) in cases.iter().enumerate() {
        let mut r = request(&format!("req-narrow-{n}"), tier, "soar-analyst");
        r["action"] = (*action).into();
        if !scope.is_empty() {
            r["scope"] = json!(scope);
        }
        b.client.create_request(&r).await.unwrap();
        // The backend, given it signed by an enrolled key.
        let mut claims = claims_of(&alice.decide_for(&r, Decision::Deny, &b.url, None).await);
        claims["jti"] = uuid_like(&format!("n{n}")).into();
        claims["decision"] = "approve_narrowed".into();
        claims["narrowed"] = narrowed.clone();
        let receipt = submit(&b, &alice.sign_raw(&claims).await).await;
        assert_eq!(receipt.status, "rejected", "{what}: {receipt:?}");
        assert_eq!(
            receipt.reason.as_deref(),
            Some("invalid_narrowing"),
            "{what}"
        );
        assert_eq!(
            status_of(&b, r["id"].as_str().unwrap()).await,
            "pending",
            "{what}"
        );
        // decide, before signing.
        let signed_before = alice.store.decisions(None).await.unwrap().len();
        let narrowing: Narrowing = serde_json::from_value(narrowed.clone()).unwrap();
        let err = approval::decide(
            &alice.store,
            &alice.keys(),
            DecisionInput {
                request: &r,
                decision: Decision::ApproveNarrowed(narrowing),
                reason: "narrowed",
                audience: &b.url,
                destination: Some(&b.url),
                inventory_version: None,
            },
            &ChangeContext::new("alice", "test"),
        )
        .await
        .unwrap_err();
        match &err {
            approval::DecisionError::BroaderNarrowing(p) => assert!(expected(p), "{what}: {p}"),
            other => panic!("{what}: decide failed otherwise: {other}"),
        }
        assert_eq!(
            alice.store.decisions(None).await.unwrap().len(),
            signed_before,
            "{what}"
        );
    }

    // A constraint the reader does not know is refused, never dropped.
    let r = request("req-narrow-unknown", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let mut claims = claims_of(&alice.decide_for(&r, Decision::Deny, &b.url, None).await);
    claims["jti"] = uuid_like("unknown-field").into();
    claims["decision"] = "approve_narrowed".into();
    claims["narrowed"] = json!({"until": ts(now + 600), "services": ["all"]});
    let receipt = submit(&b, &alice.sign_raw(&claims).await).await;
    assert_eq!(
        receipt.reason.as_deref(),
        Some("invalid_claims"),
        "{receipt:?}"
    );

    // Real narrowings pass both: disable -> rotate on a dual request (first
    // of two signatures), and a rotation approved for ten minutes only.
    let mut r = request("req-narrow-ok-dual", "dual_approval", "soar-analyst");
    r["action"] = "disable_account".into();
    b.client.create_request(&r).await.unwrap();
    let rotate = Narrowing {
        action: Some(ContainmentAction::RotateSecret),
        scope: vec![],
        until: None,
    };
    let jws = alice
        .decide_for(&r, Decision::ApproveNarrowed(rotate), &b.url, None)
        .await;
    assert_eq!(submit(&b, &jws).await.status, "awaiting_second_approval");
    let r = request("req-narrow-ok-until", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let until = Narrowing {
        action: None,
        scope: vec![],
        until: Some(jiff::Timestamp::from_second(now + 600).unwrap()),
    };
    let jws = alice
        .decide_for(&r, Decision::ApproveNarrowed(until), &b.url, None)
        .await;
    assert_eq!(submit(&b, &jws).await.status, "accepted");
    assert_eq!(status_of(&b, "req-narrow-ok-until").await, "approved");
}

/// A JWKS with one OKP key whose public half is `x` (32 bytes), with its
/// RFC 7638 thumbprint as `kid`.
fn jwks_of(x: &[u8; 32]) -> (Value, String) {
    let x = URL_SAFE_NO_PAD.encode(x);
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(json!({"kty": "OKP", "crv": "Ed25519", "x": x})).unwrap();
    let kid = jwk
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap();
    (
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid}]}),
        kid,
    )
}

/// Keys are checked when they are enrolled, and a key's history is kept:
/// points of small order, non-canonical encodings and points with a
/// torsion component are refused; a key belongs to one approver; a retired
/// key is never active again, under its own name or another (issue 14).
#[tokio::test]
async fn enrollment_refuses_weak_keys_and_never_revives_a_retired_one() {
    let b = start().await;
    let refused = |what: &'static str, result: Result<(), client::ClientError>, needle: &str| {
        let err = result.expect_err(what).to_string();
        assert!(err.contains(needle), "{what}: {err}");
    };
    // The neutral point, and the same with its sign bit set (non-canonical).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    refused(
        "small order",
        b.client
            .enroll("mallory", &[], &jwks_of(&identity).0, None)
            .await,
        "small order",
    );
    let mut negative_zero = identity;
    negative_zero[31] |= 0x80;
    assert!(
        b.client
            .enroll("mallory", &[], &jwks_of(&negative_zero).0, None)
            .await
            .is_err()
    );
    // A real key plus the point of order 2, (0, -1): (x, y) -> (-x, -y).
    let real = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let mut y = *real.as_bytes();
    let sign = y[31] & 0x80;
    y[31] &= 0x7f;
    let p: [u8; 32] = {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        p
    };
    let mut mixed = [0u8; 32];
    let mut borrow = 0i16;
    for i in 0..32 {
        let d = i16::from(p[i]) - i16::from(y[i]) - borrow;
        borrow = i16::from(d < 0);
        mixed[i] = (d + 256 * borrow) as u8;
    }
    mixed[31] |= sign ^ 0x80;
    refused(
        "torsion component",
        b.client
            .enroll("mallory", &[], &jwks_of(&mixed).0, None)
            .await,
        "torsion",
    );

    // Alice rotates from key 1 to key 2; key 1 is retired for good.
    let key1 = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    let key2 = ed25519_dalek::SigningKey::from_bytes(&[12; 32]);
    let (jwks1, kid1) = jwks_of(key1.verifying_key().as_bytes());
    let (jwks2, _) = jwks_of(key2.verifying_key().as_bytes());
    b.client.enroll("alice", &[], &jwks1, None).await.unwrap();
    b.client.enroll("alice", &[], &jwks2, None).await.unwrap();
    refused(
        "retired key re-enrolled by its approver",
        b.client.enroll("alice", &[], &jwks1, None).await,
        "retired",
    );
    refused(
        "retired key under another name",
        b.client.enroll("mallory", &[], &jwks1, None).await,
        "belongs to approver alice",
    );
    refused(
        "active key under another name",
        b.client.enroll("mallory", &[], &jwks2, None).await,
        "belongs to approver alice",
    );
    // Re-enrolling the same active key keeps it (not a rotation).
    b.client.enroll("alice", &[], &jwks2, None).await.unwrap();
    let jwks = b.shared.state.lock().await.approver_jwks("alice").unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert!(
        b.shared
            .state
            .lock()
            .await
            .approver_jwks("mallory")
            .is_none()
    );
    // And a decision under the retired kid stays refused as such.
    let r = request("req-retired-kid", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "EdDSA", "kid": kid1, "typ": approval::DECISION_TYP}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(json!({"jti": uuid_like("r1")}).to_string());
    let sig = key1.sign(format!("{header}.{payload}").as_bytes());
    let jws = format!(
        "{header}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(sig.to_bytes())
    );
    assert_eq!(
        submit(&b, &jws).await.reason.as_deref(),
        Some("retired_key")
    );
}

/// Bounded resources over HTTP: a body over the limit is `413` before it is
/// read whole, a request field over its bound is `422` naming the field,
/// and junk decisions leave the pending list's ETag alone, so pollers keep
/// getting `304` (issue 14).
#[tokio::test]
async fn bodies_and_fields_are_bounded_and_junk_does_not_bust_the_etag() {
    let b = start().await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: String| {
        http.post(format!("{}{path}", b.url))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let huge = json!({ "jws": "x".repeat(backend::MAX_BODY_BYTES) }).to_string();
    assert_eq!(post("/v1/decisions", huge).await.unwrap().status(), 413);
    let mut r = request("req-bounded", "single_approval", "soar-analyst");
    r["evidence"]["summary"] = "s".repeat(approval::MAX_SUMMARY_BYTES + 1).into();
    let response = post("/v1/requests", r.to_string()).await.unwrap();
    assert_eq!(response.status(), 422);
    let text = response.text().await.unwrap();
    assert!(text.contains("evidence.summary"), "{text}");
    r["evidence"]["summary"] = "fits".into();
    b.client.create_request(&r).await.unwrap();

    let client::Listing::Changed { etag, .. } = b.client.pending_requests(None).await.unwrap()
    else {
        panic!("first listing")
    };
    for n in 0..20 {
        let junk = json!({ "jws": format!("junk.{n}.x") }).to_string();
        assert_eq!(post("/v1/decisions", junk).await.unwrap().status(), 422);
    }
    assert_eq!(
        b.client.pending_requests(etag.as_deref()).await.unwrap(),
        client::Listing::NotModified
    );
}

/// The backend keeps each approver's latest signed audit checkpoint — a
/// copy of the owner's audit head outside the owner's database — once it
/// verifies against that approver's enrolled keys (issue 14).
#[tokio::test]
async fn the_backend_keeps_an_approvers_latest_audit_checkpoint() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    let bob = Approver::new("bob", "incident-response").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    enroll(&b, &bob, &["incident-response"]).await;
    let (first, jws) = countersign::checkpoint::create(&alice.store, &alice.keys(), "alice")
        .await
        .unwrap();
    b.client.push_checkpoint("alice", &jws).await.unwrap();
    assert_eq!(b.client.checkpoint("alice").await.unwrap(), jws);

    // Bob's key cannot place a checkpoint as Alice's, nor claim to be her.
    let (_, bobs) = countersign::checkpoint::create(&bob.store, &bob.keys(), "alice")
        .await
        .unwrap();
    let err = b.client.push_checkpoint("alice", &bobs).await.unwrap_err();
    assert!(err.to_string().contains("422"), "{err}");
    let (_, bobs) = countersign::checkpoint::create(&bob.store, &bob.keys(), "bob")
        .await
        .unwrap();
    let err = b.client.push_checkpoint("alice", &bobs).await.unwrap_err();
    assert!(err.to_string().contains("422"), "{err}");
    // A decision is not a checkpoint, though the key is Alice's.
    let r = request("req-not-a-checkpoint", "single_approval", "soar-analyst");
    let decision = alice.decide_for(&r, Decision::Deny, &b.url, None).await;
    let err = b
        .client
        .push_checkpoint("alice", &decision)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("422"), "{err}");

    // A later head replaces it; an earlier one does not.
    alice
        .store
        .set_setting(
            "review_stale_days",
            "30",
            &ChangeContext::new("alice", "test"),
        )
        .await
        .unwrap();
    let (second, newer) = countersign::checkpoint::create(&alice.store, &alice.keys(), "alice")
        .await
        .unwrap();
    assert!(second.seq > first.seq);
    b.client.push_checkpoint("alice", &newer).await.unwrap();
    let err = b.client.push_checkpoint("alice", &jws).await.unwrap_err();
    assert!(
        err.to_string().contains("older than the checkpoint kept"),
        "{err}"
    );
    assert_eq!(b.client.checkpoint("alice").await.unwrap(), newer);
}

/// The crash window between sending and marking, made certain: the backend
/// already has the decision (the push arrived, the sender died before it
/// recorded the receipt). Delivery sends it again; the backend answers the
/// byte-identical resend with its first receipt, so it is applied once and
/// the outbox row is marked with that receipt.
#[tokio::test]
async fn a_decision_sent_but_not_marked_is_applied_once_on_redelivery() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    let r = request("req-sent-not-marked", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let jws = alice.decide(&r, Decision::Approve, &b.url).await;
    let jti = claims_of(&jws)["jti"].as_str().unwrap().to_owned();
    // The push reached the backend; its receipt was never recorded.
    assert_eq!(submit(&b, &jws).await.status, "accepted");
    assert_eq!(alice.store.undelivered(None).await.unwrap(), 1);

    let report = client::deliver_due(&alice.store, &b.client).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(alice.store.undelivered(None).await.unwrap(), 0);
    let rows = alice
        .store
        .decisions(Some("req-sent-not-marked"))
        .await
        .unwrap();
    assert_eq!(rows[0].receipt.as_deref(), Some("accepted"));
    let state = b.shared.state.lock().await;
    assert_eq!(
        state.log.iter().filter(|r| r.jti == jti).count(),
        1,
        "applied once"
    );
    assert_eq!(
        state.request("req-sent-not-marked").unwrap().receipts.len(),
        1
    );
}

/// The reasons the other tests do not reach, each shown on its own: a
/// malformed token, an algorithm other than EdDSA, claims naming someone
/// other than the key's approver, an unknown request, a decided one, an
/// `iat` in the future; and a forgery sent first does not claim the jti of
/// the genuine decision that follows it (issue 14).
#[tokio::test]
async fn every_other_rejection_reason_is_reached() {
    let b = start().await;
    let alice = Approver::new("alice", "identity-governance").await;
    let bob = Approver::new("bob", "incident-response").await;
    enroll(&b, &alice, &["identity-governance"]).await;
    enroll(&b, &bob, &["incident-response"]).await;
    let r = request("req-reasons", "single_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let reason = |receipt: client::WireReceipt| {
        assert_eq!(receipt.status, "rejected", "{receipt:?}");
        receipt.reason.unwrap_or_default()
    };
    let good = alice.decide_for(&r, Decision::Approve, &b.url, None).await;
    let parts: Vec<&str> = good.split('.').collect();

    for malformed in [
        "only.two".to_owned(),
        format!("{}.{}.{}.extra", parts[0], parts[1], parts[2]),
        format!("!!.{}.{}", parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode("not json"),
            parts[1],
            parts[2]
        ),
    ] {
        assert_eq!(
            reason(submit(&b, &malformed).await),
            "malformed",
            "{malformed}"
        );
    }
    for alg in ["HS256", "none", "RS256"] {
        let header = json!({"alg": alg, "kid": "k", "typ": approval::DECISION_TYP});
        let jws = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            reason(submit(&b, &jws).await),
            "unsupported_algorithm",
            "{alg}"
        );
    }
    // Alice's key, claims in Bob's name.
    let mut claims = claims_of(&good);
    claims["iss"] = "bob".into();
    claims["approver"]["id"] = "bob".into();
    claims["jti"] = uuid_like("m1").into();
    let jws = alice.sign_raw(&claims).await;
    assert_eq!(reason(submit(&b, &jws).await), "approver_mismatch");
    // A request the backend never issued.
    let mut claims = claims_of(&good);
    claims["request_id"] = "req-never-issued".into();
    claims["jti"] = uuid_like("m2").into();
    let jws = alice.sign_raw(&claims).await;
    assert_eq!(reason(submit(&b, &jws).await), "request_not_found");
    // Issued in the future (beyond the leeway).
    let mut claims = claims_of(&good);
    claims["iat"] = (jiff::Timestamp::now().as_second() + backend::LEEWAY_SECONDS + 60).into();
    claims["jti"] = uuid_like("m3").into();
    let jws = alice.sign_raw(&claims).await;
    assert_eq!(reason(submit(&b, &jws).await), "expired");

    // A forgery with the genuine decision's jti, sent first, is refused
    // without claiming the jti: the genuine one is then accepted.
    let jti = claims_of(&good)["jti"].clone();
    let mut forged_claims = claims_of(&good);
    forged_claims["reason"] = "forged".into();
    assert_eq!(forged_claims["jti"], jti);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        parts[2]
    );
    assert_eq!(reason(submit(&b, &forged).await), "bad_signature");
    assert_eq!(submit(&b, &good).await.status, "accepted");
    assert_eq!(status_of(&b, "req-reasons").await, "approved");

    // Decided: another approver's decision afterwards.
    let late = bob.decide_for(&r, Decision::Deny, &b.url, None).await;
    assert_eq!(reason(submit(&b, &late).await), "already_decided");
    assert_eq!(status_of(&b, "req-reasons").await, "approved");
}

/// Receipts are read failing closed too: a backend (faulty, or not the one
/// configured) that answers with a status outside the closed set, a
/// rejection sent as a success, or a receipt for another decision does
/// not get the decision marked delivered; it stays queued, with the reason
/// shown (issue 14).
#[tokio::test]
async fn a_receipt_the_client_does_not_understand_leaves_the_decision_queued() {
    use axum::{Json, Router, http::StatusCode, routing::post};
    let answers: Vec<(u16, Value)> = vec![
        (
            201,
            json!({"jti": "JTI", "request_id": "r", "status": "Accepted"}),
        ),
        (201, json!({"jti": "JTI", "request_id": "r", "status": ""})),
        (
            201,
            json!({"jti": "JTI", "request_id": "r", "status": "rejected", "reason": "x"}),
        ),
        (
            422,
            json!({"jti": "JTI", "request_id": "r", "status": "accepted"}),
        ),
        (
            201,
            json!({"jti": "some-other-decision", "request_id": "r", "status": "accepted"}),
        ),
    ];
    let alice = Approver::new("alice", "identity-governance").await;
    for (n, (code, body)) in answers.into_iter().enumerate() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route(
            "/v1/decisions",
            post(move |Json(sent): Json<Value>| {
                let mut body = body.clone();
                if body["jti"] == "JTI" {
                    body["jti"] = claims_of(sent["jws"].as_str().unwrap())["jti"].clone();
                }
                async move { (StatusCode::from_u16(code).unwrap(), Json(body)) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let r = request(&format!("req-odd-receipt-{n}"), "single_approval", "soar");
        alice.decide(&r, Decision::Approve, &url).await;
        let client = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();
        let report = client::deliver_due(&alice.store, &client).await.unwrap();
        assert_eq!(
            (report.delivered, report.rejected, report.failed),
            (0, 0, 1),
            "answer {n}"
        );
        let error = report.last_error.unwrap();
        assert!(error.contains("does not understand"), "answer {n}: {error}");
        let row = &alice
            .store
            .decisions(Some(r["id"].as_str().unwrap()))
            .await
            .unwrap()[0];
        assert!(
            row.delivered_at.is_none() && row.receipt.is_none(),
            "answer {n}: {row:?}"
        );
    }
}
