//! A running drill's timeline: one row per inject, in drill time, folded
//! from the runner's events as they arrive. Folded here, once, so the
//! Drills view shows what the core recorded instead of re-deriving it.

use serde::Serialize;

use super::run::{Event, Planned};
use crate::model::ContainmentAction;

/// Where an inject stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum InjectState {
    /// Not issued yet.
    Upcoming,
    /// Issued; awaiting decisions.
    Open,
    /// Settled (approved, denied, expired …).
    Closed,
}

/// One decision on an inject's request, as the backend receipted it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TimelineDecision {
    pub approver: String,
    #[ts(type = "\"approve\" | \"deny\" | \"approve_narrowed\"")]
    pub decision: String,
    #[ts(type = "\"accepted\" | \"awaiting_second_approval\" | \"rejected\"")]
    pub receipt: String,
    /// Drill seconds since the start.
    pub at_seconds: f64,
}

/// A scripted participant that could not answer.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TimelineFailure {
    pub by: String,
    pub message: String,
    pub at_seconds: f64,
}

/// One inject and what has happened to it so far.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TimelineRow {
    pub id: String,
    /// When it is due, in drill seconds since the start.
    pub at_seconds: f64,
    pub identity: String,
    pub action: ContainmentAction,
    pub state: InjectState,
    /// The backend's request id, once issued.
    pub request_id: Option<String>,
    pub decisions: Vec<TimelineDecision>,
    pub failures: Vec<TimelineFailure>,
    /// The outcome once closed (`approved`, `denied`, `expired` …).
    pub status: Option<String>,
    /// What was approved (the narrowed action when narrowed).
    pub approved_action: Option<ContainmentAction>,
}

/// The planned injects, in time order, none issued yet.
pub fn planned(injects: &[Planned]) -> Vec<TimelineRow> {
    let mut rows: Vec<TimelineRow> = injects
        .iter()
        .map(|i| TimelineRow {
            id: i.id.clone(),
            at_seconds: i.at_seconds,
            identity: i.identity.clone(),
            action: i.action,
            state: InjectState::Upcoming,
            request_id: None,
            decisions: Vec::new(),
            failures: Vec::new(),
            status: None,
            approved_action: None,
        })
        .collect();
    rows.sort_by(|a, b| a.at_seconds.total_cmp(&b.at_seconds));
    rows
}

/// Applies one event to the rows; an event for an inject not planned is
/// ignored (the runner only issues planned injects).
pub fn apply(rows: &mut [TimelineRow], event: &Event) {
    let inject = match event {
        Event::Started { .. } => return,
        Event::Issued { inject, .. }
        | Event::Decided { inject, .. }
        | Event::ScriptFailed { inject, .. }
        | Event::Closed { inject, .. } => inject,
    };
    let Some(row) = rows.iter_mut().find(|r| &r.id == inject) else {
        return;
    };
    match event {
        Event::Started { .. } => {}
        Event::Issued { request_id, .. } => {
            row.state = InjectState::Open;
            row.request_id = Some(request_id.clone());
        }
        Event::Decided {
            approver,
            decision,
            receipt,
            at_seconds,
            ..
        } => row.decisions.push(TimelineDecision {
            approver: approver.clone(),
            decision: decision.clone(),
            receipt: receipt.clone(),
            at_seconds: *at_seconds,
        }),
        Event::ScriptFailed {
            by,
            message,
            at_seconds,
            ..
        } => row.failures.push(TimelineFailure {
            by: by.clone(),
            message: message.clone(),
            at_seconds: *at_seconds,
        }),
        Event::Closed {
            status,
            approved_action,
            ..
        } => {
            row.state = InjectState::Closed;
            row.status = Some(status.clone());
            row.approved_action = *approved_action;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn injects() -> Vec<Planned> {
        vec![
            Planned {
                id: "b".into(),
                at_seconds: 300.0,
                identity: "agent".into(),
                action: ContainmentAction::DisableAccount,
            },
            Planned {
                id: "a".into(),
                at_seconds: 0.0,
                identity: "key".into(),
                action: ContainmentAction::RotateSecret,
            },
        ]
    }

    #[test]
    fn events_fold_into_one_row_per_inject_in_time_order() {
        let mut rows = planned(&injects());
        assert!(rows.iter().all(|r| r.state == InjectState::Upcoming));
        let events = [
            Event::Issued {
                inject: "a".into(),
                request_id: "r-a".into(),
                at_seconds: 0.0,
            },
            Event::Decided {
                inject: "a".into(),
                approver: "amira".into(),
                decision: "approve".into(),
                receipt: "accepted".into(),
                at_seconds: 90.0,
            },
            Event::Closed {
                inject: "a".into(),
                identity: "key".into(),
                status: "approved".into(),
                approved_action: Some(ContainmentAction::RotateSecret),
                at_seconds: 90.0,
            },
            Event::Issued {
                inject: "b".into(),
                request_id: "r-b".into(),
                at_seconds: 300.0,
            },
            Event::ScriptFailed {
                inject: "b".into(),
                by: "jonas".into(),
                message: "expired".into(),
                at_seconds: 400.0,
            },
            Event::Issued {
                inject: "not-planned".into(),
                request_id: "r-x".into(),
                at_seconds: 1.0,
            },
        ];
        for e in &events {
            apply(&mut rows, e);
        }
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(rows[0].state, InjectState::Closed);
        assert_eq!(
            rows[0].approved_action,
            Some(ContainmentAction::RotateSecret)
        );
        assert_eq!(rows[0].decisions[0].approver, "amira");
        assert_eq!(rows[1].state, InjectState::Open);
        assert_eq!(rows[1].request_id.as_deref(), Some("r-b"));
        assert_eq!(rows[1].failures[0].message, "expired");
    }
}
