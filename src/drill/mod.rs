//! Tabletop drills: scenarios that replay containment requests against the
//! inventory so a team can rehearse approvals before an incident.

pub mod scenario;

pub use scenario::{DrillError, Expectation, ExpectedDecision, Inject, Requester, Scenario, parse};
