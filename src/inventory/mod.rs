//! Countersign's own inventory file format (YAML or JSON), version 1.
//! See `docs/inventory-format.md`. Parsing checks everything a database
//! constraint would, so a bad file is rejected with the file and the entry
//! named before a single row is written.

mod validate;

pub use validate::InventoryError;

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::model::{Environment, Identity, IdentityKind, Service, Tier};

/// The only format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub version: u32,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub identities: Vec<InventoryIdentity>,
}

/// An identity as written in the file: the model's fields plus the services
/// that use it, kept flat so a typo in a field name is an error, not ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryIdentity {
    pub id: String,
    pub kind: IdentityKind,
    pub name: String,
    pub owner: String,
    pub environment: Environment,
    pub tier: Tier,
    #[serde(default)]
    pub break_glass: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub used_by: Vec<String>,
}

impl InventoryIdentity {
    pub fn to_identity(&self) -> Identity {
        Identity {
            id: self.id.clone(),
            kind: self.kind,
            name: self.name.clone(),
            owner: self.owner.clone(),
            environment: self.environment,
            tier: self.tier,
            break_glass: self.break_glass,
            description: self.description.clone(),
        }
    }
}

impl Inventory {
    /// Parses and validates an inventory; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, InventoryError> {
        let options = serde_saphyr::options! {
            duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        };
        let inventory: Inventory =
            serde_saphyr::from_str_with_options(text, options).map_err(|e| {
                InventoryError::Syntax {
                    origin: origin.to_owned(),
                    message: e.to_string(),
                }
            })?;
        inventory.validate(origin)?;
        Ok(inventory)
    }

    pub fn read(path: &Path) -> Result<Self, InventoryError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| InventoryError::Read {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Inventory::parse(&text, &origin)
    }
}
