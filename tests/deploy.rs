//! The deployment files in assets/deploy/ (issue 18) are what they say:
//! the systemd unit passes `systemd-analyze verify` and its sandboxing
//! review, and the broker starts, answers and stops the way the unit and
//! the Containerfile configure it — their environment and command line run
//! here against the built binary. (No container engine runs on the test
//! machines, so the image itself is not built here; what it copies and
//! builds is checked against the repository.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn deploy(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/deploy")
            .join(file),
    )
    .unwrap()
}

/// Runs `command` (the broker) with `env`, waits for its "listening on"
/// line and returns the process with its URL; or the output when it
/// refused to start.
fn start(
    command: &[String],
    env: &BTreeMap<String, String>,
) -> Result<(std::process::Child, String), String> {
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    match common::listening_url(&mut child) {
        Some(url) => Ok((child, url.replace("0.0.0.0", "127.0.0.1"))),
        None => {
            let out = child.wait_with_output().unwrap();
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

fn stop(mut child: std::process::Child, within: Duration) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "stopped by SIGTERM with {status:?}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not stopped within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ready(url: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let answer = reqwest::blocking::get(format!("{url}/readyz")).unwrap();
    assert_eq!(answer.status(), 200);
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_systemd_unit_verifies_and_runs_the_broker_as_configured() {
    let unit = deploy("countersign-broker.service");
    let binary = env!("CARGO_BIN_EXE_countersign");
    let dir = tempfile::tempdir().unwrap();
    // The unit as installed, with the built binary where it expects
    // /usr/local/bin/countersign.
    let installed = dir.path().join("countersign-broker.service");
    std::fs::write(
        &installed,
        unit.replace("/usr/local/bin/countersign", binary),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&installed)
        .output()
        .expect("systemd-analyze (Debian: apt-get install systemd)");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && said.trim().is_empty(), "{said}");
    // The sandboxing systemd itself rates: "OK" (≤ 2.0 of 10) or better.
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20", "--no-pager"])
        .arg(&installed)
        .output()
        .unwrap();
    assert!(
        security.status.success(),
        "{}",
        String::from_utf8_lossy(&security.stdout)
    );

    // Its Environment= lines and ExecStart, %S (the state root) here.
    let state_root = dir.path().join("state");
    let state_dir = state_root.join("countersign-broker");
    std::fs::create_dir_all(&state_dir).unwrap();
    let mut env = BTreeMap::new();
    let mut exec = None;
    for line in unit.lines() {
        if let Some(assignment) = line.strip_prefix("Environment=") {
            let (k, v) = assignment.split_once('=').unwrap();
            env.insert(k.to_owned(), v.replace("%S", state_root.to_str().unwrap()));
        } else if let Some(command) = line.strip_prefix("ExecStart=") {
            exec = Some(
                command
                    .replace("/usr/local/bin/countersign", binary)
                    .split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            );
        }
    }
    let exec = exec.expect("an ExecStart");
    // The shipped unit names no audience: it must be given (broker.env).
    env.insert("COUNTERSIGN_BROKER_LISTEN".into(), "127.0.0.1:0".into());
    let (broker, url) = start(&exec, &env).unwrap();
    ready(&url);
    let token = state_dir.join("token");
    #[cfg(unix)]
    assert_eq!(mode(&token), 0o600, "the token file is the service's alone");
    #[cfg(unix)]
    assert_eq!(mode(&state_dir.join("broker.db")), 0o600);
    let timeout: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .unwrap()
        .parse()
        .unwrap();
    let grace = countersign::backend::DEFAULT_SHUTDOWN_GRACE.as_secs();
    assert!(
        grace < timeout,
        "systemd would kill the broker before its grace ends"
    );
    stop(broker, Duration::from_secs(timeout));
}

#[test]
fn the_containerfile_builds_from_the_repository_and_its_entrypoint_serves() {
    let file = deploy("Containerfile");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // What it builds exists: the package and binary `cargo build` names.
    let build = file
        .lines()
        .find(|l| l.contains("cargo build"))
        .expect("a cargo build step");
    assert!(build.contains("--package countersign") && build.contains("--bin countersign"));
    assert!(build.contains("--locked") && root.join("Cargo.lock").exists());
    // The build context leaves out what is large or secret.
    let ignored = std::fs::read_to_string(root.join(".dockerignore")).unwrap();
    for path in ["target", "node_modules", "*.db"] {
        assert!(
            ignored
                .lines()
                .any(|l| l.trim_start_matches('/').trim_start_matches("**/") == path),
            "{path} not in .dockerignore"
        );
    }

    // ENV and ENTRYPOINT of the final stage, run here; its volume is a
    // temporary directory.
    let dir = tempfile::tempdir().unwrap();
    let volume = "/var/lib/countersign";
    let mut env = BTreeMap::new();
    let mut entrypoint: Vec<String> = Vec::new();
    let mut in_env = false;
    for line in file.lines() {
        let line = line.trim();
        let assignments = if let Some(rest) = line.strip_prefix("ENV ") {
            in_env = true;
            rest
        } else if in_env {
            line
        } else {
            ""
        };
        if in_env {
            let continued = assignments.ends_with('\\');
            for pair in assignments.trim_end_matches('\\').split_whitespace() {
                let (k, v) = pair.split_once('=').unwrap();
                env.insert(
                    k.to_owned(),
                    v.replace(volume, dir.path().to_str().unwrap()),
                );
            }
            in_env = continued;
        }
        if let Some(json) = line.strip_prefix("ENTRYPOINT ") {
            entrypoint = serde_json::from_str(json).unwrap();
        }
    }
    assert_eq!(entrypoint[0], "/usr/local/bin/countersign");
    entrypoint[0] = env!("CARGO_BIN_EXE_countersign").into();
    assert_eq!(env["COUNTERSIGN_BROKER_LISTEN"], "0.0.0.0:8787");
    env.insert("COUNTERSIGN_BROKER_LISTEN".into(), "0.0.0.0:0".into());

    // On every interface with no audience, it refuses, saying what to set.
    let refused = start(&entrypoint, &env).expect_err("refused without an audience");
    assert!(refused.contains("COUNTERSIGN_BROKER_AUDIENCE"), "{refused}");

    env.insert(
        "COUNTERSIGN_BROKER_AUDIENCE".into(),
        "https://broker.example".into(),
    );
    let (broker, url) = start(&entrypoint, &env).unwrap();
    ready(&url);
    assert!(dir.path().join("token").exists() && dir.path().join("broker.db").exists());
    stop(broker, Duration::from_secs(30));
}
