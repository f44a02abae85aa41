//! Criterion benchmarks of the blast-radius engine. Peer comparisons are in
//! `bench/run`; figures are recorded in docs/benchmarks.md.
//!
//!     cargo bench --bench engine

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use countersign::graph::blast_radius::BlastGraph;
use countersign::graph::rank::reach_all;
use countersign::graph::{Compact, Reacher, build, generate};
use countersign::model::ContainmentAction;

fn demo(c: &mut Criterion) {
    let inv = countersign::demo::inventory().unwrap();
    c.bench_function("demo/build", |b| {
        b.iter(|| BlastGraph::new(black_box(&inv)))
    });
    let g = BlastGraph::new(&inv);
    c.bench_function("demo/blast disable_account tok-kafka-shared", |b| {
        b.iter(|| {
            g.blast(black_box(&[(
                "tok-kafka-shared",
                ContainmentAction::DisableAccount,
            )]))
            .unwrap()
        })
    });
    c.bench_function("demo/rank", |b| b.iter(|| g.rank()));
}

fn generated(c: &mut Criterion) {
    let mut group = c.benchmark_group("generated");
    group.sample_size(10);
    {
        let nodes = 275_000usize;
        let gen_ = generate::enterprise(nodes, 42);
        group.bench_with_input(BenchmarkId::new("build", nodes), &gen_, |b, g| {
            b.iter(|| build(g.node_count(), g.edges.clone()))
        });
        let adj = build(gen_.node_count(), gen_.edges.clone());
        let compact = Compact::new(&adj);
        let sources = gen_.sample_identities(200);
        let mut reacher = Reacher::new(gen_.node_count());
        group.bench_with_input(
            BenchmarkId::new("reach 200 sources", nodes),
            &sources,
            |b, s| b.iter(|| s.iter().map(|&v| reacher.count(&compact, v)).sum::<usize>()),
        );
        let ones = vec![1u32; gen_.node_count()];
        group.bench_with_input(BenchmarkId::new("rank all", nodes), &adj, |b, a| {
            b.iter(|| reach_all(a, &ones, &ones))
        });
    }
    group.finish();
}

criterion_group!(benches, demo, generated);
criterion_main!(benches);
