//! Reads: whole-inventory snapshots for exports and change planning, and
//! the list and detail views the CLI and the app show.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use std::collections::HashMap;

use super::rows::{
    BreakGlassRow, CredentialRow, IdentityRow, OwnerRow, PlanRow, ServiceRow, UsageRow,
};
use super::{Store, StoreError};
use crate::inventory::{Entity, Inventory};
use crate::model::{ContainmentAction, Environment, Identity, IdentityKind, Owner, Service, Tier};

/// A service as listed beside an identity: enough to decide who to call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ServiceRef {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub tier: Tier,
}

/// One line of the identity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct IdentitySummary {
    pub id: String,
    pub kind: IdentityKind,
    pub name: String,
    pub owner: Option<String>,
    pub environment: Environment,
    pub tier: Tier,
    pub break_glass: bool,
    pub used_by_count: u32,
}

/// One line of the service list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ServiceSummary {
    #[serde(flatten)]
    pub service: Service,
    /// Identities this service uses.
    pub identity_count: u32,
    pub version: i64,
}

/// An identity with what the detail pane shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct IdentityDetail {
    #[serde(flatten)]
    pub identity: Identity,
    /// Row version, for optimistic concurrency on edits.
    pub version: i64,
    /// The services in `used_by`, in the same order, with names and tiers.
    pub services: Vec<ServiceRef>,
    /// Identities minted from or belonging to this one.
    pub derived: Vec<String>,
}

/// A service with who uses it and who depends on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub service: Service,
    pub version: i64,
    /// Identities this service uses, by id.
    pub identities: Vec<String>,
    /// Services that depend on this one, by id.
    pub dependents: Vec<String>,
}

/// An owner as the owner pickers offer it: one listed in the owners
/// section (with its kind and name), or an id the inventory already names
/// as an owner or backup owner without listing it (imports often do, as
/// Backstage's `spec.owner` names a group that may live elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct KnownOwner {
    pub id: String,
    /// Listed owners only.
    pub kind: Option<crate::model::OwnerKind>,
    /// The display name; empty when not listed.
    pub name: String,
    /// Whether the owners section lists it.
    pub listed: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct InventoryCounts {
    pub owners: u32,
    pub identities: u32,
    pub services: u32,
    pub usages: u32,
    pub dependencies: u32,
}

impl InventoryCounts {
    pub fn is_empty(&self) -> bool {
        self.identities == 0 && self.services == 0 && self.owners == 0
    }
}

/// Where a page of a list starts: the list-order key (tier, name, id) of
/// the last row of the page before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ListCursor {
    pub tier: Tier,
    pub name: String,
    pub id: String,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ListPage<T> {
    pub rows: Vec<T>,
    /// How many rows match the search in all; counted on the first page
    /// only (`null` on the pages after it).
    pub total: Option<u32>,
    /// Where the next page starts; `null` when this page is the last.
    pub next: Option<ListCursor>,
}

impl<T> ListPage<T> {
    /// The page of `rows`, read with [`page_limit`] (one row past the
    /// page, which says whether another page follows and is dropped).
    fn of(
        mut rows: Vec<T>,
        total: Option<u32>,
        limit: Option<u32>,
        key: impl Fn(&T) -> ListCursor,
    ) -> Self {
        let more = limit.is_some_and(|l| rows.len() > l as usize);
        if let Some(l) = limit {
            rows.truncate(l as usize);
        }
        let next = if more { rows.last().map(key) } else { None };
        ListPage { rows, total, next }
    }
}

/// The keyset condition of a page after `after` (binds `$2`–`$4`), on the
/// list order's index.
fn page_after(table: &str, after: Option<&ListCursor>) -> String {
    match after {
        None => String::new(),
        Some(_) => format!("AND ({table}.tier, {table}.name, {table}.id) > ($2, $3, $4)"),
    }
}

/// `LIMIT` one row past the page: the row that says another page follows.
fn page_limit(limit: Option<u32>) -> String {
    limit
        .map(|l| format!("LIMIT {}", u64::from(l) + 1))
        .unwrap_or_default()
}

#[derive(FromRow)]
struct SummaryRow {
    id: String,
    kind: String,
    name: String,
    owner: Option<String>,
    environment: String,
    tier: i64,
    break_glass: i64,
    used_by_count: i64,
}

/// `LIKE` pattern matching `needle` anywhere, with the wildcards in it escaped.
fn contains_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Which rows a read takes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Which<'a> {
    All,
    /// The rows of these ids, sorted and without repeats ([`Which::ids`]),
    /// read through the primary key and the child tables' indexes.
    Ids(&'a [String]),
    /// The rows whose id is after `after` (all from the first when `None`)
    /// up to and including `through`: one batch of a read in id order,
    /// a range scan of the primary key and of the child tables' keys.
    Range {
        after: Option<&'a str>,
        through: &'a str,
    },
}

/// Identities per batch of [`Store::identities_in_batches`]: large enough
/// that the queries' own cost vanishes, small enough that one batch's rows
/// are a few megabytes.
pub const IDENTITY_BATCH: u32 = 5000;

/// Ids per `IN (…)` list: far below SQLite's limit of 32,766 bound
/// parameters and PostgreSQL's 65,535, and short enough to plan quickly.
pub(super) const IDS_PER_QUERY: usize = 500;

/// Ids sorted and without repeats, as [`Which::Ids`] wants them.
pub(super) struct SortedIds(Vec<String>);

/// One query's share of a [`Which`]: its `WHERE` ([`filter`]) and the
/// values bound to it ([`bind_all`]).
#[derive(Debug, Clone, Copy)]
pub(super) enum Chunk<'a> {
    All,
    Ids(&'a [String]),
    Range(Option<&'a str>, &'a str),
}

impl<'a> Which<'a> {
    pub(super) fn ids(ids: &[String]) -> SortedIds {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        SortedIds(v)
    }

    /// The queries to make: one for everything or for a range, or one per
    /// chunk of ids (sorted, so the results come out sorted by id).
    fn chunks(self) -> Vec<Chunk<'a>> {
        match self {
            Which::All => vec![Chunk::All],
            Which::Ids(ids) => ids.chunks(IDS_PER_QUERY).map(Chunk::Ids).collect(),
            Which::Range { after, through } => vec![Chunk::Range(after, through)],
        }
    }
}

impl SortedIds {
    pub(super) fn as_which(&self) -> Which<'_> {
        Which::Ids(&self.0)
    }
}

/// The `WHERE` of a chunk on `column`: `IN ($1, …)` for ids, a range for
/// a batch, nothing for all rows.
pub(super) fn filter(column: &str, chunk: Chunk<'_>) -> String {
    match chunk {
        Chunk::All => String::new(),
        Chunk::Ids(ids) => {
            let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
            format!("WHERE {column} IN ({})", marks.join(", "))
        }
        Chunk::Range(None, _) => format!("WHERE {column} <= $1"),
        Chunk::Range(Some(_), _) => format!("WHERE {column} > $1 AND {column} <= $2"),
    }
}

/// Binds a chunk's values in order to a query built with [`filter`].
pub(super) fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    chunk: Chunk<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    match chunk {
        Chunk::All => {}
        Chunk::Ids(ids) => {
            for id in ids {
                q = q.bind(id.as_str());
            }
        }
        Chunk::Range(after, through) => {
            if let Some(a) = after {
                q = q.bind(a);
            }
            q = q.bind(through);
        }
    }
    q
}

fn count(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Store {
    pub async fn counts(&self) -> Result<InventoryCounts, StoreError> {
        let (owners, identities, services, usages, dependencies): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM owners), (SELECT COUNT(*) FROM identities),
                    (SELECT COUNT(*) FROM services), (SELECT COUNT(*) FROM identity_usages),
                    (SELECT COUNT(*) FROM service_dependencies)",
            )
            .fetch_one(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(InventoryCounts {
            owners: count(owners),
            identities: count(identities),
            services: count(services),
            usages: count(usages),
            dependencies: count(dependencies),
        })
    }

    /// The whole inventory, every section sorted by id.
    pub async fn snapshot(&self) -> Result<Inventory, StoreError> {
        Ok(Inventory {
            owners: self.owners().await?,
            services: self.services(None).await?,
            identities: self.identities(None).await?,
        })
    }

    /// Every owner the inventory knows, by id: the listed ones, then every
    /// id named as an owner or backup owner of an identity or service but
    /// not listed ([`KnownOwner`]).
    pub async fn known_owners(&self) -> Result<Vec<KnownOwner>, StoreError> {
        let mut known: std::collections::BTreeMap<String, KnownOwner> = self
            .owners()
            .await?
            .into_iter()
            .map(|o| {
                let k = KnownOwner {
                    id: o.id.clone(),
                    kind: Some(o.kind),
                    name: o.name,
                    listed: true,
                };
                (o.id, k)
            })
            .collect();
        let named: Vec<String> = sqlx::query_scalar(
            "SELECT owner FROM identities WHERE owner IS NOT NULL
             UNION SELECT backup_owner FROM identities WHERE backup_owner IS NOT NULL
             UNION SELECT owner FROM services WHERE owner IS NOT NULL",
        )
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        for id in named {
            if !id.trim().is_empty() && !known.contains_key(&id) {
                known.insert(
                    id.clone(),
                    KnownOwner {
                        id,
                        kind: None,
                        name: String::new(),
                        listed: false,
                    },
                );
            }
        }
        Ok(known.into_values().collect())
    }

    pub async fn owners(&self) -> Result<Vec<Owner>, StoreError> {
        let rows: Vec<OwnerRow> =
            sqlx::query_as("SELECT id, kind, name, email, parent, left_on FROM owners ORDER BY id")
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        rows.into_iter().map(|r| self.owner_from_row(r)).collect()
    }

    /// Services with their dependencies; all of them, or the one with `only` as id.
    pub(super) async fn services(&self, only: Option<&str>) -> Result<Vec<Service>, StoreError> {
        let one = only.map(|id| [id.to_owned()]);
        let which = one.as_ref().map_or(Which::All, |ids| Which::Ids(ids));
        let mut conn = self.connection().await?;
        self.services_on(&mut conn, which).await
    }

    /// Identities with everything attached; all of them, or the one with `only` as id.
    pub(super) async fn identities(&self, only: Option<&str>) -> Result<Vec<Identity>, StoreError> {
        if let Some(id) = only {
            let one = [id.to_owned()];
            let mut conn = self.connection().await?;
            return self.identities_on(&mut conn, Which::Ids(&one)).await;
        }
        let mut all = Vec::new();
        self.identities_in_batches(IDENTITY_BATCH, |batch| {
            all.extend(batch);
            Ok(())
        })
        .await?;
        Ok(all)
    }

    /// Every identity with everything attached, in id order, handed to `f`
    /// `batch` at a time ([`IDENTITY_BATCH`] is a good size): the rows of
    /// one batch are all that is held besides what `f` keeps, so a
    /// whole-inventory read never holds the child tables' rows and the
    /// identities built from them at once.
    pub async fn identities_in_batches(
        &self,
        batch: u32,
        mut f: impl FnMut(Vec<Identity>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let mut after: Option<String> = None;
        loop {
            let sql = format!(
                "SELECT MAX(id) FROM (SELECT id FROM identities {} ORDER BY id LIMIT {}) batch",
                if after.is_some() { "WHERE id > $1" } else { "" },
                batch.max(1)
            );
            let mut q = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql));
            if let Some(a) = &after {
                q = q.bind(a.as_str());
            }
            let Some(through) = q
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| self.query_error(e))?
            else {
                return Ok(());
            };
            let identities = self
                .identities_on(
                    &mut conn,
                    Which::Range {
                        after: after.as_deref(),
                        through: &through,
                    },
                )
                .await?;
            f(identities)?;
            after = Some(through);
        }
    }

    /// A connection from the pool, for reads made of several statements.
    pub(super) async fn connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        self.pool()
            .await
            .acquire()
            .await
            .map_err(|e| self.query_error(e))
    }

    /// The owners of `which`, sorted by id.
    pub(super) async fn owners_on(
        &self,
        conn: &mut AnyConnection,
        which: Which<'_>,
    ) -> Result<Vec<Owner>, StoreError> {
        let mut rows: Vec<OwnerRow> = Vec::new();
        for chunk in which.chunks() {
            let sql = format!(
                "SELECT id, kind, name, email, parent, left_on FROM owners {} ORDER BY id",
                filter("id", chunk)
            );
            rows.extend(
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?,
            );
        }
        if matches!(which, Which::Ids(_)) {
            rows.sort_by(|a, b| a.id.cmp(&b.id));
        }
        rows.into_iter().map(|r| self.owner_from_row(r)).collect()
    }

    /// The services of `which` with their dependencies, sorted by id.
    pub(super) async fn services_on(
        &self,
        conn: &mut AnyConnection,
        which: Which<'_>,
    ) -> Result<Vec<Service>, StoreError> {
        let mut out = Vec::new();
        for chunk in which.chunks() {
            let sql = format!(
                "SELECT id, name, owner, tier, system, description FROM services {} ORDER BY id",
                filter("id", chunk)
            );
            let rows: Vec<ServiceRow> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.query_error(e))?;
            let sql = format!(
                "SELECT service_id, depends_on FROM service_dependencies {}
                 ORDER BY service_id, position",
                filter("service_id", chunk)
            );
            let deps: Vec<(String, String)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?;
            let mut by_service: HashMap<String, Vec<String>> = HashMap::new();
            for (s, d) in deps {
                by_service.entry(s).or_default().push(d);
            }
            for r in rows {
                let deps = by_service.remove(&r.id).unwrap_or_default();
                out.push(self.service_from_row(r, deps)?);
            }
        }
        if matches!(which, Which::Ids(_)) {
            out.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(out)
    }

    /// The identities of `which` with everything attached, sorted by id.
    pub(super) async fn identities_on(
        &self,
        conn: &mut AnyConnection,
        which: Which<'_>,
    ) -> Result<Vec<Identity>, StoreError> {
        let mut out = Vec::new();
        for chunk in which.chunks() {
            let by_identity = filter("identity_id", chunk);
            let sql = format!(
                "SELECT id, kind, name, owner, backup_owner, environment, tier, description,
                        lifetime, expires_on, permissions, admin_equivalent, derived_from, reviewed_by,
                        reviewed_on, orphaned_from, orphaned_on
                 FROM identities {} ORDER BY id",
                filter("id", chunk)
            );
            let rows: Vec<IdentityRow> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.query_error(e))?;
            let sql = format!(
                "SELECT identity_id, external_id FROM identity_external_ids {by_identity}
                 ORDER BY identity_id, position"
            );
            let external: Vec<(String, String)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?;
            let sql = format!(
                "SELECT identity_id, service_id, access, delivery, live_sessions FROM identity_usages
                 {by_identity} ORDER BY identity_id, position"
            );
            let usages: Vec<UsageRow> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.query_error(e))?;
            let sql = format!(
                "SELECT identity_id, justification, custodians, use_window, always_dual_approval, owner_veto
                 FROM break_glass {by_identity}"
            );
            let break_glass: Vec<BreakGlassRow> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?;
            let sql = format!(
                "SELECT identity_id, action, reversible, rollback, rto_minutes, preauthorised
                 FROM containment_plans {by_identity}"
            );
            let plans: Vec<PlanRow> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| self.query_error(e))?;
            let sql = format!(
                "SELECT identity_id, credential_id, kind, created_on, last_used_on, never_used, expires_on, active
                 FROM identity_credentials {by_identity} ORDER BY identity_id, position"
            );
            let credentials: Vec<CredentialRow> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), chunk)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| self.query_error(e))?;

            let first = out.len();
            let mut index = HashMap::with_capacity(rows.len());
            for r in rows {
                index.insert(r.id.clone(), out.len());
                out.push(self.identity_from_row(r)?);
            }
            let identities = &mut out;
            for (id, x) in external {
                if let Some(&i) = index.get(&id) {
                    identities[i].external_ids.push(x);
                }
            }
            for u in usages {
                if let Some(&i) = index.get(&u.identity_id) {
                    identities[i].used_by.push(self.usage_from_row(u)?);
                }
            }
            for b in break_glass {
                if let Some(&i) = index.get(&b.identity_id) {
                    identities[i].break_glass = Some(self.break_glass_from_row(b)?);
                }
            }
            for c in credentials {
                if let Some(&i) = index.get(&c.identity_id) {
                    identities[i].credentials.push(self.credential_from_row(c)?);
                }
            }
            for p in plans {
                if let Some(&i) = index.get(&p.identity_id) {
                    let action: ContainmentAction = self
                        .check("identity", &p.identity_id)
                        .parse("action", &p.action)?;
                    let plan = self.plan_from_row(&p)?;
                    identities[i].containment.insert(action, plan);
                }
            }
            debug_assert!(out[first..].iter().all(|x| index.contains_key(&x.id)));
        }
        if matches!(which, Which::Ids(_)) {
            out.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(out)
    }

    /// The stored entities with these ids (those that exist), each section
    /// sorted by id: the part of the inventory a change set touches, read
    /// through the primary keys instead of a snapshot of everything.
    pub async fn entities(
        &self,
        owners: &[String],
        services: &[String],
        identities: &[String],
    ) -> Result<Inventory, StoreError> {
        let mut conn = self.connection().await?;
        Ok(Inventory {
            owners: self
                .owners_on(&mut conn, Which::ids(owners).as_which())
                .await?,
            services: self
                .services_on(&mut conn, Which::ids(services).as_which())
                .await?,
            identities: self
                .identities_on(&mut conn, Which::ids(identities).as_which())
                .await?,
        })
    }

    pub async fn identity(&self, id: &str) -> Result<Identity, StoreError> {
        self.identities(Some(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::IdentityNotFound(id.to_owned()))
    }

    pub async fn service(&self, id: &str) -> Result<Service, StoreError> {
        self.services(Some(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::ServiceNotFound(id.to_owned()))
    }

    /// One page of the identities whose id, name, owner or kind contains
    /// `search` (case-insensitive for ASCII), in list order: most critical
    /// first, then by name and id. `after` continues after the last row of
    /// the page before (keyset paging, so a page costs the same anywhere in
    /// the list and rows added meanwhile are neither skipped nor repeated);
    /// `limit` caps the rows, `None` for all of them. The total is counted
    /// for the first page only.
    pub async fn list_identities(
        &self,
        search: Option<&str>,
        after: Option<&ListCursor>,
        limit: Option<u32>,
    ) -> Result<ListPage<IdentitySummary>, StoreError> {
        let pattern = contains_pattern(search.unwrap_or("").trim());
        let matches = "(LOWER(i.id) LIKE LOWER($1) ESCAPE '\\' OR LOWER(i.name) LIKE LOWER($1) ESCAPE '\\'
                OR LOWER(COALESCE(i.owner, '')) LIKE LOWER($1) ESCAPE '\\' OR LOWER(i.kind) LIKE LOWER($1) ESCAPE '\\')";
        let sql = format!(
            "SELECT i.id, i.kind, i.name, i.owner, i.environment, i.tier,
                    CASE WHEN EXISTS (SELECT 1 FROM break_glass b WHERE b.identity_id = i.id) THEN 1 ELSE 0 END AS break_glass,
                    (SELECT COUNT(*) FROM identity_usages u WHERE u.identity_id = i.id) AS used_by_count
             FROM identities i
             WHERE {matches} {}
             ORDER BY i.tier, i.name, i.id {}",
            page_after("i", after),
            page_limit(limit),
        );
        let mut q = sqlx::query_as::<_, SummaryRow>(sqlx::AssertSqlSafe(sql)).bind(&pattern);
        if let Some(c) = after {
            q = q
                .bind(i64::from(u8::from(c.tier)))
                .bind(&c.name)
                .bind(&c.id);
        }
        let pool = self.pool().await;
        let rows: Vec<SummaryRow> = q.fetch_all(&pool).await.map_err(|e| self.query_error(e))?;
        let total = match after {
            Some(_) => None,
            None => Some(
                self.count_matching("identities i", matches, &pattern)
                    .await?,
            ),
        };
        let rows = rows
            .into_iter()
            .map(|r| {
                let c = self.check("identity", &r.id);
                Ok(IdentitySummary {
                    kind: c.parse("kind", &r.kind)?,
                    environment: c.parse("environment", &r.environment)?,
                    tier: c.tier(r.tier)?,
                    id: r.id,
                    name: r.name,
                    owner: r.owner,
                    break_glass: r.break_glass != 0,
                    used_by_count: count(r.used_by_count),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(ListPage::of(rows, total, limit, |r| ListCursor {
            tier: r.tier,
            name: r.name.clone(),
            id: r.id.clone(),
        }))
    }

    /// How many rows of `from` match `matches` (a condition on `$1`).
    async fn count_matching(
        &self,
        from: &str,
        matches: &str,
        pattern: &str,
    ) -> Result<u32, StoreError> {
        // An empty search matches every row: counted without the pattern,
        // which the engines answer from an index.
        let (sql, bind) = if pattern == "%%" {
            (format!("SELECT COUNT(*) FROM {from}"), false)
        } else {
            (format!("SELECT COUNT(*) FROM {from} WHERE {matches}"), true)
        };
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        if bind {
            q = q.bind(pattern);
        }
        let n = q
            .fetch_one(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(count(n))
    }

    /// [`Store::identity_detail`] of the identity `reference` names: its
    /// id, else an external id exactly one identity holds (an ARN, an
    /// Entra object id), as `blast` resolves names.
    ///
    /// # Errors
    /// [`StoreError::IdentityNotFound`] naming `reference` when neither.
    pub async fn identity_detail_by_reference(
        &self,
        reference: &str,
    ) -> Result<IdentityDetail, StoreError> {
        match self.identity_detail(reference).await {
            Err(StoreError::IdentityNotFound(_)) => {
                match self.holders_of(&[reference.to_owned()]).await?.as_slice() {
                    [one] => self.identity_detail(one).await,
                    _ => Err(StoreError::IdentityNotFound(reference.to_owned())),
                }
            }
            other => other,
        }
    }

    /// One identity with the services that use it and its version.
    pub async fn identity_detail(&self, id: &str) -> Result<IdentityDetail, StoreError> {
        // The version first: the rows read after it are at least that new,
        // so if another owner's change lands in between, the version is
        // stale and an edit made from this read is refused, never applied
        // over their change.
        let version = self.version_of(Entity::Identity, id).await?.unwrap_or(0);
        let identity = self.identity(id).await?;
        let rows: Vec<ServiceRow> = sqlx::query_as(
            "SELECT s.id, s.name, s.owner, s.tier, s.system, s.description
             FROM identity_usages u JOIN services s ON s.id = u.service_id
             WHERE u.identity_id = $1 ORDER BY u.position",
        )
        .bind(id)
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        let services = rows
            .into_iter()
            .map(|r| {
                Ok(ServiceRef {
                    tier: self.check("service", &r.id).tier(r.tier)?,
                    id: r.id,
                    name: r.name,
                    owner: r.owner,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let derived: Vec<String> =
            sqlx::query_scalar("SELECT id FROM identities WHERE derived_from = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        Ok(IdentityDetail {
            identity,
            version,
            services,
            derived,
        })
    }

    pub async fn service_detail(&self, id: &str) -> Result<ServiceDetail, StoreError> {
        // Version first, as in `identity_detail`.
        let version = self.version_of(Entity::Service, id).await?.unwrap_or(0);
        let service = self.service(id).await?;
        let identities: Vec<String> = sqlx::query_scalar(
            "SELECT identity_id FROM identity_usages WHERE service_id = $1 ORDER BY identity_id",
        )
        .bind(id)
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        let dependents: Vec<String> = sqlx::query_scalar(
            "SELECT service_id FROM service_dependencies WHERE depends_on = $1 ORDER BY service_id",
        )
        .bind(id)
        .fetch_all(&self.pool().await)
        .await
        .map_err(|e| self.query_error(e))?;
        Ok(ServiceDetail {
            service,
            version,
            identities,
            dependents,
        })
    }

    /// One page of the services whose id, name or owner contains `search`,
    /// in list order (most critical first, then by name and id); `after`
    /// and `limit` as in [`Store::list_identities`].
    pub async fn list_services(
        &self,
        search: Option<&str>,
        after: Option<&ListCursor>,
        limit: Option<u32>,
    ) -> Result<ListPage<ServiceSummary>, StoreError> {
        let pattern = contains_pattern(search.unwrap_or("").trim());
        let matches = "(LOWER(s.id) LIKE LOWER($1) ESCAPE '\\' OR LOWER(s.name) LIKE LOWER($1) ESCAPE '\\' OR LOWER(COALESCE(s.owner, '')) LIKE LOWER($1) ESCAPE '\\')";
        let sql = format!(
            "SELECT s.id, s.version, (SELECT COUNT(*) FROM identity_usages u WHERE u.service_id = s.id)
             FROM services s
             WHERE {matches} {}
             ORDER BY s.tier, s.name, s.id {}",
            page_after("s", after),
            page_limit(limit),
        );
        let mut q =
            sqlx::query_as::<_, (String, i64, i64)>(sqlx::AssertSqlSafe(sql)).bind(&pattern);
        if let Some(c) = after {
            q = q
                .bind(i64::from(u8::from(c.tier)))
                .bind(&c.name)
                .bind(&c.id);
        }
        let mut conn = self.connection().await?;
        let page: Vec<(String, i64, i64)> = q
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.query_error(e))?;
        let ids: Vec<String> = page.iter().map(|(id, _, _)| id.clone()).collect();
        let mut services: HashMap<String, Service> = self
            .services_on(&mut conn, Which::ids(&ids).as_which())
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        drop(conn);
        let rows = page
            .into_iter()
            .filter_map(|(id, version, n)| {
                // A service deleted between the two reads is left out.
                Some(ServiceSummary {
                    service: services.remove(&id)?,
                    identity_count: count(n),
                    version,
                })
            })
            .collect();
        let total = match after {
            Some(_) => None,
            None => Some(self.count_matching("services s", matches, &pattern).await?),
        };
        Ok(ListPage::of(rows, total, limit, |r| ListCursor {
            tier: r.service.tier,
            name: r.service.name.clone(),
            id: r.service.id.clone(),
        }))
    }

    /// The row version of an entity, or `None` if there is no such row.
    pub async fn version_of(&self, entity: Entity, id: &str) -> Result<Option<i64>, StoreError> {
        let mut conn = self
            .pool()
            .await
            .acquire()
            .await
            .map_err(|e| self.query_error(e))?;
        super::write::version_of(&mut conn, entity, id)
            .await
            .map_err(|e| self.query_error(e))
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
