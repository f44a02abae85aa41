//! Where the explorer's core time goes for one identity's radius:
//! `cargo run --release --example explore_timing -- DB IDENTITY`.

/// The allocator the shipped binaries use, so figures are theirs (see Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use countersign::Store;
use countersign::graph::blast_radius::BlastGraph;
use countersign::model::ContainmentAction;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = Store::open(std::path::Path::new(&args[1])).await.unwrap();
    let t = Instant::now();
    let inv = store.snapshot().await.unwrap();
    let graph = BlastGraph::new(&inv);
    println!("snapshot + graph: {:?}", t.elapsed());
    let target = [(args[2].as_str(), ContainmentAction::DisableAccount)];
    for _ in 0..3 {
        let t = Instant::now();
        let blast = graph.blast(&target).unwrap();
        let t_blast = t.elapsed();
        let t = Instant::now();
        let ex = graph.explore(&target).unwrap();
        let t_explore = t.elapsed();
        let t = Instant::now();
        let json = serde_json::to_string(&ex).unwrap();
        println!(
            "{} services: blast {t_blast:?}, explore (blast included) {t_explore:?}, JSON {:?} ({} bytes)",
            blast.impacted.len(),
            t.elapsed(),
            json.len()
        );
    }
}
