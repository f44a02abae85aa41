//! What an import or an edit would change, worked out before anything is
//! written: the dry-run diff people read, and the list of rows the store
//! writes and audits in one transaction.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

use super::Inventory;
use crate::model::{Identity, Owner, Service, Usage};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Owner,
    Service,
    Identity,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Owner => "owner",
            Entity::Service => "service",
            Entity::Identity => "identity",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// One entity's whole state, as the model holds it. Serialised untagged,
/// it is exactly the entity's JSON (what the audit trail records and the
/// app's diff shows); kept typed, a change set costs what the entities do,
/// not a JSON tree per entity (a 200 MB CSV import once took 5 GB so).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EntityState {
    Owner(Owner),
    Service(Service),
    Identity(Box<Identity>),
}

impl From<Owner> for EntityState {
    fn from(o: Owner) -> Self {
        EntityState::Owner(o)
    }
}

impl From<Service> for EntityState {
    fn from(s: Service) -> Self {
        EntityState::Service(s)
    }
}

impl From<Identity> for EntityState {
    fn from(i: Identity) -> Self {
        EntityState::Identity(Box::new(i))
    }
}

impl EntityState {
    pub fn to_json(&self) -> Value {
        to_json(self)
    }
}

/// One entity's change, with its whole state before and after: the same
/// values the audit trail records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub entity: Entity,
    pub id: String,
    pub operation: Operation,
    pub before: Option<EntityState>,
    pub after: Option<EntityState>,
}

impl Change {
    /// The top-level fields whose values differ, for a compact diff.
    pub fn changed_fields(&self) -> Vec<String> {
        changed_fields_of(
            self.before.as_ref().map(EntityState::to_json).as_ref(),
            self.after.as_ref().map(EntityState::to_json).as_ref(),
        )
    }
}

/// The top-level fields whose values differ between two entity JSONs
/// (either may be absent: a creation or a removal).
pub fn changed_fields_of(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let obj = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        _ => empty.clone(),
    };
    let (b, a) = (obj(before), obj(after));
    let mut keys: Vec<_> = b.keys().chain(a.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| b.get(k) != a.get(k)).collect()
}

/// Changes in the order they can be applied: owners, services, identities
/// (references point backwards in that order); deletions last.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
    /// Entities the source listed that are already exactly as stored.
    pub unchanged: usize,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// A digest of exactly what would be written, so "apply what I
    /// previewed" can refuse when the files or the store changed since.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        /// Hashes what is written to it: the JSON is never held whole.
        struct Hashing(Sha256);
        impl std::io::Write for Hashing {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.update(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut hashing = Hashing(Sha256::new());
        serde_json::to_writer(&mut hashing, &self.changes).expect("changes serialise");
        hashing
            .0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn count(&self, entity: Entity, operation: Operation) -> usize {
        self.changes
            .iter()
            .filter(|c| c.entity == entity && c.operation == operation)
            .count()
    }

    /// Plans turning `current` into `current` with `incoming` merged in.
    /// Nothing is deleted by an import: an entity missing from the source
    /// may simply be documented elsewhere.
    pub fn plan_import(current: &Inventory, incoming: &Inventory, mode: MergeMode) -> ChangeSet {
        let mut set = ChangeSet::default();
        set.diff_section(
            Entity::Owner,
            &current.owners,
            &incoming.owners,
            |o| &o.id,
            |c, i| mode.merge_owner(c, i),
        );
        set.diff_section(
            Entity::Service,
            &current.services,
            &incoming.services,
            |s| &s.id,
            |c, i| mode.merge_service(c, i),
        );
        set.diff_section(
            Entity::Identity,
            &current.identities,
            &incoming.identities,
            |i| &i.id,
            |c, i| mode.merge_identity(c, i),
        );
        set
    }

    /// Plans replacing `current` with `target`, consuming `target`: the
    /// entities move into the changes instead of being copied. What is in
    /// `current` and not in `target` is kept (nothing is deleted).
    /// Entities of `current` that `target` lacks are deleted.
    pub fn diff_into(current: &Inventory, target: Inventory) -> ChangeSet {
        let mut set = ChangeSet::default();
        set.diff_owned(Entity::Owner, &current.owners, target.owners, |o| &o.id);
        set.diff_owned(Entity::Service, &current.services, target.services, |s| {
            &s.id
        });
        set.diff_owned(
            Entity::Identity,
            &current.identities,
            target.identities,
            |i| &i.id,
        );
        set
    }

    fn diff_owned<T: Clone + PartialEq + Into<EntityState>>(
        &mut self,
        entity: Entity,
        current: &[T],
        target: Vec<T>,
        id: impl Fn(&T) -> &String,
    ) {
        let by_id: HashMap<&String, &T> = current.iter().map(|t| (id(t), t)).collect();
        // What the target no longer holds is deleted (an import that
        // carries a service over to a new id).
        let kept: std::collections::HashSet<&String> = target.iter().map(&id).collect();
        let gone: Vec<Change> = current
            .iter()
            .filter(|t| !kept.contains(id(t)))
            .map(|old| Change {
                entity,
                id: id(old).clone(),
                operation: Operation::Delete,
                before: Some(old.clone().into()),
                after: None,
            })
            .collect();
        drop(kept);
        self.changes.extend(gone);
        for new in target {
            let key = id(&new).clone();
            match by_id.get(&key) {
                None => self.changes.push(Change {
                    entity,
                    id: key,
                    operation: Operation::Create,
                    before: None,
                    after: Some(new.into()),
                }),
                Some(old) if **old == new => self.unchanged += 1,
                Some(old) => self.changes.push(Change {
                    entity,
                    id: key,
                    operation: Operation::Update,
                    before: Some((*old).clone().into()),
                    after: Some(new.into()),
                }),
            }
        }
    }

    /// `current` with the changes applied: what the store will hold, so the
    /// result can be validated as a whole before writing.
    pub fn apply_to(&self, current: &Inventory) -> Result<Inventory, serde_json::Error> {
        let mut owners: BTreeMap<String, Owner> = current
            .owners
            .iter()
            .map(|o| (o.id.clone(), o.clone()))
            .collect();
        let mut services: BTreeMap<String, Service> = current
            .services
            .iter()
            .map(|s| (s.id.clone(), s.clone()))
            .collect();
        let mut identities: BTreeMap<String, Identity> = current
            .identities
            .iter()
            .map(|i| (i.id.clone(), i.clone()))
            .collect();
        for c in &self.changes {
            match (&c.entity, &c.after) {
                (_, Some(EntityState::Owner(o))) => {
                    owners.insert(c.id.clone(), o.clone());
                }
                (_, Some(EntityState::Service(s))) => {
                    services.insert(c.id.clone(), s.clone());
                }
                (_, Some(EntityState::Identity(i))) => {
                    identities.insert(c.id.clone(), (**i).clone());
                }
                (Entity::Owner, None) => {
                    owners.remove(&c.id);
                }
                (Entity::Service, None) => {
                    services.remove(&c.id);
                }
                (Entity::Identity, None) => {
                    identities.remove(&c.id);
                }
            }
        }
        Ok(Inventory {
            owners: owners.into_values().collect(),
            services: services.into_values().collect(),
            identities: identities.into_values().collect(),
        })
    }

    fn diff_section<T: Clone + PartialEq + Into<EntityState>>(
        &mut self,
        entity: Entity,
        current: &[T],
        incoming: &[T],
        id: impl Fn(&T) -> &String,
        merge: impl Fn(&T, &T) -> T,
    ) {
        let by_id: HashMap<&String, &T> = current.iter().map(|t| (id(t), t)).collect();
        for new in incoming {
            let key = id(new);
            match by_id.get(key) {
                None => self.changes.push(Change {
                    entity,
                    id: key.clone(),
                    operation: Operation::Create,
                    before: None,
                    after: Some(new.clone().into()),
                }),
                Some(old) => {
                    let merged = merge(old, new);
                    if &merged == *old {
                        self.unchanged += 1;
                    } else {
                        self.changes.push(Change {
                            entity,
                            id: key.clone(),
                            operation: Operation::Update,
                            before: Some((*old).clone().into()),
                            after: Some(merged.into()),
                        });
                    }
                }
            }
        }
    }
}

pub fn to_json<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("model types serialise to JSON")
}

impl Inventory {
    /// Merges `incoming` into this inventory in place, as an import does:
    /// an entity of a new id is added, one of a known id is combined with
    /// the one here as `mode` says ([`MergeMode`]). Entities are moved, not
    /// copied. Each section ends sorted by id, as the store lists them.
    pub fn merge_in(&mut self, incoming: Inventory, mode: MergeMode) {
        merge_section(
            &mut self.owners,
            incoming.owners,
            |o| &o.id,
            |a, b| mode.merge_owner(a, b),
        );
        merge_section(
            &mut self.services,
            incoming.services,
            |s| &s.id,
            |a, b| mode.merge_service(a, b),
        );
        merge_section(
            &mut self.identities,
            incoming.identities,
            |i| &i.id,
            |a, b| mode.merge_identity(a, b),
        );
    }
}

fn merge_section<T>(
    here: &mut Vec<T>,
    incoming: Vec<T>,
    id: impl Fn(&T) -> &String,
    merge: impl Fn(&T, &T) -> T,
) {
    let mut index: HashMap<String, usize> = here
        .iter()
        .enumerate()
        .map(|(n, t)| (id(t).clone(), n))
        .collect();
    for new in incoming {
        match index.get(id(&new)) {
            Some(&n) => here[n] = merge(&here[n], &new),
            None => {
                index.insert(id(&new).clone(), here.len());
                here.push(new);
            }
        }
    }
    here.sort_by(|a, b| id(a).cmp(id(b)));
}

/// How an incoming entity combines with the stored one of the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMode {
    /// The source is Countersign's own record (native files, CSV): its
    /// entity replaces the stored one whole.
    Replace,
    /// The source knows only part of the picture (Backstage, Kubernetes):
    /// what it states overwrites, what it leaves empty keeps the owner's
    /// documentation, lists are merged, and required fields it can only
    /// guess (kind, tier, environment) are set only on creation.
    Fill,
    /// The source is the system of record for the principals it lists
    /// (a cloud provider's IAM): what it says of their kind, lifetime,
    /// permissions, admin-equivalence and credentials is the current truth
    /// and replaces what was there, so a policy narrowed or a key deleted
    /// in the cloud is narrowed or deleted here too. What an owner
    /// documents (owner, backup owner, tier, environment, description,
    /// containment, review, break-glass) is filled only where empty, and
    /// usages and external ids are merged, as [`MergeMode::Fill`] does.
    Sync,
}

/// Old items in their order, then new ones; an item both have is combined.
fn union_with<T: Clone, K: PartialEq>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
    combine: impl Fn(&T, &T) -> T,
) -> Vec<T> {
    let mut out: Vec<T> = old.to_vec();
    for n in new {
        match out.iter_mut().find(|o| key(o) == key(n)) {
            Some(slot) => *slot = combine(slot, n),
            None => out.push(n.clone()),
        }
    }
    out
}

fn union(old: &[String], new: &[String]) -> Vec<String> {
    union_with(old, new, |s| s.clone(), |_, n| n.clone())
}

fn fill_usage(old: &Usage, new: &Usage) -> Usage {
    Usage {
        service: old.service.clone(),
        access: fill(&old.access, &new.access),
        delivery: fill(&old.delivery, &new.delivery),
        live_sessions: old.live_sessions || new.live_sessions,
    }
}

fn fill<T: Clone>(old: &Option<T>, new: &Option<T>) -> Option<T> {
    new.clone().or_else(|| old.clone())
}

fn fill_text(old: &str, new: &str) -> String {
    if new.is_empty() { old } else { new }.to_owned()
}

impl MergeMode {
    fn merge_owner(self, old: &Owner, new: &Owner) -> Owner {
        match self {
            MergeMode::Replace => new.clone(),
            MergeMode::Fill | MergeMode::Sync => Owner {
                id: old.id.clone(),
                kind: new.kind,
                name: fill_text(&old.name, &new.name),
                email: fill(&old.email, &new.email),
                parent: fill(&old.parent, &new.parent),
                left_on: fill(&old.left_on, &new.left_on),
            },
        }
    }

    fn merge_service(self, old: &Service, new: &Service) -> Service {
        match self {
            MergeMode::Replace => new.clone(),
            MergeMode::Fill | MergeMode::Sync => Service {
                id: old.id.clone(),
                name: fill_text(&old.name, &new.name),
                owner: fill(&old.owner, &new.owner),
                tier: old.tier,
                system: fill(&old.system, &new.system),
                description: fill_text(&old.description, &new.description),
                depends_on: union(&old.depends_on, &new.depends_on),
            },
        }
    }

    fn merge_identity(self, old: &Identity, new: &Identity) -> Identity {
        match self {
            MergeMode::Replace => new.clone(),
            MergeMode::Sync => {
                let mut merged = MergeMode::Fill.merge_identity(old, new);
                merged.kind = new.kind;
                merged.name = new.name.clone();
                merged.lifetime = new.lifetime;
                merged.permissions = new.permissions.clone();
                merged.admin_equivalent = new.admin_equivalent;
                merged.credentials = new.credentials.clone();
                // The owner's word, where they gave one.
                merged.owner = old.owner.clone().or_else(|| new.owner.clone());
                merged.description = fill_text(&new.description, &old.description);
                merged
            }
            MergeMode::Fill => Identity {
                id: old.id.clone(),
                kind: old.kind,
                name: fill_text(&old.name, &new.name),
                owner: fill(&old.owner, &new.owner),
                backup_owner: fill(&old.backup_owner, &new.backup_owner),
                environment: old.environment,
                tier: old.tier,
                description: fill_text(&old.description, &new.description),
                external_ids: union(&old.external_ids, &new.external_ids),
                lifetime: fill(&old.lifetime, &new.lifetime),
                expires_on: fill(&old.expires_on, &new.expires_on),
                // By the issuer's id: what the source says of a credential
                // it lists (last used, active) is the newer word on it.
                credentials: union_with(
                    &old.credentials,
                    &new.credentials,
                    |c| c.id.clone(),
                    |_, n| n.clone(),
                ),
                // Merged like every list: a binding imported on its own
                // adds to what an account can do, never erases the rest
                // (an understated permission is the worse mistake).
                permissions: union(&old.permissions, &new.permissions),
                // As the permissions it sums up: a source saying nothing
                // of it does not unsay another's.
                admin_equivalent: old.admin_equivalent || new.admin_equivalent,
                derived_from: fill(&old.derived_from, &new.derived_from),
                used_by: union_with(
                    &old.used_by,
                    &new.used_by,
                    |u| u.service.clone(),
                    fill_usage,
                ),
                break_glass: fill(&old.break_glass, &new.break_glass),
                containment: {
                    let mut m = old.containment.clone();
                    m.extend(new.containment.clone());
                    m
                },
                review: fill(&old.review, &new.review),
                orphaned: fill(&old.orphaned, &new.orphaned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, Environment, IdentityKind, Tier};

    fn ident(owner: Option<&str>, tier: u8, used_by: &[&str]) -> Identity {
        let mut i = Identity::new(
            "k",
            IdentityKind::WorkloadIdentity,
            "k",
            Environment::Production,
            Tier::new(tier).unwrap(),
        );
        i.owner = owner.map(str::to_owned);
        i.used_by = used_by.iter().map(|s| Usage::of(*s)).collect();
        i
    }

    fn inv(i: Identity) -> Inventory {
        Inventory {
            identities: vec![i],
            ..Inventory::default()
        }
    }

    #[test]
    fn same_input_twice_plans_nothing() {
        let current = inv(ident(Some("a"), 1, &["x"]));
        for mode in [MergeMode::Replace, MergeMode::Fill] {
            let set = ChangeSet::plan_import(&current, &current, mode);
            assert!(set.is_empty(), "{mode:?}");
            assert_eq!(set.unchanged, 1);
        }
    }

    #[test]
    fn replace_takes_the_source_whole() {
        let set = ChangeSet::plan_import(
            &inv(ident(Some("a"), 1, &["x"])),
            &inv(ident(None, 3, &[])),
            MergeMode::Replace,
        );
        assert_eq!(set.changes[0].operation, Operation::Update);
        assert_eq!(
            set.changes[0].changed_fields(),
            ["owner", "tier", "used_by"]
        );
    }

    #[test]
    fn fill_keeps_what_the_owner_documented() {
        let mut documented = ident(Some("team-a"), 0, &["x"]);
        documented.used_by[0].access = Some(Access::Read);
        let incoming = ident(None, 2, &["x", "y"]);
        let set = ChangeSet::plan_import(&inv(documented), &inv(incoming), MergeMode::Fill);
        let Some(EntityState::Identity(after)) = set.changes[0].after.clone() else {
            panic!("an identity")
        };
        assert_eq!(after.owner.as_deref(), Some("team-a"));
        assert_eq!(
            after.tier.get(),
            0,
            "tier is the owner's, not the importer's guess"
        );
        assert_eq!(after.used_by.len(), 2);
        assert_eq!(
            after.used_by[0].access,
            Some(Access::Read),
            "restating x keeps its documented access"
        );
    }

    #[test]
    fn apply_to_yields_the_merged_inventory() {
        let current = Inventory::default();
        let incoming = inv(ident(Some("a"), 1, &[]));
        let set = ChangeSet::plan_import(&current, &incoming, MergeMode::Replace);
        assert_eq!(set.apply_to(&current).unwrap(), incoming);
    }
}
