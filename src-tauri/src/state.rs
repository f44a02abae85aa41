use std::path::PathBuf;
use std::sync::Mutex;

use countersign::graph::cache::GraphCache;
use countersign::import::Format;

use countersign::Store;
use countersign::store::{DB_ENV_VAR, default_db_path};

use crate::CommandError;
use crate::inbox::InboxState;

/// What the commands share. A store that failed to open is kept as its
/// message, so the window can still open and tell the user what to do
/// instead of the process dying before anything is shown.
pub struct AppState {
    store: Result<Store, String>,
    db_path: String,
    /// Where the database's name came from (argument, settings, default).
    db_source: Option<countersign::store::config::Source>,
    /// The file or folder the user picked for an import, kept here so the
    /// webview never hands the core a path of its own choosing.
    pending_import: Mutex<Option<(PathBuf, Format)>>,
    /// The blast-radius engine's graph, rebuilt when the inventory changes.
    pub graphs: GraphCache,
    pub inbox: InboxState,
    pub drills: crate::drills::Drills,
    /// The webview's subscriptions to changes.
    pub watchers: crate::watch::Watchers,
}

impl AppState {
    /// Opens the database named by `--db PATH` on the command line, else
    /// `COUNTERSIGN_DB`, else the platform default (shared with the CLI).
    pub async fn open_from_env() -> Self {
        let explicit = db_from_args(std::env::args().skip(1))
            .or_else(|| std::env::var(DB_ENV_VAR).ok().filter(|v| !v.is_empty()));
        // --db / COUNTERSIGN_DB, else the database chosen in settings (team
        // mode), else the local default: the same order as the CLI.
        let shown_if_failed = match &explicit {
            Some(t) if countersign::store::is_postgres_url(t) => countersign::store::redact_url(t),
            Some(t) => t.clone(),
            None => countersign::store::config::read_config()
                .ok()
                .and_then(|c| c.database)
                .or_else(|| default_db_path().ok().map(|p| p.display().to_string()))
                .unwrap_or_else(|| "(no data directory)".into()),
        };
        let opened = countersign::store::config::open_configured(
            explicit,
            std::sync::Arc::new(countersign::signing::OsKeyring),
        )
        .await;
        let (store, db_path, source) = match opened {
            Ok((store, source)) => {
                let shown = store.location().to_owned();
                (Ok(store), shown, Some(source))
            }
            Err(e) => (Err(e.to_string()), shown_if_failed, None),
        };
        if let Err(message) = &store {
            eprintln!("error: {message}");
        }
        AppState {
            store,
            db_path,
            db_source: source,
            pending_import: Mutex::new(None),
            graphs: GraphCache::new(),
            inbox: InboxState::new(
                flag_from_args(std::env::args().skip(1), "--backend").or_else(|| {
                    std::env::var("COUNTERSIGN_BACKEND")
                        .ok()
                        .filter(|v| !v.is_empty())
                }),
            ),
            drills: Default::default(),
            watchers: Default::default(),
        }
    }

    pub fn store(&self) -> Result<&Store, CommandError> {
        self.store
            .as_ref()
            .map_err(|message| CommandError::StoreUnavailable(message.clone()))
    }

    pub fn db_path(&self) -> &str {
        &self.db_path
    }

    pub fn db_source(&self) -> Option<countersign::store::config::Source> {
        self.db_source
    }

    pub fn set_pending_import(&self, path: PathBuf, format: Format) {
        *self.pending_import.lock().expect("import lock") = Some((path, format));
    }

    pub fn pending_import(&self) -> Option<(PathBuf, Format)> {
        self.pending_import.lock().expect("import lock").clone()
    }

    pub fn clear_pending_import(&self) {
        *self.pending_import.lock().expect("import lock") = None;
    }

    pub fn startup_error(&self) -> Option<&str> {
        self.store.as_ref().err().map(String::as_str)
    }
}

fn db_from_args(args: impl Iterator<Item = String>) -> Option<String> {
    flag_from_args(args, "--db")
}

/// `--flag VALUE` or `--flag=VALUE`.
fn flag_from_args(mut args: impl Iterator<Item = String>, flag: &str) -> Option<String> {
    while let Some(arg) = args.next() {
        if arg == flag {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
            return Some(value.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::db_from_args;

    fn args(v: &[&str]) -> impl Iterator<Item = String> {
        v.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn db_flag_in_both_spellings() {
        assert_eq!(db_from_args(args(&["--db", "a.db"])), Some("a.db".into()));
        assert_eq!(db_from_args(args(&["--db=b.db"])), Some("b.db".into()));
        assert_eq!(db_from_args(args(&["--other"])), None);
    }
}
