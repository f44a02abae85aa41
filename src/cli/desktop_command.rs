//! The desktop app's command line as clap describes it, for its `--help`
//! and its man page (`man countersign-desktop`, written by `countersign man
//! --dir`). It lives with the CLI because clap stays in the CLI
//! (tests/layers.rs); the desktop shell includes this same file
//! (`src-tauri/src/help.rs`), so there is one definition. What the app
//! reads is `countersign::app::desktop_args::parse`, and the tests below
//! hold the two together.

use clap::{Arg, ArgAction, Command};
use countersign::app::desktop_args::BACKEND_ENV_VAR;
use countersign::store::DB_ENV_VAR;

/// The desktop app's command line as clap describes it: `--db`, `--backend`,
/// `--help` and `--version`, with the environment variables they fall back
/// to. Environment values are never rendered (`hide_env_values`), so a man
/// page built on a machine with `COUNTERSIGN_DB` set does not carry its path.
pub fn command() -> Command {
    Command::new("countersign-desktop")
        .version(countersign::VERSION)
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

/// The help the app prints: in full for `--help`, the summary for `-h`,
/// ending with its newline. Only the desktop shell prints it; the CLI
/// writes the man page.
#[allow(dead_code)]
pub fn help(long: bool) -> String {
    let mut cmd = command();
    let mut text = if long {
        cmd.render_long_help()
    } else {
        cmd.render_help()
    }
    .to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign::app::desktop_args::{DesktopArgs, Invocation, parse};

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_help_names_each_option_and_its_variable() {
        let full = help(true);
        for word in [
            "--db <PATH|URL>",
            "--backend <URL>",
            "COUNTERSIGN_DB",
            BACKEND_ENV_VAR,
            "-V, --version",
        ] {
            assert!(full.contains(word), "{word} not in:\n{full}");
        }
        assert!(full.ends_with("(man countersign).\n"), "{full}");
        let short = help(false);
        assert!(
            short.contains("--backend <URL>") && short.len() < full.len(),
            "{short}"
        );
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
                Invocation::Version | Invocation::Help { .. } => {
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
