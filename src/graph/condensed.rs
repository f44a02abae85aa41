//! Single-source reach counted on the graph's condensation: strongly
//! connected components collapsed into one node each, weighted by their
//! size. Everything in a component reaches everything else in it, so a
//! query walks the component DAG instead of the nodes — on graphs where
//! long dependency cycles tie most services into one component (the
//! heavy-reach benchmark shape), a blast radius of tens of thousands of
//! nodes is counted by visiting a handful of components, and identities
//! that use the same services share that work through the index.
//! Built once per graph, like the CSR itself (Tarjan's algorithm, linear).

use petgraph::algo::tarjan_scc;

use super::{Adjacency, Compact, NodeId, build, successors};

pub struct Condensed {
    /// Each node's component.
    comp_of: Vec<u32>,
    /// Nodes per component.
    size: Vec<u32>,
    /// Component → the components it has edges to (no self-loops, no
    /// repeats).
    dag: Compact,
    /// One bit per component, cleared after each query.
    seen: Vec<u64>,
    queue: Vec<u32>,
}

/// A graph's strongly connected components, sinks first (Tarjan), each
/// node's component, and the component DAG (no self-loops, no repeats):
/// shared by the reach count here and the ranking of every node.
pub(super) struct Components {
    pub(super) members: Vec<Vec<NodeId>>,
    pub(super) comp_of: Vec<u32>,
    pub(super) dag: Adjacency,
}

pub(super) fn components(g: &Adjacency) -> Components {
    let n = g.node_count();
    let members = tarjan_scc(g);
    let mut comp_of = vec![0u32; n];
    for (c, m) in members.iter().enumerate() {
        for &v in m {
            comp_of[v as usize] = c as u32;
        }
    }
    let mut edges = Vec::new();
    for u in 0..n as NodeId {
        let cu = comp_of[u as usize];
        for &v in successors(g, u) {
            let cv = comp_of[v as usize];
            if cu != cv {
                edges.push((cu, cv));
            }
        }
    }
    let dag = build(members.len(), edges);
    Components {
        members,
        comp_of,
        dag,
    }
}

impl Condensed {
    pub fn new(g: &Adjacency) -> Self {
        let Components {
            members,
            comp_of,
            dag,
        } = components(g);
        let size: Vec<u32> = members
            .iter()
            .map(|m| u32::try_from(m.len()).expect("fewer than 4 billion nodes"))
            .collect();
        let c = size.len();
        Condensed {
            comp_of,
            dag: Compact::new(&dag),
            seen: vec![0; c.div_ceil(64)],
            queue: vec![0; c + 1],
            size,
        }
    }

    /// Components: how far the graph condensed.
    pub fn component_count(&self) -> usize {
        self.size.len()
    }

    /// Nodes in the largest component.
    pub fn largest_component(&self) -> usize {
        self.size.iter().copied().max().unwrap_or(0) as usize
    }

    /// What a count from `source` reads: the components it visits and the
    /// DAG edges it scans (for the benchmark's memory-traffic estimate).
    pub fn work(&mut self, source: NodeId) -> (usize, usize) {
        let start = self.comp_of[source as usize];
        let mut seen = vec![false; self.size.len()];
        let mut stack = vec![start];
        seen[start as usize] = true;
        let (mut comps, mut edges) = (0, 0);
        while let Some(c) = stack.pop() {
            comps += 1;
            for &d in self.dag.successors(c) {
                edges += 1;
                if !seen[d as usize] {
                    seen[d as usize] = true;
                    stack.push(d);
                }
            }
        }
        (comps, edges)
    }

    /// Number of nodes reachable from `source`, itself excluded (the
    /// same answer as [`super::Reacher::count`] on the graph).
    pub fn count(&mut self, source: NodeId) -> usize {
        let start = self.comp_of[source as usize];
        // The rest of its own component (empty for a node on no cycle).
        let mut total = self.size[start as usize] as usize - 1;
        let (seen, queue, dag, size) = (&mut self.seen, &mut self.queue, &self.dag, &self.size);
        seen[start as usize / 64] |= 1 << (start % 64);
        queue[0] = start;
        let (mut head, mut tail) = (0usize, 1usize);
        while head < tail {
            let c = queue[head];
            head += 1;
            for &d in dag.successors(c) {
                let (word, bit) = (d as usize / 64, 1u64 << (d % 64));
                let fresh = (seen[word] & bit == 0) as usize;
                seen[word] |= bit;
                queue[tail] = d;
                tail += fresh;
            }
        }
        for &c in &queue[1..tail] {
            total += size[c as usize] as usize;
        }
        for &c in &queue[..tail] {
            seen[c as usize / 64] = 0;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Reacher;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn counts_what_a_breadth_first_search_counts(
            n in 1usize..300,
            density in 0.0f64..3.0,
            seed in any::<u64>(),
        ) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let m = (n as f64 * density) as usize;
            let edges: Vec<(NodeId, NodeId)> = (0..m)
                .map(|_| (rng.random_range(0..n) as NodeId, rng.random_range(0..n) as NodeId))
                .collect();
            let g = build(n, edges);
            let compact = Compact::new(&g);
            let mut reacher = Reacher::new(n);
            let mut condensed = Condensed::new(&g);
            for s in 0..n as NodeId {
                prop_assert_eq!(condensed.count(s), reacher.count(&compact, s));
            }
        }
    }
}
