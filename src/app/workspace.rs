//! A workspace: what one running app (or one CLI invocation) works on —
//! the store it opened, the engine graph of its inventory, the approvals
//! inbox and the drill it runs — and who is at the keyboard. Every action
//! in `app` is a method of it, so the desktop shell and the CLI call the
//! same code.

use std::sync::Arc;

use crate::Store;
use crate::graph::cache::GraphCache;
use crate::secrets::SecretStore;
use crate::signing::Keys;
use crate::store::ChangeContext;
use crate::store::config::{self, Source};

use super::AppError;
use super::approvals::Approvals;
use super::drills::Drills;

pub struct Workspace {
    /// A store that failed to open is kept as its message, so a window can
    /// still open and say what to do instead of the process dying first.
    store: Result<Store, String>,
    /// What is open (a path, or a PostgreSQL URL without its password).
    location: String,
    /// Where the database's name came from (argument, settings, default).
    source: Option<Source>,
    /// The blast-radius engine's graph, rebuilt when the inventory changes.
    pub graphs: GraphCache,
    pub approvals: Approvals,
    pub drills: Drills,
    secrets: Arc<dyn SecretStore>,
    /// Who acts when nobody is signed in (the local single-user mode).
    ctx: ChangeContext,
    /// The person signed in with the organisation's identity provider and
    /// their session (`app::identity`); they act instead of `ctx`.
    pub(super) person: std::sync::RwLock<Option<(crate::oidc::Person, crate::oidc::Session)>>,
    /// Why the kept session could not be taken up at start, if it could not.
    pub(super) session_problem: std::sync::RwLock<Option<String>>,
}

/// How to open a workspace.
pub struct Options {
    /// `--db PATH|URL` or `COUNTERSIGN_DB`; else the database chosen in the
    /// settings file (team mode), else the local default — the order the
    /// CLI and the app share.
    pub database: Option<String>,
    /// `--backend URL` or `COUNTERSIGN_BACKEND`, over the stored setting.
    pub backend: Option<String>,
    /// Who acts, and through what (`ChangeContext::local_user("app")`).
    pub ctx: ChangeContext,
}

impl Workspace {
    /// Opens the database `options` names, keeping a failure as the
    /// workspace's startup error rather than returning it.
    pub async fn open(options: Options, secrets: Arc<dyn SecretStore>) -> Self {
        let Options {
            database,
            backend,
            ctx,
        } = options;
        let shown_if_failed = match &database {
            Some(t) if crate::store::is_postgres_url(t) => crate::store::redact_url(t),
            Some(t) => t.clone(),
            None => config::read_config()
                .ok()
                .and_then(|c| c.database)
                .or_else(|| {
                    crate::store::default_db_path()
                        .ok()
                        .map(|p| p.display().to_string())
                })
                .unwrap_or_else(|| "(no data directory)".into()),
        };
        let (store, location, source) =
            match config::open_configured(database, Arc::clone(&secrets)).await {
                Ok((store, source)) => {
                    let shown = store.location().to_owned();
                    (Ok(store), shown, Some(source))
                }
                Err(e) => (Err(e.to_string()), shown_if_failed, None),
            };
        Self::with_store(store, location, source, backend, secrets, ctx)
    }

    /// A workspace on a store already open (the CLI's, or a test's).
    pub fn on(
        store: Store,
        backend: Option<String>,
        secrets: Arc<dyn SecretStore>,
        ctx: ChangeContext,
    ) -> Self {
        let location = store.location().to_owned();
        Self::with_store(Ok(store), location, None, backend, secrets, ctx)
    }

    fn with_store(
        store: Result<Store, String>,
        location: String,
        source: Option<Source>,
        backend: Option<String>,
        secrets: Arc<dyn SecretStore>,
        ctx: ChangeContext,
    ) -> Self {
        Workspace {
            store,
            location,
            source,
            graphs: GraphCache::new(),
            approvals: Approvals::new(backend, Arc::clone(&secrets)),
            drills: Drills::default(),
            secrets,
            ctx,
            person: std::sync::RwLock::new(None),
            session_problem: std::sync::RwLock::new(None),
        }
    }

    /// Closes the store (for SQLite: checkpoints its WAL), so a CLI run
    /// leaves no open handle behind it.
    pub async fn close(self) {
        if let Ok(store) = self.store {
            store.close().await;
        }
    }

    /// The store, or why it could not be opened.
    pub fn store(&self) -> Result<&Store, AppError> {
        self.store
            .as_ref()
            .map_err(|message| AppError::StoreUnavailable(message.clone()))
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn source(&self) -> Option<Source> {
        self.source
    }

    pub fn startup_error(&self) -> Option<&str> {
        self.store.as_ref().err().map(String::as_str)
    }

    /// Who acts here: the author of every audit row and signature — the
    /// signed-in person (their `sub`, their ID token's groups), else the
    /// local single-user mode's actor.
    ///
    /// In team mode, connected as a team member's database role
    /// ([`Store::team_role`]), the role is who acts: the database refuses
    /// audit rows by anyone else. The signed-in person's groups then come
    /// along only when their `sub` is that role.
    pub fn ctx(&self) -> ChangeContext {
        let signed_in = self.signed_in();
        let role = self.store.as_ref().ok().and_then(|s| s.team_role());
        match (role, signed_in) {
            (Some(role), Some((person, _))) if person.sub == role => self.ctx_as(&person),
            (Some(role), _) => ChangeContext::new(role, self.ctx.source.clone()),
            (None, Some((person, _))) => self.ctx_as(&person),
            (None, None) => self.ctx.clone(),
        }
    }

    /// Who acts when nobody is signed in.
    pub fn local_ctx(&self) -> &ChangeContext {
        &self.ctx
    }

    /// `person` acting through this workspace's source (`app`, `cli`).
    pub(super) fn ctx_as(&self, person: &crate::oidc::Person) -> ChangeContext {
        ChangeContext::signed_in(
            person.sub.clone(),
            person.groups.clone(),
            self.ctx.source.clone(),
        )
    }

    pub fn secrets(&self) -> Arc<dyn SecretStore> {
        Arc::clone(&self.secrets)
    }

    /// The owner's signing keys (private halves in `secrets`).
    pub fn keys<'a>(&self, store: &'a Store) -> Keys<'a> {
        Keys::new(store, self.secrets())
    }
}
