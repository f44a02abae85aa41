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

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Shared;
use super::journal::Event;
use super::state::Outcome;
use crate::signing::SigningKeyPair;

/// The JWS `typ` of a signed outcome.
pub const OUTCOME_TYP: &str = "countersign-outcome+jwt";

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(300);
/// Deliveries in flight at once: a receiver that hangs holds one of them
/// for the timeout, not the whole queue.
pub const MAX_DELIVERIES_IN_FLIGHT: usize = 32;

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

/// A callback URL as logs show it: scheme, host, port and path, never the
/// query or user info, which often carry the receiver's credential (a Logic
/// Apps callback's `sig=`).
pub fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(not a URL)".into(),
    }
}

/// What one delivery attempt came to.
enum Answer {
    /// 2xx: the receiver has it.
    Acknowledged,
    /// 410 Gone: the receiver no longer waits (a finished Logic Apps run).
    Gone,
    Failed(String),
}

/// Delivers due outcomes until the broker stops: woken by every change,
/// and each second for expiries, retries and other brokers' changes. Up
/// to [`MAX_DELIVERIES_IN_FLIGHT`] at once, one per outcome; once
/// [`Shared::stopping`] is cancelled no new delivery starts and this
/// returns when those in flight are done (and their acknowledgements
/// journaled).
pub async fn run(shared: Shared) {
    let key = std::sync::Arc::clone(&shared.key);
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("countersign-broker/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client without custom TLS builds");
    // outcome id → (when to try next, the wait after that)
    let mut backoff: HashMap<String, (Instant, Duration)> = HashMap::new();
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut sending: JoinSet<(Outcome, String, Answer)> = JoinSet::new();
    loop {
        let stopping = shared.stopping.is_cancelled();
        if stopping && sending.is_empty() {
            return;
        }
        let changed = shared.changed.notified();
        if !stopping {
            let due = shared.read().await.outcomes_due(jiff::Timestamp::now());
            let now = Instant::now();
            for (url, outcome) in due {
                if sending.len() >= MAX_DELIVERIES_IN_FLIGHT {
                    break;
                }
                if in_flight.contains(&outcome.outcome_id)
                    || backoff
                        .get(&outcome.outcome_id)
                        .is_some_and(|(next, _)| *next > now)
                {
                    continue;
                }
                in_flight.insert(outcome.outcome_id.clone());
                let request = http.post(&url).json(&body(&key, &outcome));
                sending.spawn(async move {
                    let answer = match request.send().await {
                        Ok(a) if a.status().is_success() => Answer::Acknowledged,
                        Ok(a) if a.status() == reqwest::StatusCode::GONE => Answer::Gone,
                        Ok(a) => Answer::Failed(format!("answered {}", a.status())),
                        Err(e) => Answer::Failed(crate::client::plain_reason(&e)),
                    };
                    (outcome, url, answer)
                });
            }
        }
        tokio::select! {
            Some(done) = sending.join_next(), if !sending.is_empty() => {
                let Ok((outcome, url, answer)) = done else { continue };
                in_flight.remove(&outcome.outcome_id);
                settle(&shared, &mut backoff, outcome, &url, answer).await;
            }
            _ = changed, if !stopping => {}
            _ = tokio::time::sleep(Duration::from_secs(1)), if !stopping => {}
            _ = shared.stopping.cancelled(), if !stopping => {}
        }
    }
}

/// Journals an acknowledged (or gone) outcome, or schedules the next try.
async fn settle(
    shared: &Shared,
    backoff: &mut HashMap<String, (Instant, Duration)>,
    outcome: Outcome,
    url: &str,
    answer: Answer,
) {
    let id = outcome.outcome_id.clone();
    let receiver = redacted(url);
    let done = match answer {
        Answer::Acknowledged => {
            tracing::info!(outcome_id = %id, request_id = %outcome.request_id, receiver, "callback acknowledged");
            true
        }
        Answer::Gone => {
            tracing::warn!(outcome_id = %id, request_id = %outcome.request_id, receiver,
                "callback answered 410 Gone: the receiver no longer waits; not retried");
            true
        }
        Answer::Failed(why) => {
            let wait = backoff
                .get(&id)
                .map_or(FIRST_RETRY, |(_, w)| (*w * 2).min(LONGEST_RETRY));
            tracing::warn!(outcome_id = %id, request_id = %outcome.request_id, receiver,
                error = %why, retry_in_seconds = wait.as_secs(), "callback not acknowledged");
            backoff.insert(id.clone(), (Instant::now() + wait, wait));
            false
        }
    };
    if done {
        backoff.remove(&id);
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
            tracing::error!(outcome_id = %id, error = %e,
                "the acknowledgement could not be journaled; the outcome may be sent again");
        }
    }
}
