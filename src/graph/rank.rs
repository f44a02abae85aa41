//! Reach of every node at once, for "riskiest identities".
//!
//! A BFS per node would be quadratic. Instead:
//! 1. strongly connected components (Tarjan) collapse cycles, giving a DAG
//!    whose components come out sinks first;
//! 2. a component with one successor component reaches exactly that
//!    successor plus what it reaches: one addition, in sinks-first order;
//! 3. components with several successors need a set union: they are
//!    processed 256 at a time, each owning one bit of a 256-bit mask that is
//!    OR-ed down the DAG in topological order, so one pass over the edges
//!    answers 256 of them; passes run in parallel.
//!
//! Enterprise graphs are mostly the cheap case (an identity used by one
//! service), so most of the work is the few hundred passes of step 3.

use rayon::prelude::*;

use super::{Adjacency, successors};

/// Lanes of 64 bits per mask: one pass answers `64 * LANES` components.
const LANES: usize = 4;
const BATCH: usize = 64 * LANES;

/// What one node reaches, itself excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// Sum of `counted` over the nodes it reaches.
    pub count: u64,
    /// Sum of `score` over the nodes it reaches.
    pub score: u64,
}

/// For every node of `g`: the sum of `counted` and of `score` over the
/// nodes it reaches, itself excluded. With `counted` all ones, `count` is
/// the number of nodes reached.
pub fn reach_all(g: &Adjacency, counted: &[u32], score: &[u32]) -> Vec<Reach> {
    let n = g.node_count();
    assert!(
        counted.len() == n && score.len() == n,
        "one weight per node"
    );

    // 1. Components, sinks first, and the DAG between them.
    let super::condensed::Components {
        members: sccs,
        comp_of,
        dag,
    } = super::condensed::components(g);
    let size: Vec<Reach> = sccs
        .iter()
        .map(|members| Reach {
            count: members
                .iter()
                .map(|&v| u64::from(counted[v as usize]))
                .sum(),
            score: members.iter().map(|&v| u64::from(score[v as usize])).sum(),
        })
        .collect();
    let c_count = sccs.len();

    // 3. Branching components, by word-parallel bitsets.
    let branching: Vec<u32> = (0..c_count as u32)
        .filter(|&c| successors(&dag, c).len() > 1)
        .collect();
    let mut strict = vec![Reach::default(); c_count];
    let batches: Vec<Vec<(u32, Reach)>> = branching
        .par_chunks(BATCH)
        .map_init(
            || vec![[0u64; LANES]; c_count],
            |masks, batch| union_pass(&dag, &size, batch, masks),
        )
        .collect();
    for (c, r) in batches.into_iter().flatten() {
        strict[c as usize] = r;
    }

    // 2. Single-successor components, sinks first.
    for c in 0..c_count {
        if let [d] = successors(&dag, c as u32) {
            let d = *d as usize;
            strict[c] = Reach {
                count: size[d].count + strict[d].count,
                score: size[d].score + strict[d].score,
            };
        }
    }

    // Per node: what its component reaches, plus the rest of its own
    // component when that is a cycle.
    (0..n)
        .map(|v| {
            let c = comp_of[v] as usize;
            let mut r = strict[c];
            if sccs[c].len() > 1 {
                r.count += size[c].count - u64::from(counted[v]);
                r.score += size[c].score - u64::from(score[v]);
            }
            r
        })
        .collect()
}

/// One pass for up to `BATCH` source components (ascending ids, so the
/// highest one bounds the pass: components come sinks first, and a source
/// only reaches lower ids).
fn union_pass(
    dag: &Adjacency,
    size: &[Reach],
    batch: &[u32],
    masks: &mut [[u64; LANES]],
) -> Vec<(u32, Reach)> {
    let top = *batch.last().expect("batches are not empty") as usize;
    for (bit, &c) in batch.iter().enumerate() {
        masks[c as usize][bit / 64] |= 1 << (bit % 64);
    }
    let mut acc = vec![Reach::default(); batch.len()];
    for c in (0..=top).rev() {
        let m = masks[c];
        if m == [0; LANES] {
            continue;
        }
        for &d in successors(dag, c as u32) {
            let t = &mut masks[d as usize];
            for lane in 0..LANES {
                t[lane] |= m[lane];
            }
        }
        let s = size[c];
        for (lane, &word) in m.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                let bit = lane * 64 + w.trailing_zeros() as usize;
                acc[bit].count += s.count;
                acc[bit].score += s.score;
                w &= w - 1;
            }
        }
        masks[c] = [0; LANES];
    }
    // Each source counted itself; the reach excludes it.
    batch
        .iter()
        .zip(acc)
        .map(|(&c, r)| {
            let s = size[c as usize];
            (
                c,
                Reach {
                    count: r.count - s.count,
                    score: r.score - s.score,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Reacher;
    use crate::graph::build;
    use proptest::prelude::*;

    fn ones(n: usize) -> Vec<u32> {
        vec![1; n]
    }

    #[test]
    fn small_graph_with_cycle_branch_and_self_loop() {
        // 0 → 1 → 2 → 3 → 1, 0 → 4, 4 → 5, 4 → 2, 6 isolated, 5 → 5
        let g = build(
            7,
            vec![
                (0, 1),
                (1, 2),
                (2, 3),
                (3, 1),
                (0, 4),
                (4, 5),
                (4, 2),
                (5, 5),
            ],
        );
        let r: Vec<u64> = reach_all(&g, &ones(7), &ones(7))
            .iter()
            .map(|r| r.count)
            .collect();
        assert_eq!(r, vec![5, 2, 2, 2, 4, 0, 0]);
    }

    #[test]
    fn weights_count_only_what_is_asked() {
        let g = build(3, vec![(0, 1), (1, 2)]);
        let r = reach_all(&g, &[0, 1, 1], &[0, 4, 1]);
        assert_eq!(r[0], Reach { count: 2, score: 5 });
        assert_eq!(r[1], Reach { count: 1, score: 1 });
    }

    fn reference(g: &Adjacency) -> Vec<u64> {
        let c = crate::graph::Compact::new(g);
        let mut r = Reacher::new(g.node_count());
        (0..g.node_count() as u32)
            .map(|v| r.count(&c, v) as u64)
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Agrees with a BFS per node on random graphs, including ones
        /// with more than one batch of branching components.
        #[test]
        fn agrees_with_bfs(n in 1usize..700, density in 0.0f64..3.0, seed in any::<u64>()) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let m = (n as f64 * density) as usize;
            let edges: Vec<(u32, u32)> = (0..m)
                .map(|_| (rng.random_range(0..n as u32), rng.random_range(0..n as u32)))
                .collect();
            let g = build(n, edges);
            let fast: Vec<u64> = reach_all(&g, &ones(n), &ones(n)).iter().map(|r| r.count).collect();
            prop_assert_eq!(fast, reference(&g));
        }
    }
}
