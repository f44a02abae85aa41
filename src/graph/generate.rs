//! Deterministic enterprise-shaped graphs for benchmarks and scale tests.
//!
//! The shape follows what inventories look like: services in about thirty
//! dependency layers (chains tens deep), each depending on one to three
//! services, mostly of the layer just below, sometimes deeper (shared
//! platform services are depended on from everywhere), a few back edges
//! making cycles; about ten identities per service, most used by one or two
//! services, a heavy tail of shared credentials used by dozens. Edges point
//! the way breakage spreads: identity → service using it, service →
//! service depending on it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

/// Dependency layers: chains are at most this deep (plus cycles).
const LAYERS: usize = 30;
const IDENTITIES_PER_SERVICE: usize = 10;

#[derive(Debug, Clone)]
pub struct Generated {
    pub services: usize,
    pub identities: usize,
    /// `(source, target)` in the naming below.
    pub edges: Vec<(u32, u32)>,
}

impl Generated {
    /// Node `i`'s name: services first (`svc-…`), then identities (`id-…`).
    pub fn name(&self, i: u32) -> String {
        let i = i as usize;
        if i < self.services {
            format!("svc-{i}")
        } else {
            format!("id-{}", i - self.services)
        }
    }

    pub fn node_count(&self) -> usize {
        self.services + self.identities
    }

    /// Writes `edges.csv` (header `source,target`).
    pub fn write_edges(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(out);
        writeln!(w, "source,target")?;
        for &(s, t) in &self.edges {
            writeln!(w, "{},{}", self.name(s), self.name(t))?;
        }
        w.flush()
    }

    /// `count` identities spread evenly over all of them, as node ids.
    pub fn sample_identities(&self, count: usize) -> Vec<u32> {
        let step = (self.identities / count.max(1)).max(1);
        (0..self.identities)
            .step_by(step)
            .take(count)
            .map(|i| (self.services + i) as u32)
            .collect()
    }
}

/// A graph with about `nodes` nodes (services plus identities), the same
/// for the same `seed` on every machine.
pub fn enterprise(nodes: usize, seed: u64) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let services = (nodes / (IDENTITIES_PER_SERVICE + 1)).max(LAYERS);
    let identities = nodes.saturating_sub(services);
    let per_layer = services.div_ceil(LAYERS);
    let mut edges = Vec::with_capacity(services * 2 + identities * 2);

    for s in per_layer..services {
        let layer = s / per_layer;
        let deps = rng.random_range(1..=3);
        for _ in 0..deps {
            let from_layer = if rng.random_bool(0.7) {
                layer - 1
            } else {
                rng.random_range(0..layer)
            };
            let below = (from_layer * per_layer + rng.random_range(0..per_layer)).min(services - 1);
            edges.push((below as u32, s as u32));
        }
    }
    // A few cycles: one service in a thousand is depended on by a lower layer.
    for _ in 0..(services / 1000).max(1) {
        let hi = rng.random_range(per_layer..services);
        let lo = rng.random_range(0..(hi / per_layer) * per_layer);
        edges.push((hi as u32, lo as u32));
    }
    for i in 0..identities {
        let id = (services + i) as u32;
        let roll: f64 = rng.random();
        let consumers = if roll < 0.75 {
            1
        } else if roll < 0.94 {
            2
        } else {
            // The heavy tail: shared credentials used by dozens.
            let u: f64 = rng.random::<f64>().max(1e-9);
            (3.0 / u.powf(0.7)).min(60.0) as usize
        };
        let home = rng.random_range(0..services);
        for k in 0..consumers {
            let svc = if k == 0 {
                home
            } else {
                rng.random_range(0..services)
            };
            edges.push((id, svc as u32));
        }
    }
    Generated {
        services,
        identities,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_shaped_like_an_enterprise() {
        let a = enterprise(11_000, 7);
        assert_eq!(a.edges, enterprise(11_000, 7).edges);
        assert_ne!(a.edges, enterprise(11_000, 8).edges);
        assert_eq!(a.node_count(), 11_000);
        let ratio = a.edges.len() as f64 / a.node_count() as f64;
        assert!((1.5..2.0).contains(&ratio), "edges per node {ratio}");
        let mut out = Vec::new();
        a.write_edges(&mut out).unwrap();
        assert!(out.starts_with(b"source,target\nsvc-"));
    }
}
