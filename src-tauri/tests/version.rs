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
