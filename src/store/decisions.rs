//! Signed decisions and their outbox.

use serde::Serialize;
use sqlx::FromRow;

use super::audit::{NewEntry, append};
use super::{ChangeContext, Store, StoreError};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct DecisionRow {
    pub jti: String,
    pub request_id: String,
    pub decision: String,
    pub approver: String,
    pub jws: String,
    pub created_at: String,
    pub destination: Option<String>,
    pub attempts: Option<i64>,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
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
        let now = jiff::Timestamp::now().to_string();
        let mut tx = self.pool.begin().await.map_err(err)?;
        sqlx::query(
            "INSERT INTO decisions (jti, request_id, request_json, decision, approver, kid, jws, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(d.jti)
        .bind(d.request_id)
        .bind(d.request_json)
        .bind(d.decision)
        .bind(&ctx.actor)
        .bind(d.kid)
        .bind(d.jws)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if let Some(dest) = d.destination {
            sqlx::query("INSERT INTO outbox (jti, destination, next_attempt_at) VALUES (?, ?, ?)")
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
        tx.commit().await.map_err(err)
    }

    /// Decisions, newest first, with their delivery state.
    pub async fn decisions(
        &self,
        request_id: Option<&str>,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        sqlx::query_as(
            "SELECT d.jti, d.request_id, d.decision, d.approver, d.jws, d.created_at,
                    o.destination, o.attempts, o.delivered_at, o.last_error
             FROM decisions d LEFT JOIN outbox o ON o.jti = d.jti
             WHERE ?1 IS NULL OR d.request_id = ?1
             ORDER BY d.created_at DESC, d.jti",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))
    }
}
