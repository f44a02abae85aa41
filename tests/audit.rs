//! The audit trail against tampering done the way an insider would: with
//! the engine's own client on the database (the `sqlite3` shell on the
//! file, `psql` on the team server).

mod common;
use common::{TestDb, countersign};

use std::path::Path;

/// Runs SQL with the engine's own command-line client.
fn insider(db: &TestDb, sql: &str) -> std::process::Output {
    match db {
        TestDb::Sqlite(_) => std::process::Command::new("sqlite3")
            .arg(db.target())
            .arg(sql)
            .output()
            .expect("the sqlite3 shell (Debian package sqlite3) is installed by scripts/test"),
        TestDb::Postgres { url } => std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
            .output()
            .expect("psql (Debian package postgresql-client) is installed by scripts/test"),
    }
}

/// Lifts the append-only triggers, as an administrator could.
fn unlock(db: &TestDb) -> &'static str {
    match db {
        TestDb::Sqlite(_) => {
            "DROP TRIGGER audit_log_is_append_only_update; DROP TRIGGER audit_log_is_append_only_delete;"
        }
        TestDb::Postgres { .. } => "ALTER TABLE audit_log DISABLE TRIGGER USER;",
    }
}

/// A database with a demo load and an edit in its trail.
fn edited_db(db: &TestDb, dir: &Path) -> String {
    let target = db.target();
    let at = Path::new(&target);
    countersign(at).args(["demo", "load"]).assert().success();
    let file = dir.join("edit.yaml");
    let out = countersign(at)
        .args(["export", "--format", "native"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("owner: team-web\n", "owner: team-frontend\n");
    std::fs::write(&file, text).unwrap();
    countersign(at).arg("import").arg(&file).assert().success();
    countersign(at)
        .args(["settings", "review-stale-days", "60"])
        .assert()
        .success();
    countersign(at)
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicates::str::contains("audit trail intact"));
    target
}

fn verify_fails_with(db: &str, expected: &str) {
    let out = countersign(Path::new(db))
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in {stderr}"
    );
    assert!(stderr.contains(db), "{stderr}");
}

async fn the_table_refuses_updates_and_deletes(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    for sql in [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;",
        "DELETE FROM audit_log WHERE seq = 3;",
    ] {
        let out = insider(&engine, sql);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("audit_log is append-only"));
    }
    countersign(Path::new(&db))
        .args(["audit", "verify"])
        .assert()
        .success();
}

async fn an_altered_row_is_named(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    let out = insider(
        &engine,
        &format!(
            "{} UPDATE audit_log SET actor = 'mallory' WHERE seq = 5;",
            unlock(&engine)
        ),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(&db, "audit row 5 was altered");

    // Recomputing the altered row's own hash does not help: the next row
    // still points at the old one.
    let engine = engine.fresh().await;
    let db = edited_db(&engine, dir.path());
    let out = insider(
        &engine,
        &format!(
            "{} UPDATE audit_log SET after = replace(after, 'team-frontend', 'team-evil'), hash = 'forged' WHERE entity_id = 'key-maps' AND seq > 78;",
            unlock(&engine)
        ),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(&db, "was altered");
}

async fn a_removed_row_is_named(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    insider(
        &engine,
        &format!("{} DELETE FROM audit_log WHERE seq = 10;", unlock(&engine)),
    );
    verify_fails_with(&db, "audit row 11 does not follow row 9");
}

async fn removing_the_newest_rows_is_detected(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    insider(
        &engine,
        &format!(
            "{} DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log);",
            unlock(&engine)
        ),
    );
    verify_fails_with(&db, "rows were removed from the end");
}

async fn reordered_rows_are_named(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    insider(
        &engine,
        &format!(
            "{} UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -1;",
            unlock(&engine)
        ),
    );
    verify_fails_with(&db, "audit row 3 was altered");
}

async fn audit_log_filters_by_entity_and_exports_json_lines(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    let out = countersign(Path::new(&db))
        .args(["audit", "log", "--identity", "key-maps", "--json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ops: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["update", "create"]);
    assert_eq!(rows[0]["actor"], "tester");

    let file = dir.path().join("audit.jsonl");
    countersign(Path::new(&db))
        .args(["audit", "export", "--out"])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let updates = lines.iter().filter(|l| l["operation"] == "update").count();
    assert!(updates >= 1, "the edit touched every team-web row");
    assert_eq!(
        lines.len(),
        78 + updates + 1,
        "78 demo rows, the edit's updates, one setting"
    );
    assert_eq!(lines[0]["prev_hash"], countersign::store::GENESIS);
    assert!(lines.windows(2).all(|w| w[1]["prev_hash"] == w[0]["hash"]));
    assert_eq!(lines.last().unwrap()["entity"], "setting");
}

on_both_engines!(
    the_table_refuses_updates_and_deletes,
    an_altered_row_is_named,
    a_removed_row_is_named,
    removing_the_newest_rows_is_detected,
    reordered_rows_are_named,
    audit_log_filters_by_entity_and_exports_json_lines,
);
