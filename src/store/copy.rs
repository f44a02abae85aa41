//! Moving an inventory between databases (a laptop's SQLite file up to the
//! team's PostgreSQL, say): every table copied row for row in one
//! transaction, the audit trail with its hashes untouched, then checked on
//! the target — the same row counts, and a chain that verifies to the same
//! head.

use futures_util::TryStreamExt as _;
use serde::Serialize;
use sqlx::Row as _;

use super::{Store, StoreError};

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
}
use Kind::{Int, Text};

/// Every table and column, parents before children (foreign keys are
/// checked at commit anyway). Kept in step with the migrations by the
/// test that copies a database and compares it.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "owners",
        &[
            ("id", Text),
            ("kind", Text),
            ("name", Text),
            ("email", Text),
            ("parent", Text),
            ("left_on", Text),
            ("version", Int),
        ],
    ),
    (
        "services",
        &[
            ("id", Text),
            ("name", Text),
            ("owner", Text),
            ("tier", Int),
            ("system", Text),
            ("description", Text),
            ("version", Int),
        ],
    ),
    (
        "service_dependencies",
        &[
            ("service_id", Text),
            ("depends_on", Text),
            ("position", Int),
        ],
    ),
    (
        "identities",
        &[
            ("id", Text),
            ("kind", Text),
            ("name", Text),
            ("owner", Text),
            ("backup_owner", Text),
            ("environment", Text),
            ("tier", Int),
            ("description", Text),
            ("lifetime", Text),
            ("expires_on", Text),
            ("permissions", Text),
            ("admin_equivalent", Int),
            ("derived_from", Text),
            ("reviewed_by", Text),
            ("reviewed_on", Text),
            ("orphaned_from", Text),
            ("orphaned_on", Text),
            ("version", Int),
        ],
    ),
    (
        "identity_external_ids",
        &[
            ("external_id", Text),
            ("identity_id", Text),
            ("position", Int),
        ],
    ),
    (
        "identity_usages",
        &[
            ("identity_id", Text),
            ("service_id", Text),
            ("position", Int),
            ("access", Text),
            ("delivery", Text),
            ("live_sessions", Int),
        ],
    ),
    (
        "identity_credentials",
        &[
            ("identity_id", Text),
            ("credential_id", Text),
            ("position", Int),
            ("kind", Text),
            ("created_on", Text),
            ("last_used_on", Text),
            ("never_used", Int),
            ("expires_on", Text),
            ("active", Int),
        ],
    ),
    (
        "break_glass",
        &[
            ("identity_id", Text),
            ("justification", Text),
            ("custodians", Text),
            ("use_window", Text),
            ("always_dual_approval", Int),
            ("owner_veto", Int),
        ],
    ),
    (
        "containment_plans",
        &[
            ("identity_id", Text),
            ("action", Text),
            ("reversible", Int),
            ("rollback", Text),
            ("rto_minutes", Int),
            ("preauthorised", Text),
        ],
    ),
    (
        "observed_edges",
        &[
            ("kind", Text),
            ("consumer", Text),
            ("consumer_known", Int),
            ("target", Text),
            ("target_known", Int),
            ("first_seen", Text),
            ("last_seen", Text),
            ("calls", Int),
            ("source", Text),
        ],
    ),
    (
        "campaigns",
        &[
            ("id", Text),
            ("name", Text),
            ("scope", Text),
            ("due_on", Text),
            ("started_by", Text),
            ("started_at", Text),
            ("closed_at", Text),
            ("closed_by", Text),
            ("closed_reason", Text),
        ],
    ),
    (
        "campaign_items",
        &[
            ("campaign_id", Text),
            ("identity_id", Text),
            ("reviewer", Text),
            ("attested_by", Text),
            ("attested_at", Text),
            ("verdict", Text),
            ("jws", Text),
            ("record", Text),
        ],
    ),
    ("settings", &[("key", Text), ("value", Text)]),
    (
        "audit_log",
        &[
            ("seq", Int),
            ("at", Text),
            ("actor", Text),
            ("operation", Text),
            ("entity", Text),
            ("entity_id", Text),
            ("before", Text),
            ("after", Text),
            ("source", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
    ),
    (
        "signing_keys",
        &[
            ("kid", Text),
            ("public_jwk", Text),
            ("created_at", Text),
            ("status", Text),
            ("retired_at", Text),
            ("person", Text),
        ],
    ),
    ("team_members", &[("role", Text), ("owner_id", Text)]),
    (
        "decisions",
        &[
            ("jti", Text),
            ("request_id", Text),
            ("request_json", Text),
            ("decision", Text),
            ("approver", Text),
            ("kid", Text),
            ("jws", Text),
            ("created_at", Text),
            ("drill_run", Text),
        ],
    ),
    (
        "outbox",
        &[
            ("jti", Text),
            ("destination", Text),
            ("attempts", Int),
            ("next_attempt_at", Text),
            ("delivered_at", Text),
            ("last_error", Text),
            ("receipt", Text),
            ("receipt_reason", Text),
        ],
    ),
];

/// Every `(table, column)` a copy carries, so a test can hold the list in
/// step with the migrations.
pub fn copied_columns() -> Vec<(&'static str, &'static str)> {
    TABLES
        .iter()
        .flat_map(|(t, cols)| cols.iter().map(move |(c, _)| (*t, *c)))
        .collect()
}

/// Bound parameters per INSERT (rows × columns): well under both engines'
/// limits (SQLite 32,766; PostgreSQL 65,535), and large enough that a
/// million rows take a few thousand statements.
const BATCH_PARAMETERS: usize = 10_000;

enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopiedTable {
    pub table: &'static str,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub tables: Vec<CopiedTable>,
    /// Audit rows on the target, whose chain verified.
    pub audit_rows: u64,
    /// The target's audit head (`seq:hash`), equal to the source's.
    pub audit_head: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{target} already holds data ({rows} rows in {table}); copy into an empty database, so nothing is merged by accident"
    )]
    TargetNotEmpty {
        target: String,
        table: &'static str,
        rows: i64,
    },
    #[error(
        "the copy did not check out: {0}; the target was left as the copy wrote it, start again on an empty database"
    )]
    Mismatch(String),
}

impl Store {
    async fn count_rows(&self, table: &str) -> Result<i64, StoreError> {
        let sql = format!("SELECT count(*) FROM {table}");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool().await)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Copies everything in this database into `target`, which must be
    /// empty, in one transaction; then checks the target. `progress` hears
    /// each table as it is done.
    pub async fn copy_into(
        &self,
        target: &Store,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<CopyReport, CopyError> {
        for (table, _) in TABLES {
            let rows = target.count_rows(table).await?;
            if rows > 0 {
                return Err(CopyError::TargetNotEmpty {
                    target: target.location.clone(),
                    table,
                    rows,
                });
            }
        }
        let terr = |e| target.query_error(e);
        let serr = |e| self.query_error(e);
        // One read snapshot for every table, so an app or CLI writing to
        // the source meanwhile cannot leave the copy half before and half
        // after its change (SQLite: a read transaction; PostgreSQL:
        // repeatable read).
        let snapshot = match self.engine {
            super::Engine::Sqlite => "BEGIN",
            super::Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let mut source = self.pool().await.begin_with(snapshot).await.map_err(serr)?;
        let mut tx = target.begin_write().await.map_err(terr)?;
        let mut tables = Vec::new();
        for (table, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
            let select = format!("SELECT {} FROM {table}", names.join(", "));
            // Streamed: a million-row table is never held whole.
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *source);
            let per_batch = (BATCH_PARAMETERS / columns.len()).max(1);
            let mut copied = 0u64;
            loop {
                let mut cells = Vec::with_capacity(per_batch * columns.len());
                while cells.len() < per_batch * columns.len() {
                    let Some(row) = rows.try_next().await.map_err(serr)? else {
                        break;
                    };
                    for (i, (_, kind)) in columns.iter().enumerate() {
                        cells.push(match kind {
                            Text => Cell::Text(row.try_get(i).map_err(serr)?),
                            Int => Cell::Int(row.try_get(i).map_err(serr)?),
                        });
                    }
                }
                if cells.is_empty() {
                    break;
                }
                let batch = cells.len() / columns.len();
                let values: Vec<String> = (0..batch)
                    .map(|r| {
                        let first = r * columns.len() + 1;
                        let placeholders: Vec<String> = (first..first + columns.len())
                            .map(|n| format!("${n}"))
                            .collect();
                        format!("({})", placeholders.join(", "))
                    })
                    .collect();
                let insert = format!(
                    "INSERT INTO {table} ({}) VALUES {}",
                    names.join(", "),
                    values.join(", ")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(insert));
                for cell in cells {
                    query = match cell {
                        Cell::Text(v) => query.bind(v),
                        Cell::Int(v) => query.bind(v),
                    };
                }
                query.execute(&mut *tx).await.map_err(terr)?;
                copied += batch as u64;
            }
            drop(rows);
            progress(table, copied);
            tables.push(CopiedTable {
                table,
                rows: copied,
            });
        }
        // The head the snapshot's trail ends at (kept beside it in settings).
        let source_head: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(super::audit::HEAD_KEY)
                .fetch_optional(&mut *source)
                .await
                .map_err(serr)?;
        source.rollback().await.map_err(serr)?;
        target.commit(tx).await?;
        // Statistics for the planner now, as after any bulk load
        // (PostgreSQL's "Populating a Database"), not whenever autovacuum
        // gets to it: without them it plans the audit trail's and the
        // lists' queries for empty tables.
        if target.engine == super::Engine::Postgres {
            sqlx::query("ANALYZE")
                .execute(&target.pool().await)
                .await
                .map_err(terr)?;
        }

        // Checked on what was committed, not on what was sent: the target
        // holds as many rows as the snapshot had.
        for t in &tables {
            let there = target.count_rows(t.table).await?;
            if there != t.rows as i64 {
                return Err(CopyError::Mismatch(format!(
                    "{} had {} rows here and has {there} in {}",
                    t.table, t.rows, target.location
                )));
            }
        }
        let verified = match target.verify_audit().await? {
            Ok(v) => v,
            Err(broken) => {
                return Err(CopyError::Mismatch(format!(
                    "the copied audit trail: {broken}"
                )));
            }
        };
        if verified.head != source_head {
            return Err(CopyError::Mismatch(format!(
                "the audit head is {:?} there but {:?} here",
                verified.head, source_head
            )));
        }
        Ok(CopyReport {
            tables,
            audit_rows: verified.rows,
            audit_head: verified.head,
        })
    }
}
