//! Helpers shared by the integration tests.

use assert_cmd::Command;
use std::path::Path;

/// The `countersign` binary on `db`, as the user "tester", ignoring any
/// database named in the environment.
pub fn countersign(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("countersign").unwrap();
    cmd.env_remove("COUNTERSIGN_DB")
        .env("COUNTERSIGN_ACTOR", "tester")
        .arg("--db")
        .arg(db);
    cmd
}
