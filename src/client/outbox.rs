//! Delivering decisions from the outbox. A decision is already durable
//! (with its audit record) when it gets here, so delivery only has to be
//! persistent: retry with backoff until the backend gives a receipt. The
//! backend deduplicates by `jti`, so sending again after a crash between
//! "sent" and "marked delivered" cannot apply a decision twice.

use std::time::Duration;

use rand::Rng as _;
use serde::Serialize;

use super::{BackendClient, ClientError};
use crate::Store;
use crate::store::StoreError;

/// How long to wait after `attempts` failed attempts: doubling from 2 s,
/// capped at 5 minutes, with up to 20 % jitter so many queued decisions
/// (or many apps) do not retry in lockstep when a backend comes back.
pub fn backoff(attempts: i64) -> Duration {
    let base = 2u64.saturating_pow(attempts.clamp(1, 16) as u32).min(300);
    let jitter = rand::rng().random_range(0.8..=1.0);
    Duration::from_secs_f64(base as f64 * jitter)
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DeliveryReport {
    /// Accepted, or awaiting a second approval.
    pub delivered: usize,
    /// Received but refused by the backend (final; the reason is kept).
    pub rejected: usize,
    /// Attempts that failed and will be retried.
    pub failed: usize,
    /// The last failure, to show the user.
    pub last_error: Option<String>,
}

/// Sends every decision due for `client`'s backend, oldest first. Store
/// errors stop the run; network errors are recorded per decision and
/// retried later.
pub async fn deliver_due(
    store: &Store,
    client: &BackendClient,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    loop {
        let due = store
            .due_deliveries(jiff::Timestamp::now(), Some(client.url()), 50)
            .await?;
        if due.is_empty() {
            return Ok(report);
        }
        let mut items = due.into_iter();
        while let Some(item) = items.next() {
            match client.submit(&item.jws).await {
                Ok(receipt) => {
                    if receipt.status == "rejected" {
                        report.rejected += 1;
                    } else {
                        report.delivered += 1;
                    }
                    store.mark_delivered(&item.jti, &receipt.into()).await?;
                }
                Err(e) => {
                    let message = e.to_string();
                    let whole_backend = matches!(
                        e,
                        ClientError::Unreachable { .. } | ClientError::Unauthorized { .. }
                    );
                    // Down or refusing the token: the rest would fail the
                    // same way, so they back off together.
                    let failing: Vec<_> = if whole_backend {
                        std::iter::once(item).chain(items.by_ref()).collect()
                    } else {
                        vec![item]
                    };
                    for failed in failing {
                        let wait = if e.is_transient() {
                            backoff(failed.attempts + 1)
                        } else {
                            // Not the network: something to look at, not to hammer.
                            Duration::from_secs(300)
                        };
                        let next = jiff::Timestamp::now() + wait;
                        store
                            .mark_attempt_failed(&failed.jti, &message, next)
                            .await?;
                        report.failed += 1;
                    }
                    report.last_error = Some(message);
                    if whole_backend {
                        return Ok(report);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubling from 2 s, capped at 5 minutes, each wait shortened by up
    /// to 20 % at random so queued decisions do not retry in lockstep.
    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        for (attempts, full) in [
            (1, 2.0),
            (2, 4.0),
            (3, 8.0),
            (8, 256.0),
            (9, 300.0),
            (40, 300.0),
        ] {
            for _ in 0..50 {
                let wait = backoff(attempts).as_secs_f64();
                assert!(
                    (full * 0.8..=full).contains(&wait),
                    "attempt {attempts}: {wait} s outside {}..={full}",
                    full * 0.8
                );
            }
        }
        // Jitter: a hundred waits are not all the same.
        let waits: std::collections::BTreeSet<u128> =
            (0..100).map(|_| backoff(5).as_millis()).collect();
        assert!(waits.len() > 10, "{waits:?}");
        // A nonsense count is treated as the first attempt.
        assert!(backoff(0).as_secs_f64() <= 2.0 && backoff(-3).as_secs_f64() <= 2.0);
    }
}
