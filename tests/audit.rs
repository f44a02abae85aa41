//! The audit trail against tampering done the way an insider would: with
//! the `sqlite3` shell on the database file.

mod common;
use common::countersign;

use std::path::Path;

fn sqlite3(db: &Path, sql: &str) -> std::process::Output {
    std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell (Debian package sqlite3) is installed by scripts/test")
}

/// A database with a demo load and an edit in its trail.
fn edited_db(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("inv.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    let file = dir.join("edit.yaml");
    let out = countersign(&db)
        .args(["export", "--format", "native"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("owner: team-web\n", "owner: team-frontend\n");
    std::fs::write(&file, text).unwrap();
    countersign(&db).arg("import").arg(&file).assert().success();
    countersign(&db)
        .args(["settings", "review-stale-days", "60"])
        .assert()
        .success();
    countersign(&db)
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicates::str::contains("audit trail intact"));
    db
}

fn verify_fails_with(db: &Path, expected: &str) {
    let out = countersign(db).args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in {stderr}"
    );
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
}

const UNLOCK: &str =
    "DROP TRIGGER audit_log_is_append_only_update; DROP TRIGGER audit_log_is_append_only_delete;";

#[test]
fn the_table_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    for sql in [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;",
        "DELETE FROM audit_log WHERE seq = 3;",
    ] {
        let out = sqlite3(&db, sql);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("audit_log is append-only"));
    }
    countersign(&db)
        .args(["audit", "verify"])
        .assert()
        .success();
}

#[test]
fn an_altered_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    let out = sqlite3(
        &db,
        &format!("{UNLOCK} UPDATE audit_log SET actor = 'mallory' WHERE seq = 5;"),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(&db, "audit row 5 was altered");

    // Recomputing the altered row's own hash does not help: the next row
    // still points at the old one.
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    let out = sqlite3(
        &db,
        &format!(
            "{UNLOCK} UPDATE audit_log SET after = replace(after, 'team-frontend', 'team-evil'), hash = 'forged' WHERE entity_id = 'key-maps' AND seq > 78;"
        ),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(&db, "was altered");
}

#[test]
fn a_removed_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    sqlite3(
        &db,
        &format!("{UNLOCK} DELETE FROM audit_log WHERE seq = 10;"),
    );
    verify_fails_with(&db, "audit row 11 does not follow row 9");
}

#[test]
fn removing_the_newest_rows_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    sqlite3(
        &db,
        &format!("{UNLOCK} DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log);"),
    );
    verify_fails_with(&db, "rows were removed from the end");
}

#[test]
fn reordered_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    sqlite3(
        &db,
        &format!(
            "{UNLOCK} UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -1;"
        ),
    );
    verify_fails_with(&db, "audit row 3 was altered");
}

#[test]
fn audit_log_filters_by_entity_and_exports_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(dir.path());
    let out = countersign(&db)
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
    countersign(&db)
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
