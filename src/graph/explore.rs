//! The blast radius as a graph to draw: every contained identity and every
//! impacted service as a node, the edges along which breakage spreads
//! between them, the parent each node was first reached from (so hovering
//! a service can light up the path that explains it), and a layered layout
//! by dependency depth computed here, where it takes milliseconds even for
//! tens of thousands of nodes. Sent as columns, not objects: a 50k-node
//! radius is a few megabytes of JSON instead of tens.

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::blast_radius::{BlastError, BlastGraph, Summary, Target};
use super::{NodeId, Successors};
use crate::model::{ContainmentAction, Environment, IdentityKind};

/// Nodes as parallel columns; index `i` is one node in every column.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExplorerNodes {
    pub id: Vec<String>,
    pub label: Vec<String>,
    /// `true` for identities, `false` for services.
    pub identity: Vec<bool>,
    /// Criticality tier of services (0 most critical); identities: `null`.
    pub tier: Vec<Option<u8>>,
    /// Hops from the contained identity.
    pub depth: Vec<u32>,
    /// The node this one was first reached from; `-1` for targets.
    pub parent: Vec<i32>,
    /// Hops of the explanation path between the parent and this node that
    /// the drawing leaves out (a group opened on its own: its services'
    /// paths through other groups are shortened, and say by how much).
    pub skipped: Vec<u32>,
    /// Outgoing edges in the whole inventory (how much hangs off it).
    pub fan_out: Vec<u32>,
    pub break_glass: Vec<bool>,
    /// Index into `owners`, or `-1`.
    pub owner: Vec<i32>,
    pub kind: Vec<Option<IdentityKind>>,
    pub environment: Vec<Option<Environment>>,
    /// Layered layout: x by depth, y within the layer.
    pub x: Vec<f32>,
    pub y: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explorer {
    pub targets: Vec<Target>,
    pub nodes: ExplorerNodes,
    /// Flat `[source, target, source, target, …]` node indices.
    pub edges: Vec<u32>,
    pub owners: Vec<String>,
    pub summary: Summary,
}

impl BlastGraph {
    pub fn explore(&self, targets: &[(&str, ContainmentAction)]) -> Result<Explorer, BlastError> {
        self.explore_where(targets, |_| true)
    }

    /// [`BlastGraph::explore`] drawing only the impacted services `keep`
    /// takes (by id), with the contained identities: one group of a
    /// summary opened on its own (`graph::summary`).
    pub fn explore_where(
        &self,
        targets: &[(&str, ContainmentAction)],
        keep: impl Fn(&str) -> bool,
    ) -> Result<Explorer, BlastError> {
        let mut result = self.blast(targets)?;
        result.impacted.retain(|s| keep(&s.id));
        let mut nodes = ExplorerNodes::default();
        let mut owners: Vec<String> = Vec::new();
        let mut owner_index: FxHashMap<String, i32> = FxHashMap::default();
        let mut owner_of = |o: &Option<String>| -> i32 {
            match o {
                None => -1,
                Some(o) => *owner_index.entry(o.clone()).or_insert_with(|| {
                    owners.push(o.clone());
                    (owners.len() - 1) as i32
                }),
            }
        };

        // Identities first, in containment order; map engine node → node.
        let mut local: FxHashMap<NodeId, u32> = FxHashMap::default();
        let mut contained = Vec::with_capacity(result.contained.len());
        for id in &result.contained {
            let i = self.lookup[id.as_str()];
            contained.push(i);
            let x = &self.identities[i];
            local.insert(x.node, nodes.id.len() as u32);
            nodes.id.push(x.id.clone());
            nodes.label.push(x.name.clone());
            nodes.identity.push(true);
            nodes.tier.push(None);
            nodes.depth.push(0);
            nodes.parent.push(-1);
            nodes.skipped.push(0);
            nodes.fan_out.push(x.usages.len() as u32);
            nodes.break_glass.push(x.break_glass);
            nodes.owner.push(owner_of(&x.owner));
            nodes.kind.push(Some(x.kind));
            nodes.environment.push(Some(x.environment));
        }
        // Derived credentials hang off the one they derive from (a target
        // is a root of its own), one hop deeper.
        for (cl, &c) in contained.iter().enumerate() {
            let is_target = result.targets.iter().any(|t| t.identity == nodes.id[cl]);
            if let Some(p) = self.identities[c].parent
                && let Some(&pl) = local.get(&self.identities[p].node)
                && !is_target
            {
                nodes.parent[cl] = pl as i32;
            }
        }
        for cl in 0..contained.len() {
            let mut depth = 0;
            let mut at = cl;
            while nodes.parent[at] >= 0 && depth <= contained.len() {
                at = nodes.parent[at] as usize;
                depth += 1;
            }
            nodes.depth[cl] = depth as u32;
        }

        for svc in &result.impacted {
            let n = self.services[self.service_lookup[svc.id.as_str()] as usize].node;
            local.insert(n, nodes.id.len() as u32);
            nodes.id.push(svc.id.clone());
            nodes.label.push(svc.name.clone());
            nodes.identity.push(false);
            nodes.tier.push(Some(svc.tier.get()));
            nodes.depth.push(svc.depth);
            nodes.parent.push(-1);
            nodes.skipped.push(0);
            nodes
                .fan_out
                .push(self.adjacency.successors(n).len() as u32);
            nodes.break_glass.push(false);
            nodes.owner.push(owner_of(&svc.owner));
            nodes.kind.push(None);
            nodes.environment.push(None);
        }
        // Parents from each service's explanation path.
        let by_id: FxHashMap<(&str, bool), u32> = (0..nodes.id.len())
            .map(|i| ((nodes.id[i].as_str(), nodes.identity[i]), i as u32))
            .collect();
        let first_service = result.contained.len();
        for (k, svc) in result.impacted.iter().enumerate() {
            // The nearest step of its path that is drawn: the one before
            // it, unless the drawing leaves that out.
            if let Some((skipped, p)) =
                svc.path
                    .iter()
                    .rev()
                    .skip(1)
                    .enumerate()
                    .find_map(|(n, step)| {
                        by_id
                            .get(&(step.id.as_str(), step.kind == "identity"))
                            .map(|&p| (n, p))
                    })
            {
                nodes.parent[first_service + k] = p as i32;
                nodes.skipped[first_service + k] = skipped as u32;
            }
        }

        // Edges between drawn nodes, the way breakage spreads.
        let mut edges = Vec::new();
        for (&engine, &from) in &local {
            for &to_engine in self.adjacency.successors(engine) {
                if let Some(&to) = local.get(&to_engine) {
                    edges.push(from);
                    edges.push(to);
                }
            }
        }
        // Deterministic order, whatever the hash map did.
        let mut pairs: Vec<(u32, u32)> = edges.chunks(2).map(|c| (c[0], c[1])).collect();
        pairs.sort_unstable();
        let edges = pairs.into_iter().flat_map(|(a, b)| [a, b]).collect();

        layered(&mut nodes);
        Ok(Explorer {
            targets: result.targets,
            nodes,
            edges,
            owners,
            summary: result.summary,
        })
    }
}

/// Places nodes in columns by depth. Within a layer, nodes follow their
/// parent's position (fewer crossings), then tier and id. A layer taller
/// than the drawing's target height wraps into several columns, so a
/// 50k-node radius is a wide block, not a line a pixel wide.
fn layered(nodes: &mut ExplorerNodes) {
    let n = nodes.id.len();
    if n == 0 {
        return;
    }
    let max_depth = nodes.depth.iter().copied().max().unwrap_or(0) as usize;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); max_depth + 1];
    for i in 0..n {
        layers[nodes.depth[i] as usize].push(i);
    }
    // About 16:10 overall with unit spacing.
    let height = ((n as f64 / 1.6).sqrt().ceil() as usize).max(8);
    nodes.x = vec![0.0; n];
    nodes.y = vec![0.0; n];
    let mut column = 0usize;
    for layer in &mut layers {
        if layer.is_empty() {
            continue;
        }
        let y = &nodes.y;
        layer.sort_by(|&a, &b| {
            let pa = nodes.parent[a];
            let pb = nodes.parent[b];
            let ya = if pa >= 0 { y[pa as usize] } else { 0.0 };
            let yb = if pb >= 0 { y[pb as usize] } else { 0.0 };
            ya.total_cmp(&yb)
                .then(nodes.tier[a].cmp(&nodes.tier[b]))
                .then(nodes.id[a].cmp(&nodes.id[b]))
        });
        let columns = layer.len().div_ceil(height);
        let rows = layer.len().div_ceil(columns);
        for (k, &i) in layer.iter().enumerate() {
            nodes.x[i] = (column + k / rows) as f32 * 1.5;
            // Centred; y grows downwards on screen in sigma, so negate.
            nodes.y[i] = -((k % rows) as f32 - (rows as f32 - 1.0) / 2.0);
        }
        // A gap between layers.
        column += columns + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_shared_credential_explains_each_service_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("e.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let graph = BlastGraph::new(&store.snapshot().await.unwrap());
        let ex = graph
            .explore(&[("tok-kafka-shared", ContainmentAction::DisableAccount)])
            .unwrap();
        let blast = graph
            .blast(&[("tok-kafka-shared", ContainmentAction::DisableAccount)])
            .unwrap();
        let n = ex.nodes.id.len();
        assert_eq!(n, blast.contained.len() + blast.impacted.len());
        for column in [
            ex.nodes.label.len(),
            ex.nodes.tier.len(),
            ex.nodes.parent.len(),
            ex.nodes.x.len(),
            ex.nodes.y.len(),
            ex.nodes.owner.len(),
        ] {
            assert_eq!(column, n);
        }
        assert_eq!(ex.nodes.id[0], "tok-kafka-shared");
        assert!(ex.nodes.identity[0]);
        // Every service's parent chain leads back to the identity, and the
        // chain is the path the engine reports.
        for svc in &blast.impacted {
            let mut at = ex.nodes.id.iter().position(|i| i == &svc.id).unwrap();
            let mut chain = vec![ex.nodes.id[at].clone()];
            while ex.nodes.parent[at] >= 0 {
                at = ex.nodes.parent[at] as usize;
                chain.push(ex.nodes.id[at].clone());
            }
            chain.reverse();
            let path: Vec<String> = svc.path.iter().map(|s| s.id.clone()).collect();
            assert_eq!(chain, path);
            // Deeper layers sit further right.
            let i = ex.nodes.id.iter().position(|i| i == &svc.id).unwrap();
            assert!(ex.nodes.x[i] > ex.nodes.x[0]);
        }
        // Every parent link is also a drawn edge.
        let edges: Vec<(u32, u32)> = ex.edges.chunks(2).map(|c| (c[0], c[1])).collect();
        for (i, &p) in ex.nodes.parent.iter().enumerate() {
            if p >= 0 {
                assert!(
                    edges.contains(&(p as u32, i as u32)),
                    "edge to {}",
                    ex.nodes.id[i]
                );
            }
        }
        assert_eq!(ex.summary, blast.summary);
    }
}
