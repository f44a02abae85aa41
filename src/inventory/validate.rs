//! The rules every inventory obeys, whatever it came from.

use std::collections::{HashMap, HashSet};

use super::Inventory;
use crate::model::text::{self, MAX_LONG_TEXT_CHARS, MAX_NAME_CHARS};
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

impl Inventory {
    /// Checks ids, required text, uniqueness, references and lineage cycles.
    /// Returns every problem found (up to a limit), in file order.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut push = |p: Problem| {
            if problems.len() < MAX_PROBLEMS {
                problems.push(p);
            }
        };

        let mut owners = HashSet::new();
        for o in &self.owners {
            texts(
                Section::Owners,
                &o.id,
                [("name", o.name.as_str(), false)]
                    .into_iter()
                    .chain(o.email.as_deref().map(|e| ("email", e, false)))
                    .chain(o.parent.as_deref().map(|p| ("parent", p, false))),
                &mut push,
            );
            if let Err(m) = validate_id(&o.id) {
                push(Problem::new(Section::Owners, &o.id, "id", m));
            }
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
                &mut push,
            );
            if let Err(m) = validate_id(&s.id) {
                push(Problem::new(Section::Services, &s.id, "id", m));
            }
            if !services.insert(s.id.as_str()) {
                push(Problem::new(
                    Section::Services,
                    &s.id,
                    "id",
                    "duplicate service id",
                ));
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
        for s in &self.services {
            let mut seen = HashSet::new();
            for dep in &s.depends_on {
                let p =
                    |m: String| Problem::new(Section::Services, &s.id, "depends_on", m).item(dep);
                if dep == &s.id {
                    push(p("a service cannot depend on itself".into()));
                } else if !services.contains(dep.as_str()) {
                    push(p(format!("unknown service {dep:?}")));
                } else if !seen.insert(dep.as_str()) {
                    push(p(format!("service {dep:?} listed twice")));
                }
            }
        }

        let mut identities = HashSet::new();
        let mut external: HashMap<&str, &str> = HashMap::new();
        for i in &self.identities {
            let p = |field, m: String| Problem::new(Section::Identities, &i.id, field, m);
            if let Err(m) = validate_id(&i.id) {
                push(p("id", m));
            }
            if !identities.insert(i.id.as_str()) {
                push(p("id", "duplicate identity id".into()));
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
                &mut push,
            );
            for x in &i.external_ids {
                if x.trim().is_empty() {
                    push(p("external_ids", "must not be empty".into()));
                } else if let Some(other) = external.insert(x, &i.id) {
                    push(
                        p(
                            "external_ids",
                            format!("{x:?} is already the external id of {other:?}"),
                        )
                        .item(x),
                    );
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
        for i in &self.identities {
            let mut seen = HashSet::new();
            for u in &i.used_by {
                let p = |m: String| {
                    Problem::new(Section::Identities, &i.id, "used_by", m).item(&u.service)
                };
                if !services.contains(u.service.as_str()) {
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
                } else if !identities.contains(parent.as_str()) {
                    push(p(format!("unknown identity {parent:?}")));
                }
            }
        }
        if let Some(p) = lineage_cycle(self) {
            push(p);
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// A lineage loop (a derived from b derived from a) has no root credential,
/// so "revoke the parent" would never terminate in people's heads either.
fn lineage_cycle(inv: &Inventory) -> Option<Problem> {
    let parent: HashMap<&str, &str> = inv
        .identities
        .iter()
        .filter_map(|i| i.derived_from.as_deref().map(|p| (i.id.as_str(), p)))
        .collect();
    for start in parent.keys() {
        let mut seen = HashSet::new();
        let mut at = *start;
        while let Some(&next) = parent.get(at) {
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
