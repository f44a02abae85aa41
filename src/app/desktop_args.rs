//! The desktop app's command line: its options, the `--help` it prints and
//! the man page the packages install (`man countersign-desktop`), all from
//! one clap [`Command`], so the page and the help cannot drift from what the
//! app reads.
//!
//! The app does not hand its arguments to clap's parser: WebKitWebDriver
//! starts it with arguments of its own (`--automation`) when the end-to-end
//! tests drive it, and a strict parser would refuse to open the window.
//! [`parse`] reads only the options [`command`] declares and leaves the
//! rest, and a test checks the two agree.

use clap::{Arg, ArgAction, Command};

use crate::store::DB_ENV_VAR;

/// The environment variable naming the approval backend, when `--backend`
/// is not given.
pub const BACKEND_ENV_VAR: &str = "COUNTERSIGN_BACKEND";

/// The desktop app's command line as clap describes it: `--db`, `--backend`,
/// `--help` and `--version`, with the environment variables they fall back
/// to. Environment values are never rendered (`hide_env_values`), so a man
/// page built on a machine with `COUNTERSIGN_DB` set does not carry its path.
pub fn command() -> Command {
    Command::new("countersign-desktop")
        .version(crate::VERSION)
        .about("Countersign's desktop app: ownership, blast radius and second approval for non-human identities")
        .long_about(
            "Countersign's desktop app: ownership, blast radius and second approval for \
             non-human identities (service accounts, API keys, tokens, workload identities, \
             AI agents, certificates, break-glass accounts).\n\n\
             It opens the same inventory as the countersign command line: who owns and uses \
             each identity, what containing it would break, and the approval requests an \
             orchestration backend sends to its owner. Decisions are signed with an Ed25519 \
             key kept in the desktop's Secret Service keyring (GNOME Keyring, KWallet or \
             KeePassXC).",
        )
        .after_help("The command line is countersign (man countersign).")
        .disable_version_flag(true)
        .arg(
            Arg::new("db")
                .long("db")
                .value_name("PATH|URL")
                .env(DB_ENV_VAR)
                .hide_env_values(true)
                .help(
                    "The inventory: a SQLite file, or a postgres:// URL in team mode \
                     [default: the database chosen in the app's settings, else \
                     countersign.db in the platform's data directory, as the CLI]",
                ),
        )
        .arg(
            Arg::new("backend")
                .long("backend")
                .value_name("URL")
                .env(BACKEND_ENV_VAR)
                .hide_env_values(true)
                .help("The approval backend whose requests the inbox shows"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Print the version and the commit it was built from"),
        )
}

/// What the app was started to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Print this text on stdout and exit, without a window or a display:
    /// `--version`/`-V` or `--help`/`-h` as the first argument, the two
    /// options every program answers (GNU coding standards, 4.8).
    Answer(String),
    /// Open the window with these options.
    Run(DesktopArgs),
}

/// The options the window opens with, from the command line only; the
/// environment and settings fallbacks are the caller's, so tests need not
/// touch the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesktopArgs {
    /// `--db PATH|URL`.
    pub db: Option<String>,
    /// `--backend URL`.
    pub backend: Option<String>,
}

/// Reads the app's arguments (without the program name). `--db` and
/// `--backend` are read in both spellings (`--db x`, `--db=x`), the last one
/// winning as in clap; any other argument is left to whoever passed it.
pub fn parse(args: impl IntoIterator<Item = String>) -> Invocation {
    let args: Vec<String> = args.into_iter().collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            return Invocation::Answer(format!("countersign-desktop {}\n", crate::VERSION));
        }
        // As clap answers them: `--help` in full, `-h` the summary.
        Some("--help") => return Invocation::Answer(help(command().render_long_help())),
        Some("-h") => return Invocation::Answer(help(command().render_help())),
        _ => {}
    }
    Invocation::Run(DesktopArgs {
        db: flag(&args, "--db"),
        backend: flag(&args, "--backend"),
    })
}

/// Help text as printed, ending with its newline.
fn help(text: clap::builder::StyledStr) -> String {
    let mut text = text.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The last value of `--flag VALUE` or `--flag=VALUE`.
fn flag(args: &[String], name: &str) -> Option<String> {
    let mut found = None;
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        if arg == name {
            found = words.next().cloned().or(found);
        } else if let Some(value) = arg.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            found = Some(value.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_in_both_spellings_and_others_left_alone() {
        let run = |v: &[&str]| match parse(args(v)) {
            Invocation::Run(a) => a,
            other => panic!("{other:?}"),
        };
        assert_eq!(run(&["--db", "a.db"]).db.as_deref(), Some("a.db"));
        assert_eq!(run(&["--db=b.db"]).db.as_deref(), Some("b.db"));
        assert_eq!(
            run(&["--automation", "--backend", "http://127.0.0.1:1"]),
            DesktopArgs {
                db: None,
                backend: Some("http://127.0.0.1:1".into())
            }
        );
        assert_eq!(
            run(&["--db", "a.db", "--db=c.db"]).db.as_deref(),
            Some("c.db")
        );
        assert_eq!(run(&[]), DesktopArgs::default());
    }

    #[test]
    fn version_and_help_are_answered_only_as_the_first_argument() {
        let version = format!("countersign-desktop {}\n", crate::VERSION);
        assert_eq!(
            parse(args(&["--version"])),
            Invocation::Answer(version.clone())
        );
        assert_eq!(parse(args(&["-V"])), Invocation::Answer(version));
        let Invocation::Answer(help) = parse(args(&["--help"])) else {
            panic!("--help opens the app")
        };
        for word in [
            "--db <PATH|URL>",
            "--backend <URL>",
            "COUNTERSIGN_DB",
            BACKEND_ENV_VAR,
            "-V, --version",
        ] {
            assert!(help.contains(word), "{word} not in:\n{help}");
        }
        assert!(help.ends_with("(man countersign).\n"), "{help}");
        let Invocation::Answer(short) = parse(args(&["-h"])) else {
            panic!("-h opens the app")
        };
        assert!(
            short.contains("--backend <URL>") && short.len() < help.len(),
            "{short}"
        );
        assert!(matches!(
            parse(args(&["--db", "x", "--help"])),
            Invocation::Run(_)
        ));
    }

    /// Every option the help and the man page describe is one [`parse`]
    /// reads, and the other way round.
    #[test]
    fn the_command_declares_exactly_what_parse_reads() {
        let cmd = command();
        let mut longs: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        longs.sort_unstable();
        assert_eq!(longs, ["backend", "db", "version"]);
        for long in ["db", "backend"] {
            let flag = format!("--{long}");
            let Invocation::Run(read) = parse(args(&[&flag, "v"])) else {
                panic!("{flag} opens no window")
            };
            assert!(
                read.db.is_some() || read.backend.is_some(),
                "{flag} not read"
            );
        }
        cmd.debug_assert();
    }

    #[test]
    fn environment_values_stay_out_of_the_help() {
        let help = command().render_long_help().to_string();
        assert!(help.contains("[env: COUNTERSIGN_DB]"), "{help}");
    }
}
