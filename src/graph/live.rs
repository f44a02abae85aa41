//! The engine graph's adjacency as edits keep it: a compact base (flat
//! `u32` rows, as [`Compact`]) plus the rows that edits rewrote since,
//! and nodes appended for what edits created. A query reads one bit per
//! node to know where a row lives, so patching the graph for an edit
//! costs the rows it touches instead of a rebuild, and the base is
//! re-compacted (in memory, from the rows) once rewritten rows pile up.

use rustc_hash::FxHashMap;

use super::{Adjacency, Compact, NodeId, Successors, build};

pub struct LiveAdjacency {
    base: Compact,
    /// Rows rewritten since the base was compacted.
    rows: FxHashMap<NodeId, Vec<NodeId>>,
    /// One bit per node: its row is in `rows`.
    rewritten: Vec<u64>,
    nodes: usize,
}

/// Rewritten rows are folded into the base when they exceed this share
/// of the nodes (and an absolute floor, so small graphs do not churn).
const COMPACT_EVERY: usize = 8;
const COMPACT_FLOOR: usize = 4096;

impl LiveAdjacency {
    /// `node_count` nodes and `edges` in any order (repeats dropped).
    pub fn new(node_count: usize, edges: Vec<(NodeId, NodeId)>) -> Self {
        let base = Compact::new(&build(node_count, edges));
        LiveAdjacency {
            base,
            rows: FxHashMap::default(),
            rewritten: vec![0; node_count.div_ceil(64)],
            nodes: node_count,
        }
    }

    /// A new node without edges; returns its id.
    pub fn add_node(&mut self) -> NodeId {
        let n = NodeId::try_from(self.nodes).expect("fewer than 4 billion nodes");
        self.nodes += 1;
        if self.rewritten.len() < self.nodes.div_ceil(64) {
            self.rewritten.push(0);
        }
        n
    }

    /// Replaces `n`'s row. The caller keeps rows in the order a rebuild
    /// would give them (see `BlastGraph::patch`).
    pub fn set_row(&mut self, n: NodeId, row: Vec<NodeId>) {
        let i = n as usize;
        assert!(i < self.nodes, "node {n} exists");
        self.rewritten[i / 64] |= 1 << (i % 64);
        self.rows.insert(n, row);
        if self.rows.len() > (self.nodes / COMPACT_EVERY).max(COMPACT_FLOOR) {
            self.compact();
        }
    }

    /// Folds the rewritten rows into a new base.
    pub fn compact(&mut self) {
        let base = Compact::from_rows((0..self.nodes as NodeId).map(|n| self.successors(n)));
        self.base = base;
        self.rows.clear();
        self.rewritten.fill(0);
    }

    /// Rows rewritten since the last compaction.
    pub fn rewritten_rows(&self) -> usize {
        self.rows.len()
    }

    pub fn edge_count(&self) -> usize {
        (0..self.nodes as NodeId)
            .map(|n| self.successors(n).len())
            .sum()
    }

    /// The same graph as petgraph's CSR, for the algorithms that take one
    /// (strongly connected components in ranking).
    pub fn to_csr(&self) -> Adjacency {
        let mut edges = Vec::new();
        for u in 0..self.nodes as NodeId {
            edges.extend(self.successors(u).iter().map(|&v| (u, v)));
        }
        build(self.nodes, edges)
    }
}

impl Successors for LiveAdjacency {
    #[inline]
    fn node_count(&self) -> usize {
        self.nodes
    }

    #[inline]
    fn successors(&self, n: NodeId) -> &[NodeId] {
        let i = n as usize;
        if self.rewritten[i / 64] >> (i % 64) & 1 == 1 {
            &self.rows[&n]
        } else if i < self.base.node_count() {
            self.base.successors(n)
        } else {
            &[]
        }
    }
}

impl Clone for LiveAdjacency {
    fn clone(&self) -> Self {
        LiveAdjacency {
            base: self.base.clone(),
            rows: self.rows.clone(),
            rewritten: self.rewritten.clone(),
            nodes: self.nodes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewritten_rows_and_new_nodes_read_back_and_survive_compaction() {
        let mut g = LiveAdjacency::new(3, vec![(0, 1), (1, 2)]);
        assert_eq!(g.successors(0), &[1]);
        let n = g.add_node();
        assert_eq!(n, 3);
        assert_eq!(g.successors(3), &[] as &[NodeId]);
        g.set_row(0, vec![1, 3]);
        g.set_row(3, vec![2]);
        assert_eq!(g.successors(0), &[1, 3]);
        assert_eq!(g.successors(3), &[2]);
        assert_eq!(g.successors(1), &[2]);
        assert_eq!(g.edge_count(), 4);
        g.compact();
        assert_eq!(g.rewritten_rows(), 0);
        assert_eq!(g.successors(0), &[1, 3]);
        assert_eq!(g.successors(3), &[2]);
        assert_eq!(g.to_csr().edge_count(), 4);
    }
}
