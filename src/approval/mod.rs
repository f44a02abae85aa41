//! Second approval: containment requests from the backend, and the signed
//! decisions an owner gives on them.

mod decision;
mod eligibility;
mod narrowing;
mod request;
mod view;

pub use decision::{
    Approver, ClaimsProblem, DECISION_TYP, Decision, DecisionClaims, DecisionError, DecisionInput,
    DecisionKind, MAX_ID_BYTES, MAX_REASON_BYTES, RecordedDecision, check_claims, decide,
    decide_on, tier_for,
};
pub use eligibility::{Eligibility, Groups, Ineligible, Judgement, Signer, Standing, may_approve};
pub use narrowing::{
    MAX_SCOPE_ENTRIES, MAX_SCOPE_ENTRY_BYTES, Narrowing, NarrowingProblem, check_narrowing,
};
pub use request::{
    ContainmentRequest, Evidence, MAX_EXTERNAL_ID_BYTES, MAX_LINK_BYTES, MAX_LINKS, MAX_NAME_BYTES,
    MAX_SUMMARY_BYTES, NOT_PROPOSED, RequestedBy, Target, proposed,
};
pub use view::{Freshness, RequestView, ViewError, request_view, threat_for};
