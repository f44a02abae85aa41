//! Times the engine on an edge list, for `bench/compare.py`: load (the CSR
//! and its condensation), median single-source reach after load (counted
//! on the condensation, as `countersign blast --edges` does; plain BFS
//! over the CSR alongside, for reference), and ranking of every node.
//! Prints one JSON object. Run with `--release`.
//!
//!     cargo run --release --example reach_timing -- edges.csv sources.txt [repeats]

/// The allocator the shipped binaries use, so figures are theirs (see Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use countersign::graph::condensed::Condensed;
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
    let t = Instant::now();
    let mut condensed = Condensed::new(&el.graph);
    let condense_s = t.elapsed().as_secs_f64();

    let compact = Compact::new(&el.graph);
    let mut reacher = Reacher::new(el.names.len());
    let mut counts = Vec::with_capacity(ids.len());
    let (mut per_source, mut per_source_bfs) = (Vec::new(), Vec::new());
    for &s in &ids {
        let (mut best, mut best_bfs) = (f64::MAX, f64::MAX);
        let mut n = 0;
        for _ in 0..repeats {
            let t = Instant::now();
            n = condensed.count(s);
            best = best.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let bfs = reacher.count(&compact, s);
            best_bfs = best_bfs.min(t.elapsed().as_secs_f64());
            assert_eq!(n, bfs, "the condensation and BFS agree");
        }
        counts.push(n);
        per_source.push(best);
        per_source_bfs.push(best_bfs);
    }
    let quantiles = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2] * 1e3, v[v.len() * 9 / 10] * 1e3)
    };
    // Memory traffic: bytes a query reads (row offsets, targets, one
    // component size per component), against what this machine streams.
    let mut bytes = 0usize;
    let mut bytes_bfs = 0usize;
    for &s in &ids {
        let (comps, dag_edges) = condensed.work(s);
        bytes += comps * 12 + dag_edges * 4;
        let mut seen = vec![false; el.names.len()];
        let mut stack = vec![s];
        seen[s as usize] = true;
        while let Some(u) = stack.pop() {
            bytes_bfs += 8 + 4 * compact.successors(u).len();
            for &v in compact.successors(u) {
                if !seen[v as usize] {
                    seen[v as usize] = true;
                    stack.push(v);
                }
            }
        }
    }
    let total: f64 = per_source.iter().sum();
    let total_bfs: f64 = per_source_bfs.iter().sum();
    let query_gbs = bytes as f64 / total / 1e9;
    let bfs_gbs = bytes_bfs as f64 / total_bfs / 1e9;
    let stream_gbs = stream_bandwidth();
    let (median_ms, p90_ms) = quantiles(&mut per_source);
    let (bfs_median_ms, bfs_p90_ms) = quantiles(&mut per_source_bfs);

    let ones = vec![1u32; el.names.len()];
    let t = Instant::now();
    let ranked = reach_all(&el.graph, &ones, &ones);
    let rank_s = t.elapsed().as_secs_f64();
    let max_reach = ranked.iter().map(|r| r.count).max().unwrap_or(0);

    let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    println!(
        "{{\"nodes\": {}, \"edges\": {}, \"load_s\": {load_s:.4}, \"condense_s\": {condense_s:.4}, \"components\": {}, \"largest_component\": {}, \"median_reach_ms\": {median_ms:.5}, \"p90_reach_ms\": {p90_ms:.5}, \"bfs_median_reach_ms\": {bfs_median_ms:.5}, \"bfs_p90_reach_ms\": {bfs_p90_ms:.5}, \"query_gbs\": {query_gbs:.2}, \"bfs_gbs\": {bfs_gbs:.2}, \"stream_gbs\": {stream_gbs:.2}, \"rank_all_s\": {rank_s:.4}, \"max_reach\": {max_reach}, \"counts\": [{}]}}",
        el.names.len(),
        el.graph.edge_count(),
        condensed.component_count(),
        condensed.largest_component(),
        counts.join(",")
    );
    Ok(())
}

/// Sequential read bandwidth (GB/s): the best of three sums over 512 MB,
/// far larger than the caches.
fn stream_bandwidth() -> f64 {
    let data = vec![1u64; 64 << 20];
    let mut best = f64::MAX;
    let mut sink = 0u64;
    for _ in 0..3 {
        let t = Instant::now();
        sink = sink.wrapping_add(data.iter().fold(0u64, |a, &b| a.wrapping_add(b)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(sink);
    (data.len() * 8) as f64 / best / 1e9
}
