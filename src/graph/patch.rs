//! Patching the engine graph for an edit instead of rebuilding it: the
//! changed services and identities are updated in their slots (new ones
//! appended), and only the adjacency rows their edges live in are
//! rewritten, each in the order a rebuild would give it, so the patched
//! graph answers every query exactly as `BlastGraph::new` of the edited
//! inventory would (`tests::patched_equals_rebuilt`, a property test).
//! Owners are not part of the graph.

use rustc_hash::{FxHashMap, FxHashSet};

use super::blast_radius::{BlastGraph, NodeRef, ServiceNode, node};
use super::{NodeId, Successors};
use crate::inventory::{Change, Entity, EntityState};
use crate::model::{Identity, Service};

impl BlastGraph {
    /// Applies changes (in order; only each entity's last state counts) as
    /// the store wrote them. The changes must leave a valid inventory, as
    /// the store guarantees for what it commits. Cost: the changed
    /// entities plus the rows of their neighbours, not the graph.
    pub fn patch(&mut self, changes: &[Change]) {
        // The last state of each entity.
        let mut services: Vec<(&str, Option<&Service>)> = Vec::new();
        let mut identities: Vec<(&str, Option<&Identity>)> = Vec::new();
        let mut last: FxHashMap<(Entity, &str), usize> = FxHashMap::default();
        for c in changes {
            match (c.entity, &c.after) {
                (Entity::Owner, _) => continue,
                (Entity::Service, after) => {
                    let state = match after {
                        Some(EntityState::Service(s)) => Some(s),
                        _ => None,
                    };
                    match last.get(&(Entity::Service, c.id.as_str())) {
                        Some(&k) => services[k].1 = state,
                        None => {
                            last.insert((Entity::Service, c.id.as_str()), services.len());
                            services.push((c.id.as_str(), state));
                        }
                    }
                }
                (Entity::Identity, after) => {
                    let state = match after {
                        Some(EntityState::Identity(i)) => Some(&**i),
                        _ => None,
                    };
                    match last.get(&(Entity::Identity, c.id.as_str())) {
                        Some(&k) => identities[k].1 = state,
                        None => {
                            last.insert((Entity::Identity, c.id.as_str()), identities.len());
                            identities.push((c.id.as_str(), state));
                        }
                    }
                }
            }
        }

        // 1. Slots for everything that will exist, so references among the
        // changes resolve whatever their order.
        for &(id, s) in &services {
            if s.is_some() && !self.service_lookup.contains_key(id) {
                let node = self.add_node();
                let slot = self.services.len() as u32;
                self.nodes.push(NodeRef::Service(slot));
                self.services.push(ServiceNode {
                    id: id.to_owned(),
                    name: String::new(),
                    owner: None,
                    system: None,
                    tier: crate::model::Tier::IMPORTANT,
                    node,
                    depends_on: Vec::new(),
                    dead: false,
                });
                self.service_lookup.insert(id.to_owned(), slot);
            }
        }
        for &(id, x) in &identities {
            if let Some(x) = x
                && self.slot_of_identity(id).is_none()
            {
                let node = self.add_node();
                let slot = self.identities.len();
                self.nodes.push(NodeRef::Identity(slot as u32));
                self.identities
                    .push(node_for(x, node, &self.service_lookup));
                self.lookup.insert(id.to_owned(), slot);
            }
        }

        // Rows to rewrite: service rows gain or lose dependents; identity
        // rows are recomputed from the records.
        let mut gained: FxHashMap<u32, Vec<NodeId>> = FxHashMap::default();
        let mut lost: FxHashMap<u32, FxHashSet<NodeId>> = FxHashMap::default();
        let mut identity_rows: FxHashSet<usize> = FxHashSet::default();

        // 2. Services' new states.
        for &(id, s) in &services {
            let Some(s) = s else { continue };
            let slot = self.service_lookup[id];
            let new_deps: Vec<u32> = s
                .depends_on
                .iter()
                .filter_map(|d| self.service_lookup.get(d.as_str()).copied())
                .collect();
            let me = self.services[slot as usize].node;
            let old_deps = std::mem::take(&mut self.services[slot as usize].depends_on);
            for &d in old_deps.iter().filter(|d| !new_deps.contains(d)) {
                lost.entry(d).or_default().insert(me);
            }
            for &d in new_deps.iter().filter(|d| !old_deps.contains(d)) {
                gained.entry(d).or_default().push(me);
            }
            let node = &mut self.services[slot as usize];
            node.name = s.name.clone();
            node.owner = s.owner.clone();
            node.system = s.system.clone();
            node.tier = s.tier;
            node.depends_on = new_deps;
        }

        // 3. Identities' new states.
        for &(id, x) in &identities {
            let Some(x) = x else { continue };
            let slot = self.slot_of_identity(id).expect("given a slot above");
            let old = &self.identities[slot];
            let (node_at, old_parent, children) = (old.node, old.parent, old.children.clone());
            let old_external = old.external_ids.clone();
            let mut fresh = node_for(x, node_at, &self.service_lookup);
            fresh.children = children;
            fresh.parent = x
                .derived_from
                .as_deref()
                .and_then(|p| self.slot_of_identity(p));
            if fresh.parent != old_parent {
                if let Some(p) = old_parent {
                    self.identities[p].children.retain(|&c| c != slot);
                    identity_rows.insert(p);
                }
                if let Some(p) = fresh.parent {
                    let children = &self.identities[p].children;
                    let at = children.partition_point(|&c| self.identities[c].id.as_str() < id);
                    self.identities[p].children.insert(at, slot);
                    identity_rows.insert(p);
                }
            }
            for ext in &old_external {
                if self.lookup.get(ext) == Some(&slot) && ext != id {
                    self.lookup.remove(ext);
                }
            }
            for ext in &fresh.external_ids {
                // An identity's own id wins over another's external id, as
                // in a rebuild.
                let taken = self
                    .lookup
                    .get(ext)
                    .is_some_and(|&k| self.identities[k].id == *ext && !self.identities[k].dead);
                if !taken {
                    self.lookup.insert(ext.clone(), slot);
                }
            }
            self.identities[slot] = fresh;
            identity_rows.insert(slot);
        }

        // 4. Deletions. What referred to a deleted entity was changed in
        // the same commit (the store refuses anything else), above.
        for &(id, x) in &identities {
            if x.is_some() {
                continue;
            }
            let Some(slot) = self.slot_of_identity(id) else {
                continue;
            };
            if let Some(p) = self.identities[slot].parent {
                self.identities[p].children.retain(|&c| c != slot);
                identity_rows.insert(p);
            }
            for ext in self.identities[slot].external_ids.clone() {
                if self.lookup.get(&ext) == Some(&slot) {
                    self.lookup.remove(&ext);
                }
            }
            self.lookup.remove(id);
            let gone = &mut self.identities[slot];
            gone.dead = true;
            gone.usages.clear();
            gone.children.clear();
            gone.parent = None;
            identity_rows.insert(slot);
        }
        for &(id, s) in &services {
            if s.is_some() {
                continue;
            }
            let Some(slot) = self.service_lookup.remove(id) else {
                continue;
            };
            let me = self.services[slot as usize].node;
            for d in std::mem::take(&mut self.services[slot as usize].depends_on) {
                lost.entry(d).or_default().insert(me);
            }
            self.services[slot as usize].dead = true;
            self.adjacency.set_row(me, Vec::new());
        }

        // 5. The rows, each in a rebuild's order.
        let mut touched: Vec<u32> = gained.keys().chain(lost.keys()).copied().collect();
        touched.sort_unstable();
        touched.dedup();
        for slot in touched {
            let service = &self.services[slot as usize];
            if service.dead {
                continue;
            }
            let node = service.node;
            let none = FxHashSet::default();
            let lost = lost.get(&slot).unwrap_or(&none);
            let mut row: Vec<NodeId> = self
                .adjacency
                .successors(node)
                .iter()
                .copied()
                .filter(|n| !lost.contains(n))
                .collect();
            row.extend(gained.get(&slot).into_iter().flatten().copied());
            self.set_sorted_row(node, row);
        }
        for slot in identity_rows {
            let x = &self.identities[slot];
            let row: Vec<NodeId> = if x.dead {
                Vec::new()
            } else {
                x.usages
                    .iter()
                    .map(|(s, _)| self.services[*s as usize].node)
                    .chain(x.children.iter().map(|&c| self.identities[c].node))
                    .collect()
            };
            let node = x.node;
            self.set_sorted_row(node, row);
        }
    }

    fn add_node(&mut self) -> NodeId {
        let n = self.adjacency.add_node();
        debug_assert_eq!(n as usize, self.nodes.len());
        n
    }

    fn slot_of_identity(&self, id: &str) -> Option<usize> {
        self.lookup
            .get(id)
            .copied()
            .filter(|&i| self.identities[i].id == id && !self.identities[i].dead)
    }

    fn set_sorted_row(&mut self, node: NodeId, mut row: Vec<NodeId>) {
        row.sort_unstable_by(|&a, &b| self.order_key(a).cmp(&self.order_key(b)));
        row.dedup();
        self.adjacency.set_row(node, row);
    }
}

fn node_for(
    x: &Identity,
    at: NodeId,
    service_lookup: &FxHashMap<String, u32>,
) -> super::blast_radius::IdentityNode {
    node(x.clone(), at, service_lookup)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use rand::seq::IndexedRandom as _;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::inventory::{Inventory, Operation};
    use crate::model::{
        Access, BreakGlass, ContainmentAction, ContainmentPlan, Environment, IdentityKind,
        SecretDelivery, Tier, Usage,
    };

    /// Every row of a graph by ids: `(is identity, id)` → successors the
    /// same way, in row order. Two graphs with equal rows walk alike.
    fn rows(g: &BlastGraph) -> BTreeMap<(bool, String), Vec<(bool, String)>> {
        let key = |n: NodeId| match g.nodes[n as usize] {
            NodeRef::Service(s) => (false, g.services[s as usize].id.clone()),
            NodeRef::Identity(i) => (true, g.identities[i as usize].id.clone()),
        };
        let live = |n: NodeId| match g.nodes[n as usize] {
            NodeRef::Service(s) => !g.services[s as usize].dead,
            NodeRef::Identity(i) => !g.identities[i as usize].dead,
        };
        (0..g.nodes.len() as NodeId)
            .filter(|&n| live(n))
            .map(|n| {
                let row = g.adjacency.successors(n).iter().map(|&m| key(m)).collect();
                (key(n), row)
            })
            .collect()
    }

    /// The patched graph answers every question as the rebuilt one does.
    fn assert_same(patched: &BlastGraph, inv: &Inventory) {
        let rebuilt = BlastGraph::new(inv);
        assert_eq!(rows(patched), rows(&rebuilt), "adjacency rows");
        assert_eq!(patched.counts(), rebuilt.counts());
        assert_eq!(patched.rank(), rebuilt.rank(), "ranking");
        for x in &inv.identities {
            for &action in ContainmentAction::ALL {
                assert_eq!(
                    patched.blast(&[(x.id.as_str(), action)]),
                    rebuilt.blast(&[(x.id.as_str(), action)]),
                    "blast radius of {action:?} on {}",
                    x.id
                );
            }
            assert_eq!(
                patched.explore(&[(x.id.as_str(), ContainmentAction::DisableAccount)]),
                rebuilt.explore(&[(x.id.as_str(), ContainmentAction::DisableAccount)]),
                "explorer of {}",
                x.id
            );
            for q in [x.name.as_str(), &x.name[..x.name.len() / 2]]
                .into_iter()
                .chain(x.external_ids.iter().map(String::as_str))
            {
                assert_eq!(patched.resolve(q), rebuilt.resolve(q), "resolving {q:?}");
            }
        }
        if inv.identities.len() >= 2 {
            let two = [
                (
                    inv.identities[0].id.as_str(),
                    ContainmentAction::RotateSecret,
                ),
                (
                    inv.identities[inv.identities.len() - 1].id.as_str(),
                    ContainmentAction::RevokeToken,
                ),
            ];
            assert_eq!(patched.blast(&two), rebuilt.blast(&two));
        }
        assert_eq!(patched.resolve("nobody"), rebuilt.resolve("nobody"));
    }

    /// Random inventories and edits that keep them valid, as the store
    /// would commit them.
    struct World {
        rng: ChaCha8Rng,
        inv: Inventory,
        next: usize,
    }

    impl World {
        fn new(seed: u64) -> Self {
            let mut w = World {
                rng: ChaCha8Rng::seed_from_u64(seed),
                inv: Inventory::default(),
                next: 0,
            };
            let services = w.rng.random_range(1..12);
            for _ in 0..services {
                let s = w.service();
                w.inv.services.push(s);
            }
            let identities = w.rng.random_range(1..16);
            for _ in 0..identities {
                let i = w.identity();
                w.inv.identities.push(i);
            }
            w.inv.sort();
            w
        }

        fn fresh(&mut self, prefix: &str) -> String {
            self.next += 1;
            // Ids whose order differs from creation order, so appended
            // slots sort among the existing ones.
            let n = self.rng.random_range(0..1000);
            format!("{prefix}-{n:03}-{}", self.next)
        }

        fn service(&mut self) -> Service {
            let id = self.fresh("svc");
            let mut deps: Vec<String> = Vec::new();
            for s in &self.inv.services {
                if self.rng.random_bool(0.3) {
                    deps.push(s.id.clone());
                }
            }
            Service {
                name: format!("Service {id}"),
                id,
                owner: None,
                tier: Tier::new(self.rng.random_range(0..4)).unwrap(),
                system: None,
                description: String::new(),
                depends_on: deps,
            }
        }

        fn usages(&mut self) -> Vec<Usage> {
            let mut used = Vec::new();
            for s in &self.inv.services {
                if self.rng.random_bool(0.25) {
                    let mut u = Usage::of(s.id.clone());
                    u.access = [None, Some(Access::ALL[0]), Some(Access::ALL[1])]
                        .choose(&mut self.rng)
                        .copied()
                        .flatten();
                    u.delivery = [
                        None,
                        Some(SecretDelivery::ALL[0]),
                        Some(SecretDelivery::ALL[1]),
                    ]
                    .choose(&mut self.rng)
                    .copied()
                    .flatten();
                    u.live_sessions = self.rng.random_bool(0.5);
                    used.push(u);
                }
            }
            used
        }

        /// A parent that keeps lineage acyclic: one whose id sorts before.
        fn parent_for(&mut self, id: &str) -> Option<String> {
            let before: Vec<String> = self
                .inv
                .identities
                .iter()
                .filter(|x| x.id.as_str() < id)
                .map(|x| x.id.clone())
                .collect();
            if before.is_empty() || self.rng.random_bool(0.6) {
                None
            } else {
                before.choose(&mut self.rng).cloned()
            }
        }

        fn identity(&mut self) -> Identity {
            let id = self.fresh("id");
            let mut x = Identity::new(
                &id,
                *IdentityKind::ALL.choose(&mut self.rng).unwrap(),
                &format!("Identity {id}"),
                Environment::Production,
                Tier::new(self.rng.random_range(0..4)).unwrap(),
            );
            x.used_by = self.usages();
            x.derived_from = self.parent_for(&id);
            if self.rng.random_bool(0.3) {
                let ext = self.fresh("arn");
                x.external_ids.push(ext);
            }
            if self.rng.random_bool(0.1) {
                x.break_glass = Some(BreakGlass {
                    justification: "DR".into(),
                    custodians: vec![],
                    use_window: String::new(),
                    always_dual_approval: true,
                    owner_veto: true,
                });
            }
            if self.rng.random_bool(0.3) {
                x.containment.insert(
                    *ContainmentAction::ALL.choose(&mut self.rng).unwrap(),
                    ContainmentPlan {
                        reversible: Some(false),
                        rto_minutes: Some(self.rng.random_range(0..90)),
                        ..ContainmentPlan::default()
                    },
                );
            }
            x
        }

        fn change<T: Clone + Into<EntityState>>(
            entity: Entity,
            id: &str,
            after: Option<&T>,
        ) -> Change {
            Change {
                entity,
                id: id.to_owned(),
                operation: if after.is_some() {
                    Operation::Update
                } else {
                    Operation::Delete
                },
                before: None,
                after: after.map(|a| a.clone().into()),
            }
        }

        /// One commit: the changes it writes, applied to `inv`.
        fn edit(&mut self) -> Vec<Change> {
            let mut out = Vec::new();
            match self.rng.random_range(0..7) {
                0 => {
                    let x = self.identity();
                    out.push(Self::change(Entity::Identity, &x.id, Some(&x)));
                    self.inv.identities.push(x);
                }
                1 | 2 if !self.inv.identities.is_empty() => {
                    let k = self.rng.random_range(0..self.inv.identities.len());
                    let id = self.inv.identities[k].id.clone();
                    let used = self.usages();
                    let parent = self.parent_for(&id);
                    let x = &mut self.inv.identities[k];
                    x.used_by = used;
                    x.derived_from = parent;
                    x.name = format!("Renamed {id}");
                    x.external_ids.clear();
                    if self.rng.random_bool(0.5) {
                        let ext = self.fresh("arn");
                        self.inv.identities[k].external_ids.push(ext);
                    }
                    let x = self.inv.identities[k].clone();
                    out.push(Self::change(Entity::Identity, &x.id, Some(&x)));
                }
                3 if !self.inv.identities.is_empty() => {
                    let k = self.rng.random_range(0..self.inv.identities.len());
                    let gone = self.inv.identities.remove(k);
                    // Its children are re-parented in the same commit.
                    for x in &mut self.inv.identities {
                        if x.derived_from.as_deref() == Some(gone.id.as_str()) {
                            x.derived_from = None;
                            out.push(Self::change(Entity::Identity, &x.id, Some(&*x)));
                        }
                    }
                    out.push(Self::change::<Identity>(Entity::Identity, &gone.id, None));
                }
                4 => {
                    let s = self.service();
                    out.push(Self::change(Entity::Service, &s.id, Some(&s)));
                    // Sometimes something starts depending on it at once.
                    if let Some(k) = (!self.inv.services.is_empty())
                        .then(|| self.rng.random_range(0..self.inv.services.len()))
                    {
                        self.inv.services[k].depends_on.push(s.id.clone());
                        let t = self.inv.services[k].clone();
                        out.push(Self::change(Entity::Service, &t.id, Some(&t)));
                    }
                    self.inv.services.push(s);
                }
                5 if !self.inv.services.is_empty() => {
                    let k = self.rng.random_range(0..self.inv.services.len());
                    let id = self.inv.services[k].id.clone();
                    let deps: Vec<String> = self
                        .inv
                        .services
                        .iter()
                        .filter(|s| s.id != id)
                        .filter(|_| self.rng.random_bool(0.3))
                        .map(|s| s.id.clone())
                        .collect();
                    let tier = Tier::new(self.rng.random_range(0..4)).unwrap();
                    let s = &mut self.inv.services[k];
                    s.depends_on = deps;
                    s.tier = tier;
                    s.name = format!("Renamed {id}");
                    let s = s.clone();
                    out.push(Self::change(Entity::Service, &s.id, Some(&s)));
                }
                6 if self.inv.services.len() > 1 => {
                    let k = self.rng.random_range(0..self.inv.services.len());
                    let gone = self.inv.services.remove(k);
                    for s in &mut self.inv.services {
                        if s.depends_on.contains(&gone.id) {
                            s.depends_on.retain(|d| d != &gone.id);
                            out.push(Self::change(Entity::Service, &s.id, Some(&*s)));
                        }
                    }
                    for x in &mut self.inv.identities {
                        if x.used_by.iter().any(|u| u.service == gone.id) {
                            x.used_by.retain(|u| u.service != gone.id);
                            out.push(Self::change(Entity::Identity, &x.id, Some(&*x)));
                        }
                    }
                    out.push(Self::change::<Service>(Entity::Service, &gone.id, None));
                }
                _ => {}
            }
            self.inv.sort();
            out
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn patched_equals_rebuilt(seed in any::<u64>(), edits in 1usize..25, batch in 1usize..4) {
            let mut world = World::new(seed);
            world.inv.validate().unwrap();
            let mut graph = BlastGraph::new(&world.inv);
            let mut pending = Vec::new();
            for n in 0..edits {
                pending.extend(world.edit());
                world.inv.validate().unwrap();
                // Several commits caught up at once, as a cache does.
                if (n + 1) % batch == 0 {
                    graph.patch(&std::mem::take(&mut pending));
                    if world.rng.random_bool(0.2) {
                        graph.adjacency.compact();
                    }
                    assert_same(&graph, &world.inv);
                }
            }
            graph.patch(&pending);
            assert_same(&graph, &world.inv);
        }
    }
}
