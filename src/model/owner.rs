use serde::{Deserialize, Serialize};

use super::names::named_enum;

named_enum!(
    /// Whether an owner is a person to page or a team with a rota.
    OwnerKind, "owner kind" {
        Team => "team", "Team";
        Person => "person", "Person";
    }
);

/// Someone who can be called about an identity. Identities name owners by
/// id; an owner listed here adds the display name and contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Owner {
    pub id: String,
    pub kind: OwnerKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The team a person or sub-team belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The day the organisation's directory stopped listing them
    /// (`countersign directory import`): they left. Kept, never deleted,
    /// so that what they owned can be traced (OWASP NHI1:2025, Improper
    /// Offboarding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub left_on: Option<jiff::civil::Date>,
}
