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

    // Recomputing the altered row's own hash (correctly, over its new
    // contents) does not help: the next row still points at the old one.
    let engine = engine.fresh().await;
    let db = edited_db(&engine, dir.path());
    let mut rows = trail(&db);
    let at = rows
        .iter()
        .position(|r| r.entity_id == "key-maps" && r.seq > 78)
        .unwrap();
    assert!(at + 1 < rows.len(), "a row follows the altered one");
    let row = &mut rows[at];
    row.after = row
        .after
        .as_ref()
        .map(|a| a.replace("team-frontend", "team-evil"));
    row.hash = row.compute_hash();
    let out = insider(
        &engine,
        &format!(
            "{} UPDATE audit_log SET after = '{}', hash = '{}' WHERE seq = {};",
            unlock(&engine),
            row.after.as_deref().unwrap().replace('\'', "''"),
            row.hash,
            row.seq
        ),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(
        &db,
        &format!("audit row {} does not follow row {}", row.seq + 1, row.seq),
    );
}

/// The whole trail, oldest first, as `audit export` writes it.
fn trail(db: &str) -> Vec<countersign::store::AuditEntry> {
    let out = countersign(Path::new(db))
        .args(["audit", "export"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().map(str::to_owned);
            countersign::store::AuditEntry {
                seq: v["seq"].as_i64().unwrap(),
                at: s("at").unwrap(),
                actor: s("actor").unwrap(),
                operation: s("operation").unwrap(),
                entity: s("entity").unwrap(),
                entity_id: s("entity_id").unwrap(),
                before: s("before"),
                after: s("after"),
                source: s("source").unwrap(),
                prev_hash: s("prev_hash").unwrap(),
                hash: s("hash").unwrap(),
            }
        })
        .collect()
}

/// Lifts every guard an administrator could: the append-only triggers and
/// the write triggers (SQLite: dropped; PostgreSQL: disabled on the audit
/// trail, and the session setting Countersign's own connections carry).
fn lift_all(db: &TestDb) -> &'static str {
    match db {
        TestDb::Sqlite(_) => {
            "DROP TRIGGER audit_log_is_append_only_update; DROP TRIGGER audit_log_is_append_only_delete; \
             DROP TRIGGER audit_log_insert_is_audited; DROP TRIGGER settings_update_is_audited; \
             DROP TRIGGER identities_update_is_audited;"
        }
        TestDb::Postgres { .. } => {
            "ALTER TABLE audit_log DISABLE TRIGGER USER; SET countersign.write_is_audited = 'on';"
        }
    }
}

/// Plain SQL from the engine's own client cannot change the inventory or
/// append to the trail, and TRUNCATE is refused; an administrator who lifts
/// those guards and changes an identity is named by `audit verify`, which
/// compares every entity with its last audited state (issue 14).
async fn plain_sql_writes_are_refused_or_named(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    let refused = |sql: &str, expected: &str| {
        let out = insider(&engine, sql);
        assert!(!out.status.success(), "{sql}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{sql}: {stderr}");
    };
    let guard_message = match engine {
        TestDb::Sqlite(_) => "countersign_write_is_audited",
        TestDb::Postgres { .. } => "write through Countersign",
    };
    refused(
        "UPDATE identities SET name = 'Renamed quietly' WHERE id = 'key-maps';",
        guard_message,
    );
    refused(
        "INSERT INTO owners (id, kind, name) VALUES ('team-ghost', 'team', 'Ghost');",
        guard_message,
    );
    refused(
        "UPDATE settings SET value = '1' WHERE key = 'review_stale_days';",
        guard_message,
    );
    let last = trail(&db).pop().unwrap();
    refused(
        &format!(
            "INSERT INTO audit_log (seq, at, actor, operation, entity, entity_id, before, after, source, prev_hash, hash) \
             VALUES ({}, '2026-01-01T00:00:00Z', 'mallory', 'update', 'identity', 'key-maps', NULL, NULL, 'sql', '{}', 'forged');",
            last.seq + 1,
            last.hash
        ),
        match engine {
            TestDb::Sqlite(_) => "countersign_write_is_audited",
            TestDb::Postgres { .. } => "audit_log",
        },
    );
    match engine {
        TestDb::Sqlite(_) => refused("DELETE FROM audit_log;", "append-only"),
        TestDb::Postgres { .. } => refused("TRUNCATE audit_log;", "append-only"),
    }
    countersign(Path::new(&db))
        .args(["audit", "verify"])
        .assert()
        .success();

    // Around the guards: the change is found and named.
    let out = insider(
        &engine,
        &format!(
            "{} UPDATE identities SET name = 'Renamed quietly' WHERE id = 'key-maps';",
            lift_all(&engine)
        ),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(&db, "identity key-maps differs from its last audited state");

    // An appended row, chained but not hashed by Countersign, is named too.
    let engine = engine.fresh().await;
    let db = edited_db(&engine, dir.path());
    let last = trail(&db).pop().unwrap();
    let out = insider(
        &engine,
        &format!(
            "{} INSERT INTO audit_log (seq, at, actor, operation, entity, entity_id, before, after, source, prev_hash, hash) \
             VALUES ({}, '2026-01-01T00:00:00Z', 'mallory', 'update', 'setting', 'x', NULL, '\"1\"', 'sql', '{}', 'forged');",
            lift_all(&engine),
            last.seq + 1,
            last.hash
        ),
    );
    assert!(out.status.success(), "{out:?}");
    verify_fails_with(&db, &format!("audit row {} was altered", last.seq + 1));
}

/// A database with a signing key and a signed decision queued for
/// delivery, on top of [`edited_db`].
async fn with_decision(engine: &TestDb, dir: &Path) -> String {
    let db = edited_db(engine, dir);
    let store = engine.open().await;
    common::sign_a_denial(&store, "auditor", "req-audited").await;
    store.close().await;
    countersign(Path::new(&db))
        .args(["audit", "verify"])
        .assert()
        .success();
    db
}

/// Beyond the inventory: the delivery state cannot be forged with SQL,
/// and a decision, a key's status or the recorded head changed around the
/// guards is named by `audit verify` (issue 14).
async fn keys_decisions_delivery_and_the_head_are_guarded_too(engine: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = with_decision(&engine, dir.path()).await;
    let out = insider(&engine, "UPDATE outbox SET receipt = 'accepted';");
    assert!(!out.status.success(), "{out:?}");
    let lift = |extra: &str| match engine {
        TestDb::Sqlite(_) => format!("DROP TRIGGER {extra};"),
        TestDb::Postgres { .. } => "SET countersign.write_is_audited = 'on';".to_owned(),
    };
    let cases = [
        (
            "decisions_update_is_audited",
            "UPDATE decisions SET decision = 'approve';",
            "differs from its audit record",
        ),
        (
            "decisions_update_is_audited",
            "UPDATE decisions SET request_json = '{\"id\": \"req-audited\", \"action\": \"disable_account\"}';",
            "differs from its audit record",
        ),
        (
            "decisions_delete_is_audited",
            "DELETE FROM outbox; DELETE FROM decisions;",
            "was removed, but its audit record",
        ),
        (
            "signing_keys_update_is_audited",
            "UPDATE signing_keys SET status = 'retired';",
            "is retired, but its audit records",
        ),
        (
            "settings_delete_is_audited",
            "DELETE FROM settings WHERE key = 'audit_head';",
            "the head recorded with them",
        ),
    ];
    for (trigger, sql, expected) in cases {
        let engine = engine.fresh().await;
        let db = with_decision(&engine, dir.path()).await;
        let extra = if sql.contains("outbox") && matches!(engine, TestDb::Sqlite(_)) {
            format!("{} DROP TRIGGER outbox_delete_is_audited;", lift(trigger))
        } else {
            lift(trigger)
        };
        let out = insider(&engine, &format!("{extra} {sql}"));
        assert!(out.status.success(), "{sql}: {out:?}");
        verify_fails_with(&db, expected);
    }
    countersign(Path::new(&db))
        .args(["audit", "verify"])
        .assert()
        .success();
}

/// A trail rewritten after a checkpoint — every hash recomputed so the
/// chain holds again, the head moved to match — passes the chain check
/// but not the checkpoint: the signed row is no longer there as signed.
async fn a_rechained_trail_fails_its_checkpoint(engine: TestDb) {
    use countersign::signing::{Keys, MemorySecrets};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let db = edited_db(&engine, dir.path());
    let store = engine.open().await;
    let secrets = Arc::new(MemorySecrets::default());
    let keys = Keys::new(&store, secrets.clone());
    let ctx = countersign::store::ChangeContext::new("auditor", "test");
    keys.init(&ctx).await.unwrap();
    let (claims, jws) = countersign::checkpoint::create(&store, &keys, "auditor")
        .await
        .unwrap();
    let jwks = countersign::checkpoint::local_jwks(&keys).await.unwrap();
    countersign::checkpoint::verify(&store, &jws, &jwks)
        .await
        .unwrap();
    store.close().await;

    // Rewrite row 5's actor and re-chain everything after it.
    let mut rows = trail(&db);
    let mut sql = String::from(lift_all(&engine));
    for i in 4..rows.len() {
        if i == 4 {
            rows[i].actor = "mallory".into();
        } else {
            rows[i].prev_hash = rows[i - 1].hash.clone();
        }
        rows[i].hash = rows[i].compute_hash();
        sql.push_str(&format!(
            " UPDATE audit_log SET actor = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {};",
            rows[i].actor, rows[i].prev_hash, rows[i].hash, rows[i].seq
        ));
    }
    let head = rows.last().unwrap();
    sql.push_str(&format!(
        " UPDATE settings SET value = '{}:{}' WHERE key = 'audit_head';",
        head.seq, head.hash
    ));
    let out = insider(&engine, &sql);
    assert!(out.status.success(), "{out:?}");
    // The chain holds again; what gives the rewrite away without a
    // checkpoint is only that the guards were lifted to make it...
    verify_fails_with(&db, "write guards were removed or disabled");
    // ...and the checkpoint names the rewritten row.
    let store = engine.open().await;
    let err = countersign::checkpoint::verify(&store, &jws, &jwks)
        .await
        .unwrap_err();
    assert!(
        matches!(err, countersign::checkpoint::CheckpointError::Rewritten { seq, .. } if seq == claims.seq),
        "{err}"
    );
    // The checkpoint file checked by the CLI, with the signer's JWKS.
    let file = dir.path().join("checkpoint.jws");
    std::fs::write(&file, &jws).unwrap();
    let keys_file = dir.path().join("jwks.json");
    std::fs::write(&keys_file, jwks.to_string()).unwrap();
    let out = countersign(Path::new(&db))
        .args(["audit", "verify", "--checkpoint"])
        .arg(&file)
        .arg("--jwks")
        .arg(&keys_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "audit row {} is not the row auditor signed",
            claims.seq
        )),
        "{stderr}"
    );
    store.close().await;
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
    plain_sql_writes_are_refused_or_named,
    keys_decisions_delivery_and_the_head_are_guarded_too,
    a_rechained_trail_fails_its_checkpoint,
);
