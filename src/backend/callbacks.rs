//! Outcome callbacks (issue 18): a request that names a `callback` URL
//! gets its final outcome — approved, denied, or expired at `expires_at` —
//! POSTed there, for SOARs that wait on a webhook (Logic Apps' HTTP
//! Webhook action, Tines): `{"outcome": {…}, "jws": "<compact JWS>"}`, the
//! JWS being the same outcome signed by the broker's own Ed25519 key
//! (`typ` `countersign-outcome+jwt`; the key at
//! `/.well-known/jwks.json`), the way ConductorOne signs its webhooks.
//!
//! Delivered at least once: retried with exponential backoff (1 s, doubling
//! to 5 min) until the receiver answers 2xx, which is journaled, so a
//! restart does not send an acknowledged outcome again. Receivers
//! deduplicate by `outcome_id` (stable per request: a broker may crash
//! between the acknowledgement and its journal row, and brokers sharing a
//! database may both deliver).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Shared;
use super::journal::Event;
use super::state::Outcome;
use crate::signing::SigningKeyPair;

/// The JWS `typ` of a signed outcome.
pub const OUTCOME_TYP: &str = "countersign-outcome+jwt";

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// The broker's public key as a JWKS, for receivers to verify outcomes.
pub fn jwks(key: &SigningKeyPair) -> serde_json::Value {
    serde_json::json!({ "keys": [key.public_jwk()] })
}

/// The body POSTed to a callback.
pub fn body(key: &SigningKeyPair, outcome: &Outcome) -> serde_json::Value {
    let mut claims = serde_json::to_value(outcome).expect("an outcome serialises");
    claims["iat"] = jiff::Timestamp::now().as_second().into();
    let jws = key.sign(&claims, OUTCOME_TYP).expect("a valid key signs");
    serde_json::json!({ "outcome": claims, "jws": jws })
}

/// Delivers due outcomes until the broker stops: woken by every change,
/// and each second for expiries, retries and other brokers' changes.
pub async fn run(shared: Shared, key: Arc<SigningKeyPair>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("countersign-broker/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client without custom TLS builds");
    // outcome id → (when to try next, the wait after that)
    let mut backoff: HashMap<String, (Instant, Duration)> = HashMap::new();
    loop {
        let changed = shared.changed.notified();
        let due = shared.read().await.outcomes_due(jiff::Timestamp::now());
        for (url, outcome) in due {
            let now = Instant::now();
            if backoff
                .get(&outcome.outcome_id)
                .is_some_and(|(next, _)| *next > now)
            {
                continue;
            }
            let sent = http.post(&url).json(&body(&key, &outcome)).send().await;
            match sent {
                Ok(answer) if answer.status().is_success() => {
                    backoff.remove(&outcome.outcome_id);
                    let id = outcome.outcome_id.clone();
                    let recorded = shared
                        .change(|state| {
                            let new = state.mark_delivered(&id);
                            (
                                (),
                                new.then(|| Event::Delivered {
                                    outcome_id: id.clone(),
                                }),
                            )
                        })
                        .await;
                    if let Err(e) = recorded {
                        eprintln!(
                            "warning: {e} (the outcome {} may be sent again)",
                            outcome.outcome_id
                        );
                    }
                }
                Ok(answer) if answer.status() == reqwest::StatusCode::GONE => {
                    // The receiver says the wait is over (a finished Logic
                    // Apps run): recorded as done, never retried.
                    eprintln!(
                        "callback for {} answered 410 Gone: the receiver no longer waits; not retried",
                        outcome.outcome_id
                    );
                    let id = outcome.outcome_id.clone();
                    let _ = shared
                        .change(|state| {
                            let new = state.mark_delivered(&id);
                            (
                                (),
                                new.then(|| Event::Delivered {
                                    outcome_id: id.clone(),
                                }),
                            )
                        })
                        .await;
                }
                failed => {
                    let why = match failed {
                        Ok(answer) => format!("answered {}", answer.status()),
                        Err(e) => e.to_string(),
                    };
                    let wait = backoff
                        .get(&outcome.outcome_id)
                        .map_or(FIRST_RETRY, |(_, w)| (*w * 2).min(LONGEST_RETRY));
                    eprintln!(
                        "callback for {} not acknowledged ({why}); retrying in {} s",
                        outcome.outcome_id,
                        wait.as_secs()
                    );
                    backoff.insert(outcome.outcome_id.clone(), (now + wait, wait));
                }
            }
        }
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
