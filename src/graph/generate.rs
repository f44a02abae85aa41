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
    attach_identities(&mut rng, services, identities, &mut edges);
    Generated {
        services,
        identities,
        edges,
    }
}

/// Services in a long dependency order, each depending on 1–4 services
/// among the next ~50 (so breakage from one reaches most of those before
/// it), 2 % of them also depending on a service far back in the order
/// (long cycles), and identities attached as in [`enterprise`]: a graph
/// where a typical blast radius holds tens of thousands of nodes, unlike
/// the layered one whose median source reaches a few hundred (issue 20).
pub fn heavy_reach(nodes: usize, seed: u64) -> Generated {
    const WINDOW: usize = 50;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let services = (nodes / (IDENTITIES_PER_SERVICE + 1)).max(2 * WINDOW);
    let identities = nodes.saturating_sub(services);
    let mut edges = Vec::with_capacity(services * 3 + identities * 2);
    for s in 0..services - 1 {
        let deps = rng.random_range(1..=4);
        for _ in 0..deps {
            let dep = rng.random_range(s + 1..=(s + WINDOW).min(services - 1));
            // The dependency breaks its dependent.
            edges.push((dep as u32, s as u32));
        }
        if rng.random_bool(0.02) && s > 10 * WINDOW {
            let back = rng.random_range(0..s - 10 * WINDOW);
            edges.push((back as u32, s as u32));
        }
    }
    attach_identities(&mut rng, services, identities, &mut edges);
    Generated {
        services,
        identities,
        edges,
    }
}

/// Identities `services..services + identities`, each used by services:
/// 75 % by one, 19 % by two, a heavy tail of shared credentials by up to
/// sixty.
fn attach_identities(
    rng: &mut ChaCha8Rng,
    services: usize,
    identities: usize,
    edges: &mut Vec<(u32, u32)>,
) {
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
}

/// How many of the graph's identities an inventory keeps.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    /// Every n-th identity.
    pub every: usize,
    /// And every identity used by at least this many services.
    pub shared_by: usize,
}

impl Keep {
    /// About 1.5 identities per service, the heavy tail included.
    pub const TYPICAL: Keep = Keep {
        every: IDENTITIES_PER_SERVICE,
        shared_by: 3,
    };
    /// Every identity of the graph: ten per service, for scale tests of
    /// the store and of edits (a million identities from 100,000 services).
    pub const ALL: Keep = Keep {
        every: 1,
        shared_by: usize::MAX,
    };
    /// Services with a few hundred widely shared credentials: for scale
    /// tests of blast radii, where the services are what is drawn.
    pub const LEAN: Keep = Keep {
        every: 100_000,
        shared_by: 40,
    };
}

/// An inventory of the same enterprise shape, for scale tests of the whole
/// product (import, store, explorer): `services` services with owners and
/// tiers, and the identities `keep` says, so the heavy tail of wide blast
/// radii stays.
pub fn enterprise_inventory(services: usize, seed: u64, keep: Keep) -> crate::inventory::Inventory {
    use crate::model::{
        Environment, Identity, IdentityKind, Owner, OwnerKind, Service, Tier, Usage,
    };
    let g = enterprise(services * (IDENTITIES_PER_SERVICE + 1), seed);
    let teams = (g.services / 50).clamp(4, 400);
    let tier_of = |i: usize| {
        // About 5 % tier 0, 20 % tier 1, 40 % tier 2, the rest tier 3.
        let roll = (i.wrapping_mul(2_654_435_761) >> 7) % 100;
        let t = match roll {
            0..5 => 0,
            5..25 => 1,
            25..65 => 2,
            _ => 3,
        };
        Tier::new(t).expect("tiers 0-3 exist")
    };
    let mut svc: Vec<Service> = (0..g.services)
        .map(|i| Service {
            id: format!("svc-{i}"),
            name: format!("Service {i}"),
            owner: Some(format!("team-{}", i % teams)),
            tier: tier_of(i),
            system: None,
            description: String::new(),
            depends_on: Vec::new(),
        })
        .collect();
    let mut used_by: Vec<Vec<usize>> = vec![Vec::new(); g.identities];
    for &(s, t) in &g.edges {
        let (s, t) = (s as usize, t as usize);
        if s < g.services {
            let dep = format!("svc-{s}");
            if !svc[t].depends_on.contains(&dep) && s != t {
                svc[t].depends_on.push(dep);
            }
        } else if t < g.services {
            used_by[s - g.services].push(t);
        }
    }
    const KINDS: [IdentityKind; 6] = [
        IdentityKind::ServiceAccount,
        IdentityKind::ApiKey,
        IdentityKind::Token,
        IdentityKind::WorkloadIdentity,
        IdentityKind::AiAgent,
        IdentityKind::Certificate,
    ];
    let identities = used_by
        .into_iter()
        .enumerate()
        .filter(|(i, consumers)| i % keep.every == 0 || consumers.len() >= keep.shared_by)
        .map(|(i, consumers)| {
            let mut x = Identity::new(
                &format!("id-{i}"),
                KINDS[i % KINDS.len()],
                &format!("Identity {i}"),
                Environment::Production,
                tier_of(i),
            );
            x.owner = Some(format!("team-{}", i % teams));
            let mut seen = Vec::new();
            for c in consumers {
                if !seen.contains(&c) {
                    seen.push(c);
                    x.used_by.push(Usage::of(format!("svc-{c}")));
                }
            }
            x
        })
        .collect();
    let owners = (0..teams)
        .map(|t| Owner {
            id: format!("team-{t}"),
            kind: OwnerKind::Team,
            name: format!("Team {t}"),
            email: None,
            parent: None,
            left_on: None,
        })
        .collect();
    crate::inventory::Inventory {
        owners,
        services: svc,
        identities,
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

    #[test]
    fn the_inventory_is_valid_and_keeps_the_shared_credentials() {
        let inv = enterprise_inventory(2_000, 7, Keep::TYPICAL);
        assert_eq!(inv.services.len(), 2_000);
        assert!(inv.validate().is_ok());
        assert!(inv.identities.iter().any(|x| x.used_by.len() >= 3));
        let again = enterprise_inventory(2_000, 7, Keep::TYPICAL);
        assert_eq!(inv.identities.len(), again.identities.len());
    }
}
