use serde::{Deserialize, Serialize};

use super::Tier;

/// Something that breaks when an identity it uses is contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub tier: Tier,
    /// Services this one needs in order to work; if any of them breaks, so does this one.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// A service as listed beside an identity: enough to decide who to call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRef {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub tier: Tier,
}
