//! The blast-radius engine. The inventory (or any edge list) becomes a
//! compact adjacency structure (u32 node ids, flat arrays) whose edges
//! point the way breakage spreads; an edit patches the rows it changed
//! (`live.rs`, `patch.rs`) instead of rebuilding it. Queries run BFS over
//! it with a reusable visited array; reach counts and the ranking of every
//! node run over the strongly-connected-component DAG (`condensed.rs`,
//! `rank.rs`).

pub mod blast_radius;
pub mod cache;
pub mod columns;
pub mod condensed;
pub mod edge_list;
pub mod explore;
pub mod generate;
pub mod live;
pub mod observed;
pub mod patch;
pub mod rank;
mod reach;
pub mod summary;

pub use reach::Reacher;

use petgraph::csr::Csr;

/// Node ids are dense `u32`s: half the memory of `usize` and twice the
/// cache hits at a million nodes.
pub type NodeId = u32;
pub type Adjacency = Csr<(), (), petgraph::Directed, NodeId>;

/// Builds the adjacency for `node_count` nodes from edges in any order.
/// Duplicate edges are dropped; self-loops are kept (they reach nothing new).
pub fn build(node_count: usize, mut edges: Vec<(NodeId, NodeId)>) -> Adjacency {
    edges.sort_unstable();
    edges.dedup();
    let mut csr = Adjacency::from_sorted_edges(&edges).expect("edges were sorted");
    while csr.node_count() < node_count {
        csr.add_node(());
    }
    csr
}

/// The out-neighbours of `n`.
#[inline]
pub fn successors(g: &Adjacency, n: NodeId) -> &[NodeId] {
    g.neighbors_slice(n)
}

/// A directed graph the traversals can walk: dense `u32` node ids and each
/// node's out-neighbours as a slice.
pub trait Successors {
    fn node_count(&self) -> usize;
    fn successors(&self, n: NodeId) -> &[NodeId];
}

impl Successors for Adjacency {
    #[inline]
    fn node_count(&self) -> usize {
        Adjacency::node_count(self)
    }

    #[inline]
    fn successors(&self, n: NodeId) -> &[NodeId] {
        self.neighbors_slice(n)
    }
}

/// The same adjacency as two flat `u32` arrays, built beside the petgraph
/// structure for the hottest loop (single-source reach): half the bytes per
/// row offset and no indirection through petgraph's index types.
#[derive(Clone)]
pub struct Compact {
    offsets: Vec<u32>,
    targets: Vec<NodeId>,
}

impl Compact {
    pub fn new(g: &Adjacency) -> Self {
        let n = g.node_count();
        Compact::from_rows((0..n as NodeId).map(|u| successors(g, u)))
    }

    /// From each node's row, in node order.
    pub fn from_rows<'a>(rows: impl ExactSizeIterator<Item = &'a [NodeId]>) -> Self {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut targets = Vec::new();
        offsets.push(0);
        for row in rows {
            targets.extend_from_slice(row);
            offsets.push(u32::try_from(targets.len()).expect("fewer than 4 billion edges"));
        }
        Compact { offsets, targets }
    }

    #[inline]
    pub fn successors(&self, n: NodeId) -> &[NodeId] {
        let i = n as usize;
        &self.targets[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }
}

impl Successors for Compact {
    #[inline]
    fn node_count(&self) -> usize {
        Compact::node_count(self)
    }

    #[inline]
    fn successors(&self, n: NodeId) -> &[NodeId] {
        Compact::successors(self, n)
    }
}
