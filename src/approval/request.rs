use serde::{Deserialize, Serialize};

use crate::model::{ApprovalTier, ContainmentAction};

/// A containment request as the backend sends it (the `ContainmentRequest`
/// schema of assets/openapi/countersign-backend.yaml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ContainmentRequest {
    pub id: String,
    pub action: ContainmentAction,
    pub target: Target,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    pub evidence: Evidence,
    #[ts(type = "\"low\" | \"medium\" | \"high\" | \"critical\"")]
    pub severity: String,
    pub requested_by: RequestedBy,
    #[ts(type = "string")]
    pub created_at: jiff::Timestamp,
    #[ts(type = "string")]
    pub expires_at: jiff::Timestamp,
    pub tier: ApprovalTier,
    /// Where the broker POSTs the request's outcome (approved, denied,
    /// expired) as a signed JWS, for SOARs that wait on a callback (a
    /// Logic Apps HTTP Webhook, say): an `http`/`https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

/// Longest id, requester, signal, source or display name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// Longest external id (a cloud ARN or resource path), in bytes.
pub const MAX_EXTERNAL_ID_BYTES: usize = 1000;
/// Longest evidence summary, in bytes.
pub const MAX_SUMMARY_BYTES: usize = 4000;
/// Most evidence links, and the longest of them, in bytes.
pub const MAX_LINKS: usize = 20;
pub const MAX_LINK_BYTES: usize = 2000;

impl ContainmentRequest {
    /// Checks every field is within its bound (the `maxLength`s of the
    /// OpenAPI document), so what a backend keeps and an app shows per
    /// request is bounded whoever sent it.
    ///
    /// # Errors
    /// The first field out of bounds, by its JSON path.
    pub fn check_bounds(&self) -> Result<(), String> {
        if let Some(callback) = &self.callback {
            if callback.len() > MAX_LINK_BYTES {
                return Err(format!("callback: longer than {MAX_LINK_BYTES} bytes"));
            }
            match reqwest::Url::parse(callback) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
                _ => return Err("callback: not an http(s) URL".into()),
            }
        }
        let fits = |field: &str, value: &str, max: usize, may_be_empty: bool| {
            if !may_be_empty && value.trim().is_empty() {
                Err(format!("{field}: empty"))
            } else if value.len() > max {
                Err(format!("{field}: longer than {max} bytes"))
            } else {
                Ok(())
            }
        };
        fits("id", &self.id, MAX_NAME_BYTES, false)?;
        fits(
            "target.external_id",
            &self.target.external_id,
            MAX_EXTERNAL_ID_BYTES,
            false,
        )?;
        if let Some(name) = &self.target.display_name {
            fits("target.display_name", name, MAX_NAME_BYTES, true)?;
        }
        fits(
            "evidence.signal",
            &self.evidence.signal,
            MAX_NAME_BYTES,
            false,
        )?;
        fits(
            "evidence.source",
            &self.evidence.source,
            MAX_NAME_BYTES,
            false,
        )?;
        if let Some(summary) = &self.evidence.summary {
            fits("evidence.summary", summary, MAX_SUMMARY_BYTES, true)?;
        }
        if self.evidence.links.len() > MAX_LINKS {
            return Err(format!("evidence.links: more than {MAX_LINKS}"));
        }
        for (i, link) in self.evidence.links.iter().enumerate() {
            fits(&format!("evidence.links[{i}]"), link, MAX_LINK_BYTES, false)?;
        }
        if !(0.0..=1.0).contains(&self.evidence.confidence) {
            return Err("evidence.confidence: must be between 0 and 1".into());
        }
        fits("severity", &self.severity, MAX_NAME_BYTES, false)?;
        fits(
            "requested_by.kind",
            &self.requested_by.kind,
            MAX_NAME_BYTES,
            false,
        )?;
        fits(
            "requested_by.id",
            &self.requested_by.id,
            MAX_NAME_BYTES,
            false,
        )?;
        if let Some(name) = &self.requested_by.name {
            fits("requested_by.name", name, MAX_NAME_BYTES, true)?;
        }
        if self.scope.len() > super::MAX_SCOPE_ENTRIES {
            return Err(format!("scope: more than {}", super::MAX_SCOPE_ENTRIES));
        }
        for (i, entry) in self.scope.iter().enumerate() {
            fits(
                &format!("scope[{i}]"),
                entry,
                super::MAX_SCOPE_ENTRY_BYTES,
                false,
            )?;
        }
        if self.expires_at <= self.created_at {
            return Err("expires_at: must be after created_at".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(rename = "RequestTarget")]
pub struct Target {
    pub external_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct RequestedBy {
    #[ts(type = "\"analyst\" | \"automation\"")]
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The members of a backend's answer about a request that are not part of
/// what is proposed: its bookkeeping (`status`, `decisions`) and the
/// `callback`, the SOAR's delivery address, which often carries the
/// receiver's credential and is never part of what an owner approves.
pub const NOT_PROPOSED: [&str; 3] = ["status", "decisions", "callback"];

/// The request as proposed: `request` without [`NOT_PROPOSED`]'s members.
/// What an owner is shown, what a decision's `request_digest` is over
/// (docs/protocol.md), and what is kept with a decision — so the request a
/// SOAR posted, the broker's listing and its `GET /v1/requests/{id}` answer
/// all digest the same, and no callback credential is kept.
pub fn proposed(request: &serde_json::Value) -> serde_json::Value {
    let mut proposed = request.clone();
    if let Some(members) = proposed.as_object_mut() {
        for name in NOT_PROPOSED {
            members.remove(name);
        }
    }
    proposed
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
        // Shipped examples work on any date: the README and docs decide it.
        assert!(
            r.expires_at > jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365),
            "assets/examples/containment-request.json expires too soon"
        );
        r.check_bounds().unwrap();
    }
}
