//! What one edit costs on a large inventory, end to end inside a process
//! (the app's save, or the CLI's): the edit read, checked and written in
//! its transaction, and then the engine graph brought up to date so the
//! next blast radius sees it (`GraphCache::refresh`, patched from the
//! audit trail). Run against a database `bench/edit-latency` filled.
//!
//!     cargo run --release --example edit_latency -- DB [EDITS]
//!
//! DB is a SQLite file or a `postgres://` URL. Prints one JSON object.

/// The allocator the shipped binaries use, so figures are theirs (see Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use countersign::Store;
use countersign::graph::cache::{GraphCache, Refresh};
use countersign::model::{ContainmentAction, Usage};
use countersign::store::{ChangeContext, Edit};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p90(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * 9 / 10).min(v.len() - 1)]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .expect("a database: a SQLite file or a postgres:// URL");
    let edits: usize = args.next().map_or(30, |n| n.parse().expect("a number"));
    let store = Store::connect(&db).await.expect("the database opens");
    let counts = store.counts().await.expect("counts");
    let ctx = ChangeContext::new("bench", "bench");
    let cache = GraphCache::new();

    let t = Instant::now();
    let (_, graph, how) = cache.refresh(&store).await.expect("graph");
    let cold = t.elapsed().as_secs_f64();
    assert_eq!(how, Refresh::Rebuilt);
    drop(graph);

    // Identities spread over the inventory, each renamed and given one
    // more consumer: a save from the identity form.
    let step = (counts.identities as usize / edits).max(1);
    let (mut edit_ms, mut refresh_ms, mut total_ms) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..edits {
        let id = format!("id-{}", k * step);
        let t = Instant::now();
        let mut x = match store.identity(&id).await {
            Ok(x) => x,
            Err(_) => continue,
        };
        x.name = format!("{} (edited)", x.name);
        let extra = format!("svc-{}", (k * 7919) % counts.services as usize);
        if !x.used_by.iter().any(|u| u.service == extra) {
            x.used_by.push(Usage::of(extra));
        }
        store
            .edit(Edit::SaveIdentity(Box::new(x)), None, &ctx)
            .await
            .expect("the edit is valid");
        let edited = t.elapsed().as_secs_f64();
        let (_, graph, how) = cache.refresh(&store).await.expect("graph");
        let total = t.elapsed().as_secs_f64();
        assert_eq!(how, Refresh::Patched(1), "caught up by patching");
        // The next query sees the edit.
        let r = graph
            .blast(&[(id.as_str(), ContainmentAction::DisableAccount)])
            .expect("known identity");
        assert!(r.summary.services >= 1);
        edit_ms.push(edited * 1e3);
        refresh_ms.push((total - edited) * 1e3);
        total_ms.push(total * 1e3);
    }
    println!(
        "{{\"db\": {:?}, \"identities\": {}, \"services\": {}, \"edits\": {}, \"graph_build_s\": {cold:.3}, \"edit_ms_median\": {:.2}, \"edit_ms_p90\": {:.2}, \"patch_ms_median\": {:.2}, \"total_ms_median\": {:.2}, \"total_ms_p90\": {:.2}}}",
        if db.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        },
        counts.identities,
        counts.services,
        total_ms.len(),
        median(&mut edit_ms),
        p90(&mut edit_ms),
        median(&mut refresh_ms),
        median(&mut total_ms),
        p90(&mut total_ms),
    );
    store.close().await;
}
