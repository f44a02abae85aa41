//! Raw rows as SQLite returns them, and their checked conversion into model
//! types. A value the model rejects means someone edited the file by hand or
//! a newer version wrote it: say which row, never panic.

use sqlx::FromRow;
use std::str::FromStr;

use super::{Store, StoreError};
use crate::model::{
    BreakGlass, ContainmentPlan, Credential, Identity, Owner, ParseModelError, Review, Service,
    Tier, Usage,
};

#[derive(FromRow)]
pub(super) struct OwnerRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
    pub parent: Option<String>,
    pub left_on: Option<String>,
}

#[derive(FromRow)]
pub(super) struct ServiceRow {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub tier: i64,
    pub system: Option<String>,
    pub description: String,
}

#[derive(FromRow)]
pub(super) struct IdentityRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub owner: Option<String>,
    pub backup_owner: Option<String>,
    pub environment: String,
    pub tier: i64,
    pub description: String,
    pub lifetime: Option<String>,
    pub expires_on: Option<String>,
    pub permissions: String,
    pub admin_equivalent: i64,
    pub derived_from: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_on: Option<String>,
    pub orphaned_from: Option<String>,
    pub orphaned_on: Option<String>,
}

#[derive(FromRow)]
pub(super) struct UsageRow {
    pub identity_id: String,
    pub service_id: String,
    pub access: Option<String>,
    pub delivery: Option<String>,
    /// Flags are integers 0/1 in both engines' schemas.
    pub live_sessions: i64,
}

#[derive(FromRow)]
pub(super) struct BreakGlassRow {
    pub identity_id: String,
    pub justification: String,
    pub custodians: String,
    pub use_window: String,
    pub always_dual_approval: i64,
    pub owner_veto: i64,
}

#[derive(FromRow)]
pub(super) struct CredentialRow {
    pub identity_id: String,
    pub credential_id: String,
    pub kind: String,
    pub created_on: Option<String>,
    pub last_used_on: Option<String>,
    pub never_used: i64,
    pub expires_on: Option<String>,
    pub active: i64,
}

#[derive(FromRow)]
pub(super) struct PlanRow {
    pub identity_id: String,
    pub action: String,
    pub reversible: Option<i64>,
    pub rollback: String,
    pub rto_minutes: Option<i64>,
    pub preauthorised: Option<String>,
}

/// Parses one stored column, naming the row and column if it is not valid.
pub(super) struct Checker<'a> {
    pub store: &'a Store,
    pub entity: &'static str,
    pub id: &'a str,
}

impl Checker<'_> {
    fn fail(&self, field: &'static str, reason: String) -> StoreError {
        StoreError::InvalidRow {
            db: self.store.location.clone(),
            entity: self.entity,
            id: self.id.to_owned(),
            field,
            reason,
        }
    }

    pub fn parse<T: FromStr<Err = ParseModelError>>(
        &self,
        field: &'static str,
        raw: &str,
    ) -> Result<T, StoreError> {
        raw.parse()
            .map_err(|e: ParseModelError| self.fail(field, e.to_string()))
    }

    pub fn parse_opt<T: FromStr<Err = ParseModelError>>(
        &self,
        field: &'static str,
        raw: Option<&str>,
    ) -> Result<Option<T>, StoreError> {
        raw.map(|r| self.parse(field, r)).transpose()
    }

    pub fn tier(&self, raw: i64) -> Result<Tier, StoreError> {
        u8::try_from(raw)
            .map_err(|e| e.to_string())
            .and_then(|t| Tier::new(t).map_err(|e| e.to_string()))
            .map_err(|reason| self.fail("tier", reason))
    }

    pub fn date(
        &self,
        field: &'static str,
        raw: Option<&str>,
    ) -> Result<Option<jiff::civil::Date>, StoreError> {
        raw.map(|r| {
            r.parse()
                .map_err(|e: jiff::Error| self.fail(field, e.to_string()))
        })
        .transpose()
    }

    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        field: &'static str,
        raw: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(raw).map_err(|e| self.fail(field, e.to_string()))
    }
}

impl Store {
    pub(super) fn check<'a>(&'a self, entity: &'static str, id: &'a str) -> Checker<'a> {
        Checker {
            store: self,
            entity,
            id,
        }
    }

    pub(super) fn owner_from_row(&self, r: OwnerRow) -> Result<Owner, StoreError> {
        let c = self.check("owner", &r.id);
        Ok(Owner {
            kind: c.parse("kind", &r.kind)?,
            id: r.id.clone(),
            name: r.name,
            email: r.email,
            parent: r.parent,
            left_on: c.date("left_on", r.left_on.as_deref())?,
        })
    }

    pub(super) fn service_from_row(
        &self,
        r: ServiceRow,
        depends_on: Vec<String>,
    ) -> Result<Service, StoreError> {
        let c = self.check("service", &r.id);
        Ok(Service {
            tier: c.tier(r.tier)?,
            id: r.id.clone(),
            name: r.name,
            owner: r.owner,
            system: r.system,
            description: r.description,
            depends_on,
        })
    }

    /// The identity's own row; the caller attaches its child rows.
    pub(super) fn identity_from_row(&self, r: IdentityRow) -> Result<Identity, StoreError> {
        let c = self.check("identity", &r.id);
        let review = match (
            r.reviewed_by,
            c.date("reviewed_on", r.reviewed_on.as_deref())?,
        ) {
            (Some(by), Some(on)) => Some(Review { by, on }),
            _ => None,
        };
        let mut identity = Identity::new(
            &r.id,
            c.parse("kind", &r.kind)?,
            &r.name,
            c.parse("environment", &r.environment)?,
            c.tier(r.tier)?,
        );
        identity.owner = r.owner;
        identity.backup_owner = r.backup_owner;
        identity.description = r.description;
        identity.lifetime = c.parse_opt("lifetime", r.lifetime.as_deref())?;
        identity.expires_on = c.date("expires_on", r.expires_on.as_deref())?;
        identity.permissions = c.json("permissions", &r.permissions)?;
        identity.admin_equivalent = r.admin_equivalent != 0;
        identity.derived_from = r.derived_from;
        identity.review = review;
        identity.orphaned = match (
            r.orphaned_from,
            c.date("orphaned_on", r.orphaned_on.as_deref())?,
        ) {
            (Some(former_owner), Some(since)) => Some(crate::model::Orphaned {
                former_owner,
                since,
            }),
            _ => None,
        };
        Ok(identity)
    }

    pub(super) fn usage_from_row(&self, r: UsageRow) -> Result<Usage, StoreError> {
        let c = self.check("identity", &r.identity_id);
        Ok(Usage {
            access: c.parse_opt("access", r.access.as_deref())?,
            delivery: c.parse_opt("delivery", r.delivery.as_deref())?,
            live_sessions: r.live_sessions != 0,
            service: r.service_id,
        })
    }

    pub(super) fn break_glass_from_row(&self, r: BreakGlassRow) -> Result<BreakGlass, StoreError> {
        let c = self.check("identity", &r.identity_id);
        Ok(BreakGlass {
            custodians: c.json("custodians", &r.custodians)?,
            justification: r.justification,
            use_window: r.use_window,
            always_dual_approval: r.always_dual_approval != 0,
            owner_veto: r.owner_veto != 0,
        })
    }

    pub(super) fn credential_from_row(&self, r: CredentialRow) -> Result<Credential, StoreError> {
        let c = self.check("identity", &r.identity_id);
        Ok(Credential {
            kind: c.parse("credentials.kind", &r.kind)?,
            created_on: c.date("credentials.created_on", r.created_on.as_deref())?,
            last_used_on: c.date("credentials.last_used_on", r.last_used_on.as_deref())?,
            never_used: r.never_used != 0,
            expires_on: c.date("credentials.expires_on", r.expires_on.as_deref())?,
            active: r.active != 0,
            id: r.credential_id,
        })
    }

    pub(super) fn plan_from_row(&self, r: &PlanRow) -> Result<ContainmentPlan, StoreError> {
        let c = self.check("identity", &r.identity_id);
        Ok(ContainmentPlan {
            reversible: r.reversible.map(|v| v != 0),
            rollback: r.rollback.clone(),
            rto_minutes: r
                .rto_minutes
                .map(|m| u32::try_from(m).map_err(|e| c.fail("rto_minutes", e.to_string())))
                .transpose()?,
            preauthorised: c.parse_opt("preauthorised", r.preauthorised.as_deref())?,
        })
    }
}
