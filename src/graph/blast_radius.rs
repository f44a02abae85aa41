//! What a containment action breaks: the services reached, how critical
//! they are, and the shortest path that explains each one.
//!
//! The first hop depends on the action and on how each consumer uses the
//! identity; after that, breakage follows service dependencies whatever
//! the action:
//! - revoke session: only consumers holding live sessions;
//! - rotate secret: consumers holding a static copy (or not documented);
//!   those fetching it dynamically are spared;
//! - reduce scope: consumers using write or admin access (or not
//!   documented); read-only consumers are spared;
//! - revoke token, disable account, quarantine: every consumer, and every
//!   credential derived from the identity through lineage, with theirs.
//!
//! Where the inventory does not say, the worst case is assumed and the
//! consumer is flagged as undocumented.

use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

use super::live::LiveAdjacency;
use super::rank::reach_all;
use super::{NodeId, Reacher};
use crate::inventory::Inventory;
use crate::model::{
    Access, ContainmentAction, ContainmentPlan, Environment, Identity, IdentityKind,
    SecretDelivery, Tier, Usage,
};

/// Severity weight of hitting a service of each tier: one tier-0 service
/// outweighs any number of tier-1 services a realistic inventory has.
pub const TIER_WEIGHT: [u32; 4] = [1000, 100, 10, 1];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlastError {
    #[error("no identity with id or external id {0:?}")]
    UnknownIdentity(String),
    #[error("no identity matches {0:?} by id, name or external id")]
    NoMatch(String),
    #[error("{query:?} matches {} identities: {}; give more of the name, or the id", candidates.len(), candidates.join(", "))]
    Ambiguous {
        query: String,
        /// Up to ten, each as `name (id)`.
        candidates: Vec<String>,
    },
    #[error("no containment action given")]
    NoAction,
}

#[derive(Clone)]
pub(super) struct ServiceNode {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) owner: Option<String>,
    pub(super) system: Option<String>,
    pub(super) tier: Tier,
    /// Its node in the adjacency.
    pub(super) node: NodeId,
    /// The services it depends on, as service slots (edges into its node).
    pub(super) depends_on: Vec<u32>,
    /// Deleted by an edit since the graph was built.
    pub(super) dead: bool,
}

#[derive(Clone)]
pub(super) struct IdentityNode {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) kind: IdentityKind,
    pub(super) tier: Tier,
    pub(super) owner: Option<String>,
    pub(super) environment: Environment,
    pub(super) break_glass: bool,
    /// Consumers, as (service slot, how it uses the identity).
    pub(super) usages: Vec<(u32, Usage)>,
    /// Identities derived from it, as identity slots sorted by id.
    pub(super) children: Vec<usize>,
    /// The identity it derives from, as a slot.
    pub(super) parent: Option<usize>,
    pub(super) external_ids: Vec<String>,
    pub(super) containment: BTreeMap<ContainmentAction, ContainmentPlan>,
    pub(super) node: NodeId,
    pub(super) dead: bool,
}

/// What a node of the adjacency is: a service or an identity, by slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeRef {
    Service(u32),
    Identity(u32),
}

/// The inventory as the engine sees it. Services and identities live in
/// slots (`services`, `identities`), each with a node of the adjacency;
/// built from an inventory, services are nodes `0..S` and identities
/// `S..S+I` in id order, and edits append nodes for what they create
/// (`graph::patch`). The adjacency holds every edge (identity → service
/// using it, identity → identity derived from it, service → service
/// depending on it), so one structure serves queries and ranking. Every
/// row lists its successors services first, then identities, each by id:
/// the order a rebuild gives, so a patched graph answers exactly as a
/// rebuilt one, paths included.
pub struct BlastGraph {
    pub(super) services: Vec<ServiceNode>,
    pub(super) identities: Vec<IdentityNode>,
    /// Per node: the slot it is.
    pub(super) nodes: Vec<NodeRef>,
    /// Identity ids and external ids → identity slot.
    pub(super) lookup: FxHashMap<String, usize>,
    /// Service ids → service slot.
    pub(super) service_lookup: FxHashMap<String, u32>,
    pub(super) adjacency: LiveAdjacency,
    pub(super) reacher: Mutex<Reacher>,
}

impl Clone for BlastGraph {
    fn clone(&self) -> Self {
        BlastGraph {
            services: self.services.clone(),
            identities: self.identities.clone(),
            nodes: self.nodes.clone(),
            lookup: self.lookup.clone(),
            service_lookup: self.service_lookup.clone(),
            adjacency: self.adjacency.clone(),
            reacher: Mutex::new(Reacher::new(self.nodes.len())),
        }
    }
}

/// One step of an explanation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Step {
    /// `identity` or `service`.
    #[ts(type = "\"identity\" | \"service\"")]
    pub kind: &'static str,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImpactedService {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub tier: Tier,
    /// Hops from the contained identity.
    pub depth: u32,
    /// Identity → … → this service, shortest first found.
    pub path: Vec<Step>,
}

/// A consumer the action does not hit, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Spared {
    pub identity: String,
    pub service: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Target {
    pub identity: String,
    pub action: ContainmentAction,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Summary {
    pub services: u32,
    /// Impacted services per tier, tier 0 first.
    pub per_tier: [u32; 4],
    pub highest_tier: Option<Tier>,
    /// Sum of `TIER_WEIGHT` over impacted services: how bad, in one number.
    pub score: u64,
    /// Break-glass identities among those contained.
    pub break_glass: Vec<String>,
    /// Direct consumers of the targeted identities (shared-credential fan-out).
    pub fan_out: u32,
    /// Sum of the recovery-time objectives documented for these actions.
    pub rto_minutes: u32,
    /// Actions whose recovery time is not documented.
    pub rto_unknown: Vec<Target>,
    /// Destructive actions with no rollback path documented.
    pub destructive_without_rollback: Vec<Target>,
    /// Consumers assumed hit because how they use the identity is not documented.
    pub undocumented_consumers: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BlastResult {
    pub targets: Vec<Target>,
    /// Targets plus credentials derived from them that the actions revoke.
    pub contained: Vec<String>,
    /// Most critical first, then nearest.
    pub impacted: Vec<ImpactedService>,
    pub spared: Vec<Spared>,
    pub summary: Summary,
}

/// Whether a consumer is hit by the first hop of `action` (`Ok`, with
/// whether that is only because its use is undocumented), or why not.
fn first_hop(action: ContainmentAction, u: &Usage) -> Result<bool, &'static str> {
    use ContainmentAction::*;
    match action {
        RevokeSession if !u.live_sessions => Err("holds no live session"),
        RotateSecret if u.delivery == Some(SecretDelivery::Dynamic) => {
            Err("fetches the secret dynamically")
        }
        ReduceScope if u.access == Some(Access::Read) => Err("uses read access only"),
        RevokeSession => Ok(false),
        RotateSecret => Ok(u.delivery.is_none()),
        ReduceScope => Ok(u.access.is_none()),
        RevokeToken | DisableAccount | Quarantine => Ok(false),
    }
}

/// Whether `narrower` breaks no more than `broader` on *every* inventory,
/// read off the rules above: an action that hits every consumer and
/// follows lineage (`revoke_token`, `disable_account`, `quarantine`)
/// breaks a superset of what any action breaks, and an action is as broad
/// as itself. Nothing else holds on every graph (`revoke_session` spares
/// consumers without live sessions, `rotate_secret` those fetching the
/// secret dynamically: neither contains the other). A checker that holds no
/// inventory — the backend judging a narrowed approval — relies on this;
/// `tests::a_narrower_action_never_breaks_more` checks it on generated
/// inventories.
pub fn never_breaks_more(narrower: ContainmentAction, broader: ContainmentAction) -> bool {
    use ContainmentAction::*;
    // Mirrors `first_hop`: these three hit every consumer unconditionally.
    let hits_every_consumer = matches!(broader, RevokeToken | DisableAccount | Quarantine);
    narrower == broader || (hits_every_consumer && follows_lineage(broader))
}

/// Actions that also revoke what was minted from the identity.
fn follows_lineage(action: ContainmentAction) -> bool {
    matches!(
        action,
        ContainmentAction::RevokeToken
            | ContainmentAction::DisableAccount
            | ContainmentAction::Quarantine
    )
}

impl BlastGraph {
    /// Builds the engine's view of an inventory (which must be valid;
    /// sorted by id, as the store lists it, for rows in a rebuild's order).
    /// Copies what it keeps; [`BlastGraph::from_inventory`] takes it over.
    pub fn new(inv: &Inventory) -> Self {
        Self::from_inventory(inv.clone())
    }

    /// [`BlastGraph::new`], taking the inventory over: its strings move into
    /// the graph and each entity is freed once read, so a large inventory
    /// is never held twice (once as read from the store, once as the
    /// engine's rows).
    pub fn from_inventory(inv: Inventory) -> Self {
        let Inventory {
            services: inv_services,
            identities: inv_identities,
            ..
        } = inv;
        let s_count = inv_services.len();
        let service_lookup: FxHashMap<String, u32> = inv_services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i as u32))
            .collect();
        let mut edges = Vec::new();
        let services = inv_services
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let depends_on: Vec<u32> = s
                    .depends_on
                    .iter()
                    .filter_map(|d| service_lookup.get(d.as_str()).copied())
                    .collect();
                for &dep in &depends_on {
                    edges.push((dep as NodeId, i as NodeId));
                }
                ServiceNode {
                    id: s.id,
                    name: s.name,
                    owner: s.owner,
                    system: s.system,
                    tier: s.tier,
                    node: i as NodeId,
                    depends_on,
                    dead: false,
                }
            })
            .collect();
        let mut derived_from: Vec<Option<String>> = Vec::with_capacity(inv_identities.len());
        let mut identities: Vec<IdentityNode> = inv_identities
            .into_iter()
            .enumerate()
            .map(|(i, mut x)| {
                derived_from.push(x.derived_from.take());
                let n = node(x, (s_count + i) as NodeId, &service_lookup);
                for (s, _) in &n.usages {
                    edges.push((n.node, *s as NodeId));
                }
                n
            })
            .collect();
        let mut lookup = FxHashMap::default();
        for (i, x) in identities.iter().enumerate() {
            for ext in &x.external_ids {
                lookup.insert(ext.clone(), i);
            }
        }
        for (i, x) in identities.iter().enumerate() {
            lookup.insert(x.id.clone(), i);
        }
        // A parent is named by its id (never an external id): looked up
        // among the ids alone, as the identities' rows hold them.
        let parents: Vec<Option<usize>> = derived_from
            .iter()
            .map(|p| {
                let p = p.as_deref()?;
                let &i = lookup.get(p)?;
                (identities[i].id == p).then_some(i)
            })
            .collect();
        drop(derived_from);
        for (i, parent) in parents.into_iter().enumerate() {
            identities[i].parent = parent;
            if let Some(p) = parent {
                identities[p].children.push(i);
                edges.push(((s_count + p) as NodeId, (s_count + i) as NodeId));
            }
        }
        let n = s_count + identities.len();
        let nodes = (0..s_count as u32)
            .map(NodeRef::Service)
            .chain((0..identities.len() as u32).map(NodeRef::Identity))
            .collect();
        BlastGraph {
            services,
            identities,
            nodes,
            lookup,
            service_lookup,
            adjacency: LiveAdjacency::new(n, edges),
            reacher: Mutex::new(Reacher::new(n)),
        }
    }

    /// The service a node is, if it is one.
    #[inline]
    pub(super) fn service_of(&self, n: NodeId) -> Option<usize> {
        match self.nodes[n as usize] {
            NodeRef::Service(s) => Some(s as usize),
            NodeRef::Identity(_) => None,
        }
    }

    /// Where a node sorts in a row: services before identities, each by
    /// id — node order in a graph built from a sorted inventory.
    #[inline]
    pub(super) fn order_key(&self, n: NodeId) -> (u8, &str) {
        match self.nodes[n as usize] {
            NodeRef::Service(s) => (0, self.services[s as usize].id.as_str()),
            NodeRef::Identity(i) => (1, self.identities[i as usize].id.as_str()),
        }
    }

    /// The identities that exist (not deleted by an edit), with their slots.
    pub(super) fn live_identities(&self) -> impl Iterator<Item = (usize, &IdentityNode)> {
        self.identities.iter().enumerate().filter(|(_, x)| !x.dead)
    }

    /// The services documented as using `identity` (its `used_by`, by
    /// service id); empty for an identity the graph does not hold.
    pub fn documented_users(&self, identity: &str) -> Vec<&str> {
        match self.lookup.get(identity).map(|&i| &self.identities[i]) {
            Some(x) if !x.dead && x.id == identity => x
                .usages
                .iter()
                .map(|(s, _)| self.services[*s as usize].id.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The services `service` is documented as depending on.
    pub fn documented_dependencies(&self, service: &str) -> Vec<&str> {
        match self
            .service_lookup
            .get(service)
            .map(|&s| &self.services[s as usize])
        {
            Some(s) if !s.dead => s
                .depends_on
                .iter()
                .map(|&d| self.services[d as usize].id.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Services and identities that exist.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.services.iter().filter(|s| !s.dead).count(),
            self.live_identities().count(),
        )
    }

    /// The identity a person typed: its id or an external id exactly; the
    /// `name (id)` a suggestion shows; a name, whole or in part, in any
    /// case; or a part of an id — as long as exactly one identity matches.
    /// Returns its id. Errors: [`BlastError::NoMatch`], or
    /// [`BlastError::Ambiguous`] with up to ten candidates.
    pub fn resolve(&self, query: &str) -> Result<&str, BlastError> {
        let q = query.trim();
        if let Some(&i) = self.lookup.get(q) {
            return Ok(&self.identities[i].id);
        }
        if let Some(open) = q
            .strip_suffix(')')
            .and_then(|r| r.rfind(" (").map(|at| &r[at + 2..]))
            && let Some(&i) = self.lookup.get(open)
        {
            return Ok(&self.identities[i].id);
        }
        let folded = q.to_lowercase();
        if folded.is_empty() {
            return Err(BlastError::NoMatch(query.to_owned()));
        }
        let pick = |hits: Vec<usize>| -> Option<Result<&str, BlastError>> {
            match hits.as_slice() {
                [] => None,
                [one] => Some(Ok(self.identities[*one].id.as_str())),
                many => Some(Err(BlastError::Ambiguous {
                    query: query.to_owned(),
                    candidates: many
                        .iter()
                        .take(10)
                        .map(|&i| {
                            format!("{} ({})", self.identities[i].name, self.identities[i].id)
                        })
                        .collect(),
                })),
            }
        };
        // By id, whatever slots edits gave them.
        let by_id = |mut hits: Vec<usize>| {
            hits.sort_by(|&a, &b| self.identities[a].id.cmp(&self.identities[b].id));
            hits
        };
        let whole: Vec<usize> = by_id(
            self.live_identities()
                .filter(|(_, x)| x.name.to_lowercase() == folded)
                .map(|(i, _)| i)
                .collect(),
        );
        if let Some(answer) = pick(whole) {
            return answer;
        }
        let partial: Vec<usize> = by_id(
            self.live_identities()
                .filter(|(_, x)| {
                    x.name.to_lowercase().contains(&folded) || x.id.to_lowercase().contains(&folded)
                })
                .map(|(i, _)| i)
                .collect(),
        );
        pick(partial).unwrap_or_else(|| Err(BlastError::NoMatch(query.to_owned())))
    }

    fn identity_index(&self, id: &str) -> Result<usize, BlastError> {
        self.lookup
            .get(id)
            .copied()
            .ok_or_else(|| BlastError::UnknownIdentity(id.to_owned()))
    }

    fn service_step(&self, n: NodeId) -> Step {
        let s = &self.services[self.service_of(n).expect("a service node")];
        Step {
            kind: "service",
            id: s.id.clone(),
            name: s.name.clone(),
        }
    }

    fn identity_step(&self, i: usize) -> Step {
        let x = &self.identities[i];
        Step {
            kind: "identity",
            id: x.id.clone(),
            name: x.name.clone(),
        }
    }

    /// The blast radius of several actions at once (a drill injects several).
    pub fn blast(&self, targets: &[(&str, ContainmentAction)]) -> Result<BlastResult, BlastError> {
        if targets.is_empty() {
            return Err(BlastError::NoAction);
        }
        let resolved: Vec<(usize, ContainmentAction)> = targets
            .iter()
            .map(|(id, a)| self.identity_index(id).map(|i| (i, *a)))
            .collect::<Result<_, _>>()?;

        // Identities contained, each with the lineage chain that reaches it.
        // Keyed by id: the order a rebuild's slots have, whatever slots
        // edits gave them.
        let mut chains: BTreeMap<&str, (usize, Vec<usize>, ContainmentAction)> = BTreeMap::new();
        for &(i, action) in &resolved {
            let mut stack = vec![vec![i]];
            while let Some(chain) = stack.pop() {
                let at = *chain.last().expect("chains are not empty");
                let key = self.identities[at].id.as_str();
                let shorter = chains
                    .get(key)
                    .is_none_or(|(_, c, _)| c.len() > chain.len());
                if !shorter {
                    continue;
                }
                if follows_lineage(action) {
                    for &child in &self.identities[at].children {
                        if !chain.contains(&child) {
                            let mut next = chain.clone();
                            next.push(child);
                            stack.push(next);
                        }
                    }
                }
                chains.insert(key, (at, chain, action));
            }
        }

        // First hop: the consumers each contained identity's action hits.
        let mut summary = Summary::default();
        let mut spared = Vec::new();
        let mut origin: FxHashMap<NodeId, Vec<usize>> = FxHashMap::default();
        for (i, chain, action) in chains.values() {
            for (svc, usage) in &self.identities[*i].usages {
                let node = self.services[*svc as usize].node;
                match first_hop(*action, usage) {
                    Err(reason) => spared.push(Spared {
                        identity: self.identities[*i].id.clone(),
                        service: self.services[*svc as usize].id.clone(),
                        reason,
                    }),
                    Ok(undocumented) => {
                        summary.undocumented_consumers += u32::from(undocumented);
                        let better = origin.get(&node).is_none_or(|c| c.len() > chain.len());
                        if better {
                            origin.insert(node, chain.clone());
                        }
                    }
                }
            }
        }
        let mut firsts: Vec<NodeId> = origin.keys().copied().collect();
        firsts.sort_unstable_by(|&a, &b| self.order_key(a).cmp(&self.order_key(b)));

        let mut reacher = self.reacher.lock().expect("reacher lock");
        reacher.grow(self.nodes.len());
        let visited = reacher.run(&self.adjacency, &firsts, |_| true).to_vec();
        let mut impacted: Vec<ImpactedService> = visited
            .iter()
            .filter_map(|&n| self.service_of(n).map(|s| (n, s)))
            .map(|(n, slot)| {
                let service_path = reacher.path_to(n);
                let chain = &origin[&service_path[0]];
                let mut path: Vec<Step> = chain.iter().map(|&i| self.identity_step(i)).collect();
                path.extend(service_path.iter().map(|&s| self.service_step(s)));
                let s = &self.services[slot];
                ImpactedService {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    owner: s.owner.clone(),
                    tier: s.tier,
                    depth: (path.len() - 1) as u32,
                    path,
                }
            })
            .collect();
        drop(reacher);
        impacted.sort_by(|a, b| (a.tier, a.depth, &a.id).cmp(&(b.tier, b.depth, &b.id)));
        // Spared is what does not break at all: a consumer the action
        // spares directly (it fetches the secret dynamically) still breaks
        // when a service it depends on breaks, and is listed there, not
        // here.
        let broken: rustc_hash::FxHashSet<&str> = impacted.iter().map(|s| s.id.as_str()).collect();
        spared.retain(|s: &Spared| !broken.contains(s.service.as_str()));

        summary.services = impacted.len() as u32;
        for s in &impacted {
            summary.per_tier[usize::from(s.tier.get())] += 1;
            summary.score += u64::from(TIER_WEIGHT[usize::from(s.tier.get())]);
        }
        summary.highest_tier = impacted.first().map(|s| s.tier);
        summary.fan_out = resolved
            .iter()
            .map(|&(i, _)| self.identities[i].usages.len() as u32)
            .sum();
        for &(i, _, _) in chains.values() {
            if self.identities[i].break_glass {
                summary.break_glass.push(self.identities[i].id.clone());
            }
        }
        let targets: Vec<Target> = resolved
            .iter()
            .map(|&(i, action)| Target {
                identity: self.identities[i].id.clone(),
                action,
            })
            .collect();
        for t in &targets {
            let plan = self.identities[self.lookup[&t.identity]]
                .containment
                .get(&t.action);
            match plan.and_then(|p| p.rto_minutes) {
                Some(m) => summary.rto_minutes += m,
                None => summary.rto_unknown.push(t.clone()),
            }
            if let Some(p) = plan
                && p.reversible == Some(false)
                && p.rollback.trim().is_empty()
            {
                summary.destructive_without_rollback.push(t.clone());
            }
        }
        Ok(BlastResult {
            targets,
            contained: chains.keys().map(|&id| id.to_owned()).collect(),
            impacted,
            spared,
            summary,
        })
    }

    /// Every identity's worst case (disable account: every consumer and
    /// every derived credential), riskiest first.
    pub fn rank(&self) -> Vec<RankedIdentity> {
        let n = self.nodes.len();
        let mut counted = vec![0u32; n];
        let mut score = vec![0u32; n];
        for svc in self.services.iter().filter(|s| !s.dead) {
            counted[svc.node as usize] = 1;
            score[svc.node as usize] = TIER_WEIGHT[usize::from(svc.tier.get())];
        }
        let reach = reach_all(&self.adjacency.to_csr(), &counted, &score);
        let mut ranked: Vec<RankedIdentity> = self
            .live_identities()
            .map(|(_, x)| RankedIdentity {
                id: x.id.clone(),
                name: x.name.clone(),
                kind: x.kind,
                tier: x.tier,
                break_glass: x.break_glass,
                services: reach[x.node as usize].count as u32,
                score: reach[x.node as usize].score,
                fan_out: x.usages.len() as u32,
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(b.services.cmp(&a.services))
                .then(a.id.cmp(&b.id))
        });
        ranked
    }
}

/// An identity's engine record (its parent and children are linked by
/// the caller).
pub(super) fn node(
    x: Identity,
    at: NodeId,
    service_lookup: &FxHashMap<String, u32>,
) -> IdentityNode {
    let break_glass = x.is_break_glass();
    let usages: Vec<(u32, Usage)> = x
        .used_by
        .into_iter()
        .filter_map(|u| service_lookup.get(u.service.as_str()).map(|&s| (s, u)))
        .collect();
    IdentityNode {
        id: x.id,
        name: x.name,
        kind: x.kind,
        tier: x.tier,
        owner: x.owner,
        environment: x.environment,
        break_glass,
        usages,
        children: Vec::new(),
        parent: None,
        external_ids: x.external_ids,
        containment: x.containment,
        node: at,
        dead: false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RankedIdentity {
    pub id: String,
    pub name: String,
    pub kind: IdentityKind,
    /// The identity's own criticality tier (0 = most critical).
    pub tier: Tier,
    pub break_glass: bool,
    /// Services broken by disabling it.
    pub services: u32,
    /// The severity of what disabling it breaks: per broken service,
    /// 1000 for tier 0, 100 for tier 1, 10 for tier 2, 1 for tier 3.
    pub score: u64,
    pub fan_out: u32,
}

/// What the responders believe happened, which decides which actions
/// actually contain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Threat {
    /// A session or short-lived token was hijacked.
    StolenSession,
    /// The secret itself leaked (a key in a public repository).
    LeakedSecret,
    /// The identity is being used beyond its normal pattern (an agent's
    /// unusual tool call, a role leaving its command pattern).
    PermissionMisuse,
    /// The identity is fully compromised or its trust is unknown.
    Compromised,
}

impl Threat {
    /// Whether `action` stops this threat. Narrow actions stop narrow threats;
    /// disabling or quarantining stops them all.
    pub fn contained_by(self, action: ContainmentAction) -> bool {
        use ContainmentAction::*;
        match self {
            Threat::StolenSession => matches!(
                action,
                RevokeSession | RevokeToken | RotateSecret | DisableAccount | Quarantine
            ),
            Threat::LeakedSecret => matches!(
                action,
                RotateSecret | RevokeToken | DisableAccount | Quarantine
            ),
            Threat::PermissionMisuse => matches!(action, ReduceScope | DisableAccount | Quarantine),
            Threat::Compromised => matches!(action, DisableAccount | Quarantine),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Alternative {
    pub action: ContainmentAction,
    pub contains: bool,
    /// Whether the action can be done to an identity of this kind
    /// ([`IdentityKind::applies`]); only those are recommended.
    pub applies: bool,
    pub summary: Summary,
    /// Services this action breaks that the recommended one does not.
    pub extra_services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Alternatives {
    pub identity: String,
    pub threat: Threat,
    /// The narrowest action that still contains the threat.
    pub recommended: ContainmentAction,
    pub options: Vec<Alternative>,
}

impl BlastGraph {
    /// Every action on one identity side by side, and the one that contains
    /// `threat` while breaking least: lowest severity score, then reversible
    /// over destructive, then the narrower action.
    pub fn alternatives(&self, identity: &str, threat: Threat) -> Result<Alternatives, BlastError> {
        let i = self.identity_index(identity)?;
        let results: Vec<(ContainmentAction, BlastResult)> = ContainmentAction::ALL
            .iter()
            .map(|&a| self.blast(&[(identity, a)]).map(|r| (a, r)))
            .collect::<Result<_, _>>()?;
        let destructive = |a: ContainmentAction| {
            self.identities[i]
                .containment
                .get(&a)
                .and_then(|p| p.reversible)
                == Some(false)
        };
        let kind = self.identities[i].kind;
        let rank =
            |(a, r): &&(ContainmentAction, BlastResult)| (r.summary.score, destructive(*a), *a);
        // Among the actions that apply to the identity's kind; only if none
        // of those contains the threat, among all that do.
        let (recommended, best) = results
            .iter()
            .filter(|(a, _)| threat.contained_by(*a) && kind.applies(*a))
            .min_by_key(rank)
            .or_else(|| {
                results
                    .iter()
                    .filter(|(a, _)| threat.contained_by(*a))
                    .min_by_key(rank)
            })
            .expect("disable_account contains every threat");
        let best_ids: Vec<&str> = best.impacted.iter().map(|s| s.id.as_str()).collect();
        let options = results
            .iter()
            .map(|(a, r)| Alternative {
                action: *a,
                contains: threat.contained_by(*a),
                applies: kind.applies(*a),
                summary: r.summary.clone(),
                extra_services: r
                    .impacted
                    .iter()
                    .filter(|s| !best_ids.contains(&s.id.as_str()))
                    .map(|s| s.id.clone())
                    .collect(),
            })
            .collect();
        Ok(Alternatives {
            identity: self.identities[i].id.clone(),
            threat,
            recommended: *recommended,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::file::parse_complete;
    use ContainmentAction::*;

    /// A small hand-built inventory: a shared key used four ways, a chain of
    /// services with a cycle, lineage two deep, and a break-glass account.
    const INV: &str = r#"
version: 1
services:
  - {id: db, name: DB, tier: 0}
  - {id: api, name: API, tier: 1, depends_on: [db]}
  - {id: web, name: Web, tier: 2, depends_on: [api]}
  - {id: batch, name: Batch, tier: 3}
  - {id: reports, name: Reports, tier: 2, depends_on: [batch, loop-b]}
  - {id: loop-a, name: Loop A, tier: 3, depends_on: [loop-b]}
  - {id: loop-b, name: Loop B, tier: 3, depends_on: [loop-a]}
  - {id: lonely, name: Lonely, tier: 3}
identities:
  - id: shared
    kind: api_key
    name: Shared key
    environment: production
    tier: 1
    used_by:
      - {service: api, access: write, delivery: dynamic}
      - {service: batch, access: read, delivery: static, live_sessions: true}
      - {service: loop-a, access: read, delivery: dynamic}
      - lonely
    containment:
      rotate_secret: {reversible: true, rto_minutes: 10}
      revoke_token: {reversible: false, rto_minutes: 60}
  - id: parent-sa
    kind: service_account
    name: Parent
    environment: production
    tier: 0
    used_by: [db]
  - id: child-token
    kind: token
    name: Child
    environment: production
    tier: 2
    derived_from: parent-sa
    used_by: [batch]
  - id: grandchild
    kind: token
    name: Grandchild
    environment: production
    tier: 2
    derived_from: child-token
    used_by: [lonely]
  - id: bg
    kind: break_glass_account
    name: Break glass
    environment: production
    tier: 0
    break_glass: {justification: DR, custodians: [a]}
    used_by: []
"#;

    fn graph() -> BlastGraph {
        BlastGraph::new(&parse_complete(INV, "inv.yaml").unwrap())
    }

    fn ids(r: &BlastResult) -> Vec<&str> {
        let mut v: Vec<&str> = r.impacted.iter().map(|s| s.id.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn disable_hits_every_consumer_and_what_depends_on_them() {
        let r = graph().blast(&[("shared", DisableAccount)]).unwrap();
        assert_eq!(
            ids(&r),
            [
                "api", "batch", "lonely", "loop-a", "loop-b", "reports", "web"
            ]
        );
        let web = r.impacted.iter().find(|s| s.id == "web").unwrap();
        let path: Vec<&str> = web.path.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(path, ["shared", "api", "web"]);
        assert_eq!(web.depth, 2);
        let reports = r.impacted.iter().find(|s| s.id == "reports").unwrap();
        assert_eq!(reports.depth, 2, "through batch, the shorter of two paths");
        assert_eq!(r.summary.fan_out, 4);
        assert_eq!(r.summary.undocumented_consumers, 0);
        assert_eq!(r.summary.per_tier, [0, 1, 2, 4]);
        assert_eq!(r.summary.highest_tier, Some(Tier::new(1).unwrap()));
        assert_eq!(r.impacted[0].id, "api", "most critical first");
    }

    #[test]
    fn rotation_spares_dynamic_consumers() {
        let r = graph().blast(&[("shared", RotateSecret)]).unwrap();
        assert_eq!(ids(&r), ["batch", "lonely", "reports"]);
        let spared: Vec<_> = r
            .spared
            .iter()
            .map(|s| (s.service.as_str(), s.reason))
            .collect();
        assert_eq!(
            spared,
            [
                ("api", "fetches the secret dynamically"),
                ("loop-a", "fetches the secret dynamically")
            ]
        );
        assert_eq!(
            r.summary.undocumented_consumers, 1,
            "lonely is assumed static"
        );
        assert_eq!(r.summary.rto_minutes, 10);
    }

    /// A consumer the rotation spares directly (it fetches the secret
    /// dynamically) that depends on a consumer it breaks is broken, not
    /// spared (issue 19: mobile-backend through notifications in the demo).
    #[test]
    fn a_dynamic_consumer_downstream_of_a_broken_one_is_not_spared() {
        let inv = r#"
version: 1
services:
  - {id: notifications, name: Notifications, tier: 1}
  - {id: mobile, name: Mobile, tier: 1, depends_on: [notifications]}
  - {id: payments, name: Payments, tier: 0}
identities:
  - id: kafka
    kind: api_key
    name: Kafka
    environment: production
    tier: 1
    used_by:
      - {service: notifications, access: write, delivery: static}
      - {service: mobile, access: read, delivery: dynamic}
      - {service: payments, access: read, delivery: dynamic}
"#;
        let g = BlastGraph::new(&parse_complete(inv, "inv.yaml").unwrap());
        let r = g.blast(&[("kafka", RotateSecret)]).unwrap();
        assert_eq!(ids(&r), ["mobile", "notifications"]);
        let spared: Vec<_> = r.spared.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(spared, ["payments"], "mobile breaks through notifications");
    }

    /// Only actions that apply to the identity's kind are recommended: an
    /// SSH key is rotated, never told to "revoke token" (issue 19).
    #[test]
    fn recommendations_are_actions_that_apply_to_the_kind() {
        let inv = r#"
version: 1
services:
  - {id: deploy, name: Deploy, tier: 2}
identities:
  - id: key
    kind: ssh_key
    name: Deploy key
    environment: production
    tier: 2
    used_by:
      - {service: deploy, access: write, delivery: static}
    containment:
      revoke_token: {reversible: true, rto_minutes: 1}
      rotate_secret: {reversible: true, rto_minutes: 20}
"#;
        let g = BlastGraph::new(&parse_complete(inv, "inv.yaml").unwrap());
        let alts = g.alternatives("key", Threat::LeakedSecret).unwrap();
        assert_eq!(alts.recommended, RotateSecret);
        let revoke = alts
            .options
            .iter()
            .find(|o| o.action == RevokeToken)
            .unwrap();
        assert!(revoke.contains && !revoke.applies);
        for kind in IdentityKind::ALL {
            assert!(
                ContainmentAction::ALL.iter().any(|&a| kind.applies(a)),
                "{kind:?} has some action"
            );
        }
    }

    /// What a person types finds the identity: a name in any case, part of
    /// it, part of an id, the `name (id)` a suggestion shows; more than one
    /// match is named, not guessed (issue 19).
    #[test]
    fn an_identity_is_found_by_name_part_or_id() {
        let g = BlastGraph::new(&crate::demo::inventory().unwrap());
        assert_eq!(g.resolve("tok-kafka-shared").unwrap(), "tok-kafka-shared");
        assert_eq!(
            g.resolve("vault:secret/kafka/shared-client").unwrap(),
            "tok-kafka-shared"
        );
        let name = g.identities[g.lookup["tok-kafka-shared"]].name.clone();
        assert_eq!(g.resolve(&name.to_uppercase()).unwrap(), "tok-kafka-shared");
        assert_eq!(
            g.resolve(&format!("{name} (tok-kafka-shared)")).unwrap(),
            "tok-kafka-shared"
        );
        assert_eq!(g.resolve("kafka-sha").unwrap(), "tok-kafka-shared");
        let Err(BlastError::Ambiguous { candidates, .. }) = g.resolve("deploy-key") else {
            panic!("two deploy keys");
        };
        assert!(candidates.len() > 1);
        assert!(
            candidates.iter().all(|c| c.contains("(deploy-key-")),
            "{candidates:?}"
        );
        assert!(matches!(
            g.resolve("no such thing"),
            Err(BlastError::NoMatch(_))
        ));
    }

    #[test]
    fn session_revocation_and_scope_reduction_are_narrow() {
        let g = graph();
        assert_eq!(
            ids(&g.blast(&[("shared", RevokeSession)]).unwrap()),
            ["batch", "reports"]
        );
        let r = g.blast(&[("shared", ReduceScope)]).unwrap();
        assert_eq!(
            ids(&r),
            ["api", "lonely", "web"],
            "read-only batch and loop-a spared"
        );
    }

    #[test]
    fn revoking_follows_lineage_but_rotation_does_not() {
        let g = graph();
        let r = g.blast(&[("parent-sa", RevokeToken)]).unwrap();
        // By id, as the store lists them (whatever order a file had).
        assert_eq!(r.contained, ["child-token", "grandchild", "parent-sa"]);
        let lonely = r.impacted.iter().find(|s| s.id == "lonely").unwrap();
        let path: Vec<&str> = lonely.path.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(path, ["parent-sa", "child-token", "grandchild", "lonely"]);
        assert!(ids(&r).contains(&"db") && ids(&r).contains(&"web"));
        let r = g.blast(&[("parent-sa", RotateSecret)]).unwrap();
        assert_eq!(r.contained, ["parent-sa"]);
        assert!(!ids(&r).contains(&"lonely"));
    }

    #[test]
    fn several_actions_at_once_union_their_radius() {
        let g = graph();
        let r = g
            .blast(&[("shared", RevokeSession), ("grandchild", DisableAccount)])
            .unwrap();
        assert_eq!(ids(&r), ["batch", "lonely", "reports"]);
        assert_eq!(r.summary.rto_unknown.len(), 2);
    }

    #[test]
    fn summary_flags_break_glass_and_destructive_without_rollback() {
        let g = graph();
        let r = g.blast(&[("bg", Quarantine)]).unwrap();
        assert!(r.impacted.is_empty());
        assert_eq!(r.summary.break_glass, ["bg"]);
        let r = g.blast(&[("shared", RevokeToken)]).unwrap();
        assert_eq!(
            r.summary.destructive_without_rollback,
            [Target {
                identity: "shared".into(),
                action: RevokeToken
            }]
        );
    }

    #[test]
    fn unknown_identities_and_empty_requests_are_clear_errors() {
        let g = graph();
        assert_eq!(
            g.blast(&[("ghost", DisableAccount)])
                .unwrap_err()
                .to_string(),
            "no identity with id or external id \"ghost\""
        );
        assert_eq!(g.blast(&[]).unwrap_err(), BlastError::NoAction);
        let empty = BlastGraph::new(&Inventory::default());
        assert!(empty.rank().is_empty());
        assert!(empty.blast(&[("x", DisableAccount)]).is_err());
    }

    #[test]
    fn alternatives_recommend_the_narrowest_action_that_contains() {
        let g = graph();
        let leaked = g.alternatives("shared", Threat::LeakedSecret).unwrap();
        assert_eq!(leaked.recommended, RotateSecret);
        let disable = leaked
            .options
            .iter()
            .find(|o| o.action == DisableAccount)
            .unwrap();
        assert_eq!(disable.extra_services, ["api", "web", "loop-a", "loop-b"]);
        let session = leaked
            .options
            .iter()
            .find(|o| o.action == RevokeSession)
            .unwrap();
        assert!(!session.contains);
        assert_eq!(
            g.alternatives("shared", Threat::StolenSession)
                .unwrap()
                .recommended,
            RevokeSession
        );
        assert_eq!(
            g.alternatives("shared", Threat::Compromised)
                .unwrap()
                .recommended,
            DisableAccount
        );
    }

    #[test]
    fn ranking_puts_the_widest_critical_reach_first() {
        let ranked = graph().rank();
        assert_eq!(
            ranked[0].id, "parent-sa",
            "reaches the tier-0 database and its lineage's services"
        );
        let shared = ranked.iter().find(|r| r.id == "shared").unwrap();
        assert_eq!(shared.services, 7);
        assert_eq!(shared.fan_out, 4);
        let bg = ranked.iter().find(|r| r.id == "bg").unwrap();
        assert_eq!((bg.services, bg.score), (0, 0));
    }

    #[test]
    fn demo_shared_credential_hits_six_services_and_rotation_spares_two() {
        let g = BlastGraph::new(&crate::demo::inventory().unwrap());
        let r = g.blast(&[("tok-kafka-shared", DisableAccount)]).unwrap();
        let direct: Vec<&str> = r
            .impacted
            .iter()
            .filter(|s| s.depth == 1)
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(direct.len(), 6);
        let r = g.blast(&[("tok-kafka-shared", RotateSecret)]).unwrap();
        // Three consumers fetch it dynamically; mobile-backend still breaks
        // through notifications, so two are spared.
        let spared: Vec<&str> = r.spared.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(spared, ["payments-api", "fraud-scoring"]);
        let mobile = r
            .impacted
            .iter()
            .find(|s| s.id == "mobile-backend")
            .unwrap();
        assert_eq!(mobile.depth, 2, "through notifications");
        // External ids resolve too.
        assert!(
            g.blast(&[("vault:secret/kafka/shared-client", RotateSecret)])
                .is_ok()
        );
    }

    /// The rule the backend judges narrowings by, checked against the
    /// engine itself: on the demo and the hand-built inventory, for every
    /// identity and every pair of actions it calls narrower, the narrower
    /// one's impacted services and contained credentials are a subset.
    #[test]
    fn a_narrower_action_never_breaks_more() {
        let inventories = [
            crate::demo::inventory().unwrap(),
            parse_complete(INV, "test").unwrap(),
        ];
        let mut pairs_checked = 0;
        for inv in &inventories {
            let g = BlastGraph::new(inv);
            for identity in &inv.identities {
                for &broad in ContainmentAction::ALL {
                    let b = g.blast(&[(identity.id.as_str(), broad)]).unwrap();
                    for &narrow in ContainmentAction::ALL {
                        if !never_breaks_more(narrow, broad) {
                            continue;
                        }
                        let n = g.blast(&[(identity.id.as_str(), narrow)]).unwrap();
                        for s in &n.impacted {
                            assert!(
                                b.impacted.iter().any(|x| x.id == s.id),
                                "{narrow} on {} breaks {} which {broad} spares",
                                identity.id,
                                s.id
                            );
                        }
                        for c in &n.contained {
                            assert!(b.contained.contains(c), "{narrow} contains {c}");
                        }
                        pairs_checked += 1;
                    }
                }
            }
        }
        assert!(pairs_checked > 100, "only {pairs_checked} pairs checked");
        // And it is not vacuous: it refuses the pairs that do break more.
        assert!(!never_breaks_more(DisableAccount, RotateSecret));
        assert!(!never_breaks_more(RevokeSession, RotateSecret));
        assert!(never_breaks_more(RotateSecret, DisableAccount));
    }
}
