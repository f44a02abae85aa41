use std::path::PathBuf;
use std::sync::Mutex;

use countersign::app::desktop_args::{BACKEND_ENV_VAR, DesktopArgs};
use countersign::app::{Options, Workspace};
use countersign::import::Format;
use countersign::store::{ChangeContext, DB_ENV_VAR};

/// What the commands share: the core's workspace (store, graph cache,
/// inbox, drill), and what only a window has.
pub struct AppState {
    workspace: Workspace,
    /// The file or folder the user picked for an import, kept here so the
    /// webview never hands the core a path of its own choosing.
    pending_import: Mutex<Option<(PathBuf, Format)>>,
    /// The webview's subscriptions to changes.
    pub watchers: crate::watch::Watchers,
}

/// The commands call the workspace's actions directly.
impl std::ops::Deref for AppState {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.workspace
    }
}

impl AppState {
    /// Opens the database named by `--db PATH` on the command line, else
    /// `COUNTERSIGN_DB`, else the one chosen in settings, else the local
    /// default (the CLI's order), as the OS user at the keyboard.
    pub async fn open_from_env(args: DesktopArgs) -> Self {
        let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let options = Options {
            database: args.db.or_else(|| env(DB_ENV_VAR)),
            backend: args.backend.or_else(|| env(BACKEND_ENV_VAR)),
            ctx: ChangeContext::local_user("app"),
        };
        let workspace = Workspace::open(
            options,
            std::sync::Arc::new(countersign::signing::OsKeyring),
        )
        .await;
        if let Some(message) = workspace.startup_error() {
            eprintln!("error: {message}");
        } else {
            // Signed in before: act as that person from the first click
            // (decisions, enrollment), not as the OS user.
            workspace
                .restore_session_within(std::time::Duration::from_secs(10))
                .await;
        }
        AppState {
            workspace,
            pending_import: Mutex::new(None),
            watchers: Default::default(),
        }
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
}
