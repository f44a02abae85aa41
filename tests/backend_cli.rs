//! The backend commands from a shell: `countersign backend serve` as its
//! own process, and `countersign requests list|show` against it.

mod common;

use common::ServedBackend;
use predicates::prelude::*;

fn serve(args: &[&str]) -> ServedBackend {
    ServedBackend::start(args, &[])
}

fn fresh_request(dir: &std::path::Path) -> std::path::PathBuf {
    let mut r: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    r["expires_at"] = "2999-01-01T00:00:00Z".into();
    let path = dir.join("requests.json");
    std::fs::write(&path, serde_json::to_string_pretty(&vec![r]).unwrap()).unwrap();
    path
}

#[test]
fn serve_needs_a_token_and_creates_a_private_token_file() {
    assert_cmd::Command::cargo_bin("countersign")
        .unwrap()
        .env_remove("COUNTERSIGN_BACKEND_TOKEN")
        .args(["backend", "serve", "--listen", "127.0.0.1:0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--token-file"));

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let _served = serve(&["--token-file", token_file.to_str().unwrap()]);
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(token.len() >= 40, "a long random token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the token");
    }
}

#[test]
fn requests_are_listed_with_the_local_policy_tier_and_shown_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    common::countersign(&db)
        .args(["demo", "load"])
        .assert()
        .success();
    let requests = fresh_request(dir.path());
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token-for-tests").unwrap();
    let served = serve(&[
        "--token-file",
        token_file.to_str().unwrap(),
        "--requests",
        requests.to_str().unwrap(),
    ]);

    common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", "s3cret-token-for-tests")
        .args(["requests", "list", "--backend", &served.url])
        .assert()
        .success()
        .stdout(predicate::str::contains("req-2026-11-24-0001"))
        .stdout(predicate::str::contains(
            "single_approval (single-approval-rotation-and-revocation)",
        ));

    let shown = common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", "s3cret-token-for-tests")
        .args([
            "requests",
            "show",
            "req-2026-11-24-0001",
            "--backend",
            &served.url,
        ])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let sent: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&requests).unwrap()).unwrap();
    assert_eq!(
        shown, sent[0],
        "exactly the request, without backend bookkeeping"
    );

    // The view an owner reviews carries the inventory version; a decision
    // bound to it is refused once the inventory changed.
    let view = common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", "s3cret-token-for-tests")
        .args([
            "requests",
            "view",
            "req-2026-11-24-0001",
            "--backend",
            &served.url,
        ])
        .output()
        .unwrap();
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    let view: serde_json::Value = serde_json::from_slice(&view.stdout).unwrap();
    let version = view["inventory_version"].as_str().unwrap().to_owned();
    assert!(view["blast_radius_digest"].as_str().is_some(), "{view}");
    assert!(view["blast"]["summary"].is_object(), "{view}");
    let edit = dir.path().join("edit.yaml");
    std::fs::write(
        &edit,
        "version: 1\nservices:\n  - {id: new-consumer, name: New consumer, tier: 1}\n",
    )
    .unwrap();
    common::countersign(&db)
        .arg("import")
        .arg(&edit)
        .assert()
        .success();
    common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", "s3cret-token-for-tests")
        .args([
            "decide",
            "--request-id",
            "req-2026-11-24-0001",
            "--deny",
            "--reason",
            "not now",
            "--backend",
            &served.url,
            "--audience",
            &served.url,
            "--inventory-version",
            &version,
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the inventory changed since you opened this request; review it again",
        ));

    common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", "wrong")
        .args(["requests", "list", "--backend", &served.url])
        .assert()
        .failure()
        .stderr(predicate::str::contains("refused the bearer token"));

    common::countersign(&db)
        .env_remove("COUNTERSIGN_BACKEND")
        .args(["requests", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("backend login"));
}

#[test]
fn a_malformed_requests_file_is_refused_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let refused = |content: &str, expected: &str| {
        std::fs::write(&bad, content).unwrap();
        assert_cmd::Command::cargo_bin("countersign")
            .unwrap()
            .env("COUNTERSIGN_BACKEND_TOKEN", "t")
            .args(["backend", "serve", "--listen", "127.0.0.1:0", "--requests"])
            .arg(&bad)
            .assert()
            .failure()
            .stderr(predicate::str::contains(expected));
    };
    refused("[\n  {\"id\": \"x\",\n  oops\n]", "bad.json: line 3");
    let mut wrong: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    wrong["evidence"]["confidence"] = 7.into();
    refused(&wrong.to_string(), "evidence.confidence");
}

/// `decide --request-id` signs nothing for a request the backend has
/// already settled (here: expired); it says so instead of recording a
/// decision that could only come back rejected.
#[test]
fn decide_signs_nothing_for_a_settled_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut r: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    r["id"] = "req-long-gone".into();
    r["created_at"] = "2020-01-01T00:00:00Z".into();
    r["expires_at"] = "2020-01-01T01:00:00Z".into();
    let file = dir.path().join("old.json");
    std::fs::write(&file, r.to_string()).unwrap();
    let token = "settled-test-token-0123456789";
    let backend = ServedBackend::start(
        &["--requests", file.to_str().unwrap()],
        &[("COUNTERSIGN_BACKEND_TOKEN", token)],
    );
    let db = dir.path().join("d.db");
    common::countersign(&db)
        .env("COUNTERSIGN_BACKEND_TOKEN", token)
        .args(["decide", "--request-id", "req-long-gone", "--approve"])
        .args(["--reason", "late", "--push", &backend.url])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "request req-long-gone is already expired",
        ));
    common::countersign(&db)
        .args(["decisions", "list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("req-long-gone").not());
}

/// `backend serve --policy FILE` refuses a policy that does not parse,
/// naming the file, before it listens.
#[test]
fn a_policy_that_does_not_parse_is_named_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("narrowing.cedar");
    std::fs::write(&policy, "permit (principal, action ==").unwrap();
    assert_cmd::Command::cargo_bin("countersign")
        .unwrap()
        .env("COUNTERSIGN_BACKEND_TOKEN", "policy-test-token-0123456789")
        .args(["backend", "serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&policy)
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "{}: the approval policy does not parse",
            policy.display()
        )));
}

/// A malformed `--oidc-issuer` is named before the backend listens.
#[test]
fn a_malformed_identity_provider_is_named_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    for (issuer, says) in [
        ("not a url", "is not a URL"),
        ("ftp://idp.test", "use an https:// URL"),
    ] {
        common::countersign(&dir.path().join("d.db"))
            .env("COUNTERSIGN_BACKEND_TOKEN", "serve-test-token-0123456789")
            .args(["backend", "serve", "--listen", "127.0.0.1:0"])
            .args(["--oidc-issuer", issuer, "--oidc-audience", "countersign"])
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .failure()
            .stderr(predicate::str::contains(says));
    }
    // Refused before anything is written: no token file is left behind.
    let token_file = dir.path().join("token");
    common::countersign(&dir.path().join("d.db"))
        .args(["backend", "serve", "--listen", "127.0.0.1:0"])
        .arg("--token-file")
        .arg(&token_file)
        .args(["--oidc-issuer", "notaurl", "--oidc-audience", "countersign"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a URL"));
    assert!(!token_file.exists(), "no token file for a refused start");
}
