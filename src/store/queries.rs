//! The reads and writes the CLI and the app need, in model terms.

use serde::Serialize;
use sqlx::{FromRow, Sqlite, Transaction};

use super::rows::{IdentityRow, ServiceRow};
use super::{Store, StoreError};
use crate::inventory::Inventory;
use crate::model::{Identity, IdentityDetail, ServiceRef};

/// One line of the identity list: the identity and how many services use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentitySummary {
    #[serde(flatten)]
    pub identity: Identity,
    pub used_by_count: u32,
}

/// One line of the service list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceSummary {
    #[serde(flatten)]
    pub service: ServiceRef,
    /// Identities this service uses.
    pub identity_count: u32,
    /// Services this one needs.
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InventoryCounts {
    pub identities: u32,
    pub services: u32,
    pub usages: u32,
    pub dependencies: u32,
}

impl InventoryCounts {
    pub fn is_empty(&self) -> bool {
        self.identities == 0 && self.services == 0
    }
}

/// What a load wrote, for the CLI's and the app's confirmation.
pub type LoadSummary = InventoryCounts;

#[derive(FromRow)]
struct IdentitySummaryRow {
    #[sqlx(flatten)]
    identity: IdentityRow,
    used_by_count: i64,
}

#[derive(FromRow)]
struct ServiceSummaryRow {
    #[sqlx(flatten)]
    service: ServiceRow,
    identity_count: i64,
    depends_on: Option<String>,
}

/// `LIKE` pattern matching `needle` anywhere, with the wildcards in it escaped.
fn contains_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    pub async fn counts(&self) -> Result<InventoryCounts, StoreError> {
        let (identities, services, usages, dependencies): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM identities), (SELECT COUNT(*) FROM services),
                    (SELECT COUNT(*) FROM identity_usages), (SELECT COUNT(*) FROM service_dependencies)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(InventoryCounts {
            identities: n(identities),
            services: n(services),
            usages: n(usages),
            dependencies: n(dependencies),
        })
    }

    /// Identities whose id, name, owner or kind contains `search`
    /// (case-insensitive for ASCII), most critical first.
    pub async fn list_identities(
        &self,
        search: Option<&str>,
    ) -> Result<Vec<IdentitySummary>, StoreError> {
        let pattern = contains_pattern(search.unwrap_or("").trim());
        let rows: Vec<IdentitySummaryRow> = sqlx::query_as(
            "SELECT i.id, i.kind, i.name, i.owner, i.environment, i.tier, i.break_glass, i.description,
                    (SELECT COUNT(*) FROM identity_usages u WHERE u.identity_id = i.id) AS used_by_count
             FROM identities i
             WHERE i.id LIKE ?1 ESCAPE '\\' OR i.name LIKE ?1 ESCAPE '\\'
                OR i.owner LIKE ?1 ESCAPE '\\' OR i.kind LIKE ?1 ESCAPE '\\'
             ORDER BY i.tier, i.name, i.id",
        )
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        rows.into_iter()
            .map(|r| {
                Ok(IdentitySummary {
                    identity: self.identity_from_row(r.identity)?,
                    used_by_count: u32::try_from(r.used_by_count).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// One identity with the services that use it directly.
    pub async fn identity_detail(&self, id: &str) -> Result<IdentityDetail, StoreError> {
        let row: Option<IdentityRow> = sqlx::query_as(
            "SELECT id, kind, name, owner, environment, tier, break_glass, description
             FROM identities WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let identity = self
            .identity_from_row(row.ok_or_else(|| StoreError::IdentityNotFound(id.to_owned()))?)?;
        let services: Vec<ServiceRow> = sqlx::query_as(
            "SELECT s.id, s.name, s.owner, s.tier
             FROM identity_usages u JOIN services s ON s.id = u.service_id
             WHERE u.identity_id = ? ORDER BY s.tier, s.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        Ok(IdentityDetail {
            identity,
            used_by: services
                .into_iter()
                .map(|r| self.service_ref_from_row(r))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Services whose id, name or owner contains `search`, most critical first.
    pub async fn list_services(
        &self,
        search: Option<&str>,
    ) -> Result<Vec<ServiceSummary>, StoreError> {
        let pattern = contains_pattern(search.unwrap_or("").trim());
        let rows: Vec<ServiceSummaryRow> = sqlx::query_as(
            "SELECT s.id, s.name, s.owner, s.tier,
                    (SELECT COUNT(*) FROM identity_usages u WHERE u.service_id = s.id) AS identity_count,
                    (SELECT group_concat(d.depends_on, char(10)) FROM
                        (SELECT depends_on FROM service_dependencies WHERE service_id = s.id ORDER BY depends_on) d
                    ) AS depends_on
             FROM services s
             WHERE s.id LIKE ?1 ESCAPE '\\' OR s.name LIKE ?1 ESCAPE '\\' OR s.owner LIKE ?1 ESCAPE '\\'
             ORDER BY s.tier, s.name, s.id",
        )
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        rows.into_iter()
            .map(|r| {
                Ok(ServiceSummary {
                    depends_on: r
                        .depends_on
                        .map(|d| d.split('\n').map(str::to_owned).collect())
                        .unwrap_or_default(),
                    identity_count: u32::try_from(r.identity_count).unwrap_or(u32::MAX),
                    service: self.service_ref_from_row(r.service)?,
                })
            })
            .collect()
    }

    /// Writes a validated inventory in one transaction: either all of it lands
    /// or none does. Entities are upserted by id; for every entity the file
    /// lists, its edges become exactly the file's, so loading the same file
    /// twice changes nothing.
    pub async fn load_inventory(&self, inventory: &Inventory) -> Result<LoadSummary, StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.query_error(e))?;
        let summary = self
            .write_inventory(&mut tx, inventory)
            .await
            .map_err(|e| self.query_error(e))?;
        tx.commit().await.map_err(|e| self.query_error(e))?;
        Ok(summary)
    }

    async fn write_inventory(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        inventory: &Inventory,
    ) -> Result<LoadSummary, sqlx::Error> {
        let mut summary = LoadSummary::default();
        for s in &inventory.services {
            sqlx::query(
                "INSERT INTO services (id, name, owner, tier) VALUES (?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, tier = excluded.tier",
            )
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.owner)
            .bind(i64::from(s.tier.get()))
            .execute(&mut **tx)
            .await?;
            summary.services += 1;
        }
        for s in &inventory.services {
            sqlx::query("DELETE FROM service_dependencies WHERE service_id = ?")
                .bind(&s.id)
                .execute(&mut **tx)
                .await?;
            for dep in &s.depends_on {
                sqlx::query(
                    "INSERT INTO service_dependencies (service_id, depends_on) VALUES (?, ?)",
                )
                .bind(&s.id)
                .bind(dep)
                .execute(&mut **tx)
                .await?;
                summary.dependencies += 1;
            }
        }
        for i in &inventory.identities {
            sqlx::query(
                "INSERT INTO identities (id, kind, name, owner, environment, tier, break_glass, description)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                    owner = excluded.owner, environment = excluded.environment, tier = excluded.tier,
                    break_glass = excluded.break_glass, description = excluded.description",
            )
            .bind(&i.id)
            .bind(i.kind.as_str())
            .bind(&i.name)
            .bind(&i.owner)
            .bind(i.environment.as_str())
            .bind(i64::from(i.tier.get()))
            .bind(i.break_glass)
            .bind(&i.description)
            .execute(&mut **tx)
            .await?;
            summary.identities += 1;
            sqlx::query("DELETE FROM identity_usages WHERE identity_id = ?")
                .bind(&i.id)
                .execute(&mut **tx)
                .await?;
            for svc in &i.used_by {
                sqlx::query("INSERT INTO identity_usages (identity_id, service_id) VALUES (?, ?)")
                    .bind(&i.id)
                    .bind(svc)
                    .execute(&mut **tx)
                    .await?;
                summary.usages += 1;
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_wildcards_in_search_are_literal() {
        assert_eq!(contains_pattern("a_b%"), "%a\\_b\\%%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
