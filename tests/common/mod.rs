//! Helpers shared by the integration tests. Each test file compiles its
//! own copy and uses only some of them.
#![allow(dead_code)]

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

/// `countersign backend serve` as its own process on a free loopback port;
/// killed when dropped.
pub struct ServedBackend {
    child: std::process::Child,
    pub url: String,
}

impl ServedBackend {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> ServedBackend {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
            .env_remove("COUNTERSIGN_BACKEND_TOKEN")
            .envs(env.iter().copied())
            .args(["backend", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The first line is "listening on http://ADDR (audience …)".
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .nth(2)
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        ServedBackend { child, url }
    }
}

impl Drop for ServedBackend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
