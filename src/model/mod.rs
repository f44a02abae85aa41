//! The inventory's vocabulary: identities, the services that use them, who
//! owns what, and what each containment action would cost. These types are
//! shared by the store, the importers, the CLI and the desktop shell, and
//! serialise to the same snake_case strings everywhere (database columns,
//! files, JSON over IPC).

mod containment;
mod credential;
mod identity;
mod names;
mod owner;
mod service;
pub mod text;
mod tier;

pub use containment::{ApprovalTier, ContainmentAction, ContainmentPlan};
pub use credential::{Credential, CredentialKind};
pub use identity::{
    Access, BreakGlass, Environment, Identity, IdentityKind, Lifetime, Orphaned, Review,
    SecretDelivery, Usage,
};
pub use owner::{Owner, OwnerKind};
pub use service::Service;
pub use tier::Tier;

/// Why a value read from a file, the database or the UI is not part of the model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{value:?} is not a valid {what}; expected one of: {expected}")]
pub struct ParseModelError {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

/// Ids travel through URLs, CLI arguments, IPC and backend requests, so they
/// are kept to a conservative alphabet and length.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if id.len() > 200 {
        return Err("is longer than 200 characters".into());
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '@')))
    {
        return Err(format!(
            "{id:?} contains {c:?}; ids may use letters, digits and - _ . : / @"
        ));
    }
    Ok(())
}
