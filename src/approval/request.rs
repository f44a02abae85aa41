use serde::{Deserialize, Serialize};

use crate::model::{ApprovalTier, ContainmentAction};

/// A containment request as the backend sends it (the `ContainmentRequest`
/// schema of assets/openapi/countersign-backend.yaml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainmentRequest {
    pub id: String,
    pub action: ContainmentAction,
    pub target: Target,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    pub evidence: Evidence,
    pub severity: String,
    pub requested_by: RequestedBy,
    pub created_at: jiff::Timestamp,
    pub expires_at: jiff::Timestamp,
    pub tier: ApprovalTier,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub external_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub signal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub confidence: f64,
    pub source: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedBy {
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_request_parses() {
        let r: ContainmentRequest = serde_json::from_str(include_str!(
            "../../assets/examples/containment-request.json"
        ))
        .unwrap();
        assert_eq!(r.action, ContainmentAction::RotateSecret);
        assert_eq!(r.tier, ApprovalTier::SingleApproval);
        assert!(r.expires_at > r.created_at);
    }
}
