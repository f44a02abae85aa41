//! BloodHound OpenGraph: the inventory as a data payload BloodHound
//! Community Edition and Enterprise ingest (`{"metadata": {"source_kind"},
//! "graph": {"nodes", "edges"}}`), and the extension definition schema that
//! makes it a structured graph, whose traversable edges take part in
//! BloodHound's pathfinding.
//!
//! Shapes follow BloodHound's OpenGraph documentation
//! (<https://bloodhound.specterops.io/opengraph/developer/graph-data>): a node
//! has an `id` and one to three `kinds`, the first its display kind; its
//! `properties` hold primitives or homogeneous arrays of primitives, never
//! objects and never `objectid`; an edge names its `start` and `end` by id
//! and has a `kind` of letters, digits and underscores. Every kind is
//! namespaced `CS_` (BloodHound's extension namespacing rule: the namespace,
//! an underscore, the name), so nothing collides with Active Directory's or
//! Azure's kinds.
//!
//! Directions are those of control, as BloodHound reads an edge: the start
//! can act as, or reach, the end. A service holds the credential of an
//! identity it uses (`CS_Uses`, service → identity); an identity can mint
//! the ones derived from it (`CS_Mints`); an owner holds the identities and
//! services they own (`CS_Owns`, `CS_BackupOwns`), a custodian the sealed
//! credentials of a break-glass account (`CS_CustodianOf`); a person is a
//! member of their team (`CS_MemberOf`). `CS_DependsOn` (service → service
//! it needs) carries breakage, not control, so it is not traversable.

use serde_json::{Map, Value, json};

use crate::inventory::Inventory;
use crate::model::OwnerKind;

/// `metadata.source_kind`: BloodHound adds it to every node's kinds.
pub const SOURCE_KIND: &str = "Countersign";

/// The extension's namespace: every node and relationship kind starts with
/// it and an underscore.
pub const NAMESPACE: &str = "CS";

/// Node kinds: (name, display name, description, Font Awesome icon, colour).
const NODE_KINDS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "CS_Identity",
        "Non-human identity",
        "A service account, API key, token, workload identity, AI agent, certificate or break-glass account recorded in Countersign",
        "key",
        "#b42318",
    ),
    (
        "CS_BreakGlass",
        "Break-glass account",
        "An emergency-use identity: sealed credentials held by custodians",
        "triangle-exclamation",
        "#c4570a",
    ),
    (
        "CS_Service",
        "Service",
        "Something that breaks when an identity it uses is contained",
        "server",
        "#175cd3",
    ),
    (
        "CS_Team",
        "Owning team",
        "A team that owns identities or services",
        "users",
        "#067647",
    ),
    (
        "CS_Person",
        "Owner",
        "A person who owns identities or services",
        "user",
        "#067647",
    ),
];

/// Relationship kinds: (name, description, traversable).
const RELATIONSHIP_KINDS: &[(&str, &str, bool)] = &[
    (
        "CS_Uses",
        "The service authenticates with the identity, so it holds (or fetches) its credential",
        true,
    ),
    (
        "CS_Mints",
        "The identity can mint or assume the identity derived from it (lineage)",
        true,
    ),
    (
        "CS_Owns",
        "The owner is responsible for the identity or service and can reach its credentials",
        true,
    ),
    (
        "CS_BackupOwns",
        "The backup owner answers for the identity when its owner cannot",
        true,
    ),
    (
        "CS_CustodianOf",
        "The person holds the sealed credentials of the break-glass account",
        true,
    ),
    (
        "CS_MemberOf",
        "The person or team belongs to the team",
        true,
    ),
    (
        "CS_DependsOn",
        "The service needs the other to work: if it breaks, so does this one",
        false,
    ),
];

fn identity_id(id: &str) -> String {
    format!("cs:identity:{id}")
}

fn service_id(id: &str) -> String {
    format!("cs:service:{id}")
}

fn owner_id(id: &str) -> String {
    format!("cs:owner:{id}")
}

/// A property bag without empty values (BloodHound shows every key).
fn properties(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        let empty = match &v {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

fn edge(kind: &str, start: (&str, String), end: (&str, String), props: Option<Value>) -> Value {
    let mut e = json!({
        "kind": kind,
        "start": {"match_by": "id", "value": start.1, "kind": start.0},
        "end": {"match_by": "id", "value": end.1, "kind": end.0},
    });
    if let Some(p) = props.filter(|p| p.as_object().is_some_and(|o| !o.is_empty())) {
        e["properties"] = p;
    }
    e
}

/// The inventory as an OpenGraph data payload (pretty-printed JSON).
///
/// Node ids are `cs:identity:ID`, `cs:service:ID` and `cs:owner:ID`. An
/// owner, custodian or parent that the inventory names but does not list
/// gets no edge: BloodHound would drop an edge to a missing node.
pub fn to_opengraph(inv: &Inventory) -> String {
    let owners: std::collections::HashMap<&str, &crate::model::Owner> =
        inv.owners.iter().map(|o| (o.id.as_str(), o)).collect();
    let services: std::collections::HashSet<&str> =
        inv.services.iter().map(|s| s.id.as_str()).collect();
    let identities: std::collections::HashSet<&str> =
        inv.identities.iter().map(|i| i.id.as_str()).collect();
    let owner_kind = |id: &str| match owners.get(id).map(|o| o.kind) {
        Some(OwnerKind::Person) => "CS_Person",
        _ => "CS_Team",
    };
    let mut nodes = Vec::new();
    let mut edges = Vec::new();

    for o in &inv.owners {
        nodes.push(json!({
            "id": owner_id(&o.id),
            "kinds": [owner_kind(&o.id)],
            "properties": properties(vec![
                ("name", json!(if o.name.is_empty() { &o.id } else { &o.name })),
                ("countersign_id", json!(o.id)),
                ("email", json!(o.email)),
            ]),
        }));
        if let Some(parent) = o.parent.as_deref().filter(|p| owners.contains_key(p)) {
            edges.push(edge(
                "CS_MemberOf",
                (owner_kind(&o.id), owner_id(&o.id)),
                (owner_kind(parent), owner_id(parent)),
                None,
            ));
        }
    }

    let owned =
        |edges: &mut Vec<Value>, owner: Option<&str>, kind: &str, target: (&str, String)| {
            if let Some(o) = owner.filter(|o| owners.contains_key(o)) {
                edges.push(edge(kind, (owner_kind(o), owner_id(o)), target, None));
            }
        };

    for s in &inv.services {
        nodes.push(json!({
            "id": service_id(&s.id),
            "kinds": ["CS_Service"],
            "properties": properties(vec![
                ("name", json!(s.name)),
                ("countersign_id", json!(s.id)),
                ("tier", json!(s.tier.get())),
                ("owner", json!(s.owner)),
                ("system", json!(s.system)),
                ("description", json!(s.description)),
            ]),
        }));
        owned(
            &mut edges,
            s.owner.as_deref(),
            "CS_Owns",
            ("CS_Service", service_id(&s.id)),
        );
        for d in s
            .depends_on
            .iter()
            .filter(|d| services.contains(d.as_str()))
        {
            edges.push(edge(
                "CS_DependsOn",
                ("CS_Service", service_id(&s.id)),
                ("CS_Service", service_id(d)),
                None,
            ));
        }
    }

    for i in &inv.identities {
        let mut kinds = vec!["CS_Identity"];
        if i.is_break_glass() {
            kinds.push("CS_BreakGlass");
        }
        nodes.push(json!({
            "id": identity_id(&i.id),
            "kinds": kinds,
            "properties": properties(vec![
                ("name", json!(i.name)),
                ("countersign_id", json!(i.id)),
                ("identity_kind", json!(i.kind.as_str())),
                ("environment", json!(i.environment.as_str())),
                ("tier", json!(i.tier.get())),
                ("owner", json!(i.owner)),
                ("backup_owner", json!(i.backup_owner)),
                ("description", json!(i.description)),
                ("external_ids", json!(i.external_ids)),
                ("permissions", json!(i.permissions)),
                ("admin_equivalent", json!(i.admin_equivalent)),
                ("break_glass", json!(i.is_break_glass())),
                ("lifetime", json!(i.lifetime.map(|l| l.as_str()))),
                ("expires_on", json!(i.expires_on.map(|d| d.to_string()))),
                ("reviewed_on", json!(i.review.as_ref().map(|r| r.on.to_string()))),
                ("credentials", json!(i.credentials.len())),
            ]),
        }));
        let me = ("CS_Identity", identity_id(&i.id));
        owned(&mut edges, i.owner.as_deref(), "CS_Owns", me.clone());
        owned(
            &mut edges,
            i.backup_owner.as_deref(),
            "CS_BackupOwns",
            me.clone(),
        );
        if let Some(bg) = &i.break_glass {
            for c in &bg.custodians {
                owned(&mut edges, Some(c), "CS_CustodianOf", me.clone());
            }
        }
        if let Some(parent) = i.derived_from.as_deref().filter(|p| identities.contains(p)) {
            edges.push(edge(
                "CS_Mints",
                ("CS_Identity", identity_id(parent)),
                me.clone(),
                None,
            ));
        }
        for u in i
            .used_by
            .iter()
            .filter(|u| services.contains(u.service.as_str()))
        {
            edges.push(edge(
                "CS_Uses",
                ("CS_Service", service_id(&u.service)),
                me.clone(),
                Some(properties(vec![
                    ("access", json!(u.access.map(|a| a.as_str()))),
                    ("delivery", json!(u.delivery.map(|d| d.as_str()))),
                    ("live_sessions", json!(u.live_sessions)),
                    ("documented", json!(u.is_documented())),
                ])),
            ));
        }
    }

    let payload = json!({
        "metadata": {"source_kind": SOURCE_KIND},
        "graph": {"nodes": nodes, "edges": edges},
    });
    let mut text = serde_json::to_string_pretty(&payload).expect("JSON values serialise");
    text.push('\n');
    text
}

/// The extension definition schema for [`to_opengraph`]'s payloads: install
/// it in BloodHound (OpenGraph Management) before uploading, so the graph
/// is structured and its traversable edges are used for pathfinding.
pub fn extension_schema() -> String {
    let node_kinds: Vec<Value> = NODE_KINDS
        .iter()
        .map(|(name, display, description, icon, color)| {
            json!({
                "name": name,
                "display_name": display,
                "description": description,
                "is_display_kind": true,
                "icon": icon,
                "color": color,
            })
        })
        .collect();
    let relationship_kinds: Vec<Value> = RELATIONSHIP_KINDS
        .iter()
        .map(|(name, description, traversable)| {
            json!({
                "name": name,
                "description": description,
                "is_traversable": traversable,
            })
        })
        .collect();
    let schema = json!({
        "schema": {
            "name": "Countersign",
            "display_name": "Countersign: non-human identity ownership and blast radius",
            "version": format!("v{}", env!("CARGO_PKG_VERSION")),
            "namespace": NAMESPACE,
        },
        "node_kinds": node_kinds,
        "relationship_kinds": relationship_kinds,
    });
    let mut text = serde_json::to_string_pretty(&schema).expect("JSON values serialise");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind the payload uses is defined by the extension schema and
    /// follows BloodHound's naming rules.
    #[test]
    fn the_payloads_kinds_are_the_extensions() {
        let inv = crate::demo::inventory().unwrap();
        let payload: Value = serde_json::from_str(&to_opengraph(&inv)).unwrap();
        let schema: Value = serde_json::from_str(&extension_schema()).unwrap();
        let defined = |key: &str| -> Vec<String> {
            schema[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let (node_kinds, edge_kinds) = (defined("node_kinds"), defined("relationship_kinds"));
        for n in payload["graph"]["nodes"].as_array().unwrap() {
            for k in n["kinds"].as_array().unwrap() {
                assert!(node_kinds.contains(&k.as_str().unwrap().to_owned()), "{k}");
            }
        }
        let mut used = std::collections::BTreeSet::new();
        for e in payload["graph"]["edges"].as_array().unwrap() {
            let k = e["kind"].as_str().unwrap();
            assert!(edge_kinds.contains(&k.to_owned()), "{k}");
            used.insert(k.to_owned());
        }
        for k in node_kinds.iter().chain(&edge_kinds) {
            assert!(k.starts_with("CS_") && k.len() > 3, "{k}");
        }
        // The demo has every relationship but custodians who are owners.
        for k in [
            "CS_Uses",
            "CS_Owns",
            "CS_DependsOn",
            "CS_Mints",
            "CS_MemberOf",
        ] {
            assert!(used.contains(k), "the demo's payload has no {k}");
        }
    }
}
