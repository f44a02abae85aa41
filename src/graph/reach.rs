use super::{Adjacency, NodeId, successors};

/// Breadth-first reachability that can be asked again and again without
/// clearing a million-entry array between queries: a node is visited in
/// this query when its stamp equals the current epoch.
pub struct Reacher {
    stamp: Vec<u32>,
    epoch: u32,
    /// Visited nodes in BFS order; also the queue (a head index walks it).
    queue: Vec<NodeId>,
    /// Per node, the node it was first reached from in this query (only
    /// meaningful for visited nodes); gives the shortest explanation path.
    parent: Vec<NodeId>,
    depth: Vec<u32>,
}

impl Reacher {
    pub fn new(node_count: usize) -> Self {
        Reacher {
            stamp: vec![0; node_count],
            epoch: 0,
            queue: Vec::new(),
            parent: vec![0; node_count],
            depth: vec![0; node_count],
        }
    }

    fn next_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // After four billion queries, start over with a clean slate.
            self.stamp.fill(0);
            self.epoch = 1;
        }
    }

    #[inline]
    fn visit(&mut self, n: NodeId, parent: NodeId, depth: u32) -> bool {
        let i = n as usize;
        if self.stamp[i] == self.epoch {
            return false;
        }
        self.stamp[i] = self.epoch;
        self.parent[i] = parent;
        self.depth[i] = depth;
        self.queue.push(n);
        true
    }

    /// Number of nodes reachable from `source`, itself excluded even when a
    /// cycle leads back to it.
    pub fn count(&mut self, g: &Adjacency, source: NodeId) -> usize {
        self.run(g, &[source], |_| true).len() - 1
    }

    /// Multi-source BFS. `follow(node)` says whether to expand a node's
    /// out-edges. Returns the visited nodes in BFS order (sources first).
    pub fn run(
        &mut self,
        g: &Adjacency,
        sources: &[NodeId],
        follow: impl Fn(NodeId) -> bool,
    ) -> &[NodeId] {
        self.next_epoch();
        self.queue.clear();
        for &s in sources {
            self.visit(s, s, 0);
        }
        let mut head = 0;
        while head < self.queue.len() {
            let u = self.queue[head];
            head += 1;
            if !follow(u) {
                continue;
            }
            let d = self.depth[u as usize] + 1;
            for &v in successors(g, u) {
                self.visit(v, u, d);
            }
        }
        self.visited_order()
    }

    /// The nodes of the last query in BFS order.
    pub fn visited_order(&self) -> &[NodeId] {
        &self.queue
    }

    pub fn was_visited(&self, n: NodeId) -> bool {
        self.stamp[n as usize] == self.epoch
    }

    pub fn depth(&self, n: NodeId) -> u32 {
        self.depth[n as usize]
    }

    /// The path from a source of the last query to `n`, source first.
    pub fn path_to(&self, n: NodeId) -> Vec<NodeId> {
        let mut path = vec![n];
        let mut at = n;
        while self.parent[at as usize] != at {
            at = self.parent[at as usize];
            path.push(at);
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::build;

    #[test]
    fn counts_paths_and_cycles() {
        // 0 → 1 → 2 → 3 → 1 (cycle), 0 → 4, 5 isolated, 2 → 2 (self-loop)
        let g = build(6, vec![(0, 1), (1, 2), (2, 3), (3, 1), (0, 4), (2, 2)]);
        let mut r = Reacher::new(6);
        assert_eq!(r.count(&g, 0), 4);
        assert_eq!(r.count(&g, 1), 2, "1 reaches 2 and 3; itself excluded");
        assert_eq!(r.count(&g, 5), 0);
        r.run(&g, &[0], |_| true);
        assert_eq!(r.path_to(3), vec![0, 1, 2, 3]);
        assert_eq!(r.depth(3), 3);
        assert!(!r.was_visited(5));
    }
}
