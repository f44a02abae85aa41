//! The demo inventory of a made-up company, compiled into the binary so
//! `countersign demo load` and the app's empty-state button work from any
//! directory.

use crate::Store;
use crate::inventory::{ChangeSet, Inventory, InventoryError, MergeMode, file};
use crate::store::{Applied, ChangeContext, StoreError};

/// Where the demo lives in the source tree; named in parse errors.
pub const DEMO_ORIGIN: &str = "assets/demo/inventory.yaml";

const DEMO_YAML: &str = include_str!("../assets/demo/inventory.yaml");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the built-in demo inventory is invalid: {0}")]
    Invalid(#[from] InventoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn inventory() -> Result<Inventory, InventoryError> {
    file::parse_complete(DEMO_YAML, DEMO_ORIGIN)
}

/// Loads the demo into `store`, audited like any import. With
/// `only_if_empty`, a database that already holds an inventory is left
/// alone and `None` returned: an owner's real inventory must never be mixed
/// with made-up data by accident.
pub async fn load(
    store: &Store,
    only_if_empty: bool,
    actor: &str,
) -> Result<Option<Applied>, DemoError> {
    if only_if_empty && !store.counts().await?.is_empty() {
        return Ok(None);
    }
    let incoming = inventory()?;
    let current = store.snapshot().await?;
    let set = ChangeSet::plan_import(&current, &incoming, MergeMode::Replace);
    let ctx = ChangeContext::new(actor, "demo");
    Ok(Some(store.apply(&set, &ctx).await?))
}

#[cfg(test)]
mod tests {
    use crate::model::IdentityKind;
    use std::collections::HashSet;

    #[test]
    fn demo_is_valid_and_covers_every_kind() {
        let inv = super::inventory().expect("demo inventory parses");
        let kinds: HashSet<_> = inv.identities.iter().map(|i| i.kind).collect();
        for kind in IdentityKind::ALL {
            assert!(kinds.contains(kind), "demo lacks a {kind}");
        }
        assert_eq!(
            inv.identities.iter().filter(|i| i.is_break_glass()).count(),
            2
        );
    }

    #[test]
    fn demo_has_one_credential_shared_by_six_services() {
        let inv = super::inventory().unwrap();
        let shared: Vec<_> = inv
            .identities
            .iter()
            .filter(|i| i.used_by.len() >= 6)
            .collect();
        assert_eq!(shared.len(), 1, "exactly one heavily shared credential");
        assert_eq!(shared[0].used_by.len(), 6);
        let dynamic = shared[0]
            .used_by
            .iter()
            .filter(|u| u.delivery == Some(crate::model::SecretDelivery::Dynamic));
        assert_eq!(dynamic.count(), 3, "rotation spares the dynamic consumers");
    }
}
