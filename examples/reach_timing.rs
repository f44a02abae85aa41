//! Times the engine on an edge list, for `bench/compare.py`: load, median
//! single-source reach (after load, BFS only), and ranking of every node.
//! Prints one JSON object. Run with `--release`.
//!
//!     cargo run --release --example reach_timing -- edges.csv sources.txt [repeats]

use std::time::Instant;

use countersign::graph::edge_list::EdgeList;
use countersign::graph::rank::reach_all;
use countersign::graph::{Compact, Reacher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (edges, sources) = match &args[..] {
        [_, e, s, ..] => (e, s),
        _ => return Err("usage: reach_timing EDGES.csv SOURCES.txt [REPEATS]".into()),
    };
    let repeats: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(5);

    let t = Instant::now();
    let el = EdgeList::read(edges.as_ref())?;
    let load_s = t.elapsed().as_secs_f64();
    let ids = el.read_sources(sources.as_ref())?;

    let compact = Compact::new(&el.graph);
    let mut reacher = Reacher::new(el.names.len());
    let mut counts = Vec::with_capacity(ids.len());
    let mut per_source = Vec::with_capacity(ids.len());
    for &s in &ids {
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..repeats {
            let t = Instant::now();
            n = reacher.count(&compact, s);
            best = best.min(t.elapsed().as_secs_f64());
        }
        counts.push(n);
        per_source.push(best);
    }
    let mut sorted = per_source.clone();
    sorted.sort_by(f64::total_cmp);
    let median_ms = sorted[sorted.len() / 2] * 1e3;
    let p90_ms = sorted[sorted.len() * 9 / 10] * 1e3;

    let ones = vec![1u32; el.names.len()];
    let t = Instant::now();
    let ranked = reach_all(&el.graph, &ones, &ones);
    let rank_s = t.elapsed().as_secs_f64();
    let max_reach = ranked.iter().map(|r| r.count).max().unwrap_or(0);

    let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    println!(
        "{{\"nodes\": {}, \"edges\": {}, \"load_s\": {load_s:.4}, \"median_reach_ms\": {median_ms:.5}, \"p90_reach_ms\": {p90_ms:.5}, \"rank_all_s\": {rank_s:.4}, \"max_reach\": {max_reach}, \"counts\": [{}]}}",
        el.names.len(),
        el.graph.edge_count(),
        counts.join(",")
    );
    Ok(())
}
