//! Scripted participants: who takes part in an unattended drill, in which
//! approver groups, and what each of them decides on which inject after
//! how long. A facilitator writes one to rehearse a scenario end to end
//! (or to run it in CI); people deciding in the app need none.

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::scenario::{DrillError, Scenario};
use crate::model::ContainmentAction;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParticipants {
    version: Spanned<u32>,
    participants: Vec<FileParticipant>,
    #[serde(default)]
    decisions: Vec<FileDecision>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParticipant {
    id: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDecision {
    inject: Spanned<String>,
    by: Spanned<String>,
    after: Spanned<String>,
    decision: Spanned<String>,
    #[serde(default)]
    narrow_to: Option<ContainmentAction>,
    #[serde(default)]
    scope: Vec<String>,
    reason: Spanned<String>,
}

/// A drill persona: decides under this id with a key made for the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Participant {
    pub id: String,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ScriptedVerdict {
    Approve,
    Deny,
    ApproveNarrowed {
        action: ContainmentAction,
        scope: Vec<String>,
    },
}

/// One scripted decision, checked against the scenario and the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedDecision {
    pub inject: String,
    pub by: String,
    /// Drill time after the inject is issued.
    pub after: jiff::SignedDuration,
    pub verdict: ScriptedVerdict,
    pub reason: String,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Participants {
    pub participants: Vec<Participant>,
    /// In the order they are due (inject time plus `after`).
    pub decisions: Vec<ScriptedDecision>,
}

/// Parses a participant file and checks it against `scenario`: every
/// decision names a known inject and a declared participant; errors name
/// the file and line.
pub fn parse_participants(
    text: &str,
    origin: &str,
    scenario: &Scenario,
) -> Result<Participants, DrillError> {
    let file: FileParticipants = super::scenario::from_yaml(text, origin)?;
    let invalid = |line: u64, message: String| DrillError::Invalid {
        origin: origin.to_owned(),
        line,
        message,
    };
    super::scenario::check_version(&file.version, origin)?;
    let mut participants: Vec<Participant> = Vec::new();
    for p in file.participants {
        let id = p.id.value.trim().to_owned();
        if id.is_empty() {
            return Err(invalid(p.id.referenced.line(), "id: empty".into()));
        }
        if participants
            .iter()
            .any(|q| crate::model::text::same_person(&q.id, &id))
        {
            return Err(invalid(
                p.id.referenced.line(),
                format!("participant {id:?} is declared twice"),
            ));
        }
        participants.push(Participant {
            id,
            name: p.name,
            groups: p.groups,
        });
    }
    let mut decisions = Vec::new();
    for d in file.decisions {
        let line = d.inject.referenced.line();
        let Some(inject) = scenario.injects.iter().find(|i| i.id == d.inject.value) else {
            return Err(invalid(
                line,
                format!(
                    "inject {:?} is not in the scenario (it has {})",
                    d.inject.value,
                    scenario
                        .injects
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if !participants.iter().any(|p| p.id == d.by.value) {
            return Err(invalid(
                d.by.referenced.line(),
                format!("by: {:?} is not a declared participant", d.by.value),
            ));
        }
        if crate::model::text::same_person(&inject.requested_by.id, &d.by.value) {
            return Err(invalid(
                d.by.referenced.line(),
                format!(
                    "by: {} requested inject {} and cannot also decide it",
                    d.by.value, inject.id
                ),
            ));
        }
        let after =
            super::scenario::duration(&d.after.value, d.after.referenced.line(), "after", origin)?;
        let verdict = match (d.decision.value.as_str(), d.narrow_to) {
            ("approve", None) => ScriptedVerdict::Approve,
            ("deny", None) => ScriptedVerdict::Deny,
            ("approve_narrowed", Some(action)) => ScriptedVerdict::ApproveNarrowed {
                action,
                scope: d.scope,
            },
            ("approve_narrowed", None) => {
                return Err(invalid(
                    d.decision.referenced.line(),
                    "approve_narrowed needs narrow_to: the action approved instead".into(),
                ));
            }
            ("approve" | "deny", Some(_)) => {
                return Err(invalid(
                    d.decision.referenced.line(),
                    "narrow_to goes with decision: approve_narrowed".into(),
                ));
            }
            (other, _) => {
                return Err(invalid(
                    d.decision.referenced.line(),
                    format!("decision {other:?}: expected approve, deny or approve_narrowed"),
                ));
            }
        };
        if d.reason.value.trim().is_empty() {
            return Err(invalid(
                d.reason.referenced.line(),
                "reason: a decision needs a reason".into(),
            ));
        }
        decisions.push((
            inject.at + after,
            ScriptedDecision {
                inject: inject.id.clone(),
                by: d.by.value,
                after,
                verdict,
                reason: d.reason.value.trim().to_owned(),
                line,
            },
        ));
    }
    decisions.sort_by_key(|(due, _)| *due);
    Ok(Participants {
        participants,
        decisions: decisions.into_iter().map(|(_, d)| d).collect(),
    })
}
