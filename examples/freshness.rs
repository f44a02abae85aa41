//! How long the engine takes to see an edit: the graph is rebuilt from the
//! inventory whenever the audit head moves (see `graph::cache`), so the
//! cost of freshness is one `BlastGraph::new`. Measured on inventories
//! generated with the benchmark's shape, and on the demo read from SQLite.
//!
//!     cargo run --release --example freshness -- [NODES]

/// The allocator the shipped binaries use, so figures are theirs (see Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use countersign::graph::blast_radius::BlastGraph;
use countersign::graph::generate;
use countersign::inventory::Inventory;
use countersign::model::{
    ContainmentAction, Environment, Identity, IdentityKind, Service, Tier, Usage,
};

fn inventory(nodes: usize) -> Inventory {
    let g = generate::enterprise(nodes, 42);
    let mut services: Vec<Service> = (0..g.services)
        .map(|i| Service {
            id: g.name(i as u32),
            name: g.name(i as u32),
            owner: None,
            tier: Tier::new((i % 4) as u8).expect("valid"),
            system: None,
            description: String::new(),
            depends_on: Vec::new(),
        })
        .collect();
    let mut identities: Vec<Identity> = (0..g.identities)
        .map(|i| {
            let id = g.name((g.services + i) as u32);
            Identity::new(
                &id,
                IdentityKind::ServiceAccount,
                &id,
                Environment::Production,
                Tier::IMPORTANT,
            )
        })
        .collect();
    for &(s, t) in &g.edges {
        let (s, t) = (s as usize, t as usize);
        if s < g.services {
            services[t].depends_on.push(g.name(s as u32));
        } else {
            identities[s - g.services]
                .used_by
                .push(Usage::of(g.name(t as u32)));
        }
    }
    Inventory {
        owners: Vec::new(),
        services,
        identities,
    }
}

fn main() {
    let nodes: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("a number"))
        .unwrap_or(275_000);
    let inv = inventory(nodes);
    let t = Instant::now();
    let graph = BlastGraph::new(&inv);
    let rebuild = t.elapsed().as_secs_f64();
    let target = inv.identities[inv.identities.len() / 2].id.clone();
    let t = Instant::now();
    let r = graph
        .blast(&[(target.as_str(), ContainmentAction::DisableAccount)])
        .expect("known identity");
    let query = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ranked = graph.rank();
    let rank = t.elapsed().as_secs_f64();
    println!(
        "{{\"nodes\": {nodes}, \"services\": {}, \"identities\": {}, \"rebuild_s\": {rebuild:.3}, \"blast_query_ms\": {:.3}, \"blast_services\": {}, \"rank_s\": {rank:.3}, \"ranked\": {}}}",
        inv.services.len(),
        inv.identities.len(),
        query * 1e3,
        r.summary.services,
        ranked.len()
    );
}
