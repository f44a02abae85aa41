//! Settings: small named values kept in the database (the backend URL,
//! approver groups, the review staleness threshold, the audit trail's head),
//! each change to them recorded in the audit trail like any other.

use super::audit::{NewEntry, append};
use super::{Store, StoreError};

/// Settings key for the review staleness threshold, in days.
pub const STALE_DAYS_KEY: &str = "review_stale_days";

impl Store {
    /// A setting's stored value, if any.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Changes a setting, recording the change in the audit trail.
    pub async fn set_setting(
        &self,
        key: &str,
        value: &str,
        ctx: &super::ChangeContext,
    ) -> Result<(), StoreError> {
        let err = |e| self.query_error(e);
        let mut tx = self.begin_write().await.map_err(err)?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
        if before.as_deref() == Some(value) {
            return Ok(());
        }
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        append(
            &mut tx,
            NewEntry {
                actor: &ctx.actor,
                operation: if before.is_some() { "update" } else { "create" },
                entity: "setting",
                entity_id: key,
                before: before.map(|b| serde_json::Value::String(b).to_string()),
                after: Some(serde_json::Value::String(value.to_owned()).to_string()),
                source: &ctx.source,
            },
        )
        .await
        .map_err(err)?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Days after which an owner's review counts as stale.
    pub async fn review_stale_days(&self) -> Result<u32, StoreError> {
        Ok(self
            .setting(STALE_DAYS_KEY)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::attention::DEFAULT_STALE_DAYS))
    }
}
