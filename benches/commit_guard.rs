//! What the commit guard (src/store/guard.rs, docs/sqlite-locks.md) costs:
//! the same one-row autocommit INSERT on a SQLite file in WAL mode, first
//! on a connection opened before the guard exists in the process, then on
//! one opened after (persistent WAL, the commit hook with its lock-table
//! and WAL checks). Both in one run, on the same disk, same settings.
//! Prints a Markdown table for docs/benchmarks.md.
//!   cargo bench --bench commit_guard

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, Executor as _};

const COMMITS: usize = 5_000;
const ROUNDS: usize = 5;

async fn per_commit(path: &Path) -> Duration {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .unwrap();
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .await
        .unwrap();
    // With the guard installed, this also turns its lock checks on (as the
    // store does on open): the connection now holds SQLite's shared lock.
    countersign::store::guard::lock_checks_on(path);
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for i in 0..COMMITS {
            sqlx::query("INSERT INTO t (v) VALUES ($1)")
                .bind(format!("row {i}"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        best = best.min(start.elapsed() / COMMITS as u32);
    }
    conn.close().await.unwrap();
    best
}

fn count(path: &str) -> usize {
    std::fs::read_dir(path).map(|d| d.count()).unwrap_or(0)
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let plain = per_commit(&dir.path().join("plain.db")).await;
        // Opening a store installs the guard for every later connection.
        let store = countersign::Store::open(&dir.path().join("store.db"))
            .await
            .unwrap();
        let guarded_path = dir.path().join("guarded.db");
        let guarded = per_commit(&guarded_path).await;
        let checks = countersign::store::guard::lock_checks_on(&guarded_path);
        let descriptors = count("/proc/self/fd");
        // The desktop app's process has a few hundred descriptors open
        // (WebKit, GTK, D-Bus); the guard looks through them for the WAL.
        let extra: Vec<std::fs::File> = (0..300)
            .map(|_| std::fs::File::open("/dev/null").unwrap())
            .collect();
        let crowded = per_commit(&dir.path().join("crowded.db")).await;
        drop(extra);
        // What each check reads: the system's whole lock table.
        let locks = std::fs::read_to_string("/proc/locks")
            .map(|t| t.lines().count())
            .unwrap_or(0);
        store.close().await;
        println!(
            "{COMMITS} one-row autocommit INSERTs, best of {ROUNDS} rounds; lock checks on: {checks}; {locks} lines in /proc/locks\n"
        );
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!("| connection | open descriptors | µs per commit | guard's cost, µs |");
        println!("| --- | ---: | ---: | ---: |");
        println!("| without the guard | {descriptors} | {:.1} | |", us(plain));
        println!(
            "| with the guard | {descriptors} | {:.1} | {:.1} |",
            us(guarded),
            us(guarded) - us(plain)
        );
        println!(
            "| with the guard | {} | {:.1} | {:.1} |",
            descriptors + 300,
            us(crowded),
            us(crowded) - us(plain)
        );
    });
}
