//! The built desktop binary answers `--version` and `--help` on standard
//! output and exits, without a display: a terminal user asking what is
//! installed gets an answer, not a window.

use std::process::Command;

fn desktop(arg: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_countersign-desktop"))
        .arg(arg)
        // No display at all: a window would fail to open, so an answer
        // proves none was tried.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{arg}: {out:?}");
    assert!(out.stderr.is_empty(), "{arg}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_and_help_are_printed_without_a_display() {
    assert_eq!(
        desktop("--version"),
        format!("countersign-desktop {}\n", countersign::VERSION)
    );
    let help = desktop("--help");
    assert!(help.starts_with("Countersign's desktop app"), "{help}");
    assert!(help.contains("--backend <URL>"), "{help}");
}

/// An option without its value stops the app before it opens anything: a
/// database named `--help` is not created, the default one not opened.
#[test]
fn an_option_without_its_value_is_refused_before_anything_opens() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_countersign-desktop"))
        .args(["--db", "--help"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--db needs a value"), "{stderr}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files created: {left:?}");
}
