//! The public half of approvers' signing keys. Private keys never come
//! near this module: they live in the OS keyring.

use serde::Serialize;
use sqlx::FromRow;

use super::audit::{NewEntry, append};
use super::{ChangeContext, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub public_jwk: String,
    pub created_at: String,
    pub status: String,
    pub retired_at: Option<String>,
}

impl Store {
    /// The signing keys: in team mode the connected person's only
    /// ([`Store::team_role`]; keys are their person's), else all.
    pub async fn signing_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        sqlx::query_as(
            "SELECT kid, public_jwk, created_at, status, retired_at FROM signing_keys
             WHERE CAST($1 AS TEXT) IS NULL OR person = $1
             ORDER BY CASE status WHEN 'active' THEN 0 WHEN 'previous' THEN 1 ELSE 2 END, created_at DESC",
        )
        .bind(self.team_role.clone())
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))
    }

    /// Records a new active key, demoting the current one to `previous`
    /// (still verifiable), in one audited transaction.
    pub async fn add_active_key(
        &self,
        kid: &str,
        public_jwk: &str,
        ctx: &ChangeContext,
    ) -> Result<(), StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let mine = self.team_role.clone();
        let demoted: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE status = 'active' AND (CAST($1 AS TEXT) IS NULL OR person = $1)",
        )
        .bind(mine.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
        sqlx::query(
            "UPDATE signing_keys SET status = 'previous' WHERE status = 'active' AND (CAST($1 AS TEXT) IS NULL OR person = $1)",
        )
        .bind(mine)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let now = jiff::Timestamp::now().to_string();
        // The key is its maker's: in team mode the database checks that
        // this is the connected person.
        sqlx::query("INSERT INTO signing_keys (kid, public_jwk, created_at, status, person) VALUES ($1, $2, $3, 'active', $4)")
            .bind(kid)
            .bind(public_jwk)
            .bind(&now)
            .bind(&ctx.actor)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        let after =
            serde_json::json!({ "kid": kid, "status": "active", "replaces": demoted }).to_string();
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: if demoted.is_some() {
                    "rotate"
                } else {
                    "create"
                },
                entity: "signing_key",
                entity_id: kid,
                before: None,
                after: Some(after),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await
    }

    /// Retires a previous key: signatures by it are no longer accepted.
    pub async fn retire_key(&self, kid: &str, ctx: &ChangeContext) -> Result<bool, StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let now = jiff::Timestamp::now().to_string();
        let done = sqlx::query(
            "UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE kid = $2 AND status = 'previous'
             AND (CAST($3 AS TEXT) IS NULL OR person = $3)",
        )
        .bind(&now)
        .bind(kid)
        .bind(self.team_role.clone())
        .execute(&mut *tx)
        .await
        .map_err(err)?
        .rows_affected()
            == 1;
        if done {
            append(
                &mut tx,
                NewEntry {
                    actor: &ctx.actor,
                    operation: "retire",
                    entity: "signing_key",
                    entity_id: kid,
                    before: Some(serde_json::json!({ "status": "previous" }).to_string()),
                    after: Some(serde_json::json!({ "status": "retired" }).to_string()),
                    source: &ctx.source,
                },
            )
            .await
            .map_err(err)?;
        }
        self.commit(tx).await?;
        Ok(done)
    }
}
