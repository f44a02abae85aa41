//! Second approval: containment requests from the backend, and the signed
//! decisions an owner gives on them.

mod decision;
mod request;
mod view;

pub use decision::{
    ClaimsProblem, DECISION_TYP, Decision, DecisionClaims, DecisionError, DecisionInput,
    DecisionKind, MAX_ID_BYTES, MAX_REASON_BYTES, Narrowing, RecordedDecision, check_claims,
    decide, tier_for,
};
pub use request::{ContainmentRequest, Evidence, RequestedBy, Target};
pub use view::{Freshness, RequestView, ViewError, request_view, threat_for};
