//! The stored side of validating a change: what the changed entities refer
//! to, what refers to the entities a change deletes, and who holds the
//! external ids they carry — read through the tables' indexes
//! ([`Stored`]), so checking an edit costs what the edit touches, not what
//! the inventory holds (issue 20).

use std::collections::HashSet;

use sqlx::AnyConnection;

use super::read::{bind_all, filter};
use super::{Store, StoreError};
use crate::inventory::{Deleted, Inventory, Referrer, Section, Stored};

/// Lineage deeper than this is not followed further when looking for a
/// cycle: no credential is minted from a chain of thousands.
const MAX_LINEAGE_DEPTH: usize = 10_000;

/// Ids per `IN (…)` list, as in `read`.
const IDS_PER_QUERY: usize = 500;

impl Store {
    /// The facts [`Inventory::validate_against`] needs to check `scope` (the
    /// changed entities as they will be) and `deleted` against the stored
    /// inventory, read on `conn` (inside the write's transaction, so what
    /// is checked is what the write meets).
    pub(super) async fn stored_facts_on(
        &self,
        conn: &mut AnyConnection,
        scope: &Inventory,
        deleted: &Deleted,
    ) -> Result<Stored, StoreError> {
        let err = |e| self.query_error(e);
        let mut facts = Stored::default();
        let in_scope_services: HashSet<&str> =
            scope.services.iter().map(|s| s.id.as_str()).collect();
        let in_scope_identities: HashSet<&str> =
            scope.identities.iter().map(|i| i.id.as_str()).collect();

        let referenced: Vec<String> = sorted(
            scope
                .services
                .iter()
                .flat_map(|s| s.depends_on.iter())
                .chain(
                    scope
                        .identities
                        .iter()
                        .flat_map(|i| i.used_by.iter().map(|u| &u.service)),
                )
                .filter(|id| !in_scope_services.contains(id.as_str())),
        );
        for chunk in referenced.chunks(IDS_PER_QUERY) {
            let sql = format!("SELECT id FROM services {}", filter("id", Some(chunk)));
            let found: Vec<(String,)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
            facts.services.extend(found.into_iter().map(|(id,)| id));
        }

        // Lineage: the stored parents the checked identities name, and
        // their parents in turn, for existence and for cycles.
        let mut frontier: Vec<String> = sorted(
            scope
                .identities
                .iter()
                .filter_map(|i| i.derived_from.as_ref())
                .filter(|p| !in_scope_identities.contains(p.as_str())),
        );
        let mut depth = 0;
        while !frontier.is_empty() && depth < MAX_LINEAGE_DEPTH {
            depth += 1;
            let mut next = Vec::new();
            for chunk in frontier.chunks(IDS_PER_QUERY) {
                let sql = format!(
                    "SELECT id, derived_from FROM identities {}",
                    filter("id", Some(chunk))
                );
                let found: Vec<(String, Option<String>)> =
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(err)?;
                for (id, parent) in found {
                    if let Some(p) = &parent
                        && !in_scope_identities.contains(p.as_str())
                        && !facts.parents.contains_key(p)
                    {
                        next.push(p.clone());
                    }
                    facts.parents.insert(id, parent);
                }
            }
            frontier = sorted(next.iter());
        }

        let carried: Vec<String> =
            sorted(scope.identities.iter().flat_map(|i| i.external_ids.iter()));
        for chunk in carried.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT external_id, identity_id FROM identity_external_ids {}",
                filter("external_id", Some(chunk))
            );
            let found: Vec<(String, String)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
            facts.external_ids.extend(found);
        }

        // What still points at the deleted entities.
        let gone_services: Vec<String> = sorted(deleted.services.iter());
        for chunk in gone_services.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT service_id, depends_on FROM service_dependencies {} ORDER BY service_id",
                filter("depends_on", Some(chunk))
            );
            let found: Vec<(String, String)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
            facts
                .referrers
                .extend(found.into_iter().map(|(id, target)| Referrer {
                    section: Section::Services,
                    id,
                    field: "depends_on",
                    target,
                }));
            let sql = format!(
                "SELECT identity_id, service_id FROM identity_usages {} ORDER BY identity_id",
                filter("service_id", Some(chunk))
            );
            let found: Vec<(String, String)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
            facts
                .referrers
                .extend(found.into_iter().map(|(id, target)| Referrer {
                    section: Section::Identities,
                    id,
                    field: "used_by",
                    target,
                }));
        }
        let gone_identities: Vec<String> = sorted(deleted.identities.iter());
        for chunk in gone_identities.chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT id, derived_from FROM identities {} ORDER BY id",
                filter("derived_from", Some(chunk))
            );
            let found: Vec<(String, String)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err)?;
            facts
                .referrers
                .extend(found.into_iter().map(|(id, target)| Referrer {
                    section: Section::Identities,
                    id,
                    field: "derived_from",
                    target,
                }));
        }
        Ok(facts)
    }

    /// The stored identities holding any of `external_ids`.
    pub async fn holders_of(&self, external_ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut conn = self.connection().await?;
        let mut holders = Vec::new();
        for chunk in sorted(external_ids.iter()).chunks(IDS_PER_QUERY) {
            let sql = format!(
                "SELECT identity_id FROM identity_external_ids {}",
                filter("external_id", Some(chunk))
            );
            let found: Vec<(String,)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Some(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?;
            holders.extend(found.into_iter().map(|(id,)| id));
        }
        Ok(holders)
    }

    /// [`Store::stored_facts_on`] on a connection of its own, for planning
    /// an import before its write.
    pub async fn stored_facts(
        &self,
        scope: &Inventory,
        deleted: &Deleted,
    ) -> Result<Stored, StoreError> {
        let mut conn = self.connection().await?;
        self.stored_facts_on(&mut conn, scope, deleted).await
    }
}

/// Sorted without repeats, for `IN` lists.
fn sorted<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = ids.cloned().collect();
    v.sort_unstable();
    v.dedup();
    v
}
