//! Persistence for the inventory. Everything that touches SQL lives below
//! this module, so the rest of the core speaks in model types and a second
//! engine (PostgreSQL, for team mode) can be added behind the same API.

mod attention;
mod audit;
mod backup;
mod campaigns;
pub mod config;
mod copy;
mod decisions;
mod error;
pub mod guard;
mod keys;
mod location;
mod observed;
mod read;
mod references;
mod rows;
mod settings;
mod team;
mod write;

pub use audit::{AuditBroken, AuditEntry, AuditVerification, GENESIS};
pub use backup::{BackupError, BackupReport};
pub use campaigns::{Campaign, CampaignItem, CampaignScope, Closed};
pub use copy::{CopiedTable, CopyError, CopyReport, copied_columns};
pub use decisions::{
    APPROVER_GROUPS_KEY, BACKEND_URL_KEY, DecisionRow, NewDecision, PendingDelivery, Receipt,
};
pub use error::{OtherChange, StoreError};
pub use keys::KeyRow;
pub use location::{DB_ENV_VAR, default_db_path};
pub use observed::{OBSERVED_STALE_DAYS_KEY, Recorded};
pub use read::{
    IDENTITY_BATCH, IdentityDetail, IdentitySummary, InventoryCounts, KnownOwner, ListCursor,
    ListPage, ServiceDetail, ServiceRef, ServiceSummary,
};
pub use settings::{ROTATION_DAYS_KEY, STALE_DAYS_KEY, UNUSED_DAYS_KEY};
pub use team::TeamMember;
pub use write::{Applied, ChangeContext, Edit};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database holds the inventory: a file on one owner's machine, or a
/// PostgreSQL server an organisation's owners share (team mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        })
    }
}

/// `postgres://` and `postgresql://` URLs name a server; anything else is
/// a SQLite file (an optional `sqlite:` prefix is accepted).
pub fn is_postgres_url(target: &str) -> bool {
    let lower = target.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A URL fit to show: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // Not a URL (a file path, say): shown as given, unless it might
        // hold credentials.
        Err(_) if !url.contains('@') => url.to_owned(),
        Err(_) => "(an unreadable database URL)".into(),
    }
}

/// A handle on one inventory database; cheap to clone (clones share one
/// pool). Queries are written once, in SQL both engines accept, and run
/// through sqlx's `Any` driver; each engine has its own migrations, kept in
/// step.
#[derive(Debug, Clone)]
pub struct Store {
    shared: Arc<Shared>,
    /// The file path, or the URL without its password.
    location: String,
    engine: Engine,
    /// On PostgreSQL, the connected database role when it is a team member
    /// (migrations/postgres/0007): the author of every write, whose keys
    /// are the only ones this store lists. `None` on SQLite and for the
    /// database's administrator.
    team_role: Option<String>,
}

#[derive(Debug)]
struct Shared {
    /// Swapped for a fresh pool when a SQLite file's locks were lost
    /// ([`guard`]); operations wait while that happens.
    pool: tokio::sync::RwLock<AnyPool>,
    /// The SQLite file, made canonical (what the guard knows it by), and
    /// the URL its pool was opened with; `None` for PostgreSQL.
    file: Option<(PathBuf, String)>,
}

/// The advisory lock key writers take in PostgreSQL ("cs" in ASCII, in
/// the high bytes, to stay clear of other applications' keys).
const WRITER_LOCK: i64 = 0x6373_0000_0000_0001;

fn install_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
    guard::install();
}

/// Largest the WAL is left between checkpoints, in bytes. Setting a limit
/// also makes the last connection to close truncate the (persistent, see
/// [`guard`]) WAL to zero instead of leaving old frames to replay.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

impl Store {
    /// Opens the database `target` names: a `postgres://` URL, or a SQLite
    /// file path (created if missing).
    pub async fn connect(target: &str) -> Result<Self, StoreError> {
        if is_postgres_url(target) {
            Store::open_postgres(target).await
        } else {
            Store::open(Path::new(target.strip_prefix("sqlite:").unwrap_or(target))).await
        }
    }

    /// Opens (creating if needed) the SQLite file at `path` and brings its
    /// schema up to date. The parent directory must already exist: creating
    /// a directory tree from a mistyped `--db` would hide the mistake.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        location::check_usable(path)?;
        install_drivers();
        let location = path.display().to_string();
        let url = format!("{}?mode=rwc", sqlite_url(path)?);
        Store::establish(&url, location, Engine::Sqlite).await
    }

    /// Opens a SQLite file read-only as an unchanging snapshot (SQLite's
    /// `immutable`: no locks taken, no `-wal` or `-shm` made), to check a
    /// backup this process just wrote and no one else has open.
    async fn open_snapshot(path: &Path) -> Result<Self, StoreError> {
        install_drivers();
        let location = path.display().to_string();
        let url = format!("{}?mode=ro&immutable=true", sqlite_url(path)?);
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| StoreError::open(&location, e))?;
        Ok(Store {
            shared: Arc::new(Shared {
                pool: tokio::sync::RwLock::new(pool),
                file: None,
            }),
            location,
            engine: Engine::Sqlite,
            team_role: None,
        })
    }

    /// Connects to a PostgreSQL server (team mode) and brings its schema up
    /// to date. Many owners' apps and CLIs share it.
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        install_drivers();
        Store::establish(url, redact_url(url), Engine::Postgres).await
    }

    async fn establish(url: &str, location: String, engine: Engine) -> Result<Self, StoreError> {
        // One connection first, so a file that is not a database, an
        // unreachable server or a refused login is reported as such rather
        // than as a pool timeout. On SQLite it also turns on WAL, a
        // property of the file that lets the app read while the CLI
        // imports. (Foreign keys and a 5 s busy timeout are sqlx's
        // defaults.)
        {
            use sqlx::{Connection as _, Executor as _};
            let mut conn = sqlx::AnyConnection::connect(url)
                .await
                .map_err(|e| StoreError::open(&location, e))?;
            if engine == Engine::Sqlite {
                conn.execute("PRAGMA journal_mode = WAL")
                    .await
                    .map_err(|e| StoreError::open(&location, e))?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}"
                )))
                .await
                .map_err(|e| StoreError::open(&location, e))?;
            }
            let _ = conn.close().await;
        }
        let pool = Store::pool_for(url, engine)
            .await
            .map_err(|e| StoreError::open(&location, e))?;
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATOR,
            Engine::Postgres => &POSTGRES_MIGRATOR,
        };
        // A team member's role may not change the schema: on PostgreSQL
        // the migrator runs only when something is not applied yet (the
        // administrator's first connection after an upgrade does it).
        let applied: Vec<i64> = match engine {
            Engine::Postgres => {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_default()
            }
            Engine::Sqlite => Vec::new(),
        };
        if engine == Engine::Sqlite || migrator.iter().any(|m| !applied.contains(&m.version)) {
            migrator
                .run(&pool)
                .await
                .map_err(|e| StoreError::migrate(&location, e))?;
        }
        let team_role = match engine {
            Engine::Postgres => sqlx::query_scalar("SELECT countersign_team_role()")
                .fetch_one(&pool)
                .await
                .map_err(|e| StoreError::open(&location, e))?,
            Engine::Sqlite => None,
        };
        let file = match engine {
            Engine::Sqlite => {
                let path = sqlite_path(url);
                // The pool's connections now hold SQLite's shared lock: the
                // guard learns whether it can see them.
                guard::opened(&path);
                Some((path, url.to_owned()))
            }
            Engine::Postgres => None,
        };
        Ok(Store {
            shared: Arc::new(Shared {
                pool: tokio::sync::RwLock::new(pool),
                file,
            }),
            location,
            engine,
            team_role,
        })
    }

    async fn pool_for(url: &str, engine: Engine) -> Result<AnyPool, sqlx::Error> {
        let options = match engine {
            // NORMAL is durable across application crashes, which is what
            // we need, and much faster than FULL in WAL mode.
            Engine::Sqlite => AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        use sqlx::Executor as _;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}"
                        )))
                        .await?;
                        Ok(())
                    })
                }),
            Engine::Postgres => AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        use sqlx::Executor as _;
                        // What the write triggers look for
                        // (migrations/postgres/0005): this session writes
                        // through Countersign, which audits every change.
                        conn.execute("SET countersign.write_is_audited = 'on'")
                            .await?;
                        Ok(())
                    })
                }),
        };
        options.connect(url).await
    }

    /// The pool to run a query on (cheap: a pool is a handle).
    async fn pool(&self) -> AnyPool {
        self.shared.pool.read().await.clone()
    }

    /// Maps the result of a statement that commits (a transaction's
    /// `COMMIT`, or a single autocommit write). If the [`guard`] refused the
    /// commit, nothing was written: the store closes every connection and
    /// opens the file afresh, so the next write takes SQLite's locks again,
    /// and the caller gets [`StoreError::LocksLost`] to say so.
    async fn committed<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        let source = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let refused = source
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == guard::COMMIT_REFUSED_CODE);
        let Some((path, url)) = self.shared.file.as_ref().filter(|_| refused) else {
            return Err(self.query_error(source));
        };
        let reason = guard::take_refusal(path)
            .unwrap_or_else(|| "the database's locks could not be confirmed".into());
        let reopened = {
            let mut pool = self.shared.pool.write().await;
            // Every connection must close before any reopens: SQLite shares
            // one lock state per file among a process's connections.
            pool.close().await;
            let fresh = async {
                let fresh = Store::pool_for(url, Engine::Sqlite).await?;
                // A first read opens the WAL (and takes the shared lock), so
                // the guard records the files these connections use.
                sqlx::query("SELECT count(*) FROM _sqlx_migrations")
                    .fetch_one(&fresh)
                    .await?;
                Ok::<_, sqlx::Error>(fresh)
            };
            match fresh.await {
                Ok(fresh) => {
                    *pool = fresh;
                    guard::opened(path);
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        };
        Err(StoreError::LocksLost {
            db: self.location.clone(),
            reason,
            reopened,
        })
    }

    /// Commits a write transaction through [`Store::committed`].
    async fn commit(&self, tx: sqlx::Transaction<'static, sqlx::Any>) -> Result<(), StoreError> {
        self.committed(tx.commit().await).await
    }

    /// Opens the database at the platform's data directory, creating the
    /// directory on first use.
    pub async fn open_default() -> Result<Self, StoreError> {
        let path = default_db_path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                db: path.display().to_string(),
                reason: format!("cannot create directory {}: {e}", dir.display()),
            })?;
        }
        Store::open(&path).await
    }

    /// For a SQLite file, whether its commits are checked against the
    /// kernel's lock table ([`guard::lock_checks_on`]); `None` on PostgreSQL.
    pub fn lock_checks_on(&self) -> Option<bool> {
        self.shared
            .file
            .as_ref()
            .map(|(path, _)| guard::lock_checks_on(path))
    }

    /// The file path, or the server URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The connected database role when it is a team member on PostgreSQL
    /// (migrations/postgres/0007): in team mode it is who writes — the
    /// database refuses audit rows by anyone else — so the workspace acts
    /// as it. `None` in the local mode and for the administrator.
    pub fn team_role(&self) -> Option<&str> {
        self.team_role.as_deref()
    }

    /// The newest migration applied, for `db info` and bug reports.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        Ok(version.unwrap_or(0))
    }

    /// Starts a transaction that will write (and so append to the audit
    /// chain). Writers go one at a time: SQLite takes its write lock up
    /// front (no deadlocked lock upgrade between the app and the CLI), and
    /// PostgreSQL takes a transaction-scoped advisory lock, so each writer
    /// reads the chain head and the versions it checks only after the
    /// previous writer committed. Readers are never blocked.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => {
                let mut tx = self.pool().await.begin_with("BEGIN IMMEDIATE").await?;
                // Checked at commit, as PostgreSQL's are declared, so a
                // change set may refer to what it creates later.
                sqlx::query("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
            Engine::Postgres => {
                let mut tx = self.pool().await.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITER_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    pub async fn close(self) {
        self.pool().await.close().await;
    }

    fn query_error(&self, source: sqlx::Error) -> StoreError {
        if let Some(db) = source.as_database_error()
            && db.code().as_deref() == Some("42501")
        {
            return StoreError::NotPermitted {
                db: self.location.clone(),
                message: db.message().to_owned(),
            };
        }
        StoreError::Query {
            db: self.location.clone(),
            source,
        }
    }
}

/// The `sqlite://` URL (without options) of the file at `path`. A file URL
/// percent-encodes the path (spaces, `?`, `#`); sqlx's SQLite driver
/// decodes it.
fn sqlite_url(path: &Path) -> Result<String, StoreError> {
    let fail = |reason: String| StoreError::Open {
        db: path.display().to_string(),
        reason,
    };
    let absolute = std::path::absolute(path).map_err(|e| fail(e.to_string()))?;
    let file_url = reqwest::Url::from_file_path(&absolute)
        .map_err(|()| fail("not a path a URL can name".into()))?;
    Ok(format!(
        "sqlite://{}",
        file_url.as_str().trim_start_matches("file://")
    ))
}

/// The file a `sqlite://` URL made by [`sqlite_url`] names.
fn sqlite_path(url: &str) -> PathBuf {
    let rest = url.trim_start_matches("sqlite://");
    let encoded = rest.split('?').next().unwrap_or(rest);
    reqwest::Url::parse(&format!("file://{encoded}"))
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .unwrap_or_else(|| PathBuf::from(encoded))
}
