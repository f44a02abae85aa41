//! A real OpenID provider for the tests (tests/oidc/provider.mjs:
//! oidc-provider from npm on loopback, people alice and bob in the
//! identity-governance and incident-response groups), and the person at
//! the browser (tests/oidc/browser.mjs) who signs in on it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The repository's root (this file is shared by the core's tests and the
/// end-to-end crate in tests/e2e).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("tests/oidc/provider.mjs").is_file())
        .expect("tests/oidc/provider.mjs above the crate")
        .to_path_buf()
}

/// The provider runs while this lives.
pub struct Provider {
    pub issuer: String,
    child: Child,
}

impl Provider {
    pub fn start() -> Provider {
        Provider::start_with(&[])
    }

    /// `args`: e.g. `["--id-token-ttl", "2"]`.
    pub fn start_with(args: &[&str]) -> Provider {
        let mut child = Command::new("node")
            .arg(root().join("tests/oidc/provider.mjs"))
            .args(args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the test OpenID provider (scripts/test installs Node.js and npm packages)");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        // Kept drained: a write to a closed pipe would end the provider.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        assert!(
            line.starts_with("http://127.0.0.1:"),
            "provider said {line:?}"
        );
        Provider {
            issuer: line.trim().to_owned(),
            child,
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn password(login: &str) -> String {
    format!("{login}-password")
}

/// Signs `login` in at `url` (a verification or authorization URL) the
/// way a browser would, following the code flow's redirect to the
/// loopback listener; the final URL reached.
pub fn browse(url: &str, login: &str, password: &str) -> Result<String, String> {
    let out = Command::new("node")
        .arg(root().join("tests/oidc/browser.mjs"))
        .args([url, login, password, "--follow-loopback"])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
