//! The stored side of validating a change: what the changed entities refer
//! to, what refers to the entities a change deletes, and who holds the
//! external ids they carry — read through the tables' indexes
//! ([`Stored`]), so checking an edit costs what the edit touches, not what
//! the inventory holds (issue 20).

use std::collections::HashSet;

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::read::{Chunk, IDS_PER_QUERY, bind_all, filter};
use super::{Store, StoreError};
use crate::inventory::{Deleted, Inventory, Referrer, Section, Stored};

/// Lineage deeper than this is not followed further when looking for a
/// cycle: no credential is minted from a chain of thousands.
const MAX_LINEAGE_DEPTH: usize = 10_000;

impl Store {
    /// Rows of `select … {in} …` for `ids`, `IDS_PER_QUERY` at a time: `{in}`
    /// in `select` becomes the `WHERE column IN (…)` filter.
    async fn rows_for<T>(
        &self,
        conn: &mut AnyConnection,
        select: &str,
        column: &str,
        ids: &[String],
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let sql = select.replace("{in}", &filter(column, Chunk::Ids(chunk)));
            out.extend(
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), Chunk::Ids(chunk))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?,
            );
        }
        Ok(out)
    }

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
        let found: Vec<(String,)> = self
            .rows_for(conn, "SELECT id FROM services {in}", "id", &referenced)
            .await?;
        facts.services.extend(found.into_iter().map(|(id,)| id));

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
            let found: Vec<(String, Option<String>)> = self
                .rows_for(
                    conn,
                    "SELECT id, derived_from FROM identities {in}",
                    "id",
                    &frontier,
                )
                .await?;
            let mut next = Vec::new();
            for (id, parent) in found {
                if let Some(p) = &parent
                    && !in_scope_identities.contains(p.as_str())
                    && !facts.parents.contains_key(p)
                {
                    next.push(p.clone());
                }
                facts.parents.insert(id, parent);
            }
            frontier = sorted(next.iter());
        }

        let carried: Vec<String> =
            sorted(scope.identities.iter().flat_map(|i| i.external_ids.iter()));
        let holders: Vec<(String, String)> = self
            .rows_for(
                conn,
                "SELECT external_id, identity_id FROM identity_external_ids {in}",
                "external_id",
                &carried,
            )
            .await?;
        facts.external_ids.extend(holders);

        // What still points at the deleted entities.
        let mut refer = |found: Vec<(String, String)>, section, field| {
            facts
                .referrers
                .extend(found.into_iter().map(|(id, target)| Referrer {
                    section,
                    id,
                    field,
                    target,
                }));
        };
        let gone_services: Vec<String> = sorted(deleted.services.iter());
        let depending = self
            .rows_for(
                conn,
                "SELECT service_id, depends_on FROM service_dependencies {in} ORDER BY service_id",
                "depends_on",
                &gone_services,
            )
            .await?;
        refer(depending, Section::Services, "depends_on");
        let using = self
            .rows_for(
                conn,
                "SELECT identity_id, service_id FROM identity_usages {in} ORDER BY identity_id",
                "service_id",
                &gone_services,
            )
            .await?;
        refer(using, Section::Identities, "used_by");
        let gone_identities: Vec<String> = sorted(deleted.identities.iter());
        let derived = self
            .rows_for(
                conn,
                "SELECT id, derived_from FROM identities {in} ORDER BY id",
                "derived_from",
                &gone_identities,
            )
            .await?;
        refer(derived, Section::Identities, "derived_from");
        Ok(facts)
    }

    /// The stored identities holding any of `external_ids`.
    pub async fn holders_of(&self, external_ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut conn = self.connection().await?;
        let found: Vec<(String,)> = self
            .rows_for(
                &mut conn,
                "SELECT identity_id FROM identity_external_ids {in}",
                "external_id",
                &sorted(external_ids.iter()),
            )
            .await?;
        Ok(found.into_iter().map(|(id,)| id).collect())
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
