//! CycloneDX BOMs (JSON, specification 1.2 and later, ECMA-424): each
//! service, nested ones included, becomes a service, and the BOM's
//! `dependencies` graph (`ref` → `dependsOn`) its dependencies, as the
//! specification defines them: `ref` needs each of `dependsOn`.
//!
//! A service is known by its `bom-ref`, which is its id when it is one
//! Countersign can use (`export --format cyclonedx` writes the service id
//! there, so its BOMs import back to the same services); otherwise its id
//! is made from its group and name, and a note says so. The properties
//! the exporter writes are read back: `countersign:tier` (0–3; otherwise
//! the tier is guessed, as for a Backstage Component without a lifecycle,
//! and set only when the service is created) and `countersign:owner`.
//! Everything the import does not read is reported with its line: a
//! `dependsOn` on a component (a library is not a service), a ref that
//! names nothing, components, `countersign:identity` (a BOM does not say
//! how a service uses the identity), properties of other namespaces.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

use super::json::{self, Lines};
use super::report::Findings;
use crate::export::cyclonedx::{IDENTITY_PROPERTY, OWNER_PROPERTY, TIER_PROPERTY};
use crate::inventory::{Inventory, InventoryError, LineMap, Section};
use crate::model::{Service, Tier, validate_id};

/// Whether a JSON value is a CycloneDX BOM (`"bomFormat": "CycloneDX"`).
pub fn is_bom(value: &serde_json::Value) -> bool {
    value.get("bomFormat").and_then(serde_json::Value::as_str) == Some("CycloneDX")
}

#[derive(Deserialize)]
struct Bom {
    #[serde(rename = "specVersion")]
    spec_version: String,
    #[serde(default)]
    services: Vec<BomService>,
    #[serde(default)]
    components: Vec<BomComponent>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

/// Only what the BOM describes: its subject is a component.
#[derive(Deserialize)]
struct Metadata {
    component: Option<BomComponent>,
}

#[derive(Deserialize)]
struct BomService {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    name: String,
    group: Option<String>,
    description: Option<String>,
    #[serde(default)]
    properties: Vec<Property>,
    #[serde(default)]
    services: Vec<BomService>,
}

#[derive(Deserialize)]
struct BomComponent {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(default)]
    components: Vec<BomComponent>,
}

#[derive(Deserialize)]
struct Property {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default, rename = "dependsOn")]
    depends_on: Vec<String>,
}

/// The BOMs of one import, each read into services on its own; services
/// are matched across BOMs by id, and a service listed by two is refused.
#[derive(Default)]
pub(super) struct Boms {
    sets: Vec<(String, Inventory, LineMap)>,
    /// Where each service id was first read (file, line).
    seen: HashMap<String, (String, u64)>,
}

/// A service's id made from its group and name: lower case, and every
/// character an id may not hold (`model::validate_id`) replaced by `-`.
fn id_from(group: Option<&str>, name: &str) -> String {
    let whole = match group {
        Some(g) if !g.is_empty() => format!("{g}/{name}"),
        _ => name.to_owned(),
    };
    let id: String = whole
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '@') {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.chars().take(200).collect()
}

impl Boms {
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Reads one BOM.
    ///
    /// # Errors
    /// [`InventoryError::Invalid`] naming the JSON path: a spec version
    /// before 1.2 (no services), a tier property that is no tier, a
    /// service listed twice (here or in another BOM of the import).
    pub fn add(
        &mut self,
        origin: &str,
        text: &str,
        findings: &mut Findings,
    ) -> Result<(), InventoryError> {
        let bom: Bom = json::read(text, origin)?;
        let invalid = |line: u64, at: &str, message: String| InventoryError::Invalid {
            origin: origin.to_owned(),
            line: Some(line),
            at: at.to_owned(),
            message,
        };
        let minor = bom
            .spec_version
            .strip_prefix("1.")
            .and_then(|m| m.parse::<u32>().ok());
        if minor.is_none_or(|m| m < 2) {
            return Err(invalid(
                Lines::new(text, "specVersion").of(&bom.spec_version),
                "specVersion",
                format!(
                    "CycloneDX {} has no services; export the BOM as CycloneDX 1.2 or later (1.6 is current)",
                    bom.spec_version
                ),
            ));
        }

        let mut refs = Lines::new(text, "bom-ref");
        let mut names = Lines::new(text, "name");
        let mut inv = Inventory::default();
        let mut lines = LineMap::default();
        lines.file(origin);
        // bom-ref → service id, for the dependency graph.
        let mut by_ref: HashMap<String, String> = HashMap::new();
        let mut other_properties: BTreeMap<String, u64> = BTreeMap::new();
        let mut identity_links = (0usize, None::<u64>);

        let mut stack: Vec<(String, BomService)> = bom
            .services
            .into_iter()
            .enumerate()
            .rev()
            .map(|(n, s)| (format!("services[{n}]"), s))
            .collect();
        while let Some((at, s)) = stack.pop() {
            let line = match &s.bom_ref {
                Some(r) => refs.next(r),
                None => names.next(&s.name),
            };
            let id = match &s.bom_ref {
                Some(r) if validate_id(r).is_ok() => r.clone(),
                other => {
                    let id = id_from(s.group.as_deref(), &s.name);
                    validate_id(&id).map_err(|m| {
                        invalid(
                            line,
                            &format!("{at}.name"),
                            format!("the service's name {m}"),
                        )
                    })?;
                    findings.note(
                        origin,
                        Some(line),
                        match other {
                            Some(r) => format!(
                                "the service's bom-ref {r:?} is not an id Countersign can use (letters, digits and - _ . : / @, at most 200): imported as {id}"
                            ),
                            None => format!("the service {:?} has no bom-ref: imported as {id}", s.name),
                        },
                    );
                    id
                }
            };
            if let Some((first_origin, first_line)) = self.seen.get(&id) {
                return Err(invalid(
                    line,
                    &at,
                    if first_origin == origin {
                        format!(
                            "the service {id} is already at line {first_line}: each service of a BOM needs its own bom-ref (or, without one, its own group and name)"
                        )
                    } else {
                        format!(
                            "the service {id} is already in {first_origin}:{first_line}: import one BOM per system, or give the services distinct bom-refs"
                        )
                    },
                ));
            }
            self.seen.insert(id.clone(), (origin.to_owned(), line));
            if let Some(r) = &s.bom_ref {
                by_ref.insert(r.clone(), id.clone());
            }
            let mut service = Service {
                id: id.clone(),
                name: s.name.trim().to_owned(),
                owner: None,
                tier: Tier::IMPORTANT,
                system: s.group.clone().filter(|g| !g.is_empty()),
                description: s.description.clone().unwrap_or_default(),
                depends_on: Vec::new(),
            };
            lines.entity(Section::Services, &id, line);
            for (n, p) in s.properties.iter().enumerate() {
                let value = p.value.as_deref().unwrap_or("").trim();
                match p.name.as_str() {
                    TIER_PROPERTY => {
                        service.tier = value
                            .parse::<u8>()
                            .ok()
                            .and_then(|t| Tier::new(t).ok())
                            .ok_or_else(|| {
                                invalid(
                                    line,
                                    &format!("{at}.properties[{n}].value"),
                                    format!("{TIER_PROPERTY} is {value:?}; a tier is 0, 1, 2 or 3"),
                                )
                            })?;
                        lines.field(Section::Services, &id, "tier", None, line);
                    }
                    OWNER_PROPERTY if !value.is_empty() => service.owner = Some(value.to_owned()),
                    IDENTITY_PROPERTY => {
                        identity_links.0 += 1;
                        identity_links.1.get_or_insert(line);
                    }
                    other => {
                        other_properties.entry(other.to_owned()).or_insert(line);
                    }
                }
            }
            inv.services.push(service);
            for (n, child) in s.services.into_iter().enumerate().rev() {
                stack.push((format!("{at}.services[{n}]"), child));
            }
        }

        let mut components: Vec<String> = Vec::new();
        let refs_of_components: Vec<String> = bom
            .components
            .iter()
            .filter_map(|c| c.bom_ref.clone())
            .collect();
        let mut stack: Vec<BomComponent> = bom.components;
        let subject = bom.metadata.and_then(|m| m.component);
        if let Some(r) = subject.as_ref().and_then(|c| c.bom_ref.clone()) {
            components.push(r);
        }
        let listed = stack.len();
        while let Some(c) = stack.pop() {
            if let Some(r) = c.bom_ref {
                components.push(r);
            }
            stack.extend(c.components);
        }
        if listed > 0 {
            let first = refs_of_components
                .first()
                .map(|r| Lines::new(text, "bom-ref").of(r));
            findings.note(
                origin,
                first,
                format!(
                    "{listed} component(s) not read: Countersign imports a BOM's services and their dependencies, not its components"
                ),
            );
        }
        let guessed: Vec<&Service> = inv
            .services
            .iter()
            .filter(|s| lines.field_at(Section::Services, &s.id, "tier").is_none())
            .collect();
        if let Some(first) = guessed.first() {
            findings.note(
                origin,
                lines.entity_at(Section::Services, &first.id).map(|(_, l)| l),
                format!(
                    "{} service(s) without a {TIER_PROPERTY} property (the first is here): one the import creates gets tier {}, one already stored keeps its tier",
                    guessed.len(),
                    Tier::IMPORTANT.get()
                ),
            );
        }

        let index: HashMap<String, usize> = inv
            .services
            .iter()
            .enumerate()
            .map(|(n, s)| (s.id.clone(), n))
            .collect();
        let mut dependency_refs = Lines::new(text, "ref");
        for d in &bom.dependencies {
            let line = dependency_refs.next(&d.reference);
            let Some(from) = by_ref.get(&d.reference) else {
                if components.contains(&d.reference) {
                    if !d.depends_on.is_empty() {
                        findings.note(
                            origin,
                            Some(line),
                            format!(
                                "the dependencies of the component {:?} are not imported: a component is not a service",
                                d.reference
                            ),
                        );
                    }
                } else {
                    findings.unresolved(
                        origin,
                        Some(line),
                        format!(
                            "the dependency of {:?} names no service or component of the BOM: not imported",
                            d.reference
                        ),
                    );
                }
                continue;
            };
            for target in &d.depends_on {
                match by_ref.get(target) {
                    Some(to) if to == from => findings.note(
                        origin,
                        Some(line),
                        format!("{from} depending on itself is not a dependency: not imported"),
                    ),
                    Some(to) => {
                        let s = &mut inv.services[index[from]];
                        if !s.depends_on.contains(to) {
                            s.depends_on.push(to.clone());
                        }
                    }
                    None if components.contains(target) => findings.note(
                        origin,
                        Some(line),
                        format!(
                            "{from} depends on the component {target:?}: a component is not a service, so the dependency is not imported"
                        ),
                    ),
                    None => findings.unresolved(
                        origin,
                        Some(line),
                        format!("{from} depends on {target:?}, which names nothing in the BOM: not imported"),
                    ),
                }
            }
        }
        if identity_links.0 > 0 {
            findings.note(
                origin,
                identity_links.1,
                format!(
                    "{} {IDENTITY_PROPERTY} propert(ies) not read (the first is here): a BOM does not say how a service uses an identity; import the inventory (native or CSV) for usages",
                    identity_links.0
                ),
            );
        }
        for (name, line) in other_properties {
            findings.note(
                origin,
                Some(line),
                format!("the property {name:?} is not read (and any like it on other services)"),
            );
        }
        self.sets.push((origin.to_owned(), inv, lines));
        Ok(())
    }

    /// Each BOM's services with their lines, in the order read.
    pub fn into_sets(self) -> Vec<(String, Inventory, LineMap)> {
        self.sets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_made_from_group_and_name() {
        assert_eq!(id_from(Some("Payments"), "Ledger DB"), "payments/ledger-db");
        assert_eq!(id_from(None, "  API (v2) "), "api--v2-");
    }
}
