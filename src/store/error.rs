use std::path::{Path, PathBuf};

/// What went wrong with the database; every variant names the file, because
/// the first question a user asks is "which database?".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: {reason}", path.display())]
    Open { path: PathBuf, reason: String },

    #[error("database {} is not a Countersign database or is corrupt ({source})", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot bring database {} up to date: {source}", path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    #[error("database {}: {source}", path.display())]
    Query {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },

    #[error("database {} holds an invalid {field} for {entity} {id:?}: {reason}", path.display())]
    InvalidRow {
        path: PathBuf,
        entity: &'static str,
        id: String,
        field: &'static str,
        reason: String,
    },

    #[error("no identity with id {0:?}")]
    IdentityNotFound(String),

    #[error("no service with id {0:?}")]
    ServiceNotFound(String),

    #[error("no owner with id {0:?}")]
    OwnerNotFound(String),

    #[error(
        "{entity} {id:?} was changed by someone else since you opened it (you edited version {expected}, it is now {}); reload it and apply your change again",
        .actual.map(|v| v.to_string()).unwrap_or_else(|| "deleted".into())
    )]
    Conflict {
        entity: &'static str,
        id: String,
        expected: i64,
        actual: Option<i64>,
    },

    #[error("{0}")]
    Invalid(String),

    #[error("cannot write output: {0}")]
    Output(String),

    #[error(
        "cannot find a data directory for this user (is HOME set?); pass --db PATH or set COUNTERSIGN_DB"
    )]
    NoDataDir,
}

/// SQLite's primary result code for "file is not a database".
const SQLITE_NOTADB: &str = "26";

impl StoreError {
    pub(super) fn not_found(entity: crate::inventory::Entity, id: &str) -> Self {
        use crate::inventory::Entity;
        match entity {
            Entity::Owner => StoreError::OwnerNotFound(id.to_owned()),
            Entity::Service => StoreError::ServiceNotFound(id.to_owned()),
            Entity::Identity => StoreError::IdentityNotFound(id.to_owned()),
        }
    }

    pub(super) fn open(path: &Path, source: sqlx::Error) -> Self {
        if is_not_a_database(&source) {
            return StoreError::Corrupt {
                path: path.to_owned(),
                source,
            };
        }
        StoreError::Open {
            path: path.to_owned(),
            reason: source.to_string(),
        }
    }

    pub(super) fn migrate(path: &Path, source: sqlx::migrate::MigrateError) -> Self {
        match source {
            sqlx::migrate::MigrateError::Execute(e) if is_not_a_database(&e) => {
                StoreError::Corrupt {
                    path: path.to_owned(),
                    source: e,
                }
            }
            other => StoreError::Migrate {
                path: path.to_owned(),
                source: other,
            },
        }
    }
}

fn is_not_a_database(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == SQLITE_NOTADB)
}
