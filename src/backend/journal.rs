//! The broker's durable state (issue 18): an append-only journal of every
//! change to what the broker knows — a request added, an approver
//! enrolled, a decision submitted, an audit checkpoint kept — in a SQLite
//! file (`backend serve --state PATH`) or a PostgreSQL database
//! (`--state postgres://…`), through sqlx like the inventory store.
//!
//! Why a journal and not tables of state: the in-memory [`BackendState`]
//! already holds every rule of the protocol; replaying its inputs in order
//! rebuilds it exactly (a decision's verification time is journaled with
//! it, so expiry is judged as it was), and a change is one row, so a
//! change and its durability commit together. A restart, or `kill -9` at
//! any point, loses nothing that was answered and forgets no `jti`.
//!
//! Several brokers on one PostgreSQL database: each change takes a
//! transaction-scoped advisory lock, first applies the rows others wrote
//! since (so every broker applies changes in one order), then appends its
//! own; reads catch up first. A decision sent to two brokers at once is
//! applied once: the second sees the first's row before judging it.

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::state::BackendState;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/broker/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/broker/postgres");

/// The advisory lock brokers sharing a PostgreSQL database take around a
/// change (an arbitrary constant: "CSBROKER" in ASCII).
const LOCK_KEY: i64 = 0x4353_4252_4f4b_4552;

/// One change, as journaled.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A containment request (the JSON as posted).
    Request { request: serde_json::Value },
    /// An enrollment that was accepted (the JWKS as sent).
    Enroll {
        approver: String,
        groups: Vec<String>,
        jwks: serde_json::Value,
    },
    /// An audit checkpoint that was kept.
    Checkpoint { approver: String, jws: String },
    /// A decision submitted, whatever its receipt, with the time it was
    /// judged at.
    Decision { jws: String, at: jiff::Timestamp },
    /// A request's outcome acknowledged by its callback.
    Delivered { outcome_id: String },
}

impl Event {
    fn kind(&self) -> &'static str {
        match self {
            Event::Request { .. } => "request",
            Event::Enroll { .. } => "enroll",
            Event::Checkpoint { .. } => "checkpoint",
            Event::Decision { .. } => "decision",
            Event::Delivered { .. } => "delivered",
        }
    }

    /// Applies a journaled change to `state`. Every event was accepted when
    /// it was recorded and replays the same way; one that no longer
    /// applies (a journal edited by hand) is skipped with its reason.
    pub fn apply(&self, state: &mut BackendState) -> Result<(), String> {
        match self {
            Event::Request { request } => state
                .add_request(request.clone())
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Event::Enroll {
                approver,
                groups,
                jwks,
            } => {
                let keys = jwks["keys"]
                    .as_array()
                    .ok_or("jwks.keys is not a list")?
                    .iter()
                    .map(super::verify::parse_jwk)
                    .collect::<Result<Vec<_>, _>>()?;
                state
                    .enroll(approver, groups.clone(), keys)
                    .map_err(|e| e.to_string())
            }
            Event::Checkpoint { approver, jws } => state
                .keep_checkpoint(approver, jws)
                .map_err(|e| e.to_string()),
            Event::Decision { jws, at } => {
                state.submit(jws, *at);
                Ok(())
            }
            Event::Delivered { outcome_id } => {
                state.mark_delivered(outcome_id);
                Ok(())
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the broker state {target}: {source}")]
    Database {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the broker state {target} could not be migrated: {source}")]
    Migrate {
        target: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error(
        "the broker state {target} answers to the audience {kept:?}, not {given:?}: the decisions it holds were accepted for {kept:?}. Start with --audience {kept:?} (or without --audience), or use a new --state for a new audience"
    )]
    AudienceChanged {
        target: String,
        kept: String,
        given: String,
    },
    #[error("the broker state {target}: {reason}")]
    Unusable { target: String, reason: String },
    #[error("the broker state {target}, event {seq}: {reason}")]
    BadEvent {
        target: String,
        seq: i64,
        reason: String,
    },
}

/// The journal a broker keeps its state in, and how far it has applied it.
pub struct Journal {
    pool: AnyPool,
    postgres: bool,
    /// Where it is (a path, or a URL without its password), for messages.
    target: String,
    /// The last event applied to this process's state.
    applied: i64,
}

impl Journal {
    /// Opens (creating it if needed) the journal at `target`: a
    /// `postgres://` URL, else a SQLite file path.
    pub async fn open(target: &str) -> Result<Journal, JournalError> {
        sqlx::any::install_default_drivers();
        let postgres = crate::store::is_postgres_url(target);
        let shown = if postgres {
            crate::store::redact_url(target)
        } else {
            target.to_owned()
        };
        let db = |source| JournalError::Database {
            target: shown.clone(),
            source,
        };
        let unusable = |reason: String| JournalError::Unusable {
            target: shown.clone(),
            reason,
        };
        let url = if postgres {
            target.to_owned()
        } else {
            let absolute = std::path::absolute(target).map_err(|e| db(sqlx::Error::Io(e)))?;
            if let Some(dir) = absolute.parent()
                && !dir.is_dir()
            {
                return Err(unusable(format!(
                    "the directory {} does not exist; create it (the broker creates the file, not its directory)",
                    dir.display()
                )));
            }
            if absolute.is_dir() {
                return Err(unusable(
                    "is a directory; give the path of the state file in it (e.g. DIR/broker.db)"
                        .into(),
                ));
            }
            // Refused before SQLite tries it: a file that is not a
            // database (a token file given by mistake, a copy cut short)
            // is named as such, and left as it is.
            if absolute.is_file() {
                use std::io::Read as _;
                let mut header = Vec::with_capacity(16);
                std::fs::File::open(&absolute)
                    .and_then(|f| f.take(16).read_to_end(&mut header))
                    .map_err(|e| db(sqlx::Error::Io(e)))?;
                if !header.is_empty() && header != b"SQLite format 3\0" {
                    return Err(unusable(
                        "not a SQLite database; --state takes a file the broker created (or a new path, or a postgres:// URL)".into(),
                    ));
                }
            }
            // The state holds the broker's signing key: readable by its
            // owner only (SQLite gives its -wal and -shm files the same
            // mode).
            #[cfg(unix)]
            if !absolute.exists() {
                use std::os::unix::fs::OpenOptionsExt as _;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&absolute)
                    .map_err(|e| db(sqlx::Error::Io(e)))?;
            }
            format!("sqlite://{}?mode=rwc", absolute.display())
        };
        // One connection first, so an unreachable server or a refused login
        // is reported as itself, at once, rather than as a pool timeout.
        {
            use sqlx::Connection as _;
            match tokio::time::timeout(
                std::time::Duration::from_secs(10),
                sqlx::AnyConnection::connect(&url),
            )
            .await
            {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                }
                Ok(Err(e)) => return Err(db(e)),
                Err(_) => {
                    return Err(unusable(
                        "no answer within 10 s; is the database server running and reachable?"
                            .into(),
                    ));
                }
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if postgres { 8 } else { 1 })
            // A database that does not answer is reported in seconds, not
            // after sqlx's default 30.
            .acquire_timeout(std::time::Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    use sqlx::Executor as _;
                    if !postgres {
                        // Durable at commit: an answered change survives
                        // a power cut, not only a crash.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(db)?;
        let migrator = if postgres { &POSTGRES } else { &SQLITE };
        migrator
            .run(&pool)
            .await
            .map_err(|source| JournalError::Migrate {
                target: shown.clone(),
                source,
            })?;
        Ok(Journal {
            pool,
            postgres,
            target: shown,
            applied: 0,
        })
    }

    /// A handle on the journal's database, for readiness checks that must
    /// not wait behind the writers' lock.
    pub fn pool(&self) -> AnyPool {
        self.pool.clone()
    }

    /// The broker's own Ed25519 key (it signs outcome callbacks), made
    /// at the first start and kept with the state, so receivers keep
    /// verifying across restarts and brokers sharing the database sign
    /// with one key.
    pub async fn broker_key(&self) -> Result<crate::signing::SigningKeyPair, JournalError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let bad = |reason: String| JournalError::BadEvent {
            target: self.target.clone(),
            seq: 0,
            reason,
        };
        let seed = crate::signing::SigningKeyPair::new_seed().map_err(|e| bad(e.to_string()))?;
        // The first broker's key wins; the others read it.
        let insert = if self.postgres {
            "INSERT INTO broker_meta (key, value) VALUES ('signing_key', $1) ON CONFLICT DO NOTHING"
        } else {
            "INSERT OR IGNORE INTO broker_meta (key, value) VALUES ('signing_key', $1)"
        };
        sqlx::query(insert)
            .bind(b64.encode(seed.as_ref()))
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let kept: String =
            sqlx::query_scalar("SELECT value FROM broker_meta WHERE key = 'signing_key'")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        let bytes = zeroize::Zeroizing::new(b64.decode(kept).map_err(|e| bad(e.to_string()))?);
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad("the kept signing key is not 32 bytes".into()))?;
        crate::signing::SigningKeyPair::from_seed(&seed).map_err(|e| bad(e.to_string()))
    }

    fn db(&self, source: sqlx::Error) -> JournalError {
        JournalError::Database {
            target: self.target.clone(),
            source,
        }
    }

    /// The audience kept from an earlier start, if any.
    pub async fn kept_audience(&self) -> Result<Option<String>, JournalError> {
        sqlx::query_scalar("SELECT value FROM broker_meta WHERE key = 'audience'")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))
    }

    /// The audience the journal's decisions were judged for: kept from the
    /// first start (the first broker's, when several start at once), so a
    /// restart on another address keeps accepting decisions made for it.
    /// `given` (an explicit `--audience`) must match a kept one: the
    /// journal's decisions were accepted for it, and judging them again
    /// for another would undo them.
    pub async fn audience(&self, proposed: &str, given: bool) -> Result<String, JournalError> {
        let insert = if self.postgres {
            "INSERT INTO broker_meta (key, value) VALUES ('audience', $1) ON CONFLICT DO NOTHING"
        } else {
            "INSERT OR IGNORE INTO broker_meta (key, value) VALUES ('audience', $1)"
        };
        sqlx::query(insert)
            .bind(proposed)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let kept: String =
            sqlx::query_scalar("SELECT value FROM broker_meta WHERE key = 'audience'")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        if given && kept != proposed {
            return Err(JournalError::AudienceChanged {
                target: self.target.clone(),
                kept,
                given: proposed.to_owned(),
            });
        }
        Ok(kept)
    }

    /// Applies to `state` every event journaled since this process last
    /// looked (all of them at start); returns how many.
    pub async fn catch_up(&mut self, state: &mut BackendState) -> Result<usize, JournalError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM broker_events WHERE seq > $1 ORDER BY seq")
                .bind(self.applied)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        self.apply_rows(state, rows)
    }

    fn apply_rows(
        &mut self,
        state: &mut BackendState,
        rows: Vec<(i64, String)>,
    ) -> Result<usize, JournalError> {
        let count = rows.len();
        for (seq, body) in rows {
            let bad = |reason: String| JournalError::BadEvent {
                target: self.target.clone(),
                seq,
                reason,
            };
            let event: Event = serde_json::from_str(&body).map_err(|e| bad(e.to_string()))?;
            // An event that no longer applies is named, not fatal: the
            // rest of the journal still rebuilds the state.
            if let Err(reason) = event.apply(state) {
                tracing::warn!(error = %bad(reason), "a journaled event no longer applies; skipped");
            }
            self.applied = seq;
        }
        Ok(count)
    }

    /// Makes one change durable: under the writers' lock, catches `state`
    /// up with the journal, runs `change` on it, and — when it returns
    /// `Some(event)` — appends the event, committing before returning. The
    /// caller answers only after this returns `Ok`, so what was answered
    /// is on disk. If the commit fails the state may hold a change that is
    /// not journaled: the caller must rebuild it (see [`Journal::rebuild`]).
    pub async fn record<T>(
        &mut self,
        state: &mut BackendState,
        change: impl FnOnce(&mut BackendState) -> (T, Option<Event>),
    ) -> Result<T, JournalError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        if self.postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LOCK_KEY)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
        }
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM broker_events WHERE seq > $1 ORDER BY seq")
                .bind(self.applied)
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
        self.apply_rows(state, rows)?;
        let (answer, event) = change(state);
        if let Some(event) = event {
            let seq = self.applied + 1;
            let body = serde_json::to_string(&event).expect("events serialise");
            sqlx::query("INSERT INTO broker_events (seq, at, kind, body) VALUES ($1, $2, $3, $4)")
                .bind(seq)
                .bind(jiff::Timestamp::now().to_string())
                .bind(event.kind())
                .bind(body)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
            tx.commit().await.map_err(|e| self.db(e))?;
            self.applied = seq;
        } else {
            tx.commit().await.map_err(|e| self.db(e))?;
        }
        Ok(answer)
    }

    /// Replaces `state` with `fresh` rebuilt from the whole journal: after
    /// a failed commit, so memory never holds what the journal does not.
    pub async fn rebuild(
        &mut self,
        state: &mut BackendState,
        fresh: BackendState,
    ) -> Result<(), JournalError> {
        *state = fresh;
        self.applied = 0;
        self.catch_up(state).await.map(|_| ())
    }
}
