//! Concurrent owners editing one inventory: edits per second that land,
//! and how many are refused as conflicts (and retried on fresh data), for
//! SQLite and PostgreSQL, with writers on shared rows and on rows of their
//! own. Each writer has its own connection pool, as separate apps do.
//! Run through `bench/team` (it starts a throwaway PostgreSQL); prints a
//! Markdown table for docs/benchmarks.md.

use std::time::Instant;

use countersign::Store;
use countersign::store::{ChangeContext, Edit, StoreError};

const EDITS_EACH: usize = 40;
const SHARED: [&str; 3] = ["key-maps", "tok-kafka-shared", "sa-payments-api"];

struct Outcome {
    edits: usize,
    conflicts: usize,
    seconds: f64,
}

async fn fresh(engine: &str, admin: &str, dir: &std::path::Path, n: usize) -> String {
    match engine {
        "SQLite" => dir.join(format!("bench-{n}.db")).display().to_string(),
        _ => {
            use sqlx::{Connection as _, Executor as _};
            let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .unwrap();
            let mut url = reqwest::Url::parse(admin).unwrap();
            url.set_path(&name);
            url.to_string()
        }
    }
}

async fn run(target: &str, writers: usize, shared: bool) -> Outcome {
    let store = Store::connect(target).await.unwrap();
    countersign::demo::load(&store, false, "bench")
        .await
        .unwrap();
    let rows: Vec<String> = store
        .list_identities(None, None, None)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.id)
        .collect();
    store.close().await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let target = target.to_owned();
        let own = rows[w % rows.len()].clone();
        tasks.push(tokio::spawn(async move {
            let store = Store::connect(&target).await.unwrap();
            let ctx = ChangeContext::new(format!("owner-{w}"), "bench");
            let mut conflicts = 0;
            for e in 0..EDITS_EACH {
                let row = if shared {
                    SHARED[(w + e) % SHARED.len()].to_owned()
                } else {
                    own.clone()
                };
                loop {
                    let d = store.identity_detail(&row).await.unwrap();
                    let mut i = d.identity;
                    i.description = format!("edit {w}.{e}");
                    match store
                        .edit(Edit::SaveIdentity(Box::new(i)), Some(d.version), &ctx)
                        .await
                    {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(other) => panic!("{other}"),
                    }
                }
            }
            store.close().await;
            conflicts
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let store = Store::connect(target).await.unwrap();
    assert!(store.verify_audit().await.unwrap().is_ok());
    store.close().await;
    Outcome {
        edits: writers * EDITS_EACH,
        conflicts,
        seconds,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    sqlx::any::install_default_drivers();
    let admin = std::env::var("COUNTERSIGN_TEST_POSTGRES").expect(
        "run through bench/team, which starts a PostgreSQL and sets COUNTERSIGN_TEST_POSTGRES",
    );
    let dir = tempfile::tempdir().unwrap();
    println!(
        "| engine | rows edited | writers | edits | edits/s | conflicts refused and retried |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    let mut n = 0;
    for engine in ["SQLite", "PostgreSQL"] {
        for shared in [false, true] {
            for writers in [1, 4, 8] {
                if shared && writers == 1 {
                    continue;
                }
                n += 1;
                let target = fresh(engine, &admin, dir.path(), n).await;
                let o = run(&target, writers, shared).await;
                println!(
                    "| {engine} | {} | {writers} | {} | {:.0} | {} |",
                    if shared { "3 shared" } else { "one each" },
                    o.edits,
                    o.edits as f64 / o.seconds,
                    o.conflicts
                );
            }
        }
    }
}
