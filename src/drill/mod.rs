//! Tabletop drills: scenarios that replay containment requests against the
//! inventory so a team can rehearse approvals before an incident, the
//! runner that drives a backend through one, and its report.

pub mod examples;
pub mod participants;
pub mod render;
pub mod report;
pub mod run;
pub mod scenario;
pub mod timeline;

pub use examples::{EXAMPLES, Example, example};
pub use participants::{Participant, Participants, parse_participants};
pub use report::DrillReport;
pub use run::{Event, RunError, RunOptions, new_run_id, run};
pub use scenario::{DrillError, Expectation, ExpectedDecision, Inject, Requester, Scenario, parse};
