//! A large blast radius understood at a glance: its services grouped by
//! owning team, system or tier, each group with its count and its worst
//! tier, and the links between groups weighted by how many explanation
//! paths cross them — drawn first when a radius has thousands of nodes,
//! where a node-by-node drawing is a solid block of colour (issue 20).
//! Built from the blast radius in one pass over it.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::blast_radius::{BlastError, BlastGraph, Step, Summary, Target};
use crate::model::{ContainmentAction, Tier};

/// What the summary groups services by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The owning team (the service's `owner`).
    Owner,
    /// The system it belongs to (Backstage's `spec.system`).
    System,
    /// Its criticality tier.
    Tier,
}

/// One group of impacted services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ServiceGroup {
    /// The owner or system id, or the tier as `"0"`–`"3"`; `None` for the
    /// services with no owner (or no system).
    pub key: Option<String>,
    pub services: u32,
    /// Its services per tier, tier 0 first.
    pub per_tier: [u32; 4],
    pub worst_tier: Tier,
    /// Its services that use a contained identity directly: the first
    /// hop, called out.
    pub direct: u32,
    /// Fewest hops from the contained identities to one of its services.
    pub nearest: u32,
}

/// Explanation paths crossing from one group into another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct GroupLink {
    /// An index into `groups`, or `-1` for the contained identities.
    pub from: i32,
    pub to: u32,
    /// Impacted services whose explanation path makes this crossing.
    pub paths: u32,
}

/// A blast radius by group ([`BlastGraph::summarise`]).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct RadiusSummary {
    pub targets: Vec<Target>,
    pub group_by: GroupBy,
    /// The identities contained (targets and what derives from them).
    pub contained: Vec<Step>,
    /// Worst tier first, then the largest.
    pub groups: Vec<ServiceGroup>,
    pub links: Vec<GroupLink>,
    pub summary: Summary,
}

impl BlastGraph {
    /// The blast radius of `targets` grouped by `group_by`. Each impacted
    /// service's explanation path (identity → … → service) is a walk down
    /// the reach tree; the paths through a tree edge are the services
    /// below it, so one pass from the deepest services up weighs every
    /// crossing between groups.
    pub fn summarise(
        &self,
        targets: &[(&str, ContainmentAction)],
        group_by: GroupBy,
    ) -> Result<RadiusSummary, BlastError> {
        let result = self.blast(targets)?;
        let key_of = |id: &str| -> Option<String> {
            let s = &self.services[self.service_lookup[id] as usize];
            match group_by {
                GroupBy::Owner => s.owner.clone(),
                GroupBy::System => s.system.clone(),
                GroupBy::Tier => Some(s.tier.get().to_string()),
            }
        };
        let mut group_of_key: FxHashMap<Option<String>, usize> = FxHashMap::default();
        let mut groups: Vec<ServiceGroup> = Vec::new();
        let mut group = Vec::with_capacity(result.impacted.len());
        let position: FxHashMap<&str, usize> = result
            .impacted
            .iter()
            .enumerate()
            .map(|(k, s)| (s.id.as_str(), k))
            .collect();
        for s in &result.impacted {
            let key = key_of(&s.id);
            let g = *group_of_key.entry(key.clone()).or_insert_with(|| {
                groups.push(ServiceGroup {
                    key,
                    services: 0,
                    per_tier: [0; 4],
                    worst_tier: s.tier,
                    direct: 0,
                    nearest: s.depth,
                });
                groups.len() - 1
            });
            let gr = &mut groups[g];
            gr.services += 1;
            gr.per_tier[usize::from(s.tier.get())] += 1;
            gr.worst_tier = gr.worst_tier.min(s.tier);
            gr.nearest = gr.nearest.min(s.depth);
            group.push(g);
        }
        // Each service's parent in the reach tree: the step before it.
        let parent: Vec<Option<usize>> = result
            .impacted
            .iter()
            .map(|s| {
                s.path
                    .iter()
                    .rev()
                    .nth(1)
                    .filter(|step| step.kind == "service")
                    .and_then(|step| position.get(step.id.as_str()).copied())
            })
            .collect();
        // Services below each one (itself included), deepest first.
        let mut below = vec![1u32; result.impacted.len()];
        let mut order: Vec<usize> = (0..result.impacted.len()).collect();
        order.sort_by_key(|&k| std::cmp::Reverse(result.impacted[k].depth));
        let mut links: FxHashMap<(i32, u32), u32> = FxHashMap::default();
        for &k in &order {
            let to = group[k];
            match parent[k] {
                Some(p) => {
                    below[p] += below[k];
                    if group[p] != to {
                        *links.entry((group[p] as i32, to as u32)).or_default() += below[k];
                    }
                }
                None => {
                    groups[to].direct += 1;
                    *links.entry((-1, to as u32)).or_default() += below[k];
                }
            }
        }
        // Worst tier first, then the largest, then by key.
        let mut rank: Vec<usize> = (0..groups.len()).collect();
        rank.sort_by(|&a, &b| {
            let (ga, gb) = (&groups[a], &groups[b]);
            (ga.worst_tier, std::cmp::Reverse(ga.services), &ga.key).cmp(&(
                gb.worst_tier,
                std::cmp::Reverse(gb.services),
                &gb.key,
            ))
        });
        let mut new_index = vec![0u32; groups.len()];
        for (n, &g) in rank.iter().enumerate() {
            new_index[g] = n as u32;
        }
        let mut links: Vec<GroupLink> = links
            .into_iter()
            .map(|((from, to), paths)| GroupLink {
                from: if from < 0 {
                    -1
                } else {
                    new_index[from as usize] as i32
                },
                to: new_index[to as usize],
                paths,
            })
            .collect();
        links.sort_by_key(|l| (l.from, l.to));
        let groups = rank.into_iter().map(|g| groups[g].clone()).collect();
        let contained = result
            .contained
            .iter()
            .map(|id| {
                let x = &self.identities[self.lookup[id.as_str()]];
                Step {
                    kind: "identity",
                    id: x.id.clone(),
                    name: x.name.clone(),
                }
            })
            .collect();
        Ok(RadiusSummary {
            targets: result.targets,
            group_by,
            contained,
            groups,
            links,
            summary: result.summary,
        })
    }

    /// One group of [`BlastGraph::summarise`]'s summary drawn on its own:
    /// the group's impacted services with the contained identities
    /// ([`BlastGraph::explore_where`]).
    pub fn explore_group(
        &self,
        targets: &[(&str, ContainmentAction)],
        group_by: GroupBy,
        key: Option<&str>,
    ) -> Result<super::explore::Explorer, BlastError> {
        self.explore_where(targets, |service| {
            self.group_key(service, group_by)
                .as_ref()
                .map(|k| k.as_deref())
                == Some(key)
        })
    }

    /// The group key `group_by` gives the service `id` (see
    /// [`ServiceGroup::key`]), for opening one group on its own.
    pub fn group_key(&self, id: &str, group_by: GroupBy) -> Option<Option<String>> {
        let s = &self.services[*self.service_lookup.get(id)? as usize];
        Some(match group_by {
            GroupBy::Owner => s.owner.clone(),
            GroupBy::System => s.system.clone(),
            GroupBy::Tier => Some(s.tier.get().to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn groups_count_every_service_and_links_weigh_the_paths() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("s.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let graph = BlastGraph::new(&store.snapshot().await.unwrap());
        let targets = [("tok-kafka-shared", ContainmentAction::DisableAccount)];
        let blast = graph.blast(&targets).unwrap();
        for by in [GroupBy::Owner, GroupBy::System, GroupBy::Tier] {
            let sum = graph.summarise(&targets, by).unwrap();
            // Every impacted service is in exactly one group.
            let total: u32 = sum.groups.iter().map(|g| g.services).sum();
            assert_eq!(total, blast.summary.services);
            // Every explanation path leaves the identities once.
            let from_identity: u32 = sum
                .links
                .iter()
                .filter(|l| l.from == -1)
                .map(|l| l.paths)
                .sum();
            assert_eq!(from_identity, blast.summary.services, "{by:?}");
            // The direct consumers are the services one hop away.
            let direct: u32 = sum.groups.iter().map(|g| g.direct).sum();
            let one_hop = blast.impacted.iter().filter(|s| s.depth == 1).count();
            assert_eq!(direct as usize, one_hop);
            // Worst tier first.
            assert!(
                sum.groups
                    .windows(2)
                    .all(|w| w[0].worst_tier <= w[1].worst_tier)
            );
            // A crossing is weighed by the paths that make it: recount
            // from the paths themselves.
            for l in sum.links.iter().filter(|l| l.from >= 0) {
                let (a, b) = (
                    &sum.groups[l.from as usize].key,
                    &sum.groups[l.to as usize].key,
                );
                let crossing = blast
                    .impacted
                    .iter()
                    .filter(|s| {
                        s.path.windows(2).any(|w| {
                            w[0].kind == "service"
                                && graph.group_key(&w[0].id, by).as_ref() == Some(a)
                                && graph.group_key(&w[1].id, by).as_ref() == Some(b)
                        })
                    })
                    .count();
                assert_eq!(l.paths as usize, crossing, "{by:?} {a:?} → {b:?}");
            }
        }
        // By tier: four groups at most, keyed "0".."3".
        let by_tier = graph.summarise(&targets, GroupBy::Tier).unwrap();
        assert!(by_tier.groups.len() <= 4);
        assert!(
            by_tier
                .groups
                .iter()
                .all(|g| g.per_tier.iter().filter(|&&n| n > 0).count() == 1)
        );
    }
}
