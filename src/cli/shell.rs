//! Shell completions and man pages, generated from the same clap `Command`
//! the parser is built from, so what they offer is exactly what the parser
//! accepts. The packages install them (scripts/package): bash's to
//! `/usr/share/bash-completion/completions/countersign`, zsh's to
//! `/usr/share/zsh/vendor-completions/_countersign`, fish's to
//! `/usr/share/fish/vendor_completions.d/countersign.fish`, and one man page
//! per command to `/usr/share/man/man1/` (`man countersign`,
//! `man countersign-import`), as ripgrep and rustup ship theirs, with the
//! desktop app's own page (`man countersign-desktop`) from the command line
//! it reads (`desktop_command.rs`).

use anyhow::{Context, Result};
use clap::{Command, CommandFactory};
use std::io::Write;
use std::path::Path;

use super::Cli;

/// The shells `countersign completions` writes a script for: clap_complete's
/// own list (bash, zsh, fish, elvish, powershell).
pub use clap_complete::Shell;

/// The parser's command as the generators see it: named `countersign`
/// whatever the binary was invoked as, so the scripts complete the
/// installed command.
fn command() -> Command {
    let mut cmd = Cli::command();
    cmd.set_bin_name("countersign");
    cmd.build();
    cmd
}

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<()> {
    let mut cmd = command();
    // Into memory first: clap_complete panics on a failed write (a full
    // disk, a closed pipe); written here, the failure is an error.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "countersign", &mut script);
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("cannot write the completion script")
}

/// Writes `countersign.1` to `out` when `dir` is `None`; otherwise writes
/// one page per command and subcommand into `dir` (`countersign.1`,
/// `countersign-import.1`, `countersign-campaign-start.1`, …) and the
/// desktop app's `countersign-desktop.1`, creating it, and returns how many
/// pages it wrote. Hidden commands get no page.
pub fn man(dir: Option<&Path>, out: &mut dyn Write) -> Result<usize> {
    // `countersign help …` is `--help` again; a page each would double
    // the pages for nothing.
    let mut cmd = without_help_subcommands(Cli::command());
    cmd.set_bin_name("countersign");
    cmd.build();
    let Some(dir) = dir else {
        man_page(cmd)
            .render(out)
            .context("cannot write the man page")?;
        out.flush().context("cannot write the man page")?;
        return Ok(1);
    };
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("--dir {}: not a directory", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--dir {}: cannot create it", dir.display()))?;
    let mut written = 0;
    write_pages(&cmd, "countersign", dir, &mut written)?;
    write_pages(
        &super::desktop_command::command(),
        "countersign-desktop",
        dir,
        &mut written,
    )?;
    Ok(written)
}

/// A page whose footer reads as man pages' do: the date of the commit the
/// binary was built from ("debug build" in one, which records no commit;
/// an empty date would shift the source into its place) and
/// "Countersign 0.1.0".
/// clap_mangen's default puts the whole `--version` text, commit included,
/// where the footer's source goes, and it runs into the page's title.
fn man_page(cmd: Command) -> clap_mangen::Man {
    let date = countersign::VERSION
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .filter(|d| d.len() == 10 && d.as_bytes()[4] == b'-')
        .unwrap_or("debug build");
    clap_mangen::Man::new(cmd)
        .date(date)
        .source(format!("Countersign {}", env!("CARGO_PKG_VERSION")))
}

fn without_help_subcommands(cmd: Command) -> Command {
    cmd.disable_help_subcommand(true)
        .mut_subcommands(without_help_subcommands)
}

/// One page for `cmd`, named `name` (its path joined by `-`, as git and
/// cargo name theirs), then its visible subcommands' pages.
fn write_pages(cmd: &Command, name: &str, dir: &Path, written: &mut usize) -> Result<()> {
    // Every page names the version in its footer, not only the first.
    let page = cmd
        .clone()
        .name(name.to_owned())
        .version(countersign::VERSION);
    let path = dir.join(format!("{name}.1"));
    let mut text = Vec::new();
    man_page(page)
        .render(&mut text)
        .with_context(|| format!("cannot render {}", path.display()))?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    *written += 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn completion_scripts_offer_the_parsers_commands() {
        let bash = text(|o| completions(Shell::Bash, o).unwrap());
        assert!(bash.contains("complete -F _countersign"), "{bash}");
        let top = bash
            .lines()
            .find(|l| l.trim_start().starts_with("opts=\"-h -V --db"))
            .expect("the top-level words");
        for word in [
            " campaign ",
            " import ",
            " decide ",
            " completions ",
            " --actor ",
        ] {
            assert!(top.contains(word), "bash completion lacks {word}: {top}");
        }
        let zsh = text(|o| completions(Shell::Zsh, o).unwrap());
        assert!(zsh.starts_with("#compdef countersign"), "{zsh}");
        let fish = text(|o| completions(Shell::Fish, o).unwrap());
        assert!(fish.contains("complete -c countersign"), "{fish}");
        assert!(fish.contains("-a \"campaign\""), "{fish}");
    }

    /// `--help` names the environment variable an option falls back to,
    /// never the value found there: `COUNTERSIGN_DB` and
    /// `COUNTERSIGN_BROKER_STATE` may be postgres:// URLs with a password.
    #[test]
    fn no_option_prints_its_environment_value() {
        fn walk(cmd: &Command, path: &str, shown: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_env().is_some() && !arg.is_hide_env_values_set() {
                    shown.push(format!("{path} --{}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), shown);
            }
        }
        let mut shown = Vec::new();
        walk(&command(), "countersign", &mut shown);
        assert!(shown.is_empty(), "environment values in --help: {shown:?}");
    }

    #[test]
    fn man_pages_cover_every_visible_command() {
        let page = text(|o| {
            man(None, o).unwrap();
        });
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "roff: {page}");
        assert!(page.contains(".TH countersign 1"), "{page}");
        // .TH title section date source: the date in its own slot.
        let th = page.lines().find(|l| l.starts_with(".TH ")).unwrap();
        let source = format!("\"Countersign {}\"", env!("CARGO_PKG_VERSION"));
        assert!(
            th.ends_with(&format!(" {source}")) || th.contains(&format!(" {source} ")),
            "{th}"
        );
        assert!(!th.contains(&format!("1  {source}")), "no date: {th}");
        assert!(page.contains("Ownership, blast radius and second approval"));
        let dir = tempfile::tempdir().unwrap();
        let n = man(Some(dir.path()), &mut std::io::sink()).unwrap();
        for name in [
            "countersign.1",
            "countersign-import.1",
            "countersign-campaign-start.1",
            "countersign-keys.1",
        ] {
            let page = std::fs::read_to_string(dir.path().join(name)).unwrap();
            let title = name.trim_end_matches(".1");
            assert!(page.contains(&format!(".TH {title} 1")), "{name}: {page}");
        }
        let desktop = std::fs::read_to_string(dir.path().join("countersign-desktop.1")).unwrap();
        for word in [
            ".TH countersign-desktop 1",
            "COUNTERSIGN_BACKEND",
            "\\-\\-db",
        ] {
            assert!(desktop.contains(word), "{word} not in: {desktop}");
        }
        let sub = std::fs::read_to_string(dir.path().join("countersign-import.1")).unwrap();
        assert!(sub.contains(env!("CARGO_PKG_VERSION")), "{sub}");
        assert!(!dir.path().join("countersign-generate.1").exists());
        assert!(!dir.path().join("countersign-help.1").exists());
        assert!(!dir.path().join("countersign-campaign-help.1").exists());
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, n);
        assert!(n > 40, "{n} pages");
        let file = dir.path().join("countersign.1");
        let refused = man(Some(&file), &mut std::io::sink()).unwrap_err();
        assert!(refused.to_string().contains("not a directory"), "{refused}");
    }
}
