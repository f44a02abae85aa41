//! Backstage catalog files (`apiVersion: backstage.io/v1alpha1`), mapped
//! onto Countersign's model:
//! - Component, Resource and API entities become services; `spec.owner`,
//!   `spec.system` and the description carry over; `spec.dependsOn`,
//!   `spec.dependencyOf`, `spec.consumesApis` and `spec.providesApis` become
//!   service dependencies (pointing the way breakage spreads);
//! - Group and User entities become owners (teams and people);
//! - a service's `spec.system` becomes its `system`;
//! - Location entities pull in the files they target, relative to themselves;
//! - other kinds (Domain, Template, …) are skipped.
//!
//! Backstage knows nothing of criticality: the tier comes from the
//! annotation `countersign.dev/tier` ("0".."3"), else from `spec.lifecycle`
//! (production → 1, experimental/deprecated → 3), else 2. It is only set
//! when the service is created, so a tier an owner set in Countersign stays.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::{Format, ImportError, Source};
use crate::inventory::file::yaml_options;
use crate::inventory::{Inventory, InventoryError, LineMap, MergeMode, Section};
use crate::model::{Owner, OwnerKind, ParseModelError, Service, Tier};

pub const TIER_ANNOTATION: &str = "countersign.dev/tier";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    api_version: Spanned<String>,
    kind: Spanned<String>,
    metadata: Metadata,
    #[serde(default)]
    spec: Spec,
}

#[derive(Deserialize)]
struct Metadata {
    name: Spanned<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    lifecycle: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    dependency_of: Vec<Spanned<String>>,
    #[serde(default)]
    consumes_apis: Vec<Spanned<String>>,
    #[serde(default)]
    provides_apis: Vec<Spanned<String>>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    member_of: Vec<String>,
    #[serde(default)]
    target: Option<Spanned<String>>,
    #[serde(default)]
    targets: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// An entity reference (`[kind:][namespace/]name`) as a Countersign id:
/// the name, prefixed by its namespace when that is not `default`.
fn ref_to_id(reference: &str) -> (Option<String>, String) {
    let (kind, rest) = match reference.split_once(':') {
        Some((k, r)) => (Some(k.to_ascii_lowercase()), r),
        None => (None, reference),
    };
    let id = match rest.split_once('/') {
        Some(("default", name)) => name.to_owned(),
        Some((ns, name)) => format!("{ns}/{name}"),
        None => rest.to_owned(),
    };
    (kind, id)
}

fn entity_id(meta: &Metadata) -> String {
    match meta.namespace.as_deref() {
        None | Some("default") => meta.name.value.clone(),
        Some(ns) => format!("{ns}/{}", meta.name.value),
    }
}

fn tier_for(meta: &Metadata, spec: &Spec, origin: &str) -> Result<Tier, InventoryError> {
    if let Some(raw) = meta.annotations.get(TIER_ANNOTATION) {
        return raw
            .parse()
            .map_err(|e: ParseModelError| InventoryError::Invalid {
                origin: origin.to_owned(),
                line: Some(meta.name.referenced.line()),
                at: format!("metadata.annotations[{TIER_ANNOTATION:?}]"),
                message: e.to_string(),
            });
    }
    Ok(match spec.lifecycle.as_deref() {
        Some("production") => Tier::new(1).expect("valid tier"),
        Some("experimental") | Some("deprecated") => Tier::LEAST_CRITICAL,
        _ => Tier::IMPORTANT,
    })
}

const SERVICE_KINDS: &[&str] = &["component", "resource", "api"];

/// Parses a catalog file and every file its Location entities point to.
///
/// Targets resolve relative to the file that names them and must stay
/// inside `boundary` (the directory being imported): Backstage itself
/// reads any path its configuration allows, but a catalog under review
/// must not make an import read, or quote, files outside what was chosen.
pub(super) fn parse(
    path: &Path,
    text: &str,
    boundary: &super::input::Boundary,
) -> Result<Vec<Source>, ImportError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    parse_into(path, text, boundary, &mut seen, &mut out)?;
    Ok(out)
}

fn parse_into(
    path: &Path,
    text: &str,
    boundary: &super::input::Boundary,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<Source>,
) -> Result<(), ImportError> {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    if !seen.insert(canonical) {
        return Ok(());
    }
    let origin = path.display().to_string();
    let entities: Vec<Entity> = serde_saphyr::from_multiple_with_options(text, yaml_options())
        .map_err(|e| InventoryError::Syntax {
            origin: origin.clone(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
    let mut inv = Inventory::default();
    let mut lines = LineMap::default();
    lines.file(&origin);
    // (dependent, dependency, line) pairs, resolved once every service is known.
    let mut edges: Vec<(String, String, u64)> = Vec::new();
    let mut locations = Vec::new();

    for e in &entities {
        let line = e.metadata.name.referenced.line();
        if !e.api_version.value.starts_with("backstage.io/") {
            return Err(InventoryError::Invalid {
                origin: origin.clone(),
                line: Some(e.api_version.referenced.line()),
                at: "apiVersion".into(),
                message: format!(
                    "{:?} is not a Backstage entity (expected backstage.io/…)",
                    e.api_version.value
                ),
            }
            .into());
        }
        let id = entity_id(&e.metadata);
        let kind = e.kind.value.to_ascii_lowercase();
        match kind.as_str() {
            k if SERVICE_KINDS.contains(&k) => {
                lines.entity(Section::Services, &id, line);
                inv.services.push(Service {
                    id: id.clone(),
                    name: e
                        .metadata
                        .title
                        .clone()
                        .unwrap_or_else(|| e.metadata.name.value.clone()),
                    owner: e.spec.owner.as_deref().map(|o| ref_to_id(o).1),
                    tier: tier_for(&e.metadata, &e.spec, &origin)?,
                    system: e.spec.system.as_deref().map(|s| ref_to_id(s).1),
                    description: e
                        .metadata
                        .description
                        .clone()
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    depends_on: Vec::new(),
                });
                for r in e.spec.depends_on.iter().chain(&e.spec.consumes_apis) {
                    edges.push((id.clone(), r.value.clone(), r.referenced.line()));
                }
                for r in &e.spec.dependency_of {
                    edges.push((r.value.clone(), id.clone(), r.referenced.line()));
                }
                for r in &e.spec.provides_apis {
                    edges.push((r.value.clone(), id.clone(), r.referenced.line()));
                }
            }
            "group" | "user" => {
                let profile = e.spec.profile.as_ref();
                lines.entity(Section::Owners, &id, line);
                inv.owners.push(Owner {
                    id: id.clone(),
                    kind: if kind == "group" {
                        OwnerKind::Team
                    } else {
                        OwnerKind::Person
                    },
                    name: profile
                        .and_then(|p| p.display_name.clone())
                        .or_else(|| e.metadata.title.clone())
                        .unwrap_or_default(),
                    email: profile.and_then(|p| p.email.clone()),
                    parent: e
                        .spec
                        .parent
                        .as_deref()
                        .or(e.spec.member_of.first().map(String::as_str))
                        .map(|p| ref_to_id(p).1),
                });
            }
            "location" => {
                if let Some(target) = &e.spec.target {
                    locations.push((
                        target.value.clone(),
                        target.referenced.line(),
                        "spec.target",
                    ));
                }
                for target in &e.spec.targets {
                    locations.push((
                        target.value.clone(),
                        target.referenced.line(),
                        "spec.targets",
                    ));
                }
            }
            // System, Domain, Template and custom kinds say nothing about
            // identities; services carry their `system` themselves.
            _ => {}
        }
    }

    // Edges may point either way in the file; both ends are resolved here
    // and checked against the whole inventory later, where an unknown
    // service is reported at the line of the reference.
    for (dependent, dependency, line) in edges {
        let (dep_kind, dep_id) = ref_to_id(&dependency);
        let (_, dependent_id) = ref_to_id(&dependent);
        if let Some(k) = dep_kind.as_deref()
            && !SERVICE_KINDS.contains(&k)
        {
            return Err(InventoryError::Invalid {
                origin: origin.clone(),
                line: Some(line),
                at: format!("services (id {dependent_id:?}).depends_on"),
                message: format!("{dependency:?} is a {k}, not a component, resource or API"),
            }
            .into());
        }
        lines.field(
            Section::Services,
            &dependent_id,
            "depends_on",
            Some(&dep_id),
            line,
        );
        match inv.services.iter_mut().find(|s| s.id == dependent_id) {
            Some(s) if !s.depends_on.contains(&dep_id) => s.depends_on.push(dep_id),
            Some(_) => {}
            None => {
                // `dependencyOf` naming a service defined in another file:
                // restate it with just the edge; Fill mode merges it.
                lines.entity(Section::Services, &dependent_id, line);
                inv.services.push(Service {
                    id: dependent_id.clone(),
                    name: String::new(),
                    owner: None,
                    tier: Tier::IMPORTANT,
                    system: None,
                    description: String::new(),
                    depends_on: vec![dep_id],
                });
            }
        }
    }

    let mut source = Source::new(&origin, Format::Backstage, inv, MergeMode::Fill);
    source.lines = lines;
    out.push(source);

    for (target, line, field) in locations {
        let at_target = |message: String| InventoryError::Invalid {
            origin: origin.clone(),
            line: Some(line),
            at: field.into(),
            message,
        };
        if target.contains("://") {
            return Err(at_target(format!(
                "{target} is a URL; an import reads files only: download what it points to into the directory being imported and name the file"
            ))
            .into());
        }
        let target_path = boundary.resolve(path, &target).map_err(at_target)?;
        // The reason only (never the refused file's content).
        let text = super::input::read_text(&target_path).map_err(|e| match e {
            ImportError::Io { message, .. } => {
                at_target(format!("cannot read {}: {message}", target_path.display()))
            }
            other => at_target(other.to_string()),
        })?;
        parse_into(&target_path, &text, boundary, seen, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> super::super::input::Boundary {
        super::super::input::Boundary::of(Path::new(".")).unwrap()
    }

    const CATALOG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-pay}
spec: {type: team, profile: {displayName: Payments, email: pay@example.com}, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: Checkout page
  annotations: {countersign.dev/tier: "0"}
spec:
  type: service
  lifecycle: production
  owner: group:default/team-pay
  system: shop
  dependsOn: [resource:default/orders-db]
  consumesApis: [payments-api]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: orders-db}
spec: {type: database, owner: team-pay, dependencyOf: [component:ledger]}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-api}
spec: {type: openapi, lifecycle: experimental, owner: team-pay, definition: "openapi: 3.0.0"}
"#;

    #[test]
    fn maps_components_resources_apis_and_groups() {
        let sources = parse(Path::new("catalog.yaml"), CATALOG, &here()).unwrap();
        let inv = &sources[0].inventory;
        assert_eq!(inv.owners[0].name, "Payments");
        let checkout = inv.services.iter().find(|s| s.id == "checkout").unwrap();
        assert_eq!(checkout.tier.get(), 0);
        assert_eq!(checkout.owner.as_deref(), Some("team-pay"));
        assert_eq!(checkout.system.as_deref(), Some("shop"));
        assert_eq!(checkout.depends_on, ["orders-db", "payments-api"]);
        let api = inv
            .services
            .iter()
            .find(|s| s.id == "payments-api")
            .unwrap();
        assert_eq!(api.tier.get(), 3);
        let ledger = inv.services.iter().find(|s| s.id == "ledger").unwrap();
        assert_eq!(
            ledger.depends_on,
            ["orders-db"],
            "dependencyOf points the other way"
        );
    }

    #[test]
    fn wrong_types_and_foreign_api_versions_name_the_line() {
        let e = parse(Path::new("c.yaml"), "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec:\n  dependsOn: 5\n", &here())
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("c.yaml: ") && e.contains("line 5"), "{e}");
        let e = parse(
            Path::new("c.yaml"),
            "apiVersion: v1\nkind: Component\nmetadata: {name: a}\n",
            &here(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.starts_with("c.yaml:1: apiVersion"), "{e}");
    }

    #[test]
    fn entity_refs_become_ids() {
        assert_eq!(
            ref_to_id("group:default/team-a"),
            (Some("group".into()), "team-a".into())
        );
        assert_eq!(
            ref_to_id("component:shop/cart"),
            (Some("component".into()), "shop/cart".into())
        );
        assert_eq!(ref_to_id("orders"), (None, "orders".into()));
    }
}
