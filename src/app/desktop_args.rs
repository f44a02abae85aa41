//! The desktop app's command line as the app reads it: `--db`, `--backend`,
//! `--help` and `--version`. Its description for `--help` and the man page
//! is a clap `Command` in `src/cli/desktop_command.rs`, since clap stays in
//! the CLI (tests/layers.rs); the desktop shell includes that file, and a
//! test there checks that it declares exactly what [`parse`] reads.
//!
//! The app does not hand its arguments to clap's parser: WebKitWebDriver
//! starts it with arguments of its own when the end-to-end tests drive it,
//! and a strict parser would refuse to open the window. [`parse`] reads the
//! options as clap would (a missing value is refused, `--help` answers
//! wherever it is) and names the arguments it leaves.

/// The environment variable naming the approval backend, when `--backend`
/// is not given.
pub const BACKEND_ENV_VAR: &str = "COUNTERSIGN_BACKEND";

/// What the app was started to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Print the version (`--version`/`-V`) on stdout and exit 0, without a
    /// window or a display; anywhere before `--`, as every program answers
    /// it whatever else it is given (GNU coding standards, 4.8).
    Version,
    /// Print the help, in full for `--help`, the summary for `-h`, likewise.
    Help {
        /// `--help` rather than `-h`.
        long: bool,
    },
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
            "--version" | "-V" => return Invocation::Version,
            "--help" => return Invocation::Help { long: true },
            "-h" => return Invocation::Help { long: false },
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
    fn version_and_help_are_answered_wherever_they_are() {
        assert_eq!(parse(args(&["--db", "x", "-V"])), Invocation::Version);
        assert_eq!(parse(args(&["--version"])), Invocation::Version);
        assert_eq!(
            parse(args(&["--backend", "u", "--help"])),
            Invocation::Help { long: true }
        );
        assert_eq!(parse(args(&["-h"])), Invocation::Help { long: false });
        // After `--` nothing is an option.
        assert!(matches!(parse(args(&["--", "--help"])), Invocation::Run(_)));
    }

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
}
