use std::collections::HashSet;

use super::{FORMAT_VERSION, Inventory};
use crate::model::validate_id;

/// Why an inventory file cannot be loaded. Each message starts with the file
/// and points at the entry and field, so the owner can fix it in one go.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InventoryError {
    #[error("{origin}: cannot read: {message}")]
    Read { origin: String, message: String },

    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },

    #[error("{origin}: {at}: {message}")]
    Invalid {
        origin: String,
        at: String,
        message: String,
    },
}

impl Inventory {
    pub(super) fn validate(&self, origin: &str) -> Result<(), InventoryError> {
        let invalid = |at: String, message: String| InventoryError::Invalid {
            origin: origin.to_owned(),
            at,
            message,
        };
        if self.version != FORMAT_VERSION {
            return Err(invalid(
                "version".into(),
                format!(
                    "unsupported format version {} (this build reads version {FORMAT_VERSION})",
                    self.version
                ),
            ));
        }

        let mut service_ids = HashSet::new();
        for (i, s) in self.services.iter().enumerate() {
            let at = |field: &str| format!("services[{i}] (id {:?}).{field}", s.id);
            validate_id(&s.id).map_err(|m| invalid(format!("services[{i}].id"), m))?;
            if !service_ids.insert(s.id.as_str()) {
                return Err(invalid(at("id"), "duplicate service id".into()));
            }
            non_empty(&s.name).map_err(|m| invalid(at("name"), m))?;
            non_empty(&s.owner).map_err(|m| invalid(at("owner"), m))?;
        }
        for (i, s) in self.services.iter().enumerate() {
            for dep in &s.depends_on {
                let at = format!("services[{i}] (id {:?}).depends_on", s.id);
                if dep == &s.id {
                    return Err(invalid(at, "a service cannot depend on itself".into()));
                }
                if !service_ids.contains(dep.as_str()) {
                    return Err(invalid(at, format!("unknown service {dep:?}")));
                }
            }
        }

        let mut identity_ids = HashSet::new();
        for (i, ident) in self.identities.iter().enumerate() {
            let at = |field: &str| format!("identities[{i}] (id {:?}).{field}", ident.id);
            validate_id(&ident.id).map_err(|m| invalid(format!("identities[{i}].id"), m))?;
            if !identity_ids.insert(ident.id.as_str()) {
                return Err(invalid(at("id"), "duplicate identity id".into()));
            }
            non_empty(&ident.name).map_err(|m| invalid(at("name"), m))?;
            non_empty(&ident.owner).map_err(|m| invalid(at("owner"), m))?;
            let mut seen = HashSet::new();
            for svc in &ident.used_by {
                if !service_ids.contains(svc.as_str()) {
                    return Err(invalid(at("used_by"), format!("unknown service {svc:?}")));
                }
                if !seen.insert(svc.as_str()) {
                    return Err(invalid(
                        at("used_by"),
                        format!("service {svc:?} listed twice"),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn non_empty(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
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
    used_by: [api]
"#;

    fn err(text: &str) -> String {
        Inventory::parse(text, "inv.yaml").unwrap_err().to_string()
    }

    #[test]
    fn parses_a_good_file() {
        let inv = Inventory::parse(GOOD, "inv.yaml").unwrap();
        assert_eq!(inv.services.len(), 2);
        assert_eq!(inv.identities[0].used_by, vec!["api"]);
    }

    #[test]
    fn unknown_service_reference_is_named() {
        let e = err(&GOOD.replace("used_by: [api]", "used_by: [apu]"));
        assert_eq!(
            e,
            "inv.yaml: identities[0] (id \"sa-api\").used_by: unknown service \"apu\""
        );
    }

    #[test]
    fn self_dependency_and_duplicates_are_rejected() {
        let e = err(&GOOD.replace("depends_on: [db]", "depends_on: [api]"));
        assert!(e.contains("cannot depend on itself"), "{e}");
        let e = err(&GOOD.replace("id: api,", "id: db,"));
        assert!(e.contains("duplicate service id"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let e = err("version: 1\nservices:\n  - {id: db, name: Database, owner: x, tier: nine}\n");
        assert!(e.starts_with("inv.yaml: "), "{e}");
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn unknown_fields_and_duplicate_keys_are_errors() {
        let e = err(&GOOD.replace("tier: 1\n    used_by", "tier: 1\n    tire: 2\n    used_by"));
        assert!(e.contains("tire"), "{e}");
        let e = err(&GOOD.replace("tier: 1\n    used_by", "tier: 1\n    tier: 2\n    used_by"));
        assert!(e.to_lowercase().contains("duplicate"), "{e}");
    }

    #[test]
    fn wrong_version_and_bad_ids_are_rejected() {
        assert!(err(&GOOD.replace("version: 1", "version: 7")).contains("version 7"));
        let e = err(&GOOD.replace("id: sa-api", "id: \"sa api\""));
        assert!(e.contains("identities[0].id"), "{e}");
    }
}
