//! Raw rows as SQLite returns them, and their checked conversion into model
//! types. A value the model rejects means someone edited the file by hand or
//! a newer version wrote it; say which row, never panic.

use sqlx::FromRow;

use super::{Store, StoreError};
use crate::model::{Identity, ParseModelError, ServiceRef, Tier};

#[derive(FromRow)]
pub(super) struct IdentityRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub owner: String,
    pub environment: String,
    pub tier: i64,
    pub break_glass: bool,
    pub description: String,
}

#[derive(FromRow)]
pub(super) struct ServiceRow {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub tier: i64,
}

impl Store {
    fn invalid(
        &self,
        entity: &'static str,
        id: &str,
        field: &'static str,
        reason: String,
    ) -> StoreError {
        StoreError::InvalidRow {
            path: self.path.clone(),
            entity,
            id: id.to_owned(),
            field,
            reason,
        }
    }

    pub(super) fn tier_of(
        &self,
        entity: &'static str,
        id: &str,
        raw: i64,
    ) -> Result<Tier, StoreError> {
        u8::try_from(raw)
            .map_err(|e| e.to_string())
            .and_then(|t| Tier::new(t).map_err(|e| e.to_string()))
            .map_err(|reason| self.invalid(entity, id, "tier", reason))
    }

    pub(super) fn identity_from_row(&self, row: IdentityRow) -> Result<Identity, StoreError> {
        let kind = row.kind.parse().map_err(|e: ParseModelError| {
            self.invalid("identity", &row.id, "kind", e.to_string())
        })?;
        let environment = row.environment.parse().map_err(|e: ParseModelError| {
            self.invalid("identity", &row.id, "environment", e.to_string())
        })?;
        Ok(Identity {
            kind,
            environment,
            tier: self.tier_of("identity", &row.id, row.tier)?,
            id: row.id,
            name: row.name,
            owner: row.owner,
            break_glass: row.break_glass,
            description: row.description,
        })
    }

    pub(super) fn service_ref_from_row(&self, row: ServiceRow) -> Result<ServiceRef, StoreError> {
        Ok(ServiceRef {
            tier: self.tier_of("service", &row.id, row.tier)?,
            id: row.id,
            name: row.name,
            owner: row.owner,
        })
    }
}
