use super::{Compact, NodeId, Successors};

/// Breadth-first reachability that can be asked again and again without
/// clearing a million-entry array between queries: a node is visited in
/// this query when its stamp equals the current epoch.
pub struct Reacher {
    stamp: Vec<u32>,
    epoch: u32,
    /// `run`'s visited nodes in BFS order; also its queue (a head index walks it).
    order: Vec<NodeId>,
    /// `count`'s queue, as long as the graph plus one.
    queue: Vec<NodeId>,
    /// Per node, the node it was first reached from in this query (only
    /// meaningful for visited nodes); gives the shortest explanation path.
    parent: Vec<NodeId>,
    depth: Vec<u32>,
    /// One bit per node for counting queries: 137 KB at a million nodes,
    /// so it stays in the L2 cache where the stamps would not. Cleared
    /// after each query by walking the (short) list of visited nodes.
    seen: Vec<u64>,
}

impl Reacher {
    pub fn new(node_count: usize) -> Self {
        Reacher {
            stamp: vec![0; node_count],
            epoch: 0,
            order: Vec::new(),
            queue: Vec::new(),
            parent: vec![0; node_count],
            depth: vec![0; node_count],
            seen: vec![0; node_count.div_ceil(64)],
        }
    }

    /// Makes room for nodes a patched graph appended.
    pub fn grow(&mut self, node_count: usize) {
        if self.stamp.len() < node_count {
            self.stamp.resize(node_count, 0);
            self.parent.resize(node_count, 0);
            self.depth.resize(node_count, 0);
            self.seen.resize(node_count.div_ceil(64), 0);
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
        self.order.push(n);
        true
    }

    /// Number of nodes reachable from `source`, itself excluded even when a
    /// cycle leads back to it. The hot path of ranking checks and of the
    /// edge-list benchmark: no parents, no depths, a cache-resident bitset.
    pub fn count(&mut self, g: &Compact, source: NodeId) -> usize {
        let seen = &mut self.seen;
        // A queue as long as the graph (plus one), written without a branch: each
        // successor is stored at `tail` and `tail` advances only if it was
        // new. Whether a node was already seen is a coin toss the branch
        // predictor loses; this keeps the loop free of that misprediction.
        let queue = &mut self.queue;
        // One spare slot: a successor is written before we know it is new.
        if queue.len() < g.node_count() + 1 {
            queue.resize(g.node_count() + 1, 0);
        }
        seen[source as usize / 64] |= 1 << (source % 64);
        queue[0] = source;
        let (mut head, mut tail) = (0usize, 1usize);
        while head < tail {
            let u = queue[head];
            head += 1;
            for &v in g.successors(u) {
                let (word, bit) = (v as usize / 64, 1u64 << (v % 64));
                let fresh = (seen[word] & bit == 0) as usize;
                seen[word] |= bit;
                queue[tail] = v;
                tail += fresh;
            }
        }
        for &v in &queue[..tail] {
            seen[v as usize / 64] = 0;
        }
        // The stamps do not describe this query: start a new epoch so
        // `was_visited` cannot be misread after a count.
        self.next_epoch();
        tail - 1
    }

    /// Multi-source BFS. `follow(node)` says whether to expand a node's
    /// out-edges. Returns the visited nodes in BFS order (sources first).
    pub fn run<G: Successors>(
        &mut self,
        g: &G,
        sources: &[NodeId],
        follow: impl Fn(NodeId) -> bool,
    ) -> &[NodeId] {
        self.next_epoch();
        self.order.clear();
        for &s in sources {
            self.visit(s, s, 0);
        }
        let mut head = 0;
        while head < self.order.len() {
            let u = self.order[head];
            head += 1;
            if !follow(u) {
                continue;
            }
            let d = self.depth[u as usize] + 1;
            for &v in g.successors(u) {
                self.visit(v, u, d);
            }
        }
        self.visited_order()
    }

    /// The nodes of the last `run` in BFS order.
    pub fn visited_order(&self) -> &[NodeId] {
        &self.order
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
    use crate::graph::{Compact, build};

    #[test]
    fn counts_paths_and_cycles() {
        // 0 → 1 → 2 → 3 → 1 (cycle), 0 → 4, 5 isolated, 2 → 2 (self-loop)
        let g = build(6, vec![(0, 1), (1, 2), (2, 3), (3, 1), (0, 4), (2, 2)]);
        let c = Compact::new(&g);
        let mut r = Reacher::new(6);
        assert_eq!(r.count(&c, 0), 4);
        assert_eq!(r.count(&c, 1), 2, "1 reaches 2 and 3; itself excluded");
        assert_eq!(r.count(&c, 5), 0);
        r.run(&g, &[0], |_| true);
        assert_eq!(r.path_to(3), vec![0, 1, 2, 3]);
        assert_eq!(r.depth(3), 3);
        assert!(!r.was_visited(5));
    }
}
