//! Persistence for the inventory. Everything that touches SQL lives below
//! this module, so the rest of the core speaks in model types and a second
//! engine (PostgreSQL, for team mode) can be added behind the same API.

mod audit;
mod decisions;
mod error;
mod keys;
mod location;
mod read;
mod rows;
mod write;

pub use audit::{AuditBroken, AuditEntry, AuditVerification, GENESIS, STALE_DAYS_KEY};
pub use decisions::{
    APPROVER_GROUPS_KEY, BACKEND_URL_KEY, DecisionRow, NewDecision, PendingDelivery, Receipt,
};
pub use error::StoreError;
pub use keys::KeyRow;
pub use location::{DB_ENV_VAR, default_db_path};
pub use read::{
    IdentityDetail, IdentitySummary, InventoryCounts, ServiceDetail, ServiceRef, ServiceSummary,
};
pub use write::{Applied, ChangeContext, Edit};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A handle on one inventory database; cheap to clone (it wraps a pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and brings its
    /// schema up to date. The parent directory must already exist: creating
    /// a directory tree from a mistyped `--db` would hide the mistake.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        location::check_usable(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL lets the desktop app read while the CLI imports; NORMAL is
            // durable across application crashes, which is what we need.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::open(path, e))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::migrate(path, e))?;
        Ok(Store {
            pool,
            path: path.to_owned(),
        })
    }

    /// Opens the database at the platform's data directory, creating the
    /// directory on first use.
    pub async fn open_default() -> Result<Self, StoreError> {
        let path = default_db_path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.clone(),
                reason: format!("cannot create directory {}: {e}", dir.display()),
            })?;
        }
        Store::open(&path).await
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest migration applied, for `db info` and bug reports.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.query_error(e))?;
        Ok(version.unwrap_or(0))
    }

    pub async fn close(self) {
        self.pool.close().await;
    }

    fn query_error(&self, source: sqlx::Error) -> StoreError {
        StoreError::Query {
            path: self.path.clone(),
            source,
        }
    }
}
