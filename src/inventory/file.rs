//! Countersign's own inventory file (YAML, or JSON), version 1; see
//! `docs/inventory-format.md`. These types mirror the model but keep the
//! source position of ids and references, so a broken rule is reported at
//! its line.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::Path;

use super::{Inventory, InventoryError, LineMap, Problem, Section};
use crate::model::{
    BreakGlass, ContainmentAction, ContainmentPlan, Credential, Environment, Identity,
    IdentityKind, Lifetime, Owner, OwnerKind, Review, Service, Tier, Usage,
};

/// The only format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileInventory {
    version: Spanned<u32>,
    #[serde(default)]
    owners: Vec<FileOwner>,
    #[serde(default)]
    services: Vec<FileService>,
    #[serde(default)]
    identities: Vec<FileIdentity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOwner {
    id: Spanned<String>,
    kind: OwnerKind,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    left_on: Option<jiff::civil::Date>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileService {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    owner: Option<String>,
    tier: Tier,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIdentity {
    id: Spanned<String>,
    kind: IdentityKind,
    name: Spanned<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    backup_owner: Option<String>,
    environment: Environment,
    tier: Tier,
    #[serde(default)]
    description: String,
    #[serde(default)]
    external_ids: Vec<Spanned<String>>,
    #[serde(default)]
    lifetime: Option<Lifetime>,
    #[serde(default)]
    expires_on: Option<jiff::civil::Date>,
    #[serde(default)]
    credentials: Vec<Credential>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    admin_equivalent: bool,
    #[serde(default)]
    derived_from: Option<Spanned<String>>,
    #[serde(default)]
    used_by: Vec<Spanned<FileUsage>>,
    #[serde(default)]
    break_glass: Option<Spanned<BreakGlass>>,
    #[serde(default)]
    containment: BTreeMap<ContainmentAction, ContainmentPlan>,
    #[serde(default)]
    review: Option<Review>,
    #[serde(default)]
    orphaned: Option<crate::model::Orphaned>,
}

/// `used_by` items may be a bare service id or a map with the details.
///
/// Told apart by the item's own shape (a string or a map), not by trying
/// each variant in turn as `#[serde(untagged)]` would: a misspelt key or a
/// bad value in a map is then reported as itself ("unknown field `acess`,
/// expected one of …"), not as a match of no variant.
enum FileUsage {
    Service(String),
    Detailed(Usage),
}

impl<'de> Deserialize<'de> for FileUsage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Item;
        impl<'de> serde::de::Visitor<'de> for Item {
            type Value = FileUsage;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a service id, or a map with `service` and how it uses the identity \
                     (`access`, `delivery`, `live_sessions`)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FileUsage, E> {
                Ok(FileUsage::Service(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<FileUsage, A::Error> {
                Usage::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(FileUsage::Detailed)
            }
        }
        d.deserialize_any(Item)
    }
}

/// Parses a native inventory file. Checks the file on its own (syntax,
/// types, unique ids, version); references are checked by the caller once
/// the file is merged with what the store already holds, via [`ParsedFile::locate`].
pub struct ParsedFile {
    pub inventory: Inventory,
    pub origin: String,
    pub lines: LineMap,
}

impl ParsedFile {
    /// Turns validation problems into one error naming the file, line and field.
    pub fn locate(&self, problems: &[Problem]) -> InventoryError {
        locate(&self.origin, problems, &self.lines)
    }
}

/// Builds one error from the first problem, at its recorded file and line
/// (else `origin`), mentioning how many more problems there are.
pub fn locate(origin: &str, problems: &[Problem], lines: &LineMap) -> InventoryError {
    let first = &problems[0];
    let mut message = first.message.clone();
    if problems.len() > 1 {
        message.push_str(&format!(" (and {} more problem(s))", problems.len() - 1));
    }
    let (origin, line) = match lines.locate(first) {
        Some((file, line)) if !file.is_empty() => (file.to_owned(), Some(line)),
        Some((_, line)) => (origin.to_owned(), Some(line)),
        None => (origin.to_owned(), None),
    };
    InventoryError::Invalid {
        origin,
        line,
        at: first.path(),
        message,
    }
}

/// A YAML parser's error as `file:line:column: what`, without the
/// parser's source snippet or its hints to a programmer.
pub(crate) fn syntax(origin: &str, e: &serde_saphyr::Error) -> InventoryError {
    let mut message = e.without_snippet().to_string();
    let position = e
        .location()
        .map(|l| (l.line(), l.column()))
        .filter(|(l, _)| *l > 0);
    if let Some((l, c)) = position
        && let Some(m) = message.strip_suffix(&format!(" at line {l}, column {c}"))
    {
        message = m.to_owned();
    }
    message = message.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        message = format!("the key {key} appears twice in one mapping");
    }
    InventoryError::Syntax {
        origin: origin.to_owned(),
        position,
        message: message.trim_end().replace('\n', " "),
    }
}

/// Parser options shared by every YAML source: a repeated key is an error,
/// never a silent "last one wins".
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    }
}

/// The same, with the parser's node and event budgets scaled to the input:
/// the defaults (250k nodes) guard against alias bombs but also refuse an
/// honest 50k-service inventory. A document without aliases cannot have
/// more nodes than it has bytes, and aliases keep their own fixed caps, so
/// a bomb is still stopped.
pub(crate) fn yaml_options_for(text: &str) -> serde_saphyr::Options {
    let mut options = yaml_options();
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(text.len().saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    // A manifest set has no cap on documents; each takes at least a few
    // bytes (`---\n`), so the file's length bounds their count.
    budget.max_documents = budget.max_documents.max(text.len() / 4 + 1);
    budget.max_total_comment_bytes = budget.max_total_comment_bytes.max(text.len());
    options.budget = Some(budget);
    options
}

pub fn parse(text: &str, origin: &str) -> Result<ParsedFile, InventoryError> {
    let file: FileInventory = serde_saphyr::from_str_with_options(text, yaml_options_for(text))
        .map_err(|e| syntax(origin, &e))?;
    if file.version.value != FORMAT_VERSION {
        return Err(InventoryError::Invalid {
            origin: origin.to_owned(),
            line: Some(file.version.referenced.line()),
            at: "version".into(),
            message: format!(
                "unsupported format version {} (this build reads version {FORMAT_VERSION})",
                file.version.value
            ),
        });
    }
    let mut lines = LineMap::default();
    lines.file(origin);
    let mut inv = Inventory::default();
    for o in file.owners {
        lines.entity(Section::Owners, &o.id.value, o.id.referenced.line());
        inv.owners.push(Owner {
            id: o.id.value,
            kind: o.kind,
            name: o.name,
            email: o.email,
            parent: o.parent,
            left_on: o.left_on,
        });
    }
    for s in file.services {
        let id = s.id.value.clone();
        lines.entity(Section::Services, &id, s.id.referenced.line());
        lines.field(
            Section::Services,
            &id,
            "name",
            None,
            s.name.referenced.line(),
        );
        for d in &s.depends_on {
            lines.field(
                Section::Services,
                &id,
                "depends_on",
                Some(&d.value),
                d.referenced.line(),
            );
        }
        inv.services.push(Service {
            id,
            name: s.name.value,
            owner: s.owner,
            tier: s.tier,
            system: s.system,
            description: s.description,
            depends_on: s.depends_on.into_iter().map(|d| d.value).collect(),
        });
    }
    for i in file.identities {
        let id = i.id.value.clone();
        let section = Section::Identities;
        lines.entity(section, &id, i.id.referenced.line());
        lines.field(section, &id, "name", None, i.name.referenced.line());
        for x in &i.external_ids {
            lines.field(
                section,
                &id,
                "external_ids",
                Some(&x.value),
                x.referenced.line(),
            );
        }
        if let Some(d) = &i.derived_from {
            lines.field(
                section,
                &id,
                "derived_from",
                Some(&d.value),
                d.referenced.line(),
            );
        }
        if let Some(bg) = &i.break_glass {
            lines.field(section, &id, "break_glass", None, bg.referenced.line());
        }
        let used_by: Vec<Usage> = i
            .used_by
            .into_iter()
            .map(|u| {
                let usage = match u.value {
                    FileUsage::Service(s) => Usage::of(s),
                    FileUsage::Detailed(d) => d,
                };
                lines.field(
                    section,
                    &id,
                    "used_by",
                    Some(&usage.service),
                    u.referenced.line(),
                );
                usage
            })
            .collect();
        inv.identities.push(Identity {
            id,
            kind: i.kind,
            name: i.name.value,
            owner: i.owner,
            backup_owner: i.backup_owner,
            environment: i.environment,
            tier: i.tier,
            description: i.description,
            external_ids: i.external_ids.into_iter().map(|x| x.value).collect(),
            lifetime: i.lifetime,
            expires_on: i.expires_on,
            credentials: i.credentials,
            permissions: i.permissions,
            admin_equivalent: i.admin_equivalent,
            derived_from: i.derived_from.map(|d| d.value),
            used_by,
            break_glass: i.break_glass.map(|b| b.value),
            containment: i.containment,
            review: i.review,
            orphaned: i.orphaned,
        });
    }
    Ok(ParsedFile {
        inventory: inv,
        origin: origin.to_owned(),
        lines,
    })
}

/// Parses a file and checks it as a complete inventory on its own.
pub fn parse_complete(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
    let parsed = parse(text, origin)?;
    parsed.inventory.validate().map_err(|p| parsed.locate(&p))?;
    Ok(parsed.inventory)
}

pub fn read(path: &Path) -> Result<ParsedFile, InventoryError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InventoryError::Read {
        origin: origin.clone(),
        message: e.to_string(),
    })?;
    parse(&text, &origin)
}

#[derive(Serialize)]
struct ExportFile<'a> {
    version: u32,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    owners: &'a [Owner],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    services: &'a [Service],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    identities: &'a [Identity],
}

/// Writes an inventory in the native format; reading it back yields the
/// same inventory.
/// The native format as compact JSON (`version` first, as the importer's
/// format detection expects): for generated inventories too large for YAML
/// to be pleasant.
pub fn to_json(inv: &Inventory) -> serde_json::Result<String> {
    #[derive(serde::Serialize)]
    struct Native<'a> {
        version: u32,
        #[serde(flatten)]
        inventory: &'a Inventory,
    }
    serde_json::to_string(&Native {
        version: FORMAT_VERSION,
        inventory: inv,
    })
}

pub fn to_yaml(inv: &Inventory) -> Result<String, serde_saphyr::SerializeError> {
    let body = serde_saphyr::to_string(&ExportFile {
        version: FORMAT_VERSION,
        owners: &inv.owners,
        services: &inv.services,
        identities: &inv.identities,
    })?;
    Ok(format!(
        "# Countersign inventory, format version {FORMAT_VERSION} (docs/inventory-format.md)\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version: 1
services:
  - {id: db, name: Database, owner: team-data, tier: 0}
  - {id: api, name: API, owner: team-api, tier: 1, depends_on: [db]}
identities:
  - id: sa-api
    kind: service_account
    name: API service account
    owner: team-api
    environment: production
    tier: 1
    used_by:
      - api
"#;

    fn err(text: &str) -> String {
        parse_complete(text, "inv.yaml").unwrap_err().to_string()
    }

    #[test]
    fn parses_a_good_file() {
        let inv = parse_complete(GOOD, "inv.yaml").unwrap();
        assert_eq!(inv.services.len(), 2);
        assert_eq!(inv.identities[0].used_by, vec![Usage::of("api")]);
    }

    #[test]
    fn dangling_reference_is_named_with_its_line() {
        let e = err(&GOOD.replace("      - api", "      - apu"));
        assert_eq!(
            e,
            "inv.yaml:14: identities (id \"sa-api\").used_by: unknown service \"apu\""
        );
    }

    #[test]
    fn self_dependency_and_duplicates_are_rejected() {
        let e = err(&GOOD.replace("depends_on: [db]", "depends_on: [api]"));
        assert!(e.starts_with("inv.yaml:5: "), "{e}");
        assert!(e.contains("cannot depend on itself"), "{e}");
        let e = err(&GOOD.replace("id: api,", "id: db,"));
        assert!(e.contains("duplicate service id"), "{e}");
    }

    #[test]
    fn syntax_and_type_errors_name_the_file_and_line() {
        let e = err("version: 1\nservices:\n  - {id: db, name: Database, owner: x, tier: nine}\n");
        assert!(e.starts_with("inv.yaml:3:"), "{e}");
        let e = err("version: 1\nservices: [\n");
        assert!(e.starts_with("inv.yaml:2:"), "{e}");
    }

    /// A usage map is read as a usage: its misspelt key or bad value is
    /// named, not reported as a match of no variant of an internal type.
    #[test]
    fn a_usage_map_names_its_own_mistake() {
        let e = err(&GOOD.replace("      - api", "      - {service: api, acess: read}"));
        assert!(e.starts_with("inv.yaml:14:"), "{e}");
        assert!(e.contains("unknown field `acess`"), "{e}");
        assert!(!e.contains("variant"), "{e}");
        let e = err(&GOOD.replace("      - api", "      - {service: api, access: raed}"));
        assert!(e.contains("raed"), "{e}");
        assert!(!e.contains("FileUsage"), "{e}");
        let e = err(&GOOD.replace("      - api", "      - 7"));
        assert!(e.contains("a service id, or a map"), "{e}");
        let inv = parse_complete(
            &GOOD.replace(
                "      - api",
                "      - {service: api, access: read, live_sessions: true}",
            ),
            "inv.yaml",
        )
        .unwrap();
        assert_eq!(inv.identities[0].used_by[0].service, "api");
        assert!(inv.identities[0].used_by[0].live_sessions);
    }

    #[test]
    fn unknown_fields_and_duplicate_keys_are_errors() {
        let e = err(&GOOD.replace("tier: 1\n    used_by", "tier: 1\n    tire: 2\n    used_by"));
        assert!(e.contains("tire"), "{e}");
        let e = err(&GOOD.replace("tier: 1\n    used_by", "tier: 1\n    tier: 2\n    used_by"));
        assert!(
            e.ends_with("the key tier appears twice in one mapping"),
            "{e}"
        );
    }

    #[test]
    fn wrong_version_and_bad_ids_are_rejected() {
        assert_eq!(
            err(&GOOD.replace("version: 1", "version: 7")),
            "inv.yaml:2: version: unsupported format version 7 (this build reads version 1)"
        );
        let e = err(&GOOD.replace("id: sa-api", "id: \"sa api\""));
        assert!(
            e.starts_with("inv.yaml:7: identities (id \"sa api\").id"),
            "{e}"
        );
    }

    #[test]
    fn export_then_parse_is_lossless() {
        let inv = crate::demo::inventory().unwrap();
        let yaml = to_yaml(&inv).unwrap();
        let back = parse_complete(&yaml, "export.yaml").unwrap();
        assert_eq!(back, inv);
        assert_eq!(to_yaml(&back).unwrap(), yaml);
    }
}
