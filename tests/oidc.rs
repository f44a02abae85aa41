//! Approvers vouched for by the organisation's identity provider (issue
//! 17), against a real one: oidc-provider (npm) on loopback. People sign
//! in with the device authorization grant through `countersign::oidc`,
//! the person at the browser played by tests/oidc/browser.mjs; the
//! reference backend, trusting that provider, enrolls a key only for the
//! person a valid ID token names, with only the groups it carries.

mod common;

use std::sync::Arc;

use common::oidc::{Provider, browse, password};
use countersign::Store;
use countersign::backend::{self, IdentityProvider, ServeConfig};
use countersign::client::{BackendClient, ClientError};
use countersign::oidc::{self, Person, ProviderConfig, Session};
use countersign::signing::{Keys, MemorySecrets};
use countersign::store::ChangeContext;
use serde_json::Value;

const TOKEN: &str = "oidc-test-backend-token-0123456789";

/// Signs `login` in through the browser (code flow, PKCE, loopback
/// redirect), the browser step on a thread, asking for a token bound to
/// `keys` (its nonce commits to them).
async fn sign_in(
    issuer: &str,
    login: &'static str,
    pass: String,
    keys: Option<&Value>,
) -> Result<(Person, Session), oidc::OidcError> {
    let config = ProviderConfig::new(issuer, "countersign");
    let nonce = keys.map(commitment);
    let timeout = std::time::Duration::from_secs(60);
    oidc::loopback_login(&config, nonce.as_deref(), timeout, move |url| {
        let url = url.to_owned();
        std::thread::spawn(move || {
            if let Err(e) = browse(&url, login, &pass) {
                eprintln!("the browser step failed: {e}");
            }
        });
    })
    .await
}

struct Backend {
    _running: backend::Running,
    client: BackendClient,
}

async fn backend_trusting(issuer: &str) -> Backend {
    let running = backend::spawn(ServeConfig {
        identity: Some(IdentityProvider {
            issuer: issuer.to_owned(),
            audience: "countersign".into(),
            groups_claim: "groups".into(),
        }),
        ..ServeConfig::new("127.0.0.1:0", TOKEN)
    })
    .await
    .unwrap();
    let client = BackendClient::new(&running.url(), TOKEN.to_owned().into()).unwrap();
    Backend {
        _running: running,
        client,
    }
}

/// A fresh signing key's JWKS (an approver's installation).
async fn jwks(actor: &str) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("k.db")).await.unwrap();
    let keys = Keys::new(&store, Arc::new(MemorySecrets::default()));
    keys.init(&ChangeContext::new(actor, "test")).await.unwrap();
    let jwks = keys.jwks().await.unwrap();
    store.close().await;
    (dir, jwks)
}

/// The key commitment of a JWKS, as a backend computes it.
fn commitment(jwks: &Value) -> String {
    countersign::jose::key_commitment(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap()),
    )
}

fn refused(result: Result<(), ClientError>) -> String {
    let e = result.expect_err("the enrollment should be refused");
    let text = e.to_string();
    assert!(text.contains("403"), "refused as forbidden: {text}");
    text
}

#[tokio::test]
async fn sign_in_gives_the_person_the_provider_vouches_for() {
    let provider = Provider::start();
    let (alice, session) = sign_in(&provider.issuer, "alice", password("alice"), None)
        .await
        .unwrap();
    assert_eq!(alice.sub, "alice");
    assert_eq!(alice.name.as_deref(), Some("Alice Governance"));
    assert_eq!(alice.groups, ["identity-governance"]);
    assert_eq!(alice.issuer, provider.issuer);
    assert!(
        session.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    // Tokens never show in debug output.
    assert!(!format!("{session:?}").contains(&session.id_token));

    // A valid session is kept as it is; its refresh works too.
    let (again, same) = oidc::refreshed(&session).await.unwrap();
    assert_eq!(again.sub, "alice");
    assert_eq!(same.id_token, session.id_token);

    // Kept in (and removed from) the secrets store only.
    let secrets = MemorySecrets::default();
    oidc::save(&secrets, &session).unwrap();
    assert_eq!(
        oidc::load(&secrets).unwrap().unwrap().id_token,
        session.id_token
    );
    oidc::forget(&secrets).unwrap();
    assert!(oidc::load(&secrets).unwrap().is_none());

    // With the provider unreachable, a kept token still valid is used as
    // it is: signing a decision does not wait on the provider.
    drop(provider);
    let (offline, kept) = oidc::refreshed(&session)
        .await
        .expect("a valid kept token needs no provider");
    assert_eq!(
        (offline.sub.as_str(), offline.groups.clone()),
        ("alice", alice.groups.clone())
    );
    assert_eq!(kept.id_token, session.id_token);
}

#[tokio::test]
async fn the_device_grant_signs_in_but_binds_no_key() {
    let provider = Provider::start();
    let config = ProviderConfig::new(&provider.issuer, "countersign");
    let (person, session) = oidc::device_login(&config, Some("asked-for-keys"), |prompt| {
        let url = prompt.verification_uri_complete.clone().unwrap();
        std::thread::spawn(move || browse(&url, "bob", &password("bob")).unwrap());
    })
    .await
    .unwrap();
    assert_eq!(person.sub, "bob");
    assert_eq!(person.groups, ["incident-response"]);
    // The provider returns no nonce from a device grant: this is why the
    // CLI signs in through the browser by default.
    assert_eq!(oidc::nonce_of(&session.id_token), None);
}

#[tokio::test]
async fn a_redirect_with_another_state_is_not_the_answer() {
    let provider = Provider::start();
    let config = ProviderConfig::new(&provider.issuer, "countersign");
    let timeout = std::time::Duration::from_secs(30);
    let err = oidc::loopback_login(&config, None, timeout, |url| {
        let url = reqwest::Url::parse(url).unwrap();
        let redirect = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        // RFC 8252 §7.3: a loopback IP literal with an ephemeral port.
        assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
        assert!(
            url.query_pairs()
                .any(|(k, v)| k == "code_challenge_method" && v == "S256")
        );
        std::thread::spawn(move || {
            reqwest::blocking::get(format!("{redirect}?code=stolen&state=forged")).unwrap()
        });
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("state does not match"), "{err}");

    // A refusal at the provider comes back as its error, said plainly.
    let err = oidc::loopback_login(&config, None, timeout, |url| {
        let url = reqwest::Url::parse(url).unwrap();
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let back = format!(
            "{}?error=access_denied&error_description=the+person+refused&state={}",
            pairs["redirect_uri"], pairs["state"]
        );
        std::thread::spawn(move || reqwest::blocking::get(back).unwrap());
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("access_denied: the person refused"), "{err}");
}

#[tokio::test]
async fn a_wrong_password_signs_nobody_in() {
    let provider = Provider::start();
    let config = ProviderConfig::new(&provider.issuer, "countersign");
    let (tx, rx) = std::sync::mpsc::channel();
    // The device code stays pending while the browser step fails; the
    // login is given up (dropped) once the failure is seen.
    let login = oidc::device_login(&config, None, move |prompt| {
        let url = prompt.verification_uri_complete.clone().unwrap();
        std::thread::spawn(move || {
            let _ = tx.send(browse(&url, "alice", "not-her-password"));
        });
    });
    tokio::select! {
        r = login => panic!("signed in with a wrong password: {:?}", r.map(|p| p.0)),
        failed = tokio::task::spawn_blocking(move || rx.recv().unwrap()) => {
            let err = failed.unwrap().unwrap_err();
            assert!(err.contains("Wrong login or password"), "{err}");
        }
    }
}

#[tokio::test]
async fn the_backend_enrolls_a_key_only_for_the_person_a_valid_id_token_names() {
    let provider = Provider::start();
    let other = Provider::start();
    let b = backend_trusting(&provider.issuer).await;
    let (_d1, alice_keys) = jwks("alice").await;
    let (_d2, mallory_keys) = jwks("mallory").await;
    let (alice, alice_session) = sign_in(
        &provider.issuer,
        "alice",
        password("alice"),
        Some(&alice_keys),
    )
    .await
    .unwrap();
    // Bob signs in for his own key, then tries it under alice's name.
    let (_, bob_session) = sign_in(
        &provider.issuer,
        "bob",
        password("bob"),
        Some(&mallory_keys),
    )
    .await
    .unwrap();
    let (_, foreign) = sign_in(&other.issuer, "alice", password("alice"), Some(&alice_keys))
        .await
        .unwrap();
    // Alice signed in without binding a key (say, before she had one).
    let (_, unbound) = sign_in(&provider.issuer, "alice", password("alice"), None)
        .await
        .unwrap();

    // No token: refused, saying how to get one.
    let no_token = refused(b.client.enroll("alice", &[], &alice_keys, None).await);
    assert!(no_token.contains("countersign login"), "{no_token}");
    // Someone else's token, to take over alice's name: refused.
    let takeover = refused(
        b.client
            .enroll("alice", &[], &mallory_keys, Some(&bob_session.id_token))
            .await,
    );
    assert!(takeover.contains("\"bob\""), "{takeover}");
    // A token from another provider (foreign issuer and keys): refused.
    refused(
        b.client
            .enroll("alice", &[], &alice_keys, Some(&foreign.id_token))
            .await,
    );
    // A token whose payload was changed (groups added): the signature fails.
    let mut parts: Vec<String> = alice_session
        .id_token
        .split('.')
        .map(str::to_owned)
        .collect();
    let mut claims = countersign::jose::peek_claims(&alice_session.id_token).unwrap();
    claims["groups"] = serde_json::json!(["identity-governance", "incident-response"]);
    use base64::Engine as _;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&claims).unwrap());
    refused(
        b.client
            .enroll("alice", &[], &alice_keys, Some(&parts.join(".")))
            .await,
    );
    // Her token copied (from a log, a shared machine): it was asked for
    // her keys, so it enrolls no other key under her name.
    let copied = refused(
        b.client
            .enroll("alice", &[], &mallory_keys, Some(&alice_session.id_token))
            .await,
    );
    assert!(copied.contains("not issued for these keys"), "{copied}");
    // A token bound to no key enrolls none.
    let unbound = refused(
        b.client
            .enroll("alice", &[], &alice_keys, Some(&unbound.id_token))
            .await,
    );
    assert!(unbound.contains("not issued for these keys"), "{unbound}");
    // Groups the token does not carry: refused, naming them.
    let extra = refused(
        b.client
            .enroll(
                "alice",
                &["identity-governance".into(), "incident-response".into()],
                &alice_keys,
                Some(&alice_session.id_token),
            )
            .await,
    );
    assert!(extra.contains("incident-response"), "{extra}");
    // Nothing of the refused attempts was enrolled.
    assert!(b.client.approver_jwks("alice").await.is_err());

    // Her own token, her own name: enrolled with the token's groups.
    b.client
        .enroll("alice", &[], &alice_keys, Some(&alice_session.id_token))
        .await
        .unwrap();
    let enrolled = b.client.approver_jwks("alice").await.unwrap();
    assert_eq!(enrolled["groups"], serde_json::json!(alice.groups));
    assert_eq!(enrolled["keys"], alice_keys["keys"]);

    // Once she is enrolled, taking over her name is refused the same ways
    // (someone else's token, her copied token with another key), and her
    // keys stay hers.
    refused(
        b.client
            .enroll("alice", &[], &mallory_keys, Some(&bob_session.id_token))
            .await,
    );
    refused(
        b.client
            .enroll("alice", &[], &mallory_keys, Some(&alice_session.id_token))
            .await,
    );
    let still = b.client.approver_jwks("alice").await.unwrap();
    assert_eq!(still["keys"], alice_keys["keys"]);
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let provider = Provider::start_with(&["--id-token-ttl", "3"]);
    let b = backend_trusting(&provider.issuer).await;
    let (_d, keys) = jwks("alice").await;
    let (_, session) = sign_in(&provider.issuer, "alice", password("alice"), Some(&keys))
        .await
        .unwrap();
    // openidconnect allows no clock skew by default; past `exp` is refused.
    tokio::time::sleep(std::time::Duration::from_millis(3300)).await;
    let expired = refused(
        b.client
            .enroll("alice", &[], &keys, Some(&session.id_token))
            .await,
    );
    assert!(expired.contains("expired"), "{expired}");
    // A refresh gives a fresh token, still bound to her keys (the
    // provider keeps the nonce), which is enrolled.
    let (_, fresh) = oidc::refreshed(&session).await.unwrap();
    assert_ne!(fresh.id_token, session.id_token);
    b.client
        .enroll("alice", &[], &keys, Some(&fresh.id_token))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_provider_is_not_a_verdict_on_the_token() {
    let provider = Provider::start();
    let (_d, keys) = jwks("alice").await;
    let (_, session) = sign_in(&provider.issuer, "alice", password("alice"), Some(&keys))
        .await
        .unwrap();
    let b = backend_trusting(&provider.issuer).await;
    drop(provider);
    let e = b
        .client
        .enroll("alice", &[], &keys, Some(&session.id_token))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("502") && e.contains("try again"), "{e}");
    assert!(
        b.client.approver_jwks("alice").await.is_err(),
        "nothing enrolled"
    );
}

/// One approver's installation: a store with the demo inventory and a
/// signing key in memory (a laptop, say).
struct Installation {
    _dir: tempfile::TempDir,
    store: Store,
    secrets: Arc<MemorySecrets>,
}

impl Installation {
    async fn new(who: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("i.db")).await.unwrap();
        countersign::demo::load(&store, false, who).await.unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        Keys::new(&store, secrets.clone())
            .init(&ChangeContext::new(who, "test"))
            .await
            .unwrap();
        Installation {
            _dir: dir,
            store,
            secrets,
        }
    }

    fn keys(&self) -> Keys<'_> {
        Keys::new(&self.store, self.secrets.clone())
    }

    async fn jwks(&self) -> Value {
        self.keys().jwks().await.unwrap()
    }

    /// A decision signed through the real path as `person`.
    async fn decide(&self, person: &Person, request: &Value, audience: &str) -> String {
        countersign::approval::decide(
            &self.store,
            &self.keys(),
            countersign::approval::DecisionInput {
                request,
                decision: countersign::approval::Decision::Approve,
                reason: "checked the blast radius",
                audience,
                destination: None,
                inventory_version: None,
            },
            &ChangeContext::signed_in(&person.sub, person.groups.clone(), "test"),
        )
        .await
        .unwrap()
        .jws
    }
}

/// The decision half of the refusal matrix, with the backend trusting the
/// provider: one person with two keys (two machines) is one approver; a
/// second name needs a second person's token; a request made by a person
/// is not approved by them under a look-alike of their name; the two
/// people the provider puts in the two groups complete it.
#[tokio::test]
async fn only_two_people_the_provider_vouches_for_complete_a_dual_approval() {
    let provider = Provider::start();
    let b = backend_trusting(&provider.issuer).await;
    let url = b._running.url();

    // Alice's laptop and desktop: two keys, enrolled together under the
    // one sign-in that was asked for both.
    let laptop = Installation::new("alice").await;
    let desktop = Installation::new("alice").await;
    let mut both = laptop.jwks().await;
    both["keys"]
        .as_array_mut()
        .unwrap()
        .extend(desktop.jwks().await["keys"].as_array().unwrap().clone());
    let (alice, alice_session) = sign_in(&provider.issuer, "alice", password("alice"), Some(&both))
        .await
        .unwrap();
    b.client
        .enroll("alice", &[], &both, Some(&alice_session.id_token))
        .await
        .unwrap();
    // Her token does not make a second approver of another name.
    let second_name = refused(
        b.client
            .enroll("alice-2", &[], &both, Some(&alice_session.id_token))
            .await,
    );
    assert!(second_name.contains("\"alice\""), "{second_name}");

    let bob_laptop = Installation::new("bob").await;
    let bob_keys = bob_laptop.jwks().await;
    let (bob, bob_session) = sign_in(&provider.issuer, "bob", password("bob"), Some(&bob_keys))
        .await
        .unwrap();
    b.client
        .enroll("bob", &[], &bob_keys, Some(&bob_session.id_token))
        .await
        .unwrap();

    let r = common::live_request("req-oidc-dual", "dual_approval", "soar-analyst");
    b.client.create_request(&r).await.unwrap();
    let first = b
        .client
        .submit(&laptop.decide(&alice, &r, &url).await)
        .await
        .unwrap();
    assert_eq!(first.status, "awaiting_second_approval");
    // Her other key is still her: not a second approver.
    let again = b
        .client
        .submit(&desktop.decide(&alice, &r, &url).await)
        .await
        .unwrap();
    assert_eq!(again.reason.as_deref(), Some("same_approver_twice"));
    // A decision claiming a group the provider did not give her: refused.
    let mut pretending = alice.clone();
    pretending.groups.push("incident-response".into());
    let claimed = b
        .client
        .submit(&desktop.decide(&pretending, &r, &url).await)
        .await
        .unwrap();
    assert_eq!(claimed.reason.as_deref(), Some("approver_mismatch"));
    // Bob, in the other group: approved.
    let second = b
        .client
        .submit(&bob_laptop.decide(&bob, &r, &url).await)
        .await
        .unwrap();
    assert_eq!(second.status, "accepted");
    let seen = b.client.request_by_id("req-oidc-dual").await.unwrap();
    assert_eq!(seen["status"], "approved");

    // Bob asked for this one (under a look-alike of his name: full-width
    // letters, other case, a trailing space); his approval is refused by
    // the backend even when his client is bypassed.
    let own = common::live_request("req-oidc-own", "dual_approval", "ＢＯＢ ");
    b.client.create_request(&own).await.unwrap();
    let honest = countersign::approval::decide(
        &bob_laptop.store,
        &bob_laptop.keys(),
        countersign::approval::DecisionInput {
            request: &own,
            decision: countersign::approval::Decision::Approve,
            reason: "mine",
            audience: &url,
            destination: None,
            inventory_version: None,
        },
        &ChangeContext::signed_in("bob", bob.groups.clone(), "test"),
    )
    .await;
    assert!(
        matches!(
            honest,
            Err(countersign::approval::DecisionError::ApproverIsRequester { .. })
        ),
        "{honest:?}"
    );
    // Signed anyway, for the backend to judge.
    let mut claims =
        countersign::jose::peek_claims(&laptop.decide(&alice, &own, &url).await).unwrap();
    claims["approver"] = serde_json::json!({ "id": "bob", "groups": bob.groups });
    claims["iss"] = "bob".into();
    claims["jti"] = "0b0b0b0b-0000-4000-8000-000000000001".into();
    let forged = bob_laptop
        .keys()
        .active()
        .await
        .unwrap()
        .sign(&claims, countersign::approval::DECISION_TYP)
        .unwrap();
    let own_receipt = b.client.submit(&forged).await.unwrap();
    assert_eq!(
        own_receipt.reason.as_deref(),
        Some("approver_is_requester"),
        "{own_receipt:?}"
    );
}

/// A session refreshed several times within a second stays usable: the
/// provider rotates the refresh token even when it returns the same ID
/// token, and the rotated one is what is kept (a spent one, used again,
/// would revoke the grant).
#[tokio::test]
async fn quick_refreshes_keep_the_rotated_refresh_token() {
    let provider = Provider::start_with(&["--id-token-ttl", "30"]);
    let (_, session) = sign_in(&provider.issuer, "bob", password("bob"), None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("w.db")).await.unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    oidc::save(secrets.as_ref(), &session).unwrap();
    let ws = countersign::app::Workspace::on(
        store,
        None,
        secrets.clone(),
        ChangeContext::local_user("test"),
    );
    // An ID token valid for under a minute is refreshed on every use.
    for _ in 0..4 {
        let person = ws.restore_session().await.unwrap().unwrap();
        assert_eq!(person.sub, "bob");
    }
    let kept = oidc::load(secrets.as_ref()).unwrap().unwrap();
    assert_ne!(
        kept.refresh_token, session.refresh_token,
        "the rotated one is kept"
    );
    ws.close().await;
}
