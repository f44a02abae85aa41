//! Settings: small named values kept in the database (the backend URL,
//! approver groups, the review staleness threshold, the audit trail's head),
//! each change to them recorded in the audit trail like any other.

use super::audit::{NewEntry, append};
use super::{Store, StoreError};

/// Settings key for the review staleness threshold, in days.
pub const STALE_DAYS_KEY: &str = "review_stale_days";
/// Settings key for the age, in days, at which an active credential is due
/// for rotation (`attention::ROTATION_DAYS` when unset).
pub const ROTATION_DAYS_KEY: &str = "credential_rotation_days";
/// Settings key for the days unused after which an active credential
/// should be disabled (`attention::UNUSED_DAYS` when unset).
pub const UNUSED_DAYS_KEY: &str = "credential_unused_days";

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
        self.days(STALE_DAYS_KEY, crate::attention::DEFAULT_STALE_DAYS)
            .await
    }

    /// The ages Needs attention checks against, each from its setting or
    /// its default.
    pub async fn attention_thresholds(&self) -> Result<crate::attention::Thresholds, StoreError> {
        use crate::attention::{ROTATION_DAYS, Thresholds, UNUSED_DAYS};
        Ok(Thresholds {
            stale_review_days: self.review_stale_days().await?,
            credential_rotation_days: self.days(ROTATION_DAYS_KEY, ROTATION_DAYS).await?,
            credential_unused_days: self.days(UNUSED_DAYS_KEY, UNUSED_DAYS).await?,
        })
    }

    /// A setting counted in days; unset or unreadable is the default (the
    /// CLI refuses anything but a positive whole number).
    pub(super) async fn days(&self, key: &str, default: u32) -> Result<u32, StoreError> {
        Ok(self
            .setting(key)
            .await?
            .and_then(|v| v.parse().ok())
            .filter(|&d| d > 0)
            .unwrap_or(default))
    }
}
