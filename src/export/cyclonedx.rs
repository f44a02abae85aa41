//! CycloneDX 1.6 (ECMA-424): the inventory's services as a BOM's
//! `services`, and their dependencies as its `dependencies` graph (`ref`,
//! `dependsOn`), so the dependency map can be exchanged with tools that
//! read BOMs (Dependency-Track, an SBOM of the same system).
//!
//! Each service's `bom-ref` is its Countersign id, so a BOM written here
//! imports back to the same services (`import/cyclonedx.rs`). What
//! CycloneDX has no field for travels as properties in the `countersign:`
//! namespace (CycloneDX's property taxonomy): `countersign:tier` (0–3),
//! `countersign:owner`, and one `countersign:identity` per identity the
//! service authenticates with; such a service is `authenticated`. A
//! service's system is its `group`. Every service is listed in
//! `dependencies`, with an empty `dependsOn` when it needs nothing, as the
//! specification asks, so a reader can tell "none" from "not known".

use serde_json::json;

use crate::inventory::Inventory;

/// The property names this exporter writes and the importer reads.
pub const TIER_PROPERTY: &str = "countersign:tier";
pub const OWNER_PROPERTY: &str = "countersign:owner";
pub const IDENTITY_PROPERTY: &str = "countersign:identity";

/// The inventory's services as a CycloneDX 1.6 JSON BOM, stamped with
/// `timestamp` (RFC 3339) and a random `serialNumber` (RFC 4122 UUID).
pub fn to_cyclonedx(inv: &Inventory, timestamp: jiff::Timestamp) -> String {
    let mut identities_of: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for i in &inv.identities {
        for u in &i.used_by {
            identities_of
                .entry(u.service.as_str())
                .or_default()
                .push(i.id.as_str());
        }
    }
    let known: std::collections::HashSet<&str> =
        inv.services.iter().map(|s| s.id.as_str()).collect();
    let mut services = Vec::new();
    let mut dependencies = Vec::new();
    for s in &inv.services {
        let mut properties =
            vec![json!({"name": TIER_PROPERTY, "value": s.tier.get().to_string()})];
        if let Some(owner) = &s.owner {
            properties.push(json!({"name": OWNER_PROPERTY, "value": owner}));
        }
        let used = identities_of.get(s.id.as_str());
        for id in used.into_iter().flatten() {
            properties.push(json!({"name": IDENTITY_PROPERTY, "value": id}));
        }
        let mut service = json!({
            "bom-ref": s.id,
            "name": s.name,
            "properties": properties,
        });
        if let Some(system) = &s.system {
            service["group"] = json!(system);
        }
        if !s.description.is_empty() {
            service["description"] = json!(s.description);
        }
        if used.is_some() {
            service["authenticated"] = json!(true);
        }
        services.push(service);
        let mut needs: Vec<&str> = Vec::new();
        for d in &s.depends_on {
            if known.contains(d.as_str()) && !needs.contains(&d.as_str()) {
                needs.push(d);
            }
        }
        dependencies.push(json!({"ref": s.id, "dependsOn": needs}));
    }
    let bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "tools": {"components": [{
                "type": "application",
                "name": "Countersign",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
        },
        "services": services,
        "dependencies": dependencies,
    });
    let mut text: String = serde_json::to_string_pretty(&bom).expect("JSON values serialise");
    text.push('\n');
    text
}
