//! The app and the CLI share one SQLite file, and SQLite's POSIX locks
//! belong to the process: when any code in the app's process opens and
//! closes the database file, the process silently loses its locks, and the
//! next process to close the database takes itself for the last one, then
//! checkpoints and truncates or deletes the WAL the app still writes to
//! (docs/sqlite-locks.md). These tests play that out with real processes:
//! a *holder* process keeps the store open as the app does (this test
//! binary, run again in holder mode), code in it opens and closes the
//! database's files behind SQLite's back, another process (the real
//! `countersign` CLI, or the `sqlite3` shell, which deletes the WAL on
//! close) opens and closes the database, the holder records more signed
//! decisions, and is killed with SIGKILL. Every decision the holder
//! reported as committed must then be in the file, with its outbox and
//! audit rows, and the audit chain must verify.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use countersign::Store;
use countersign::store::{ChangeContext, NewDecision, StoreError};

const HOLDER_DB: &str = "COUNTERSIGN_TEST_HOLDER_DB";
const HOLDER_PLAIN: &str = "COUNTERSIGN_TEST_HOLDER_PLAIN";

/// The holder: reads commands on stdin, answers one `HOLDER …` line each.
/// Only does anything when run by [`Holder::start`].
#[test]
#[ignore = "a helper process for the tests below, not a test of its own"]
fn holder_process() {
    let Some(db) = std::env::var_os(HOLDER_DB).map(PathBuf::from) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    if std::env::var_os(HOLDER_PLAIN).is_some() {
        return rt.block_on(plain_holder(&db));
    }
    let store = rt.block_on(Store::open(&db)).unwrap();
    let ctx = ChangeContext::new("holder", "test");
    // The signing key's record, as the app writes it when a key is made.
    rt.block_on(store.add_active_key("kid-1", r#"{"kty":"OKP"}"#, &ctx))
        .unwrap();
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let answer = match verb {
            // Records a decision with an outbox row and its audit entry,
            // the rows the app writes when an owner signs.
            "decide" => {
                // Claims and JWS agree, as a real decision's do (audit
                // verify compares them); the signature is not checked here.
                let digest = countersign::signing::request_digest(&serde_json::json!({}));
                let claims = format!(
                    r#"{{"jti":"{arg}","decision":"approve","request_id":"req-shared-file","request_digest":"{digest}","approver":{{"id":"holder"}}}}"#
                );
                let jws = {
                    use base64::Engine as _;
                    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                    format!("{}.{}.sig", b64.encode("{}"), b64.encode(&claims))
                };
                let result = rt.block_on(store.record_decision(
                    NewDecision {
                        jti: arg,
                        request_id: "req-shared-file",
                        request_json: "{}",
                        decision: "approve",
                        kid: "kid-1",
                        jws: &jws,
                        claims_json: &claims,
                        destination: Some("http://127.0.0.1:9/"),
                    },
                    &ctx,
                ));
                match result {
                    Ok(()) => "ok".to_owned(),
                    Err(e @ StoreError::LocksLost { .. }) => format!("refused {e}"),
                    Err(e) => format!("error {e}"),
                }
            }
            // Opens and closes one of the database's files as other code
            // in the process might (a file dialog sniffing contents, a
            // thumbnailer, a hash for a backup).
            "touch" => {
                let path = format!("{}{arg}", db.display());
                drop(std::fs::File::open(&path).unwrap());
                "ok".to_owned()
            }
            other => format!("error unknown command {other}"),
        };
        writeln!(out, "HOLDER {answer}").unwrap();
        out.flush().unwrap();
    }
}

/// The control: the same commands on a bare SQLite connection in WAL mode,
/// in a process where no store ever opened (so without the guard), writing
/// one row per decision.
async fn plain_holder(db: &Path) {
    use sqlx::{ConnectOptions as _, Executor as _};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .connect()
        .await
        .unwrap();
    conn.execute("CREATE TABLE IF NOT EXISTS plain_decisions (jti TEXT PRIMARY KEY)")
        .await
        .unwrap();
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let answer = match verb {
            "decide" => match sqlx::query("INSERT INTO plain_decisions (jti) VALUES ($1)")
                .bind(arg)
                .execute(&mut conn)
                .await
            {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("error {e}"),
            },
            "touch" => {
                drop(std::fs::File::open(format!("{}{arg}", db.display())).unwrap());
                "ok".to_owned()
            }
            other => format!("error unknown command {other}"),
        };
        writeln!(out, "HOLDER {answer}").unwrap();
        out.flush().unwrap();
    }
}

struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    fn start(db: &Path) -> Holder {
        Holder::spawn(db, false)
    }

    /// A holder without the guard, for the control test.
    fn start_plain(db: &Path) -> Holder {
        Holder::spawn(db, true)
    }

    fn spawn(db: &Path, plain: bool) -> Holder {
        let mut command = Command::new(std::env::current_exe().unwrap());
        if plain {
            command.env(HOLDER_PLAIN, "1");
        }
        let mut child = command
            .args([
                "--exact",
                "holder_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLDER_DB, db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Holder {
            child,
            stdin,
            stdout,
        }
    }

    fn send(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "the holder exited before answering {command:?}");
            // libtest may print "test holder_process ... " before it.
            if let Some(at) = line.find("HOLDER ") {
                return line[at + "HOLDER ".len()..].trim_end().to_owned();
            }
        }
    }

    /// Records decision `jti`; returns whether the holder says it is
    /// committed. A refusal (the guard saw the locks lost) is answered by
    /// trying once more, as a person would after reading the message.
    fn decide(&mut self, jti: &str, refusals: &mut Vec<String>) {
        let answer = self.send(&format!("decide {jti}"));
        if let Some(why) = answer.strip_prefix("refused ") {
            refusals.push(why.to_owned());
            let again = self.send(&format!("decide {jti}"));
            assert_eq!(again, "ok", "after reopening, {jti}: {again}");
            return;
        }
        assert_eq!(answer, "ok", "{jti}: {answer}");
    }

    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Runs `cmd`, which must fail, and returns what it said on stderr.
fn failure_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.assert().failure();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// Another process opening and closing the database, as the CLI does.
fn cli_write(db: &Path) {
    common::countersign(db)
        .args(["settings", "review-stale-days", "45"])
        .assert()
        .success();
}

/// What a fresh process finds in the file once the holder is gone.
fn committed_in_file(db: &Path) -> (Vec<String>, u64, u64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(db).await.unwrap();
        let decisions: Vec<String> = store
            .decisions(Some("req-shared-file"))
            .await
            .unwrap()
            .into_iter()
            .map(|d| {
                assert!(d.destination.is_some(), "{} lost its outbox row", d.jti);
                d.jti
            })
            .collect();
        let audited = store
            .audit_log(None, 10_000)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.entity == "decision")
            .count() as u64;
        let keys = store.signing_keys().await.unwrap();
        assert!(
            keys.iter().any(|k| k.kid == "kid-1"),
            "the signing key's record survived"
        );
        let verified = store
            .verify_audit()
            .await
            .unwrap()
            .expect("the audit chain verifies");
        store.close().await;
        (decisions, audited, verified.rows)
    })
}

/// Runs the reproduction: decisions before, `touch`es in the holder, the
/// `other` process, decisions after, SIGKILL; then checks the file.
fn reproduce(touched: &[&str], other: impl Fn(&Path)) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("countersign.db");
    // The database exists, as the app finds it, before the holder opens it.
    cli_write(&db);
    let mut holder = Holder::start(&db);
    let mut committed = Vec::new();
    let mut refusals = Vec::new();
    for jti in ["before-1", "before-2", "before-3"] {
        holder.decide(jti, &mut refusals);
        committed.push(jti.to_owned());
    }
    for suffix in touched {
        assert_eq!(holder.send(&format!("touch {suffix}")), "ok");
    }
    other(&db);
    for jti in ["after-1", "after-2", "after-3"] {
        holder.decide(jti, &mut refusals);
        committed.push(jti.to_owned());
    }
    // Another round: the reopened store keeps its locks.
    other(&db);
    holder.decide("after-reopen", &mut refusals);
    committed.push("after-reopen".into());
    holder.kill_9();

    let (mut found, audited, chain_rows) = committed_in_file(&db);
    found.sort();
    committed.sort();
    assert_eq!(found, committed, "every committed decision is in the file");
    assert_eq!(audited, committed.len() as u64, "each has its audit entry");
    assert!(
        chain_rows > audited,
        "the chain covers the CLI's writes too"
    );
    refusals
}

#[test]
fn a_closed_descriptor_in_the_app_process_loses_no_committed_decision() {
    // The database file itself: the process's locks on it are gone, and
    // the CLI's close would take itself for the last connection.
    let refusals = reproduce(&[""], cli_write);
    assert_eq!(
        refusals.len(),
        1,
        "the first write after the locks were lost is refused, then the store reopens: {refusals:?}"
    );
    assert!(
        refusals[0].contains("no longer holds SQLite's lock")
            && refusals[0].contains("reopened the database"),
        "{}",
        refusals[0]
    );
}

#[test]
fn a_file_chooser_reading_every_file_in_the_folder_loses_no_committed_decision() {
    // What an in-process file dialog does when it shows the database's
    // folder: it reads each file to tell its type. The -shm carries the
    // WAL's own locks, so the writer lock goes too, and the CLI takes
    // itself for the first and the last connection.
    let refusals = reproduce(&["", "-wal", "-shm"], cli_write);
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].contains("lock"), "{}", refusals[0]);
}

#[test]
fn another_program_deleting_the_wal_loses_no_committed_decision() {
    let refusals = reproduce(&[""], sqlite3_shell);
    assert!(!refusals.is_empty(), "the lost WAL is noticed");
    assert!(
        refusals.iter().all(|r| r.contains("reopened the database")),
        "{refusals:?}"
    );
}

/// The sqlite3 shell as another program: not in persistent-WAL mode, so as
/// the last connection it checkpoints and deletes the -wal and -shm.
fn sqlite3_shell(db: &Path) {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg("SELECT count(*) FROM sqlite_master;")
        .output()
        .expect("the sqlite3 shell (Debian package sqlite3) runs");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn another_program_recreating_a_deleted_wal_loses_no_committed_decision() {
    // Someone deletes the -wal as a stray file; the next program to open
    // the database finds none and makes a new, empty one. The holder's
    // connections still write to the deleted one.
    let delete_and_reopen = |db: &Path| {
        std::fs::remove_file(format!("{}-wal", db.display())).unwrap();
        // The shell opens the database, makes a new -wal, and fails (the
        // index names frames the new file does not have): that is fine.
        let _ = Command::new("sqlite3")
            .arg(db)
            .arg("SELECT count(*) FROM sqlite_master;")
            .output()
            .expect("the sqlite3 shell (Debian package sqlite3) runs");
        assert!(Path::new(&format!("{}-wal", db.display())).exists());
    };
    let refusals = reproduce(&[], delete_and_reopen);
    assert_eq!(refusals.len(), 2, "one per deleted WAL: {refusals:?}");
    assert!(
        refusals[0].contains("write-ahead log") && refusals[0].contains("deleted or replaced"),
        "{}",
        refusals[0]
    );
}

/// The control: without the guard, the same scenario loses committed rows,
/// so the tests above could fail.
#[test]
fn without_the_guard_the_same_scenario_loses_committed_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plain.db");
    let mut holder = Holder::start_plain(&db);
    let mut refusals = Vec::new();
    for jti in ["before-1", "before-2"] {
        holder.decide(jti, &mut refusals);
    }
    assert_eq!(holder.send("touch "), "ok");
    sqlite3_shell(&db);
    for jti in ["after-1", "after-2"] {
        holder.decide(jti, &mut refusals);
    }
    holder.kill_9();
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*) FROM plain_decisions;")
        .output()
        .unwrap();
    let kept: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(refusals.is_empty());
    assert_eq!(
        kept, 2,
        "the two rows committed after the stray close are lost"
    );
}

#[test]
fn without_a_stray_close_the_cli_and_the_holder_share_the_file_quietly() {
    let refusals = reproduce(&[], cli_write);
    assert!(
        refusals.is_empty(),
        "no refusal without cause: {refusals:?}"
    );
}

/// `db backup` copies what is still in the WAL of a database another
/// process holds open (a copy of the file alone would miss it), checks the
/// copy, and refuses the database's own files.
#[test]
fn a_backup_while_the_app_holds_the_database_is_whole_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("countersign.db");
    cli_write(&db);
    let mut holder = Holder::start(&db);
    let mut refusals = Vec::new();
    for jti in ["in-wal-1", "in-wal-2"] {
        holder.decide(jti, &mut refusals);
    }
    let backup = dir.path().join("backup.db");
    let out = common::countersign(&db)
        .args(["db", "backup", "--json", "--to"])
        .arg(&backup)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["decisions"], 2, "{report}");
    assert!(report["audit_rows"].as_u64().unwrap() >= 4, "{report}");
    // A self-contained file in rollback-journal mode (opening it makes no
    // -wal), with no temporary file left, and it opens on its own.
    let mode = Command::new("sqlite3")
        .arg(&backup)
        .arg("PRAGMA journal_mode;")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&mode.stdout).trim(), "delete");
    assert!(!dir.path().join(".backup.db.partial").exists());
    common::countersign(&backup)
        .args(["audit", "verify"])
        .assert()
        .success();

    // Not over an existing file unless asked; never over the database.
    let stderr = failure_of(
        common::countersign(&db)
            .args(["db", "backup", "--to"])
            .arg(&backup),
    );
    assert!(stderr.contains("already exists"), "{stderr}");
    common::countersign(&db)
        .args(["db", "backup", "--force", "--to"])
        .arg(&backup)
        .assert()
        .success();
    for own in ["countersign.db", "countersign.db-wal", "countersign.db-shm"] {
        let stderr = failure_of(
            common::countersign(&db)
                .args(["db", "backup", "--force", "--to"])
                .arg(dir.path().join(own)),
        );
        assert!(
            stderr.contains("of the database being backed up") && stderr.contains(own),
            "{own}: {stderr}"
        );
    }
    // Over an old backup that was opened since (Countersign keeps a -wal
    // and -shm beside every database it opens), --force replaces those too,
    // so the new copy is not read through the old WAL.
    std::fs::write(dir.path().join("backup.db-wal"), b"stale frames").unwrap();
    common::countersign(&db)
        .args(["db", "backup", "--force", "--to"])
        .arg(&backup)
        .assert()
        .success();
    assert!(!dir.path().join("backup.db-wal").exists());
    common::countersign(&backup)
        .args(["audit", "verify"])
        .assert()
        .success();
    // Never over a database another program has open, even with --force.
    let other = dir.path().join("other.db");
    let mut other_holder = Holder::start(&other);
    other_holder.decide("other-1", &mut refusals);
    let stderr = failure_of(
        common::countersign(&db)
            .args(["db", "backup", "--force", "--to"])
            .arg(&other),
    );
    assert!(stderr.contains("another program has it open"), "{stderr}");
    other_holder.kill_9();
    // Where it cannot go, it says why in terms of the backup.
    for (to, says) in [
        (dir.path().join("missing/b.db"), "does not exist"),
        (
            dir.path().to_path_buf(),
            "it is a directory; name a file in it",
        ),
    ] {
        let stderr = failure_of(
            common::countersign(&db)
                .args(["db", "backup", "--to"])
                .arg(&to),
        );
        assert!(stderr.contains(says), "{}: {stderr}", to.display());
        assert!(!stderr.contains(".partial"), "{stderr}");
    }
    // The holder's database is untouched by all this.
    holder.decide("after-backups", &mut refusals);
    assert!(refusals.is_empty(), "{refusals:?}");
    holder.kill_9();
    let (found, _, _) = committed_in_file(&db);
    assert_eq!(found.len(), 3);
}

/// Reading or writing an open database as a plain file is refused wherever
/// the CLI takes a path: an import, an export, a report.
#[test]
fn the_cli_never_reads_or_writes_its_own_database_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("countersign.db");
    cli_write(&db);
    let attempts: [&[&str]; 4] = [
        &["import", "DB"],
        &["import", "DB-wal", "--dry-run"],
        &["export", "--format", "native", "--out", "DB"],
        &["export", "--format", "dot", "--out", "DB-shm"],
    ];
    // CSV writes one file per table into a directory: a database named
    // like one of them is refused too.
    let csv_dir = dir.path().join("tables");
    std::fs::create_dir(&csv_dir).unwrap();
    let named_like_a_table = csv_dir.join("owners.csv");
    common::countersign(&named_like_a_table)
        .args(["demo", "load"])
        .assert()
        .success();
    let stderr = failure_of(
        common::countersign(&named_like_a_table)
            .args(["export", "--format", "csv", "--out"])
            .arg(&csv_dir),
    );
    assert!(stderr.contains("of the Countersign database"), "{stderr}");
    common::countersign(&named_like_a_table)
        .args(["audit", "verify"])
        .assert()
        .success();
    let before = std::fs::read(&db).unwrap().len();
    for args in attempts {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("DB", &db.display().to_string()))
            .collect();
        let stderr = failure_of(common::countersign(&db).args(&args));
        assert!(
            stderr.contains("of the Countersign database"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap().len(), before);
    common::countersign(&db)
        .args(["audit", "verify"])
        .assert()
        .success();
}

#[tokio::test]
async fn a_team_database_on_postgresql_is_backed_up_with_its_own_tools() {
    let db = common::TestDb::postgres().await;
    let store = db.open().await;
    let dir = tempfile::tempdir().unwrap();
    let err = store
        .backup_to(&dir.path().join("team.db"), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, countersign::store::BackupError::NotSqlite { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("pg_dump"), "{err}");
    assert!(!dir.path().join("team.db").exists());
    store.close().await;
}

#[test]
fn db_info_says_whether_commits_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("countersign.db");
    let out = common::countersign(&db)
        .args(["db", "info"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let expected = if cfg!(target_os = "linux") {
        "commit guard:   on: SQLite's locks and the WAL are checked before each commit"
    } else {
        "commit guard:   lock checks unavailable here"
    };
    assert!(out.contains(expected), "{out}");
}

/// Many stores committing at once in one process, with stores opening and
/// closing around them, so the kernel's lock table changes all the time:
/// the commit guard must never take that churn for a lost lock (it reads
/// the table whole, in one call; read in pieces, entries that moved
/// between the pieces were missed and a commit refused as `LocksLost`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_table_churn_is_never_taken_for_a_lost_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let path = dir.path().join(format!("w{w}.db"));
        tasks.push(tokio::spawn(async move {
            let store = countersign::Store::open(&path).await.unwrap();
            let ctx = countersign::store::ChangeContext::new(format!("w{w}"), "test");
            for n in 0..40 {
                store
                    .set_setting("review_stale_days", &(30 + n).to_string(), &ctx)
                    .await
                    .unwrap_or_else(|e| panic!("writer {w}, commit {n}: {e}"));
            }
            store.close().await;
        }));
    }
    // Churn: stores opened, written once and closed, over and over.
    let churn_dir = dir.path().to_owned();
    let churn = tokio::spawn(async move {
        for n in 0..30 {
            let store = countersign::Store::open(&churn_dir.join(format!("c{n}.db")))
                .await
                .unwrap();
            store.close().await;
        }
    });
    for t in tasks {
        t.await.unwrap();
    }
    churn.await.unwrap();
}
