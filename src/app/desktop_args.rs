//! The desktop app's command line: its options, the `--help` it prints and
//! the man page the packages install (`man countersign-desktop`), all from
//! one clap [`Command`], so the page and the help cannot drift from what the
//! app reads.
//!
//! The app does not hand its arguments to clap's parser: WebKitWebDriver
//! starts it with arguments of its own when the end-to-end tests drive it,
//! and a strict parser would refuse to open the window. [`parse`] reads the
//! options [`command`] declares as clap would (a missing value is refused,
//! `--help` answers wherever it is) and names the arguments it leaves, and
//! a test checks the two agree.

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
                     [default: the database `countersign db use` chose, else \
                     countersign.db in the platform's data directory, as the CLI does]",
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
    /// Print this text on stdout and exit 0, without a window or a display:
    /// `--version`/`-V` or `--help`/`-h` anywhere before `--`, the two
    /// options every program answers whatever else it is given (GNU coding
    /// standards, 4.8).
    Answer(String),
    /// Print this on stderr and exit 2, clap's code for a usage error,
    /// before anything is opened: an option without its value.
    Refuse(String),
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
    /// Arguments that are not the app's, in order: the caller says on
    /// stderr that they were ignored (a mistyped `--hlep` is not silent).
    pub ignored: Vec<String>,
}

/// Reads the app's arguments (without the program name). `--db` and
/// `--backend` are read in both spellings (`--db x`, `--db=x`), the last one
/// winning as in clap. A value is required, and the next argument is not
/// taken as one when it starts with `-` (`--db --help` is refused, not a
/// database named `--help`); `--db=-x.db` names such a file. Everything
/// after `--`, and any other argument, is left in [`DesktopArgs::ignored`].
pub fn parse(args: impl IntoIterator<Item = String>) -> Invocation {
    let mut run = DesktopArgs::default();
    let mut words = args.into_iter();
    while let Some(arg) = words.next() {
        match arg.as_str() {
            "--version" | "-V" => {
                return Invocation::Answer(format!("countersign-desktop {}\n", crate::VERSION));
            }
            // As clap answers them: `--help` in full, `-h` the summary.
            "--help" => return Invocation::Answer(help(command().render_long_help())),
            "-h" => return Invocation::Answer(help(command().render_help())),
            "--" => {
                run.ignored.extend(words);
                break;
            }
            _ => {}
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let slot = match name {
            "--db" => &mut run.db,
            "--backend" => &mut run.backend,
            _ => {
                run.ignored.push(arg);
                continue;
            }
        };
        let value = match inline {
            Some(value) => value,
            None => match words.next() {
                Some(value) if !value.starts_with('-') => value,
                _ => {
                    return Invocation::Refuse(format!(
                        "error: {name} needs a value ({name} VALUE, or {name}=VALUE for one \
                         that starts with '-'); countersign-desktop --help lists the options\n"
                    ));
                }
            },
        };
        if value.is_empty() {
            return Invocation::Refuse(format!("error: {name} needs a value, not an empty one\n"));
        }
        *slot = Some(value);
    }
    Invocation::Run(run)
}

/// Help text as printed, ending with its newline.
fn help(text: clap::builder::StyledStr) -> String {
    let mut text = text.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn run(v: &[&str]) -> DesktopArgs {
        match parse(args(v)) {
            Invocation::Run(a) => a,
            other => panic!("{v:?}: {other:?}"),
        }
    }

    #[test]
    fn options_in_both_spellings_and_others_named() {
        assert_eq!(run(&["--db", "a.db"]).db.as_deref(), Some("a.db"));
        assert_eq!(run(&["--db=b.db"]).db.as_deref(), Some("b.db"));
        assert_eq!(run(&["--db=-dash.db"]).db.as_deref(), Some("-dash.db"));
        assert_eq!(
            run(&["--automation", "--backend", "http://127.0.0.1:1", "--hlep"]),
            DesktopArgs {
                db: None,
                backend: Some("http://127.0.0.1:1".into()),
                ignored: vec!["--automation".into(), "--hlep".into()],
            }
        );
        assert_eq!(
            run(&["--db", "a.db", "--db=c.db"]).db.as_deref(),
            Some("c.db")
        );
        assert_eq!(
            run(&["--", "--db", "x"]),
            DesktopArgs {
                ignored: args(&["--db", "x"]),
                ..DesktopArgs::default()
            }
        );
        assert_eq!(run(&[]), DesktopArgs::default());
    }

    /// `--db --help` would otherwise open (and create) a database file named
    /// `--help`, and a bare `--db` the default database.
    #[test]
    fn an_option_without_its_value_is_refused() {
        for v in [
            &["--db"][..],
            &["--db", "--help"],
            &["--backend", "-V"],
            &["--db="],
            &["--backend", "x", "--db"],
        ] {
            let Invocation::Refuse(message) = parse(args(v)) else {
                panic!("{v:?} accepted")
            };
            assert!(message.contains("needs a value"), "{message}");
        }
    }

    #[test]
    fn version_and_help_are_answered_wherever_they_are() {
        let version = format!("countersign-desktop {}\n", crate::VERSION);
        assert_eq!(
            parse(args(&["--version"])),
            Invocation::Answer(version.clone())
        );
        assert_eq!(
            parse(args(&["--db", "x", "-V"])),
            Invocation::Answer(version)
        );
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
        assert_eq!(
            parse(args(&["--db", "x", "--help"])),
            Invocation::Answer(help.clone())
        );
        let Invocation::Answer(short) = parse(args(&["-h"])) else {
            panic!("-h opens the app")
        };
        assert!(
            short.contains("--backend <URL>") && short.len() < help.len(),
            "{short}"
        );
        // After `--` nothing is an option.
        assert!(matches!(parse(args(&["--", "--help"])), Invocation::Run(_)));
    }

    /// Every option the help and the man page describe is one [`parse`]
    /// reads into its own field, and [`parse`] reads no other.
    #[test]
    fn the_command_declares_exactly_what_parse_reads() {
        let mut cmd = command();
        cmd.build();
        cmd.clone().debug_assert();
        let mut flags: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .chain(
                cmd.get_arguments()
                    .filter_map(|a| a.get_short())
                    .map(|s| format!("-{s}")),
            )
            .collect();
        flags.sort_unstable();
        assert_eq!(
            flags,
            ["--backend", "--db", "--help", "--version", "-V", "-h"]
        );
        for flag in &flags {
            match parse(args(&[flag, "v"])) {
                Invocation::Answer(_) => {
                    assert!(!["--db", "--backend"].contains(&flag.as_str()), "{flag}")
                }
                Invocation::Run(read) => assert_eq!(
                    read,
                    DesktopArgs {
                        db: (flag == "--db").then(|| "v".into()),
                        backend: (flag == "--backend").then(|| "v".into()),
                        ignored: vec![],
                    },
                    "{flag}"
                ),
                Invocation::Refuse(message) => panic!("{flag}: {message}"),
            }
        }
    }

    /// `--help` prints where each option falls back to, not the value it
    /// found there: `COUNTERSIGN_DB` may be a postgres:// URL with a
    /// password in it.
    #[test]
    fn environment_values_stay_out_of_the_help() {
        let help = command().render_long_help().to_string();
        for name in ["COUNTERSIGN_DB", BACKEND_ENV_VAR] {
            assert!(help.contains(&format!("[env: {name}]")), "{help}");
        }
        assert!(
            command()
                .get_arguments()
                .filter(|a| a.get_env().is_some())
                .all(|a| a.is_hide_env_values_set()),
            "an option shows its environment value"
        );
    }
}
