use std::path::PathBuf;
use std::sync::Mutex;

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
    pub async fn open_from_env() -> Self {
        let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let options = Options {
            database: db_from_args(std::env::args().skip(1)).or_else(|| env(DB_ENV_VAR)),
            backend: flag_from_args(std::env::args().skip(1), "--backend")
                .or_else(|| env("COUNTERSIGN_BACKEND")),
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

/// What to print instead of opening a window, when the first argument asks
/// for it: `--version`/`-V` and `--help`/`-h`, the two options every program
/// answers (GNU coding standards, 4.8). Anything else starts the app; the
/// automation driver adds arguments of its own, so others are not refused.
pub fn answer_without_window(mut args: impl Iterator<Item = String>) -> Option<String> {
    match args.next().as_deref() {
        Some("--version" | "-V") => Some(format!("countersign-desktop {}\n", countersign::VERSION)),
        Some("--help" | "-h") => Some(USAGE.to_owned()),
        _ => None,
    }
}

const USAGE: &str = "\
Countersign's desktop app: ownership, blast radius and second approval for
non-human identities.

Usage: countersign-desktop [--db PATH|URL] [--backend URL]

Options:
      --db <PATH|URL>  The inventory: a SQLite file, or postgres://... in team
                       mode [env: COUNTERSIGN_DB; else the database chosen in
                       the app's settings; else
                       ~/.local/share/countersign/countersign.db, the CLI's]
      --backend <URL>  The approval backend whose requests the inbox shows
                       [env: COUNTERSIGN_BACKEND]
  -h, --help           Print this help
  -V, --version        Print the version and the commit it was built from

The command line is countersign (man countersign).
";

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
    use super::{answer_without_window, db_from_args};

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

    #[test]
    fn version_and_help_are_answered_without_a_window() {
        let version = answer_without_window(args(&["--version"])).unwrap();
        assert_eq!(
            version,
            format!("countersign-desktop {}\n", countersign::VERSION)
        );
        assert_eq!(answer_without_window(args(&["-V"])), Some(version));
        let help = answer_without_window(args(&["--help"])).unwrap();
        assert!(help.contains("--db <PATH|URL>"), "{help}");
        assert_eq!(answer_without_window(args(&["-h"])), Some(help));
        // Anything else, or nothing, opens the app.
        assert_eq!(answer_without_window(args(&[])), None);
        assert_eq!(answer_without_window(args(&["--db", "x.db"])), None);
        assert_eq!(answer_without_window(args(&["--automation"])), None);
    }
}
