/// What went wrong with the database; every variant names it (the file, or
/// the PostgreSQL URL without its password), because the first question a
/// user asks is "which database?".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {db}: {reason}")]
    Open { db: String, reason: String },

    #[error("database {db} is not a Countersign database or is corrupt ({source})")]
    Corrupt {
        db: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot bring database {db} up to date: {source}")]
    Migrate {
        db: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// Team mode refused the write (migrations/postgres/0007, SQLSTATE
    /// 42501): the message names who may make it.
    #[error("{message}")]
    NotPermitted { db: String, message: String },

    #[error("database {db}: {source}")]
    Query {
        db: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("database {db} holds an invalid {field} for {entity} {id:?}: {reason}")]
    InvalidRow {
        db: String,
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
        "{entity} {id:?} was changed by {} since you opened it (you edited version {expected}, it is now {}); reload it and apply your change again",
        .other.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "someone else".into()),
        .actual.map(|v| v.to_string()).unwrap_or_else(|| "deleted".into())
    )]
    Conflict {
        entity: &'static str,
        id: String,
        expected: i64,
        actual: Option<i64>,
        /// The change that got there first, from the audit trail.
        other: Option<Box<OtherChange>>,
    },

    /// A commit was refused because it would have gone into a file no
    /// other process reads (see `store::guard`): nothing was written.
    #[error(
        "nothing was saved to {db}: {reason}. {}",
        match .reopened {
            Ok(()) => "Countersign has reopened the database; do it again".to_owned(),
            Err(e) => format!("Reopening the database failed too ({e}); restart Countersign"),
        }
    )]
    LocksLost {
        db: String,
        reason: String,
        reopened: Result<(), String>,
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

    pub(super) fn open(db: &str, source: sqlx::Error) -> Self {
        if is_not_a_database(&source) {
            return StoreError::Corrupt {
                db: db.to_owned(),
                source,
            };
        }
        StoreError::Open {
            db: db.to_owned(),
            reason: source.to_string(),
        }
    }

    pub(super) fn migrate(db: &str, source: sqlx::migrate::MigrateError) -> Self {
        match source {
            sqlx::migrate::MigrateError::Execute(e) if is_not_a_database(&e) => {
                StoreError::Corrupt {
                    db: db.to_owned(),
                    source: e,
                }
            }
            other => StoreError::Migrate {
                db: db.to_owned(),
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

/// Who changed a row under an owner's edit, when, and which fields: what a
/// refused edit shows so the owner can merge by hand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OtherChange {
    pub actor: String,
    pub at: String,
    pub operation: String,
    pub fields: Vec<String>,
}

impl std::fmt::Display for OtherChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.actor, self.at)?;
        match self.operation.as_str() {
            "delete" => write!(f, ", who deleted it"),
            _ if self.fields.is_empty() => Ok(()),
            _ => write!(f, " ({})", self.fields.join(", ")),
        }
    }
}
