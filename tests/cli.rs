//! The `countersign` binary as a user runs it.

mod common;
use common::countersign;

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn help_lists_the_subcommands() {
    Command::cargo_bin("countersign")
        .unwrap()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("demo"))
        .stdout(predicate::str::contains("identities"))
        .stdout(predicate::str::contains("services"));
}

/// A database URL in the environment may hold a password: `--help` names
/// the variable, never its value, on every command that reads one.
#[test]
fn help_never_prints_the_environment_s_values() {
    for args in [
        &["--help"][..],
        &["backend", "serve", "--help"],
        &["decide", "--help"],
        &["requests", "list", "--help"],
    ] {
        Command::cargo_bin("countersign")
            .unwrap()
            .args(args)
            .env(
                "COUNTERSIGN_DB",
                "postgres://owner:s3cret-db@db.internal/cs",
            )
            .env(
                "COUNTERSIGN_BROKER_STATE",
                "postgres://broker:s3cret-broker@db/cs",
            )
            .env("COUNTERSIGN_BACKEND", "http://s3cret-backend.internal")
            .assert()
            .success()
            .stdout(predicate::str::contains("s3cret").not())
            .stdout(predicate::str::contains("[env:"));
    }
}

#[test]
fn demo_load_then_list_prints_the_demo_identities() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    countersign(&db)
        .args(["demo", "load"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "41 identities, 25 services, 12 owners",
        ));
    countersign(&db)
        .args(["identities", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("tok-kafka-shared"))
        .stdout(predicate::str::contains("bg-cloud-root"))
        .stdout(predicate::str::contains("[break-glass]"));
    countersign(&db)
        .args(["demo", "load", "--if-empty"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already holds an inventory"));
}

#[test]
fn json_output_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    let out = countersign(&db)
        .args(["identities", "show", "tok-kafka-shared", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "token");
    assert_eq!(v["used_by"].as_array().unwrap().len(), 6);

    let out = countersign(&db)
        .args(["services", "list", "--json", "--search", "ledger"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["id"], "ledger-db");
}

#[test]
fn the_environment_variable_names_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.db");
    Command::cargo_bin("countersign")
        .unwrap()
        .env("COUNTERSIGN_DB", &db)
        .args(["demo", "load"])
        .assert()
        .success();
    Command::cargo_bin("countersign")
        .unwrap()
        .env("COUNTERSIGN_DB", &db)
        .args(["db", "info"])
        .assert()
        .success()
        .stdout(predicate::str::contains("identities:     41"));
}

/// Bad `--db` values give exactly one line on stderr naming the path, and a
/// non-zero exit; never a panic or a backtrace.
#[test]
fn bad_database_paths_give_a_one_line_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(
        &corrupt,
        b"this is not a database, just some text that is long enough",
    )
    .unwrap();
    let missing = dir.path().join("missing-dir").join("x.db");
    for (path, why) in [
        (missing.as_path(), "does not exist"),
        (dir.path(), "is a directory"),
        (corrupt.as_path(), "corrupt"),
    ] {
        let out = countersign(path)
            .args(["identities", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn unknown_identity_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    countersign(&db)
        .args(["identities", "show", "ghost"])
        .assert()
        .code(1)
        .stderr("error: no identity with id \"ghost\"\n");
}

/// `db use` makes a team PostgreSQL the default for this user (settings
/// file in the user's config directory, no password in it), `--local`
/// goes back, and a damaged settings file is named with its line.
#[tokio::test]
async fn db_use_chooses_the_default_database() {
    let home = tempfile::tempdir().unwrap();
    let pg = common::TestDb::postgres().await;
    let cli = || {
        let mut cmd = assert_cmd::Command::cargo_bin("countersign").unwrap();
        cmd.env_remove("COUNTERSIGN_DB")
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("HOME", home.path());
        cmd
    };
    std::fs::create_dir_all(home.path().join("data")).unwrap();
    cli()
        .args(["db", "info"])
        .assert()
        .success()
        .stdout(predicates::str::contains("engine:         SQLite"));
    cli()
        .args(["db", "use", &pg.target()])
        .assert()
        .success()
        .stdout(predicates::str::contains("now open postgres://"));
    let settings = home.path().join("config/countersign/config.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(saved["database"], pg.target());
    cli()
        .args(["db", "info"])
        .assert()
        .success()
        .stdout(predicates::str::contains("engine:         PostgreSQL"));
    cli().args(["demo", "load"]).assert().success();
    assert_eq!(pg.open().await.counts().await.unwrap().identities, 41);

    cli()
        .args(["db", "use", "/tmp/not-a-server.db"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("is not a postgres:// URL"));
    cli()
        .args(["db", "use", "postgres://nobody@127.0.0.1:1/none"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("Connection refused"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&settings).unwrap())
            .unwrap()["database"],
        pg.target(),
        "a database that does not work is not saved"
    );

    cli().args(["db", "use", "--local"]).assert().success();
    cli()
        .args(["db", "info"])
        .assert()
        .success()
        .stdout(predicates::str::contains("engine:         SQLite"));

    std::fs::write(&settings, "{\n  \"database\": 42\n}\n").unwrap();
    cli()
        .args(["db", "info"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("config.json: line 2"));
}

/// A reader that goes away (`countersign … | head`) ends the command
/// quietly, not with a panic.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
        .arg("--db")
        .arg(&db)
        .args(["audit", "log", "--json", "--limit", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{stderr}");
}

/// A time limit or scope belongs to a narrowed approval only: with
/// `--approve` or `--deny` it would be dropped from what is signed, so the
/// command refuses it rather than sign something else (issue 14).
#[test]
fn decide_refuses_limits_it_would_not_sign() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    for (verdict, limit) in [
        ("--approve", ["--until", "2h"]),
        ("--approve", ["--scope", "topic:a"]),
        ("--deny", ["--until", "2h"]),
        ("--deny", ["--scope", "topic:a"]),
    ] {
        countersign(&db)
            .args(["decide", "--request", "r.json", verdict])
            .args(limit)
            .args(["--reason", "r", "--audience", "https://soar.test"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "the argument '{verdict}' cannot be used with '{}",
                limit[0]
            )));
    }
}

/// Standards in the output: each finding names its controls, and
/// `controls` maps every control to what serves it, reading the policy in
/// force (an organisation's own rules with their own `@controls`).
#[test]
fn findings_and_policy_rules_name_the_controls_they_serve() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    let out = countersign(&db)
        .args(["attention", "--json"])
        .output()
        .unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let no_owner = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "no_owner")
        .expect("the demo has an identity without an owner");
    assert_eq!(
        no_owner["controls"],
        serde_json::json!(["OWASP NHI1:2025", "NIST CSF GV.RR-02", "CIS 5.5"])
    );
    countersign(&db)
        .args(["attention"])
        .assert()
        .success()
        .stdout(predicate::str::contains("OWASP NHI1:2025"));

    let policy = dir.path().join("ours.cedar");
    std::fs::write(
        &policy,
        "@id(\"ours\") @controls(\"NIST CSF RS.MI-02\")\npermit (principal, action, resource);\n",
    )
    .unwrap();
    countersign(&db)
        .args(["policy", "set"])
        .arg(&policy)
        .assert()
        .success();
    let out = countersign(&db)
        .args(["controls", "--json"])
        .output()
        .unwrap();
    let uses: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let eradicated = uses
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["control"]["id"] == "RS.MI-02")
        .unwrap();
    assert_eq!(eradicated["policy"], serde_json::json!(["ours"]));
    assert_eq!(eradicated["control"]["title"], "Incidents are eradicated");

    std::fs::write(
        &policy,
        "@id(\"ours\") @controls(\"NIST RS.MI-02\")\npermit (principal, action, resource);\n",
    )
    .unwrap();
    countersign(&db)
        .args(["policy", "set"])
        .arg(&policy)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "rule \"ours\" has @controls: \"NIST RS.MI-02\" is not a control Countersign knows",
        ));
}
