//! Signed decisions and their outbox.

use serde::Serialize;
use sqlx::FromRow;

use super::audit::{NewEntry, append};
use super::{ChangeContext, Store, StoreError};

/// Outbox times are compared as text, so they all carry the same number
/// of fractional digits (RFC 3339 with microseconds, UTC).
fn sortable(t: jiff::Timestamp) -> String {
    format!("{t:.6}")
}

/// What `record_decision` writes, all in one transaction.
pub struct NewDecision<'a> {
    pub jti: &'a str,
    pub request_id: &'a str,
    pub request_json: &'a str,
    pub decision: &'a str,
    pub kid: &'a str,
    pub jws: &'a str,
    /// The claims, for the audit trail.
    pub claims_json: &'a str,
    /// Where to deliver it, if anywhere: an outbox row is written too.
    pub destination: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, ts_rs::TS)]
pub struct DecisionRow {
    pub jti: String,
    pub request_id: String,
    /// The request exactly as it was decided (its digest is signed).
    #[serde(skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub request_json: String,
    #[ts(type = "\"approve\" | \"deny\" | \"approve_narrowed\"")]
    pub decision: String,
    pub approver: String,
    pub jws: String,
    pub created_at: String,
    /// The drill run it answered, when it was a rehearsal.
    pub drill_run: Option<String>,
    pub destination: Option<String>,
    pub attempts: Option<i64>,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
    #[ts(type = "\"accepted\" | \"awaiting_second_approval\" | \"rejected\" | null")]
    pub receipt: Option<String>,
    pub receipt_reason: Option<String>,
}

/// A decision waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PendingDelivery {
    pub jti: String,
    pub destination: String,
    pub jws: String,
    pub attempts: i64,
}

/// What the backend said about a delivered decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub status: String,
    pub reason: Option<String>,
}

impl Store {
    /// Makes a signed decision durable, with its audit record and (if it is
    /// to be pushed) its outbox row, before anything is sent anywhere.
    pub async fn record_decision(
        &self,
        d: NewDecision<'_>,
        ctx: &ChangeContext,
    ) -> Result<(), StoreError> {
        let err = |e| self.query_error(e);
        let now = sortable(jiff::Timestamp::now());
        let mut tx = self.begin_write().await.map_err(err)?;
        sqlx::query(
            "INSERT INTO decisions (jti, request_id, request_json, decision, approver, kid, jws, created_at, drill_run)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(d.jti)
        .bind(d.request_id)
        .bind(d.request_json)
        .bind(d.decision)
        .bind(&ctx.actor)
        .bind(d.kid)
        .bind(d.jws)
        .bind(&now)
        .bind(ctx.drill_run.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if let Some(dest) = d.destination {
            sqlx::query(
                "INSERT INTO outbox (jti, destination, next_attempt_at) VALUES ($1, $2, $3)",
            )
            .bind(d.jti)
            .bind(dest)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: d.decision,
                entity: "decision",
                entity_id: d.jti,
                before: None,
                after: Some(d.claims_json.to_owned()),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await
    }

    /// Decisions, newest first, with their delivery state.
    pub async fn decisions(
        &self,
        request_id: Option<&str>,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        sqlx::query_as(
            "SELECT d.jti, d.request_id, d.request_json, d.decision, d.approver, d.jws, d.created_at,
                    d.drill_run, o.destination, o.attempts, o.delivered_at, o.last_error,
                    o.receipt, o.receipt_reason
             FROM decisions d LEFT JOIN outbox o ON o.jti = d.jti
             WHERE $1 IS NULL OR d.request_id = $1
             ORDER BY d.created_at DESC, d.jti",
        )
        .bind(request_id)
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// Outbox rows due for a (re)try at `now`, oldest first. `destination`
    /// limits them to one backend.
    pub async fn due_deliveries(
        &self,
        now: jiff::Timestamp,
        destination: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PendingDelivery>, StoreError> {
        sqlx::query_as(
            "SELECT o.jti, o.destination, d.jws, o.attempts
             FROM outbox o JOIN decisions d ON d.jti = o.jti
             WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1
               AND ($2 IS NULL OR o.destination = $2)
             ORDER BY o.next_attempt_at, d.created_at, o.jti
             LIMIT $3",
        )
        .bind(sortable(now))
        .bind(destination)
        .bind(limit)
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// How many decisions are still to be delivered (due now or later).
    pub async fn undelivered(&self, destination: Option<&str>) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND ($1 IS NULL OR destination = $1)",
        )
        .bind(destination)
        .fetch_one(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// The backend answered: the decision has arrived and is never sent again.
    pub async fn mark_delivered(&self, jti: &str, receipt: &Receipt) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1, last_error = NULL,
                    receipt = $3, receipt_reason = $4
             WHERE jti = $1 AND delivered_at IS NULL",
        )
        .bind(jti)
        .bind(sortable(jiff::Timestamp::now()))
        .bind(&receipt.status)
        .bind(&receipt.reason)
        .execute(&self.pool().await)
        .await;
        self.committed(result).await?;
        Ok(())
    }

    /// The attempt failed; try again at `next_attempt_at`.
    pub async fn mark_attempt_failed(
        &self,
        jti: &str,
        error: &str,
        next_attempt_at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
             WHERE jti = $1 AND delivered_at IS NULL",
        )
        .bind(jti)
        .bind(error)
        .bind(sortable(next_attempt_at))
        .execute(&self.pool().await)
        .await;
        self.committed(result).await?;
        Ok(())
    }

    /// The backends with decisions still queued.
    pub async fn outbox_destinations(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT DISTINCT destination FROM outbox WHERE delivered_at IS NULL ORDER BY destination",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// Makes every queued decision due now, for "retry now" after the
    /// backend is known to be back.
    pub async fn retry_deliveries_now(&self) -> Result<u64, StoreError> {
        let result =
            sqlx::query("UPDATE outbox SET next_attempt_at = $1 WHERE delivered_at IS NULL")
                .bind(sortable(jiff::Timestamp::now()))
                .execute(&self.pool().await)
                .await;
        Ok(self.committed(result).await?.rows_affected())
    }
}

/// Settings key: the approver groups this installation's owner belongs to
/// (comma-separated), carried in each decision's `approver.groups`.
pub const APPROVER_GROUPS_KEY: &str = "approver_groups";
/// Settings key: the backend the app polls and delivers to.
pub const BACKEND_URL_KEY: &str = "backend_url";

impl Store {
    pub async fn approver_groups(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .setting(APPROVER_GROUPS_KEY)
            .await?
            .map(|v| {
                v.split(',')
                    .map(|g| g.trim().to_owned())
                    .filter(|g| !g.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn backend_url(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .setting(BACKEND_URL_KEY)
            .await?
            .filter(|v| !v.is_empty()))
    }
}
