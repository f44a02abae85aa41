//! Keys really live in the OS Secret Service. Needs a D-Bus session with an
//! unlocked keyring (`scripts/test` runs this inside `dbus-run-session` with
//! `gnome-keyring-daemon --unlock`), hence `#[ignore]`; it fails, naming
//! what to start, without one.

mod common;

use std::sync::Arc;

use countersign::Store;
use countersign::signing::{Keys, OsKeyring, SecretStore, verify};
use countersign::store::ChangeContext;

#[tokio::test]
#[ignore = "needs a Secret Service on the session bus (scripts/test provides one)"]
async fn keys_are_kept_in_the_secret_service_and_sign_from_there() {
    let ring = OsKeyring;
    let probe = format!("probe:{}", std::process::id());
    ring.set(&probe, "round-trip")
        .expect("the Secret Service accepts a secret");
    assert_eq!(
        ring.get(&probe).unwrap().as_deref().map(String::as_str),
        Some("round-trip")
    );
    ring.delete(&probe).unwrap();
    assert!(ring.get(&probe).unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("k.db")).await.unwrap();
    let keys = Keys::new(&store, Arc::new(OsKeyring));
    let ctx = ChangeContext::new("alice", "test");
    let info = keys.init(&ctx).await.unwrap();
    let token = keys
        .active()
        .await
        .unwrap()
        .sign(&serde_json::json!({"ok": true}), "JWT")
        .unwrap();
    assert_eq!(
        verify(&token, &keys.jwks().await.unwrap(), "JWT").unwrap()["ok"],
        true
    );
    // The secret is in the keyring under the key's name, and only there.
    assert!(
        OsKeyring
            .get(&format!("signing-key:{}", info.kid))
            .unwrap()
            .is_some()
    );

    // A second key, then retiring the first, deletes its secret.
    keys.rotate(&ctx).await.unwrap();
    assert!(keys.retire(&info.kid, &ctx).await.unwrap());
    assert!(
        OsKeyring
            .get(&format!("signing-key:{}", info.kid))
            .unwrap()
            .is_none()
    );
    let active = keys.active().await.unwrap().kid;
    OsKeyring.delete(&format!("signing-key:{active}")).unwrap();
}

/// The acceptance path: `countersign keys init`, `countersign
/// decide` on the example request, and Python verifies the printed JWS with
/// only `countersign keys export --jwks`, recomputing the request digest
/// with an independent RFC 8785 implementation.
#[test]
#[ignore = "needs a Secret Service and the Python environment (scripts/test provides both)"]
fn a_decision_from_the_cli_verifies_in_python_with_only_the_exported_jwks() {
    use predicates::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let cli = || common::countersign_as("alice", &db);
    cli().args(["demo", "load"]).assert().success();
    cli().args(["keys", "init"]).assert().success();

    let root = env!("CARGO_MANIFEST_DIR");
    let mut request: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/containment-request.json")).unwrap();
    request["expires_at"] = "2999-01-01T00:00:00Z".into();
    let request_path = dir.path().join("request.json");
    std::fs::write(
        &request_path,
        serde_json::to_string_pretty(&request).unwrap(),
    )
    .unwrap();

    // Narrowed to the next hour (the same action alone narrows nothing).
    let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    let out = cli()
        .args(["decide", "--request"])
        .arg(&request_path)
        .args([
            "--narrow",
            "rotate-secret",
            "--until",
            &until,
            "--reason",
            "rotate only",
            "--audience",
            "https://soar.example.test",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.path().join("token.txt"), token.trim()).unwrap();
    let jwks = cli().args(["keys", "export", "--jwks"]).output().unwrap();
    std::fs::write(dir.path().join("jwks.json"), jwks.stdout).unwrap();

    let python =
        std::env::var("COUNTERSIGN_PYTHON").expect("COUNTERSIGN_PYTHON (scripts/test sets it)");
    let verified = std::process::Command::new(python)
        .arg(format!("{root}/tests/interop/verify_decision.py"))
        .arg(dir.path().join("jwks.json"))
        .arg(dir.path().join("token.txt"))
        .arg(&request_path)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let claims: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(claims["decision"], "approve_narrowed");
    assert_eq!(claims["approver"]["id"], "alice");
    assert_eq!(claims["aud"], "https://soar.example.test");

    // The decision is recorded, signed JWS and all.
    let listed = cli()
        .args(["decisions", "list", "--json"])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["jws"], token.trim());
    assert_eq!(listed[0]["decision"], "approve_narrowed");
    cli().args(["decisions", "list"]).assert().success().stdout(
        predicates::str::contains("req-2026-11-24-0001")
            .and(predicates::str::contains("not pushed")),
    );

    // The requester cannot approve its own request.
    let mut own = cli();
    own.env("COUNTERSIGN_ACTOR", "soar-playbook-leaked-secret")
        .args(["decide", "--request"])
        .arg(&request_path)
        .args(["--approve", "--reason", "mine", "--audience", "x"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("cannot also approve it"));
}

/// `audit checkpoint` signs the head with the key in the Secret Service;
/// `audit verify --checkpoint` proves the trail extends it, also after
/// more changes, and fails once the signed row is gone.
#[test]
#[ignore = "needs a Secret Service on the session bus (scripts/test provides one)"]
fn an_audit_checkpoint_is_signed_from_the_keyring_and_verified() {
    use predicates::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let cli = || common::countersign_as("alice", &db);
    cli().args(["demo", "load"]).assert().success();
    cli().args(["keys", "init"]).assert().success();
    let file = dir.path().join("head.jws");
    cli()
        .args(["audit", "checkpoint", "--out"])
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("signed the audit head, row 79"));
    let jws = std::fs::read_to_string(&file).unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            jws.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], countersign::checkpoint::CHECKPOINT_TYP);
    // Later changes extend the trail; the checkpoint still holds.
    cli()
        .args(["settings", "review-stale-days", "30"])
        .assert()
        .success();
    cli()
        .args(["audit", "verify", "--checkpoint"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "extends the checkpoint at row 79 signed by alice",
        ));
    // A checkpoint of another trail (row 79 is not this one's) fails.
    let other = dir.path().join("other.db");
    common::countersign(&other)
        .args(["demo", "load"])
        .assert()
        .success();
    let keys = dir.path().join("jwks.json");
    std::fs::write(
        &keys,
        cli()
            .args(["keys", "export", "--jwks"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    common::countersign(&other)
        .args(["audit", "verify", "--checkpoint"])
        .arg(&file)
        .arg("--jwks")
        .arg(&keys)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the trail no longer holds the checkpointed row 79",
        ));

    // Pushed to the backend, which keeps it as Alice's latest.
    let token = "checkpoint-test-token-0123456789";
    let backend = common::ServedBackend::start(&[], &[("COUNTERSIGN_BACKEND_TOKEN", token)]);
    let with_backend = |args: &[&str]| {
        let mut c = cli();
        c.env("COUNTERSIGN_BACKEND_TOKEN", token)
            .args(args)
            .args(["--backend", &backend.url]);
        c
    };
    with_backend(&["backend", "enroll"]).assert().success();
    let out = with_backend(&["audit", "checkpoint", "--push"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let pushed = String::from_utf8(out.stdout).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kept: serde_json::Value = reqwest::blocking::Client::new()
        .get(format!("{}/v1/approvers/alice/checkpoint", backend.url))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(kept["jws"].as_str(), Some(pushed.trim()));
}

/// The backend's bearer token and the team database's password are kept in
/// the Secret Service, and no command prints them or writes them anywhere
/// else: not on standard output or error, not in the settings file, not in
/// the database, not in the audit trail.
#[tokio::test]
#[ignore = "needs a Secret Service and the test PostgreSQL (scripts/test provides both)"]
async fn the_token_and_the_database_password_are_never_printed() {
    use assert_cmd::Command;
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("s.db");
    let token = "tok-SECRET-0f9e8d7c6b5a4938";
    let password = "pw-SECRET-1a2b3c4d";
    let cli = || {
        let mut c = Command::cargo_bin("countersign").unwrap();
        c.env_remove("COUNTERSIGN_DB")
            .env_remove("COUNTERSIGN_BACKEND_TOKEN")
            .env("COUNTERSIGN_ACTOR", "alice")
            .env("XDG_CONFIG_HOME", home.path().join("config"));
        c
    };
    let mut printed = Vec::new();
    let mut run = |c: &mut Command, ok: bool| {
        let out = c.output().unwrap();
        assert_eq!(out.status.success(), ok, "{out:?}");
        printed.extend(out.stdout);
        printed.extend(out.stderr);
    };
    run(cli().arg("--db").arg(&db).args(["demo", "load"]), true);
    let backend = common::ServedBackend::start(&[], &[("COUNTERSIGN_BACKEND_TOKEN", token)]);
    run(
        cli()
            .arg("--db")
            .arg(&db)
            .args(["backend", "login", &backend.url])
            .write_stdin(format!("{token}\n")),
        true,
    );
    run(cli().arg("--db").arg(&db).args(["requests", "list"]), true);
    run(
        cli()
            .arg("--db")
            .arg(&db)
            .args(["requests", "list", "--json"]),
        true,
    );
    // The token is in the keyring, under the backend's URL.
    let kept = OsKeyring.get(&format!("backend-token:{}", backend.url));
    assert!(
        kept.ok().flatten().is_some_and(|t| t.as_str() == token),
        "the token is in the Secret Service"
    );

    // A team database with a password in its URL (the test server trusts
    // loopback, so any password connects).
    let pg = std::env::var(common::POSTGRES_ENV).expect("scripts/test sets the test PostgreSQL");
    let with_password = pg.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{password}@"),
        1,
    );
    assert_ne!(with_password, pg, "{pg}");
    run(cli().args(["db", "use", &with_password]), true);
    run(cli().args(["db", "info"]), true);
    run(cli().args(["audit", "log", "--limit", "5"]), true);
    // A failing connection names the server, not the password.
    let unreachable = format!("postgres://postgres:{password}@127.0.0.1:1/none");
    run(cli().args(["db", "use", &unreachable]), false);
    run(cli().args(["db", "use", "--local"]), true);

    let text = String::from_utf8_lossy(&printed);
    assert!(!text.contains(token), "the token was printed: {text}");
    assert!(!text.contains(password), "the password was printed: {text}");
    let mut files =
        vec![std::fs::read(home.path().join("config/countersign/config.json")).unwrap()];
    files.push(std::fs::read(&db).unwrap());
    for bytes in files {
        let s = String::from_utf8_lossy(&bytes);
        assert!(!s.contains(token) && !s.contains(password), "written out");
    }
    let keychain = OsKeyring.get(&format!(
        "database-password:{}",
        countersign::store::config::without_password(&with_password)
    ));
    assert!(
        keychain
            .ok()
            .flatten()
            .is_some_and(|p| p.as_str() == password),
        "the password is in the Secret Service"
    );
}

/// `countersign login` signs in against a real OpenID provider (through
/// the browser, played by the test, and the loopback redirect), keeps the
/// session in the Secret Service, and `backend enroll` then enrolls the
/// key the sign-in was bound to for the provider's `sub` with the token's
/// groups at a backend that trusts only that provider; a rotated key needs
/// a new sign-in; `logout` removes the session.
#[test]
#[ignore = "needs a Secret Service on the session bus (scripts/test provides one)"]
fn login_keeps_the_session_in_the_keyring_and_enrollment_uses_it() {
    use assert_cmd::prelude::*;
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    /// Signs out whatever happens, so later tests in this session bus are
    /// not run as the test's person.
    struct SignOut;
    impl Drop for SignOut {
        fn drop(&mut self) {
            let _ = countersign::oidc::forget(&OsKeyring);
        }
    }
    let _sign_out = SignOut;

    let provider = common::oidc::Provider::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let cli = || {
        let mut c = Command::cargo_bin("countersign").unwrap();
        c.env_remove("COUNTERSIGN_ACTOR").arg("--db").arg(&db);
        c
    };
    // The key first: the sign-in is asked for it (the token's nonce).
    cli().args(["keys", "init"]).assert().success();
    let mut login = cli()
        .args(["login", "--no-browser", "--issuer", &provider.issuer])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr is read to its end on a thread (a closed pipe would fail the
    // CLI's next line); the sign-in URL comes back over a channel.
    let stderr = std::io::BufReader::new(login.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let said = std::thread::spawn(move || {
        let mut all = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if line.starts_with("  http://") {
                let _ = tx.send(line.trim().to_owned());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("login prints where to sign in");
    common::oidc::browse(&url, "alice", &common::oidc::password("alice")).unwrap();
    let out = login.wait_with_output().unwrap();
    let stderr = said.join().unwrap();
    assert!(out.status.success(), "{stderr}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("signed in as Alice Governance (sub \"alice\""),
        "{said}"
    );
    assert!(countersign::oidc::load(&OsKeyring).unwrap().is_some());

    let whoami = cli().arg("whoami").output().unwrap();
    assert!(String::from_utf8_lossy(&whoami.stdout).contains("groups: identity-governance"));
    // Other writes are authored by who signed in, not the OS user, and a
    // setting that does not apply while signed in says so.
    let set = cli()
        .args(["settings", "approver-groups", "incident-response"])
        .output()
        .unwrap();
    assert!(set.status.success());
    assert!(
        String::from_utf8_lossy(&set.stderr).contains("you are signed in as \"alice\""),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let newest = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = countersign::Store::open(&db).await.unwrap();
        let rows = store.audit_log(None, 1).await.unwrap();
        store.close().await;
        rows
    });
    assert_eq!(newest[0].actor, "alice", "{newest:?}");

    // A backend that trusts only this provider enrolls the key for alice.
    let token = "oidc-cli-backend-token-0123456789";
    let backend = common::ServedBackend::start(
        &[
            "--oidc-issuer",
            &provider.issuer,
            "--oidc-audience",
            "countersign",
        ],
        &[("COUNTERSIGN_BACKEND_TOKEN", token)],
    );
    let enrolled = cli()
        .env("COUNTERSIGN_BACKEND_TOKEN", token)
        .args(["backend", "enroll", "--backend", &backend.url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&enrolled.stdout);
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    assert!(
        text.contains("for alice") && text.contains("identity-governance"),
        "{text}"
    );
    // Someone else's name as --actor is refused while signed in.
    let other = cli()
        .env("COUNTERSIGN_BACKEND_TOKEN", token)
        .args([
            "--actor",
            "bob",
            "backend",
            "enroll",
            "--backend",
            &backend.url,
        ])
        .output()
        .unwrap();
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("is not who is signed in"));
    // A rotated key is not the key the sign-in was for: enrolling it asks
    // for a new sign-in before anything is sent.
    cli().args(["keys", "rotate"]).assert().success();
    let rotated = cli()
        .env("COUNTERSIGN_BACKEND_TOKEN", token)
        .args(["backend", "enroll", "--backend", &backend.url])
        .output()
        .unwrap();
    assert!(!rotated.status.success());
    assert!(
        String::from_utf8_lossy(&rotated.stderr).contains("run `countersign login` again"),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );

    let out = cli().arg("logout").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed out"));
    assert!(countersign::oidc::load(&OsKeyring).unwrap().is_none());
    let whoami = cli().arg("whoami").output().unwrap();
    assert!(String::from_utf8_lossy(&whoami.stdout).contains("not signed in"));
}

/// A review campaign from the CLI with the key in the real Secret Service:
/// started over production, attested by two owners (Li Wei for her team,
/// Amira Haddad as a backup owner), overdue; the export verifies in Python
/// with joserfc and its JWKS alone.
#[test]
#[ignore = "needs a Secret Service and the Python environment (scripts/test provides both)"]
fn a_campaign_is_attested_from_the_keyring_and_its_export_verifies_in_python() {
    use predicates::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let as_ = |actor: &str| common::countersign_as(actor, &db);
    as_("governance").args(["demo", "load"]).assert().success();
    as_("governance").args(["keys", "init"]).assert().success();
    as_("governance")
        .args([
            "campaign",
            "start",
            "--id",
            "q4",
            "--due",
            "2026-10-01",
            "--past-due",
            "--environment",
            "production",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("started campaign q4"));
    as_("li.wei")
        .args(["campaign", "attest", "q4", "sa-ledger-writer", "--confirm"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sa-ledger-writer: confirmed by li.wei",
        ));
    as_("amira.haddad")
        .args([
            "campaign",
            "attest",
            "q4",
            "sa-payments-api",
            "--consumers-incomplete",
            "--comment",
            "the reconciliation job is missing",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("changes_needed"));
    as_("jonas.weber")
        .args(["campaign", "attest", "q4", "sa-ledger-writer", "--confirm"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "jonas.weber does not review sa-ledger-writer",
        ));
    as_("reader")
        .args(["campaign", "status", "q4"])
        .assert()
        .success()
        .stdout(predicate::str::contains("OVERDUE"));
    let export = dir.path().join("q4.json");
    as_("auditor")
        .args(["campaign", "export", "q4", "--out"])
        .arg(&export)
        .assert()
        .success();
    let python =
        std::env::var("COUNTERSIGN_PYTHON").expect("COUNTERSIGN_PYTHON (scripts/test sets it)");
    let out = std::process::Command::new(python)
        .arg(format!(
            "{}/tests/interop/verify_campaign.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(": 2 of 2 attestations verified"), "{said}");
}
