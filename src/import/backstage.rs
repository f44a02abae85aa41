//! Backstage catalog entities, read as Backstage's catalog reads them and
//! mapped onto Countersign's model:
//! - Component, Resource and API entities become services; `spec.owner`,
//!   `spec.system` and the description carry over; `spec.dependsOn`,
//!   `spec.dependencyOf`, `spec.consumesApis`, `spec.providesApis` and
//!   `spec.subcomponentOf` become service dependencies (pointing the way
//!   breakage spreads);
//! - Group and User entities become owners (teams and people);
//! - Location entities pull in the files they target (see `super::locations`);
//! - every other kind (System, Domain, Template, custom kinds) is skipped
//!   and counted.
//!
//! Identity follows Backstage: an entity is kind + namespace + name, and
//! references (`[kind:][namespace/]name`) are compared ignoring case, take
//! the referring entity's namespace when they name none, and the relation's
//! default kind when they name no kind (`providesApis`/`consumesApis` →
//! API, `owner` → Group, `system` → System, `memberOf`/`parent` → Group,
//! `subcomponentOf` → Component) — the rules of Backstage's
//! `parseEntityRef` and its built-in kinds processor. A reference to an
//! entity that is neither in the import nor in the inventory is reported
//! with its file and line and not kept.
//!
//! Service ids are the entity ref, shortened the readable way: a Component
//! is its name (`checkout`), a Resource or API is prefixed by its kind
//! (`resource:orders-db`, `api:payments-api`), and an entity outside the
//! `default` namespace carries it (`shop/cart`, `api:shop/cart`). So a
//! Component and the API it provides under the same name stay two services.
//!
//! Backstage knows nothing of criticality: the tier comes from the
//! annotation `countersign.dev/tier` ("0".."3"), else from `spec.lifecycle`
//! (production → 1, experimental/deprecated → 3), else 2. It is only set
//! when the service is created, so a tier an owner set in Countersign stays.

use std::collections::HashMap;

use super::report::Findings;
use super::yaml::{Misfit, Node, Value};
use crate::inventory::{Inventory, LineMap, Section};
use crate::model::{Owner, OwnerKind, ParseModelError, Service, Tier};

pub const TIER_ANNOTATION: &str = "countersign.dev/tier";
pub(super) const FORMAT: &str = "Backstage";

/// The `spec` fields read from any Backstage entity.
pub(super) fn is_spec_field(key: &str) -> bool {
    matches!(
        key,
        "lifecycle"
            | "owner"
            | "system"
            | "dependsOn"
            | "dependencyOf"
            | "consumesApis"
            | "providesApis"
            | "subcomponentOf"
            | "parent"
            | "profile"
            | "memberOf"
            | "target"
            | "targets"
            | "type"
            | "children"
            | "members"
    )
}

/// Checks the types of a spec whose entity is refused for another reason,
/// so that one import lists every problem of the document.
fn check_spec(spec: &Node, ok: &mut impl FnMut(Result<(), Misfit>)) {
    for key in [
        "owner",
        "system",
        "subcomponentOf",
        "parent",
        "lifecycle",
        "type",
    ] {
        ok(spec.string(key, "spec").map(|_| ()));
    }
    for key in [
        "dependsOn",
        "dependencyOf",
        "consumesApis",
        "providesApis",
        "memberOf",
        "children",
        "members",
    ] {
        ok(spec.strings(key, "spec").map(|_| ()));
    }
}

/// Whether an `apiVersion` is Backstage's (`backstage.io/v1alpha1`,
/// `scaffolder.backstage.io/v1beta3`, any `*.backstage.io` group).
pub(super) fn is_backstage(api_version: &str) -> bool {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    group == "backstage.io" || group.ends_with(".backstage.io")
}

/// The kinds Backstage's catalog reads without plugins, as written (kinds
/// are case-sensitive), each with the `backstage.io` versions its schema
/// accepts (`packages/catalog-model/src/schema/kinds/*.schema.json`).
const BUILT_IN_KINDS: &[(&str, &[&str])] = &[
    ("Component", &["v1alpha1", "v1beta1"]),
    ("Resource", &["v1alpha1", "v1beta1"]),
    ("API", &["v1alpha1", "v1beta1", "v1alpha2"]),
    ("Group", &["v1alpha1", "v1beta1"]),
    ("User", &["v1alpha1", "v1beta1"]),
    ("Location", &["v1alpha1", "v1beta1"]),
    ("System", &["v1alpha1", "v1beta1"]),
    ("Domain", &["v1alpha1", "v1beta1"]),
];

/// Why Backstage's catalog refuses an entity whose kind is one of its own
/// but whose `kind` or `apiVersion` its schemas do not accept: a kind in
/// another case (`component`), a version no schema has (`backstage.io/v1`),
/// or a built-in kind under another group (only a custom processor would
/// read `acme.backstage.io/v1` Components). `None` when it is accepted or
/// is not a built-in kind at all (counted as skipped).
fn kind_refusal(kind: &str, api_version: &str) -> Option<String> {
    let (exact, versions) = BUILT_IN_KINDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(kind))?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let accepted = versions
        .iter()
        .map(|v| format!("backstage.io/{v}"))
        .collect::<Vec<_>>()
        .join(" or ");
    if kind != *exact {
        return Some(format!(
            "Backstage has no kind {kind:?} (kinds are case-sensitive; did you mean {exact}?)"
        ));
    }
    if group != "backstage.io" || !versions.contains(&version) {
        return Some(format!(
            "Backstage reads a {exact} only as {accepted}, not {api_version:?}"
        ));
    }
    None
}

/// The `spec` fields Backstage's schema for `kind` requires: strings that
/// must not be empty, and lists that must be present (possibly empty).
fn required_spec(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        "component" => (&["type", "lifecycle", "owner"], &[]),
        "resource" => (&["type", "owner"], &[]),
        // `definition` (or, for an MCP server in v1alpha2, `remotes`) is
        // checked apart: it is kept only as a mark, not read.
        "api" => (&["type", "lifecycle", "owner"], &[]),
        "group" => (&["type"], &["children"]),
        "user" => (&[], &["memberOf"]),
        _ => (&[], &[]),
    }
}

/// Reports each field Backstage's schema requires that `doc` lacks.
fn check_required(
    kind: &str,
    api_version: &str,
    doc: &Node,
    kind_line: u64,
    ok: &mut impl FnMut(Result<(), Misfit>),
) {
    let refuse = |line: u64, field: &str| Misfit::new(line, field, "required");
    let Some(spec) = doc.get("spec").filter(|s| !s.is_null()) else {
        if kind != "location" {
            ok(Err(refuse(kind_line, "spec")));
        }
        return;
    };
    if !matches!(spec.value, Value::Map(_)) {
        // Reported as a type problem where `spec` is read.
        return;
    }
    // A field that is absent is reported at `spec:`, one that is empty at
    // its own line.
    let spec_line = doc
        .keys()
        .find(|(k, _)| *k == "spec")
        .map_or(spec.line, |(_, l)| l);
    let (strings, lists) = required_spec(kind);
    for key in strings {
        // A value of another type is reported where it is read.
        match spec.get(key) {
            None => ok(Err(refuse(spec_line, &format!("spec.{key}")))),
            Some(n) if n.is_null() || matches!(&n.value, Value::Str(v) if v.is_empty()) => {
                ok(Err(refuse(n.line, &format!("spec.{key}"))))
            }
            Some(_) => {}
        }
    }
    for key in lists {
        match spec.get(key) {
            None => ok(Err(refuse(spec_line, &format!("spec.{key}")))),
            Some(n) if n.is_null() => ok(Err(refuse(n.line, &format!("spec.{key}")))),
            Some(_) => {}
        }
    }
    if kind == "api" {
        let mcp = api_version.ends_with("/v1alpha2")
            && matches!(spec.string("type", "spec"), Ok(Some(("mcp-server", _))));
        let key = if mcp { "remotes" } else { "definition" };
        if spec.get(key).is_none() {
            ok(Err(refuse(spec_line, &format!("spec.{key}"))));
        }
    }
}

/// Reads a field of `parent` (when there is one); a field that does not
/// read is reported through `ok` and read as absent, so the rest of the
/// document is still checked.
fn within<'n, T>(
    parent: Option<&'n Node>,
    read: impl FnOnce(&'n Node) -> Result<T, Misfit>,
    ok: &mut impl FnMut(Result<(), Misfit>),
) -> Option<T> {
    match parent.map(read)? {
        Ok(v) => Some(v),
        Err(m) => {
            ok(Err(m));
            None
        }
    }
}

/// What Backstage's default entity policies refuse beyond its schemas:
/// fields at the root other than its own (`NoForeignRootFieldsEntityPolicy`),
/// and tags, label keys and values and annotation keys of the wrong format
/// (`FieldFormatEntityPolicy`).
fn policy_refusals(doc: &Node, meta: &Node, refusals: &mut Vec<Misfit>) {
    const ROOT: &[&str] = &[
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "relations",
        "status",
    ];
    for (key, line) in doc.keys() {
        if !ROOT.contains(&key) {
            refusals.push(Misfit::new(
                line,
                key,
                "not a field of an entity (Backstage allows apiVersion, kind, metadata, spec, relations and status at the root)",
            ));
        }
    }
    match meta.strings("tags", "metadata") {
        Ok(tags) => {
            for (i, (tag, line)) in tags.into_iter().enumerate() {
                if let Err(m) = super::names::backstage_tag(tag) {
                    refusals.push(Misfit::new(line, &format!("metadata.tags[{i}]"), m));
                }
            }
        }
        Err(m) => refusals.push(m),
    }
    if let Some(labels) = meta.get("labels") {
        for (key, line) in labels.keys() {
            if let Err(m) = super::names::qualified_name(key) {
                refusals.push(Misfit::new(line, "metadata.labels", m));
            }
            match labels.string(key, "metadata.labels") {
                Ok(Some((value, vl))) => {
                    if let Err(m) = super::names::label_value(value) {
                        refusals.push(Misfit::new(vl, &format!("metadata.labels[{key:?}]"), m));
                    }
                }
                // Backstage wants a string, even an empty one.
                Ok(None) => refusals.push(Misfit::new(
                    line,
                    &format!("metadata.labels[{key:?}]"),
                    "must be a string, not empty (write \"\" for an empty value)",
                )),
                Err(m) => refusals.push(m),
            }
        }
    }
    if let Some(annotations) = meta.get("annotations") {
        for (key, line) in annotations.keys() {
            if let Err(m) = super::names::qualified_name(key) {
                refusals.push(Misfit::new(line, "metadata.annotations", m));
            }
        }
    }
}

type Ref = (String, u64);

struct Entity {
    file: usize,
    line: u64,
    /// Lower case: `component`, `resource`, `api`, `group`, `user`.
    kind: String,
    namespace: String,
    name: String,
    title: Option<String>,
    description: Option<String>,
    tier: Tier,
    /// The line of the tier annotation, when the entity states one.
    tier_line: Option<u64>,
    owner: Option<Ref>,
    system: Option<Ref>,
    depends_on: Vec<Ref>,
    dependency_of: Vec<Ref>,
    consumes_apis: Vec<Ref>,
    provides_apis: Vec<Ref>,
    subcomponent_of: Option<Ref>,
    parent: Option<Ref>,
    member_of: Vec<Ref>,
    display_name: Option<String>,
    email: Option<String>,
}

/// A Location's target, to be read relative to its file.
pub(super) struct Target {
    pub line: u64,
    pub field: &'static str,
    pub target: String,
    /// `spec.type` (`file`, `url`, …), if given.
    pub kind: Option<String>,
}

/// Every entity of one import, read but not yet resolved.
#[derive(Default)]
pub(super) struct Catalog {
    files: Vec<String>,
    entities: Vec<Entity>,
    /// Systems defined in the import (namespace, name; lower case): not
    /// imported, but what `spec.system` is checked against.
    systems: std::collections::HashSet<(String, String)>,
}

const SERVICE_KINDS: &[&str] = &["component", "resource", "api"];

fn title_of(kind: &str) -> &'static str {
    match kind {
        "component" => "Component",
        "resource" => "Resource",
        "api" => "API",
        "group" => "Group",
        "user" => "User",
        "system" => "System",
        "domain" => "Domain",
        _ => "entity",
    }
}

fn is_default(ns: &str) -> bool {
    ns.eq_ignore_ascii_case("default")
}

/// `name`, or `namespace/name` outside `default`: today's ids, and still
/// the id of a Component, a Group and a User.
fn base_id(ns: &str, name: &str) -> String {
    if is_default(ns) {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

/// The owner id of a Group (and of a User no Group shares a name with).
pub(super) fn owner_id(ns: &str, name: &str) -> String {
    base_id(ns, name)
}

/// The service id of a Component, Resource or API (see the module docs).
pub(super) fn service_id(kind: &str, ns: &str, name: &str) -> String {
    let base = base_id(ns, name);
    match kind {
        "component" => base,
        _ => format!("{kind}:{base}"),
    }
}

/// An entity reference, parsed as Backstage's `parseEntityRef` does:
/// `[kind:][namespace/]name`, with the defaults filled in. The kind is
/// lower-cased (compared ignoring case).
pub(super) fn parse_ref(
    reference: &str,
    default_kind: Option<&str>,
    default_ns: &str,
) -> Result<(Option<String>, String, String), String> {
    let (kind, rest) = match reference.split_once(':') {
        Some((k, r)) => (Some(k.trim().to_ascii_lowercase()), r),
        None => (default_kind.map(str::to_owned), reference),
    };
    let (ns, name) = match rest.split_once('/') {
        Some((n, m)) => (n.trim().to_owned(), m.trim().to_owned()),
        None => (default_ns.to_owned(), rest.trim().to_owned()),
    };
    if name.is_empty() || ns.is_empty() || kind.as_deref() == Some("") {
        return Err(format!(
            "{reference:?} is not an entity reference ([kind:][namespace/]name)"
        ));
    }
    Ok((kind, ns, name))
}

fn show_ref(kind: &str, ns: &str, name: &str) -> String {
    format!("{kind}:{ns}/{name}")
}

impl Catalog {
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    pub fn file(&mut self, origin: &str) -> usize {
        self.files.push(origin.to_owned());
        self.files.len() - 1
    }

    /// Reads one entity. Returns the targets of a Location; other kinds
    /// that carry no service or owner are counted in `findings`. Every
    /// field of the wrong type is reported, not only the first.
    pub fn add(
        &mut self,
        file: usize,
        doc: &Node,
        findings: &mut Findings,
    ) -> Result<Vec<Target>, Vec<Misfit>> {
        let (kind_raw, kind_line) = doc
            .string("kind", "")
            .and_then(|k| k.ok_or_else(|| Misfit::new(doc.line, "kind", "required")))
            .map_err(|m| vec![m])?;
        let kind = kind_raw.to_ascii_lowercase();
        let (api_version, api_line) = doc
            .string("apiVersion", "")
            .map_err(|m| vec![m])?
            .unwrap_or(("", kind_line));
        let handled = SERVICE_KINDS.contains(&kind.as_str())
            || matches!(kind.as_str(), "group" | "user" | "location");
        if !handled {
            if kind_raw == "System"
                && let Ok((_, name, _)) = doc.metadata_and_name(kind_line)
            {
                let ns = doc
                    .get("metadata")
                    .and_then(|m| m.string("namespace", "metadata").ok().flatten())
                    .map_or("default", |(n, _)| n);
                self.systems
                    .insert((ns.to_ascii_lowercase(), name.to_ascii_lowercase()));
            }
            findings.skip(FORMAT, kind_raw, &self.files[file], kind_line);
            return Ok(Vec::new());
        }
        // What Backstage's schemas refuse is not imported, as Backstage
        // does not ingest it, and is reported with every reason.
        let mut refusals = Vec::new();
        if let Some(message) = kind_refusal(kind_raw, api_version) {
            let (line, at) = if message.starts_with("Backstage has no kind") {
                (kind_line, "kind")
            } else {
                (api_line, "apiVersion")
            };
            refusals.push(Misfit::new(line, at, message));
        }
        check_required(&kind, api_version, doc, kind_line, &mut |r| {
            if let Err(m) = r {
                refusals.push(m);
            }
        });
        let origin = self.files[file].clone();
        let refused = |findings: &mut Findings, name: &str, refusals: &[Misfit]| -> bool {
            let Some(first) = refusals.iter().min_by_key(|m| m.line) else {
                return false;
            };
            let reasons: Vec<String> = refusals
                .iter()
                .map(|m| format!("{}: {} (line {})", m.at, m.message, m.line))
                .collect();
            findings.unresolved(
                &origin,
                Some(first.line),
                format!(
                    "the {kind_raw} {name} is not imported, as Backstage's catalog refuses it: {}",
                    reasons.join("; ")
                ),
            );
            true
        };
        let mut misfits = Vec::new();
        // A field that does not read is reported and read as absent, so
        // the rest of the document is still checked.
        let mut ok = |r: Result<(), Misfit>| {
            if let Err(m) = r {
                misfits.push(m);
            }
        };
        let (meta, name, line) = match doc.metadata_and_name(kind_line) {
            Ok(m) => m,
            Err(m) => {
                ok(Err(m));
                // Still check the spec's types.
                if let Ok(Some(spec)) = doc.map("spec", "") {
                    check_spec(spec, &mut ok);
                }
                return Err(misfits);
            }
        };
        let mut namespace = "default".to_owned();
        ok(meta.string("namespace", "metadata").map(|n| {
            if let Some((n, l)) = n {
                namespace = n.to_owned();
                if let Err(m) = super::names::dns_label(n) {
                    refusals.push(Misfit::new(l, "metadata.namespace", m));
                }
            }
        }));
        if let Err(m) = super::names::backstage_name(name) {
            refusals.push(Misfit::new(line, "metadata.name", m));
        }
        policy_refusals(doc, meta, &mut refusals);
        refusals.sort_by_key(|m| m.line);
        let spec = doc.map("spec", "").unwrap_or_else(|m| {
            ok(Err(m));
            None
        });
        let mut one = |key: &str| -> Option<Ref> {
            let s = spec?;
            s.string(key, "spec")
                .map_err(|m| ok(Err(m)))
                .ok()
                .flatten()
                .map(|(v, l)| (v.to_owned(), l))
        };
        if kind == "location" {
            let kind = one("type").map(|(t, _)| t);
            let target = one("target");
            let targets =
                within(spec, |s| s.strings("targets", "spec"), &mut ok).unwrap_or_default();
            if !misfits.is_empty() {
                return Err(misfits);
            }
            if refused(findings, name, &refusals) {
                return Ok(Vec::new());
            }
            let mut targets: Vec<Target> = target
                .into_iter()
                .map(|(t, l)| (t, l, "spec.target"))
                .chain(
                    targets
                        .into_iter()
                        .map(|(t, l)| (t.to_owned(), l, "spec.targets")),
                )
                .map(|(target, line, field)| Target {
                    line,
                    field,
                    target,
                    kind: kind.clone(),
                })
                .collect();
            targets.retain(|t| !t.target.trim().is_empty());
            return Ok(targets);
        }
        let owner = one("owner");
        let system = one("system");
        let subcomponent_of = one("subcomponentOf");
        let parent = one("parent");
        let lifecycle = one("lifecycle");
        one("type");
        let mut many = |key: &str| -> Vec<Ref> {
            let Some(s) = spec else { return Vec::new() };
            match s.strings(key, "spec") {
                Ok(v) => v.into_iter().map(|(v, l)| (v.to_owned(), l)).collect(),
                Err(m) => {
                    ok(Err(m));
                    Vec::new()
                }
            }
        };
        let depends_on = many("dependsOn");
        let dependency_of = many("dependencyOf");
        // These relations have no default kind: Backstage's processor
        // fails the entity on a reference that names none.
        for (field, refs) in [("dependsOn", &depends_on), ("dependencyOf", &dependency_of)] {
            for (i, (r, l)) in refs.iter().enumerate() {
                if !r.contains(':') {
                    refusals.push(Misfit::new(
                        *l,
                        &format!("spec.{field}[{i}]"),
                        format!(
                            "{r} names no kind, which Backstage requires here (component:{r}, resource:{r}, …)"
                        ),
                    ));
                }
            }
        }
        let consumes_apis = many("consumesApis");
        let provides_apis = many("providesApis");
        let member_of = many("memberOf");
        // Read for their types only: Backstage refuses an entity whose
        // `children` or `members` is not a list of strings.
        many("children");
        many("members");
        let annotations =
            within(Some(meta), |m| m.map("annotations", "metadata"), &mut ok).flatten();
        let annotation = within(
            annotations,
            |a| a.string(TIER_ANNOTATION, "metadata.annotations"),
            &mut ok,
        )
        .flatten();
        // Where the tier is stated: the annotation, else a lifecycle that
        // gives one (so a lifecycle changed later is noted like the
        // annotation).
        let tier_line = annotation.as_ref().map(|(_, l)| *l).or_else(|| {
            lifecycle
                .as_ref()
                .filter(|(l, _)| matches!(l.as_str(), "production" | "experimental" | "deprecated"))
                .map(|(_, line)| *line)
        });
        let tier = match annotation {
            Some((raw, l)) => raw.trim().parse().unwrap_or_else(|e: ParseModelError| {
                ok(Err(Misfit::new(
                    l,
                    &format!("metadata.annotations[{TIER_ANNOTATION:?}]"),
                    e.to_string(),
                )));
                Tier::IMPORTANT
            }),
            None => match lifecycle.as_ref().map(|(l, _)| l.as_str()) {
                Some("production") => Tier::new(1).expect("valid tier"),
                Some("experimental") | Some("deprecated") => Tier::LEAST_CRITICAL,
                _ => Tier::IMPORTANT,
            },
        };
        let profile = within(spec, |s| s.map("profile", "spec"), &mut ok).flatten();
        let mut profile_field = |key: &str| -> Option<String> {
            profile?
                .string(key, "spec.profile")
                .map_err(|m| ok(Err(m)))
                .ok()
                .flatten()
                .map(|(v, _)| v.to_owned())
        };
        let display_name = profile_field("displayName");
        let email = profile_field("email");
        let mut text = |key: &str| -> Option<String> {
            meta.string(key, "metadata")
                .map_err(|m| ok(Err(m)))
                .ok()
                .flatten()
                .map(|(v, _)| v.trim().to_owned())
        };
        let title = text("title");
        let description = text("description");
        if !misfits.is_empty() {
            return Err(misfits);
        }
        if refused(findings, name, &refusals) {
            return Ok(Vec::new());
        }
        self.entities.push(Entity {
            file,
            line,
            kind,
            namespace,
            name: name.to_owned(),
            title,
            description,
            tier,
            tier_line,
            owner,
            system,
            depends_on,
            dependency_of,
            consumes_apis,
            provides_apis,
            subcomponent_of,
            parent,
            member_of,
            display_name,
            email,
        });
        Ok(Vec::new())
    }

    /// Resolves the entities against each other and against `working`
    /// (the inventory, merged with earlier sources of this import).
    /// `working` changes only to carry a service imported under an id
    /// from before ids named the kind over to its new id.
    pub fn build(
        self,
        working: &mut Inventory,
        carry_over_ids: bool,
        findings: &mut Findings,
    ) -> (Inventory, LineMap) {
        let Catalog {
            files,
            entities,
            systems,
        } = self;
        let key = |kind: &str, ns: &str, name: &str| {
            (
                kind.to_ascii_lowercase(),
                ns.to_ascii_lowercase(),
                name.to_ascii_lowercase(),
            )
        };
        // One entity per kind + namespace + name (ignoring case); Backstage
        // refuses a second with the same ref.
        let mut index: HashMap<(String, String, String), usize> = HashMap::new();
        let mut kept = Vec::with_capacity(entities.len());
        for e in entities {
            let k = key(&e.kind, &e.namespace, &e.name);
            if let Some(&first) = index.get(&k) {
                let f: &Entity = &kept[first];
                findings.unresolved(
                    &files[e.file],
                    Some(e.line),
                    format!(
                        "{} is defined again here (first at {}:{}); Backstage refuses the second, and so does this import",
                        show_ref(&e.kind, &e.namespace, &e.name),
                        files[f.file],
                        f.line
                    ),
                );
                continue;
            }
            index.insert(k, kept.len());
            kept.push(e);
        }
        let entities = kept;

        // Ids. A User takes `user:` only when a Group has its name, in this
        // import or in the inventory. A person stored under a name a Group
        // of this import takes becomes `user:name` first, with everything
        // it owns: otherwise merging would turn the person into the team
        // and hand it the person's identities. An id already stored in
        // another case is that entity (refs ignore case), so the stored
        // spelling is kept.
        for e in entities.iter().filter(|e| e.kind == "group") {
            let base = base_id(&e.namespace, &e.name);
            let Some(person) = working
                .owners
                .iter()
                .find(|o| o.kind == OwnerKind::Person && o.id.eq_ignore_ascii_case(&base))
                .map(|o| o.id.clone())
            else {
                continue;
            };
            let new = format!("user:{person}");
            if working
                .owners
                .iter()
                .any(|o| o.id.eq_ignore_ascii_case(&new))
            {
                continue;
            }
            working.rename_owner(&person, &new);
            findings.note(
                &files[e.file],
                Some(e.line),
                format!(
                    "the inventory holds a person {person}; a Group now has that name, so the person is now {new} (as a User whose name a Group has), and what it owns moves with it"
                ),
            );
        }
        let stored_team = |ns: &str, name: &str| {
            let base = base_id(ns, name);
            working
                .owners
                .iter()
                .any(|o| o.kind == OwnerKind::Team && o.id.eq_ignore_ascii_case(&base))
        };
        let users_prefixed: Vec<bool> = entities
            .iter()
            .map(|e| {
                e.kind == "user"
                    && (index.contains_key(&key("group", &e.namespace, &e.name))
                        || stored_team(&e.namespace, &e.name))
            })
            .collect();
        let stored_services: HashMap<String, &str> = working
            .services
            .iter()
            .map(|s| (s.id.to_lowercase(), s.id.as_str()))
            .collect();
        let stored_owners: HashMap<String, &str> = working
            .owners
            .iter()
            .map(|o| (o.id.to_lowercase(), o.id.as_str()))
            .collect();
        let ids: Vec<String> = entities
            .iter()
            .zip(&users_prefixed)
            .map(|(e, &prefixed)| {
                let (id, stored) = match e.kind.as_str() {
                    "user" if prefixed => {
                        findings.note(
                            &files[e.file],
                            Some(e.line),
                            format!(
                                "a Group has this User's name, so the User's owner id is user:{}",
                                base_id(&e.namespace, &e.name)
                            ),
                        );
                        (
                            format!("user:{}", base_id(&e.namespace, &e.name)),
                            &stored_owners,
                        )
                    }
                    "group" | "user" => (base_id(&e.namespace, &e.name), &stored_owners),
                    k => (service_id(k, &e.namespace, &e.name), &stored_services),
                };
                stored
                    .get(&id.to_lowercase())
                    .map_or(id, |s| (*s).to_owned())
            })
            .collect();

        // Services imported before ids named their kind: with
        // --carry-over-ids, the stored `orders-db` becomes
        // `resource:orders-db` when this import holds that Resource and no
        // Component of the name; without it, the import says how. A bare
        // stored id may as well be a Component's, so it is never guessed.
        let mut present: std::collections::HashSet<String> =
            working.services.iter().map(|s| s.id.clone()).collect();
        for (e, id) in entities.iter().zip(&ids) {
            if e.kind == "component" || !SERVICE_KINDS.contains(&e.kind.as_str()) {
                continue;
            }
            let legacy = base_id(&e.namespace, &e.name);
            let component_here = index.contains_key(&key("component", &e.namespace, &e.name));
            if component_here || present.contains(id) || !present.contains(&legacy) {
                continue;
            }
            if carry_over_ids {
                working.rename_service(&legacy, id);
                present.remove(&legacy);
                present.insert(id.clone());
                findings.note(
                    &files[e.file],
                    Some(e.line),
                    format!(
                        "the service {legacy} (imported before service ids named the Backstage kind) is this {} and is now {id}; its usages and dependencies move with it",
                        title_of(&e.kind)
                    ),
                );
            } else {
                findings.note(
                    &files[e.file],
                    Some(e.line),
                    format!(
                        "this {} is the new service {id}; a service {legacy} is stored under its bare name. If that is this {} as imported before service ids named the kind, import again with --carry-over-ids to move it, its usages and dependencies to {id}",
                        title_of(&e.kind),
                        title_of(&e.kind)
                    ),
                );
            }
        }

        // Without a title the name is made up from the entity's: a name an
        // owner gave the stored service stays.
        let stored_names: HashMap<String, String> = working
            .services
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect();
        let mut r = Resolver {
            files: &files,
            ids: &ids,
            index: &index,
            systems: &systems,
            working,
            carry_over_ids,
            findings,
        };
        let mut inv = Inventory::default();
        let mut lines = LineMap::default();
        // (dependent, dependency, file, line)
        let mut edges: Vec<(String, String, usize, u64)> = Vec::new();
        for (i, e) in entities.iter().enumerate() {
            let id = &ids[i];
            lines.file(&files[e.file]);
            match e.kind.as_str() {
                "group" | "user" => {
                    let parent = if e.kind == "group" {
                        e.parent.as_ref()
                    } else {
                        e.member_of.first()
                    };
                    let field = if e.kind == "group" {
                        "spec.parent"
                    } else {
                        "spec.memberOf"
                    };
                    lines.entity(Section::Owners, id, e.line);
                    inv.owners.push(Owner {
                        id: id.clone(),
                        kind: if e.kind == "group" {
                            OwnerKind::Team
                        } else {
                            OwnerKind::Person
                        },
                        name: e
                            .display_name
                            .clone()
                            .or_else(|| e.title.clone())
                            .unwrap_or_default(),
                        email: e.email.clone(),
                        parent: parent.and_then(|p| r.owner(e, p, field)),
                        left_on: None,
                    });
                }
                _ => {
                    lines.entity(Section::Services, id, e.line);
                    if let Some(l) = e.tier_line {
                        lines.field(Section::Services, id, "tier", None, l);
                    }
                    inv.services.push(Service {
                        id: id.clone(),
                        name: e.title.clone().unwrap_or_else(|| {
                            stored_names
                                .get(id)
                                .cloned()
                                .unwrap_or_else(|| e.name.clone())
                        }),
                        owner: e.owner.as_ref().and_then(|o| r.owner(e, o, "spec.owner")),
                        tier: e.tier,
                        system: e.system.as_ref().and_then(|s| r.system(e, s)),
                        description: e.description.clone().unwrap_or_default(),
                        depends_on: Vec::new(),
                    });
                    let relations: [(&str, &[Ref], Option<&str>, bool); 5] = [
                        ("spec.dependsOn", &e.depends_on, None, true),
                        ("spec.consumesApis", &e.consumes_apis, Some("api"), true),
                        ("spec.dependencyOf", &e.dependency_of, None, false),
                        ("spec.providesApis", &e.provides_apis, Some("api"), false),
                        (
                            "spec.subcomponentOf",
                            e.subcomponent_of.as_slice(),
                            Some("component"),
                            false,
                        ),
                    ];
                    for (field, refs, default_kind, outgoing) in relations {
                        for (reference, line) in refs {
                            let Some(other) = r.service(e, reference, *line, field, default_kind)
                            else {
                                continue;
                            };
                            if &other == id {
                                r.findings.unresolved(
                                    &files[e.file],
                                    Some(*line),
                                    format!(
                                        "{field}: {reference} is this entity itself; a service cannot depend on itself, so the relation is not kept"
                                    ),
                                );
                                continue;
                            }
                            // A part breaks its whole; an API breaks with
                            // what provides it.
                            let (dependent, dependency) = if outgoing {
                                (id.clone(), other)
                            } else {
                                (other, id.clone())
                            };
                            edges.push((dependent, dependency, e.file, *line));
                        }
                    }
                }
            }
        }

        // Edges, including onto services already in the inventory: those
        // are restated with the new edge, and merging keeps the rest.
        let mut position: HashMap<String, usize> = inv
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        for (dependent, dependency, file, line) in edges {
            lines.file(&files[file]);
            lines.field(
                Section::Services,
                &dependent,
                "depends_on",
                Some(&dependency),
                line,
            );
            let at = match position.get(&dependent) {
                Some(&at) => at,
                None => {
                    let stored = r
                        .working
                        .services
                        .iter()
                        .find(|s| s.id == dependent)
                        .cloned()
                        .expect("resolved services exist");
                    lines.entity(Section::Services, &dependent, line);
                    inv.services.push(stored);
                    position.insert(dependent.clone(), inv.services.len() - 1);
                    inv.services.len() - 1
                }
            };
            let s = &mut inv.services[at];
            if !s.depends_on.contains(&dependency) {
                s.depends_on.push(dependency);
            }
        }
        (inv, lines)
    }
}

struct Resolver<'a> {
    files: &'a [String],
    systems: &'a std::collections::HashSet<(String, String)>,
    ids: &'a [String],
    index: &'a HashMap<(String, String, String), usize>,
    working: &'a Inventory,
    carry_over_ids: bool,
    findings: &'a mut Findings,
}

impl Resolver<'_> {
    fn lookup(&self, kind: &str, ns: &str, name: &str) -> Option<usize> {
        self.index
            .get(&(
                kind.to_owned(),
                ns.to_ascii_lowercase(),
                name.to_ascii_lowercase(),
            ))
            .copied()
    }

    fn unresolved(&mut self, e: &Entity, line: u64, message: String) {
        self.findings
            .unresolved(&self.files[e.file], Some(line), message);
    }

    /// The service a relation names, or `None` (reported).
    fn service(
        &mut self,
        e: &Entity,
        reference: &str,
        line: u64,
        field: &str,
        default_kind: Option<&str>,
    ) -> Option<String> {
        let (kind, ns, name) = match parse_ref(reference, default_kind, &e.namespace) {
            Ok(r) => r,
            Err(m) => {
                self.unresolved(e, line, format!("{field}: {m}; the relation is not kept"));
                return None;
            }
        };
        let stored = |id: &str| {
            self.working
                .services
                .iter()
                .find(|s| s.id.eq_ignore_ascii_case(id))
                .map(|s| s.id.clone())
        };
        // dependsOn/dependencyOf without a kind never get here: Backstage
        // fails the entity, and so does `add`.
        let Some(kind) = kind else {
            self.unresolved(
                e,
                line,
                format!("{field}: {reference} names no kind; the relation is not kept"),
            );
            return None;
        };
        if !SERVICE_KINDS.contains(&kind.as_str()) {
            self.unresolved(
                e,
                line,
                format!(
                    "{field}: {reference} is a {}; dependencies are kept between Components, Resources and APIs, so this relation is not kept",
                    title_of(&kind)
                ),
            );
            return None;
        }
        if let Some(i) = self.lookup(&kind, &ns, &name) {
            return Some(self.ids[i].clone());
        }
        if let Some(id) = stored(&service_id(&kind, &ns, &name)) {
            return Some(id);
        }
        // With --carry-over-ids, a bare stored id may stand for an API or
        // Resource imported before; otherwise it may be a Component's.
        if self.carry_over_ids
            && kind != "component"
            && let Some(id) = stored(&base_id(&ns, &name))
        {
            self.findings.note(
                &self.files[e.file],
                Some(line),
                format!(
                    "{field}: {reference} read as the service {id}, imported before service ids named the kind; import the file that defines it to give it the id {}",
                    service_id(&kind, &ns, &name)
                ),
            );
            return Some(id);
        }
        self.unresolved(
            e,
            line,
            format!(
                "{field}: unknown {} {}: it is neither in this import nor in the inventory, so the relation is not kept",
                title_of(&kind),
                show_ref(&kind, &ns, &name)
            ),
        );
        None
    }

    /// An owner (or parent) reference: a Group unless it names its kind.
    /// One that resolves to nothing is reported and kept as written, so
    /// the team's name is not lost.
    fn owner(&mut self, e: &Entity, (reference, line): &Ref, field: &str) -> Option<String> {
        let (kind, ns, name) = match parse_ref(reference, Some("group"), &e.namespace) {
            Ok((k, n, m)) => (k.unwrap_or_default(), n, m),
            Err(m) => {
                self.unresolved(e, *line, format!("{field}: {m}"));
                return None;
            }
        };
        if kind != "group" && kind != "user" {
            self.unresolved(
                e,
                *line,
                format!(
                    "{field}: {reference} is a {}, not a Group or User; no owner is kept",
                    title_of(&kind)
                ),
            );
            return None;
        }
        if let Some(i) = self.lookup(&kind, &ns, &name) {
            return Some(self.ids[i].clone());
        }
        // Stored owners of the kind named: a Group is a team, a User a
        // person (under `user:name` when a Group has the name).
        let id = base_id(&ns, &name);
        let (want, other, ids) = if kind == "group" {
            (OwnerKind::Team, "user", vec![id.clone()])
        } else {
            (
                OwnerKind::Person,
                "group",
                vec![format!("user:{id}"), id.clone()],
            )
        };
        for candidate in &ids {
            if let Some(o) = self
                .working
                .owners
                .iter()
                .find(|o| o.kind == want && o.id.eq_ignore_ascii_case(candidate))
            {
                return Some(o.id.clone());
            }
        }
        let shown = show_ref(&kind, &ns, &name);
        let what = title_of(&kind);
        // Kept as written, unless that id is the other kind's owner: a
        // reference to a Group must not land on the User of its name.
        let taken_here = self
            .lookup(other, &ns, &name)
            .filter(|&i| self.ids[i].eq_ignore_ascii_case(&id));
        let taken_stored = self
            .working
            .owners
            .iter()
            .any(|o| o.kind != want && o.id.eq_ignore_ascii_case(&id));
        if taken_here.is_some() || taken_stored {
            let hint = if kind == "group" {
                format!("; if the User is meant, write user:{name}")
            } else {
                String::new()
            };
            self.unresolved(
                e,
                *line,
                format!(
                    "{field}: unknown {what} {shown}: it is neither in this import nor in the inventory, and the owner id {id} is the {} of that name, so no owner is kept{hint}",
                    title_of(other)
                ),
            );
            return None;
        }
        self.unresolved(
            e,
            *line,
            format!(
                "{field}: unknown {what} {shown}: it is neither in this import nor in the inventory; kept as the owner id {id}"
            ),
        );
        Some(id)
    }

    /// `spec.system`: the System's name (with its namespace outside
    /// `default`). Systems are not imported, so nothing to resolve.
    fn system(&mut self, e: &Entity, (reference, line): &Ref) -> Option<String> {
        match parse_ref(reference, Some("system"), &e.namespace) {
            Ok((Some(k), ns, name)) if k == "system" => {
                let id = base_id(&ns, &name);
                let here = self
                    .systems
                    .contains(&(ns.to_ascii_lowercase(), name.to_ascii_lowercase()));
                let stored = self.working.services.iter().any(|s| {
                    s.system
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(&id))
                });
                if !here && !stored {
                    self.unresolved(
                        e,
                        *line,
                        format!(
                            "spec.system: unknown System {}: no System of that name is in this import, and no service in the inventory belongs to it; kept as the system {id}",
                            show_ref("system", &ns, &name)
                        ),
                    );
                }
                Some(id)
            }
            Ok((k, _, _)) => {
                self.unresolved(
                    e,
                    *line,
                    format!(
                        "spec.system: {reference} is a {}, not a System; not kept",
                        title_of(k.as_deref().unwrap_or(""))
                    ),
                );
                None
            }
            Err(m) => {
                self.unresolved(e, *line, format!("spec.system: {m}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_refs_parse_as_backstage_parses_them() {
        assert_eq!(
            parse_ref("group:default/team-a", None, "x").unwrap(),
            (Some("group".into()), "default".into(), "team-a".into())
        );
        assert_eq!(
            parse_ref("Component:shop/cart", None, "x").unwrap(),
            (Some("component".into()), "shop".into(), "cart".into())
        );
        assert_eq!(
            parse_ref("orders", Some("api"), "shop").unwrap(),
            (Some("api".into()), "shop".into(), "orders".into())
        );
        assert!(parse_ref("group:", None, "x").is_err());
        assert!(parse_ref(":a", None, "x").is_err());
    }

    #[test]
    fn service_ids_name_the_kind_except_for_components() {
        assert_eq!(service_id("component", "default", "cart"), "cart");
        assert_eq!(service_id("component", "shop", "cart"), "shop/cart");
        assert_eq!(service_id("api", "Default", "cart"), "api:cart");
        assert_eq!(service_id("resource", "shop", "db"), "resource:shop/db");
    }

    #[test]
    fn backstage_api_versions() {
        assert!(is_backstage("backstage.io/v1alpha1"));
        assert!(is_backstage("scaffolder.backstage.io/v1beta3"));
        assert!(!is_backstage("v1"));
        assert!(!is_backstage("notbackstage.io/v1"));
    }
}
