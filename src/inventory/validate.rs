//! The rules every inventory obeys, whatever it came from.

use std::collections::{HashMap, HashSet};

use super::Inventory;
use crate::model::text::{self, MAX_LONG_TEXT_CHARS, MAX_NAME_CHARS, MAX_REFERENCE_CHARS};
use crate::model::validate_id;

/// Checks the free-text fields of one entry ([`text::check`]): names on
/// one line, descriptions and the like across lines, each bounded.
fn texts<'a>(
    section: Section,
    id: &str,
    fields: impl IntoIterator<Item = (&'static str, &'a str, bool)>,
    push: &mut impl FnMut(Problem),
) {
    for (field, value, multiline) in fields {
        let max = if multiline {
            MAX_LONG_TEXT_CHARS
        } else if field == "external_ids" || field == "permissions" {
            // ARNs and Azure resource ids, whole: an IAM role's path may
            // have 512 characters, an ARN 2048 (IAM quotas).
            MAX_REFERENCE_CHARS
        } else {
            MAX_NAME_CHARS
        };
        if let Err(m) = text::check(value, multiline, max) {
            push(Problem::new(section, id, field, m));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Owners,
    Services,
    Identities,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Owners => "owners",
            Section::Services => "services",
            Section::Identities => "identities",
        }
    }
}

/// One broken rule, pointing at an entry by id and at the field (and the
/// offending list item, if any) so each source can turn it into a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub section: Section,
    pub id: String,
    pub field: &'static str,
    pub item: Option<String>,
    pub message: String,
}

impl Problem {
    fn new(section: Section, id: &str, field: &'static str, message: impl Into<String>) -> Self {
        Problem {
            section,
            id: id.to_owned(),
            field,
            item: None,
            message: message.into(),
        }
    }

    fn item(mut self, item: &str) -> Self {
        self.item = Some(item.to_owned());
        self
    }

    /// `services (id "api").depends_on`, for sources without line numbers.
    pub fn path(&self) -> String {
        format!(
            "{} (id {:?}).{}",
            self.section.as_str(),
            self.id,
            self.field
        )
    }
}

/// Problems listed before validation stops: enough to list every problem
/// of a real file, bounded for a generated one where every row is wrong.
pub const MAX_PROBLEMS: usize = 1000;

/// What validating a part of the inventory needs to know about the rest,
/// read from the store through its indexes (`Store::stored_facts`): an
/// edit or a small import is checked against these facts instead of a
/// snapshot of everything, so its cost follows what it changes.
///
/// Only facts about entities *outside* the checked part are consulted;
/// where the checked part holds an entity, its new state decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// Stored services the checked part refers to (`depends_on`, `used_by`).
    pub services: HashSet<String>,
    /// Stored identities the checked part's lineage reaches, each with its
    /// stored `derived_from`: their existence, and the chain a cycle would
    /// close through.
    pub parents: HashMap<String, Option<String>>,
    /// External ids the checked identities carry, with the stored identity
    /// that holds each.
    pub external_ids: HashMap<String, String>,
    /// Stored entries that refer to an entity the change deletes.
    pub referrers: Vec<Referrer>,
}

/// A stored entry's reference to an entity a change deletes: the entry
/// (`section`, `id`), the field holding the reference, and the deleted id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub section: Section,
    pub id: String,
    pub field: &'static str,
    pub target: String,
}

/// The ids a change set deletes, by section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub owners: HashSet<String>,
    pub services: HashSet<String>,
    pub identities: HashSet<String>,
}

impl Inventory {
    /// Checks ids, required text, uniqueness, references and lineage cycles.
    /// Returns every problem found (up to a limit), in file order.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        self.validate_against(&Deleted::default(), &Stored::default())
    }

    /// Checks this inventory as the *changed part* of a larger stored one:
    /// every rule of [`Inventory::validate`] on these entries, with
    /// references resolved here first and then in `stored` (minus what
    /// `deleted` removes), external ids unique against `stored`, lineage
    /// followed into `stored`, and every stored entry still referring to a
    /// deleted entity reported at that entry. One rule set: `validate` is
    /// this with nothing stored.
    pub fn validate_against(&self, deleted: &Deleted, stored: &Stored) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut push = |p: Problem| {
            if problems.len() < MAX_PROBLEMS {
                problems.push(p);
            }
        };

        let mut owners = HashSet::new();
        for o in &self.owners {
            check_owner(o, &mut push);
            if !owners.insert(o.id.as_str()) {
                push(Problem::new(
                    Section::Owners,
                    &o.id,
                    "id",
                    "duplicate owner id",
                ));
            }
        }

        let mut services = HashSet::new();
        for s in &self.services {
            check_service(s, &mut push);
            if !services.insert(s.id.as_str()) {
                push(Problem::new(
                    Section::Services,
                    &s.id,
                    "id",
                    "duplicate service id",
                ));
            }
        }
        let service_exists = |id: &str| {
            services.contains(id)
                || (stored.services.contains(id) && !deleted.services.contains(id))
        };
        for s in &self.services {
            let mut seen = HashSet::new();
            for dep in &s.depends_on {
                let p =
                    |m: String| Problem::new(Section::Services, &s.id, "depends_on", m).item(dep);
                if dep == &s.id {
                    push(p("a service cannot depend on itself".into()));
                } else if !service_exists(dep) {
                    push(p(format!("unknown service {dep:?}")));
                } else if !seen.insert(dep.as_str()) {
                    push(p(format!("service {dep:?} listed twice")));
                }
            }
        }

        let mut identities = HashSet::new();
        let mut external: HashMap<&str, &str> = HashMap::new();
        for i in &self.identities {
            check_identity(i, &mut push);
            if !identities.insert(i.id.as_str()) {
                push(Problem::new(
                    Section::Identities,
                    &i.id,
                    "id",
                    "duplicate identity id",
                ));
            }
        }
        let identity_exists = |id: &str| {
            identities.contains(id)
                || (stored.parents.contains_key(id) && !deleted.identities.contains(id))
        };
        for i in &self.identities {
            for x in &i.external_ids {
                if x.trim().is_empty() {
                    continue;
                }
                let other = external.insert(x, &i.id).or_else(|| {
                    stored
                        .external_ids
                        .get(x)
                        .map(String::as_str)
                        .filter(|&holder| {
                            holder != i.id
                                && !identities.contains(holder)
                                && !deleted.identities.contains(holder)
                        })
                });
                if let Some(other) = other {
                    push(
                        Problem::new(
                            Section::Identities,
                            &i.id,
                            "external_ids",
                            format!("{x:?} is already the external id of {other:?}"),
                        )
                        .item(x),
                    );
                }
            }
        }
        for i in &self.identities {
            let mut seen = HashSet::new();
            for u in &i.used_by {
                let p = |m: String| {
                    Problem::new(Section::Identities, &i.id, "used_by", m).item(&u.service)
                };
                if !service_exists(&u.service) {
                    push(p(format!("unknown service {:?}", u.service)));
                } else if !seen.insert(u.service.as_str()) {
                    push(p(format!("service {:?} listed twice", u.service)));
                }
            }
            if let Some(parent) = &i.derived_from {
                let p = |m: String| {
                    Problem::new(Section::Identities, &i.id, "derived_from", m).item(parent)
                };
                if parent == &i.id {
                    push(p("an identity cannot derive from itself".into()));
                } else if !identity_exists(parent) {
                    push(p(format!("unknown identity {parent:?}")));
                }
            }
        }
        if let Some(p) = lineage_cycle(self, deleted, stored) {
            push(p);
        }

        // Stored entries left pointing at what is deleted, unless the
        // change rewrites (checked above) or deletes them too.
        for r in &stored.referrers {
            let (rewritten, gone) = match r.section {
                Section::Owners => (owners.contains(r.id.as_str()), &deleted.owners),
                Section::Services => (services.contains(r.id.as_str()), &deleted.services),
                Section::Identities => (identities.contains(r.id.as_str()), &deleted.identities),
            };
            if rewritten || gone.contains(&r.id) {
                continue;
            }
            let noun = if r.field == "derived_from" {
                "identity"
            } else {
                "service"
            };
            push(
                Problem::new(
                    r.section,
                    &r.id,
                    r.field,
                    format!("unknown {noun} {:?}", r.target),
                )
                .item(&r.target),
            );
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The rules of one owner on its own.
fn check_owner(o: &crate::model::Owner, push: &mut impl FnMut(Problem)) {
    texts(
        Section::Owners,
        &o.id,
        [("name", o.name.as_str(), false)]
            .into_iter()
            .chain(o.email.as_deref().map(|e| ("email", e, false)))
            .chain(o.parent.as_deref().map(|p| ("parent", p, false))),
        push,
    );
    if let Err(m) = validate_id(&o.id) {
        push(Problem::new(Section::Owners, &o.id, "id", m));
    }
}

/// The rules of one service on its own (its references are checked
/// against the rest of the inventory by the caller).
fn check_service(s: &crate::model::Service, push: &mut impl FnMut(Problem)) {
    texts(
        Section::Services,
        &s.id,
        [
            ("name", s.name.as_str(), false),
            ("description", s.description.as_str(), true),
        ]
        .into_iter()
        .chain(s.system.as_deref().map(|x| ("system", x, false)))
        .chain(s.owner.as_deref().map(|x| ("owner", x, false))),
        push,
    );
    if let Err(m) = validate_id(&s.id) {
        push(Problem::new(Section::Services, &s.id, "id", m));
    }
    if s.name.trim().is_empty() {
        push(Problem::new(
            Section::Services,
            &s.id,
            "name",
            "must not be empty",
        ));
    }
}

/// The rules of one identity on its own.
fn check_identity(i: &crate::model::Identity, push: &mut impl FnMut(Problem)) {
    let p = |field, m: String| Problem::new(Section::Identities, &i.id, field, m);
    if let Err(m) = validate_id(&i.id) {
        push(p("id", m));
    }
    if i.name.trim().is_empty() {
        push(p("name", "must not be empty".into()));
    }
    let bg = i.break_glass.as_ref();
    texts(
        Section::Identities,
        &i.id,
        [
            ("name", i.name.as_str(), false),
            ("description", i.description.as_str(), true),
        ]
        .into_iter()
        .chain(i.owner.as_deref().map(|x| ("owner", x, false)))
        .chain(
            i.backup_owner
                .as_deref()
                .map(|x| ("backup_owner", x, false)),
        )
        .chain(
            i.external_ids
                .iter()
                .map(|x| ("external_ids", x.as_str(), false)),
        )
        .chain(
            i.permissions
                .iter()
                .map(|x| ("permissions", x.as_str(), false)),
        )
        .chain(
            i.credentials
                .iter()
                .map(|c| ("credentials", c.id.as_str(), false)),
        )
        .chain(bg.map(|b| ("break_glass", b.justification.as_str(), true)))
        .chain(bg.map(|b| ("break_glass", b.use_window.as_str(), false)))
        .chain(
            bg.into_iter()
                .flat_map(|b| b.custodians.iter())
                .map(|c| ("break_glass", c.as_str(), false)),
        )
        .chain(
            i.containment
                .values()
                .map(|c| ("containment", c.rollback.as_str(), true)),
        ),
        push,
    );
    for x in &i.external_ids {
        if x.trim().is_empty() {
            push(p("external_ids", "must not be empty".into()));
        }
    }
    // A credential is told by its issuer's id (merges and the store key on
    // it): one per identity, never empty.
    let mut credentials = HashSet::new();
    for c in &i.credentials {
        if c.id.trim().is_empty() {
            push(p(
                "credentials",
                "a credential's id must not be empty".into(),
            ));
        } else if !credentials.insert(c.id.as_str()) {
            push(p(
                "credentials",
                format!("credential {:?} is listed twice", c.id),
            ));
        }
    }
    if let Some(bg) = &i.break_glass
        && bg.justification.trim().is_empty()
    {
        push(p(
            "break_glass",
            "a break-glass designation needs a justification".into(),
        ));
    }
}

/// A lineage loop (a derived from b derived from a) has no root credential,
/// so "revoke the parent" would never terminate in people's heads either.
/// Walks up from each checked identity, through the checked part first and
/// then the stored lineage; a loop that does not pass through the checked
/// part was already stored, which validation never lets happen.
fn lineage_cycle(inv: &Inventory, deleted: &Deleted, stored: &Stored) -> Option<Problem> {
    let here: HashMap<&str, Option<&str>> = inv
        .identities
        .iter()
        .map(|i| (i.id.as_str(), i.derived_from.as_deref()))
        .collect();
    let parent_of = |id: &str| -> Option<&str> {
        match here.get(id) {
            Some(p) => *p,
            None if deleted.identities.contains(id) => None,
            None => stored.parents.get(id).and_then(|p| p.as_deref()),
        }
    };
    for start in &inv.identities {
        let start = start.id.as_str();
        let mut seen = HashSet::new();
        let mut at = start;
        while let Some(next) = parent_of(at) {
            if !seen.insert(at) {
                return Some(
                    Problem::new(
                        Section::Identities,
                        start,
                        "derived_from",
                        "lineage forms a cycle",
                    )
                    .item(next),
                );
            }
            at = next;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Environment, Identity, IdentityKind, Service, Tier, Usage};

    fn service(id: &str, deps: &[&str]) -> Service {
        Service {
            id: id.into(),
            name: id.to_uppercase(),
            owner: None,
            tier: Tier::new(1).unwrap(),
            system: None,
            description: String::new(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn identity(id: &str, used_by: &[&str]) -> Identity {
        let mut i = Identity::new(
            id,
            IdentityKind::ApiKey,
            id,
            Environment::Production,
            Tier::new(1).unwrap(),
        );
        i.used_by = used_by.iter().map(|s| Usage::of(*s)).collect();
        i
    }

    #[test]
    fn a_consistent_inventory_passes() {
        let inv = Inventory {
            owners: vec![],
            services: vec![service("db", &[]), service("api", &["db"])],
            identities: vec![identity("k", &["api"])],
        };
        inv.validate().unwrap();
    }

    #[test]
    fn dangling_references_and_duplicates_are_all_reported() {
        let inv = Inventory {
            owners: vec![],
            services: vec![service("api", &["api", "nope"]), service("api", &[])],
            identities: vec![identity("k", &["apu"])],
        };
        let problems = inv.validate().unwrap_err();
        let messages: Vec<_> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path(), p.message))
            .collect();
        assert!(
            messages.contains(&"services (id \"api\").id: duplicate service id".to_string()),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("cannot depend on itself"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("unknown service \"nope\""))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("identities (id \"k\").used_by: unknown service \"apu\""))
        );
    }

    #[test]
    fn lineage_must_resolve_and_not_loop() {
        let mut a = identity("a", &[]);
        let mut b = identity("b", &[]);
        a.derived_from = Some("b".into());
        b.derived_from = Some("a".into());
        let inv = Inventory {
            owners: vec![],
            services: vec![],
            identities: vec![a, b],
        };
        let problems = inv.validate().unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.message == "lineage forms a cycle"),
            "{problems:?}"
        );

        let mut c = identity("c", &[]);
        c.derived_from = Some("ghost".into());
        let inv = Inventory {
            owners: vec![],
            services: vec![],
            identities: vec![c],
        };
        assert_eq!(
            inv.validate().unwrap_err()[0].message,
            "unknown identity \"ghost\""
        );
    }
}
