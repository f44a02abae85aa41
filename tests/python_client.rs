//! The client SOAR playbooks import (integrations/python, issue 18),
//! against a real broker with its state kept: a request created from
//! Python, decided and signed in Countersign, its outcome received by the
//! Python side by long-poll (across a `kill -9` and restart of the broker)
//! and by callback, every signature verified there offline with joserfc.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::ServedBackend;
use common::approver::Approver;
use countersign::client::BackendClient;
use serde_json::Value;

const TOKEN: &str = "python-client-token-0123456789abcdef";

/// The test venv's Python with the package installed from the checkout by
/// pip, as a SOAR host installs it (`pip install ./integrations/python`),
/// once per run: the examples and tests below import the installed copy,
/// not the source tree.
fn python() -> String {
    static INSTALLED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let python = std::env::var("COUNTERSIGN_PYTHON")
                .expect("COUNTERSIGN_PYTHON (scripts/test sets it: a venv with joserfc)");
            let out = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(["--no-deps", "--force-reinstall"])
                .arg(package())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "pip install ./integrations/python: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            python
        })
        .clone()
}

fn package() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("integrations/python")
}

/// Runs an example with the package on its path; stdout line by line.
fn example(name: &str, url: &str, request: &std::path::Path) -> std::process::Child {
    Command::new(python())
        .env_remove("PYTHONPATH")
        .env("PYTHONWARNINGS", "ignore")
        .arg(package().join("examples").join(name))
        .args([url, TOKEN])
        .arg(request)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Waits until the broker knows `id` (the Python side created it); the
/// request exactly as the broker holds it.
async fn created(c: &BackendClient, id: &str) -> Value {
    for _ in 0..300 {
        if let Ok(mut r) = c.request_by_id(id).await {
            for extra in ["status", "decisions"] {
                r.as_object_mut().unwrap().remove(extra);
            }
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the Python side never created {id}");
}

#[test]
fn the_package_installs_with_pip_and_its_own_tests_pass() {
    // Imported from site-packages, with its type marker (PEP 561).
    let out = Command::new(python())
        .current_dir(std::env::temp_dir())
        .env_remove("PYTHONPATH")
        .args([
            "-c",
            "import countersign_broker, pathlib; p = pathlib.Path(countersign_broker.__file__).parent; print(p, (p / 'py.typed').exists())",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("site-packages") && said.trim_end().ends_with("True"),
        "{said}"
    );

    let out = Command::new(python())
        .current_dir(package())
        .env_remove("PYTHONPATH")
        .env("PYTHONWARNINGS", "ignore")
        .args(["-m", "unittest", "discover", "-s", "tests", "-v"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_playbook_waits_for_a_decision_signed_in_countersign_and_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("broker.db").display().to_string();
    let env = [("COUNTERSIGN_BACKEND_TOKEN", TOKEN)];
    let broker = ServedBackend::start(&["--state", &state], &env);
    let url = broker.url.clone();
    let c = BackendClient::new(&url, TOKEN.to_owned().into()).unwrap();

    // Alice's installation: the demo inventory and her key.
    let alice = Approver::new("alice").await;
    alice.enroll(&c, "identity-governance").await;
    let approve = |r: Value| {
        let (alice, url) = (&alice, url.clone());
        async move {
            alice
                .approve_because(&r, &url, "the blast radius is one sandbox service")
                .await
        }
    };

    // XSOAR-style polling, with the broker killed (-9) and restarted on
    // the same port and state while the playbook polls.
    let file = dir.path().join("poll.json");
    std::fs::write(
        &file,
        common::live_request("req-py-poll", "single_approval", "xsoar-playbook").to_string(),
    )
    .unwrap();
    let mut poller = example("xsoar_polling.py", &url, &file);
    let held = created(&c, "req-py-poll").await;
    let listen = url.trim_start_matches("http://").to_owned();
    drop(broker);
    let broker = ServedBackend::start_on(&listen, &["--state", &state], &env);
    let jws = approve(held).await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");
    let mut lines = BufReader::new(poller.stdout.take().unwrap()).lines();
    let last: Value = loop {
        let line = lines
            .next()
            .expect("the playbook ends with its outcome")
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["continue_to_poll"] == false {
            break v;
        }
    };
    assert!(poller.wait().unwrap().success());
    assert_eq!(last["status"], "approved", "{last}");
    assert_eq!(last["approvers"], serde_json::json!(["alice"]));
    assert_eq!(
        last["reasons"][0],
        "the blast radius is one sandbox service"
    );

    // Logic Apps-style: the outcome arrives at the playbook's callback.
    let file = dir.path().join("hook.json");
    std::fs::write(
        &file,
        common::live_request("req-py-hook", "single_approval", "xsoar-playbook").to_string(),
    )
    .unwrap();
    let mut receiver = example("webhook_receiver.py", &broker.url, &file);
    let held = created(&c, "req-py-hook").await;
    // The approver sees the request without the callback the playbook
    // gave: that address is for the broker alone.
    assert!(held.get("callback").is_none(), "{held}");
    let jws = approve(held).await;
    assert_eq!(c.submit(&jws).await.unwrap().status, "accepted");
    let said: Vec<Value> = BufReader::new(receiver.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(receiver.wait().unwrap().success(), "{said:?}");
    let last = said.last().unwrap();
    assert_eq!(last["outcome_id"], "req-py-hook/approved", "{said:?}");
    assert_eq!(last["approvers"], serde_json::json!(["alice"]));
    drop(broker);
}
