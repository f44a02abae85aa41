//! Who may approve a request: the rules a backend applies to an approval
//! (docs/protocol.md, "Who may approve"), written once so that the broker
//! enforces them and the app shows them before its Sign button is enabled.
//! An owner told "your signature cannot be taken back" must not learn only
//! afterwards that it could never have counted.

use serde::{Deserialize, Serialize};

use crate::model::ApprovalTier;
use crate::model::text::same_person;

/// One approver as the backend holds them: the enrolled id and the groups
/// enrolled with their keys (with an identity provider, the groups its ID
/// token vouched for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Signer {
    pub approver: String,
    pub groups: Vec<String>,
}

/// What an approval by this approver would do to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// One approval decides it.
    Sole,
    /// A dual approval: this is the first of two signatures.
    FirstOfTwo,
    /// A dual approval: this signature completes it.
    SecondOfTwo,
}

/// Why an approver may not approve (the backend's rejection reason code,
/// docs/protocol.md, for each).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    /// `approver_is_requester`: nobody approves their own request.
    #[error("you requested this containment; another owner must approve it")]
    ApproverIsRequester,
    /// `not_in_required_group`: the first of a dual approval must hold one
    /// of the required groups.
    #[error(
        "the first approver of a dual approval here must hold one of {required}; you are enrolled with {yours}"
    )]
    NotInRequiredGroup { required: Groups, yours: Groups },
    /// `same_approver_twice`: the second approval comes from another person.
    #[error("you gave the first of the two approvals; the second must come from someone else")]
    SameApproverTwice,
    /// `groups_not_covered`: the two approvers together must hold every
    /// required group.
    #[error(
        "{first} approved first ({first_groups}); the second approval must come from {missing}, and you are enrolled with {yours}"
    )]
    GroupsNotCovered {
        first: String,
        first_groups: Groups,
        missing: Groups,
        yours: Groups,
    },
}

impl Ineligible {
    /// The rejection reason code a backend gives for it.
    pub fn code(&self) -> &'static str {
        match self {
            Ineligible::ApproverIsRequester => "approver_is_requester",
            Ineligible::NotInRequiredGroup { .. } => "not_in_required_group",
            Ineligible::SameApproverTwice => "same_approver_twice",
            Ineligible::GroupsNotCovered { .. } => "groups_not_covered",
        }
    }
}

/// A list of groups as a sentence reads it ("groups sre, security";
/// "no groups" when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups(pub Vec<String>);

impl std::fmt::Display for Groups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("no groups"),
            [one] => write!(f, "group {one}"),
            many => write!(f, "groups {}", many.join(", ")),
        }
    }
}

/// Whether `me` may approve a request of `tier` asked for by
/// `requested_by`, after the approvals `so_far` (at most one: a second
/// decides it), when a dual approval needs `required_groups` between its
/// two approvers (empty: any two people). Returns what the approval would
/// do. A denial needs none of this: any enrolled approver may deny.
///
/// The rules: nobody approves their own request (compared as
/// [`same_person`] does, so a look-alike spelling does not get round it);
/// a dual approval needs two different people who, between them, hold
/// every required group, each holding at least one.
pub fn may_approve(
    tier: ApprovalTier,
    requested_by: &str,
    so_far: Option<&Signer>,
    required_groups: &[String],
    me: &Signer,
) -> Result<Standing, Ineligible> {
    if same_person(requested_by, &me.approver) {
        return Err(Ineligible::ApproverIsRequester);
    }
    if tier != ApprovalTier::DualApproval {
        return Ok(Standing::Sole);
    }
    let holds_one = |who: &[String]| required_groups.iter().any(|g| who.contains(g));
    match so_far {
        None => {
            if !required_groups.is_empty() && !holds_one(&me.groups) {
                return Err(Ineligible::NotInRequiredGroup {
                    required: Groups(required_groups.to_vec()),
                    yours: Groups(me.groups.clone()),
                });
            }
            Ok(Standing::FirstOfTwo)
        }
        Some(first) => {
            if same_person(&first.approver, &me.approver) {
                return Err(Ineligible::SameApproverTwice);
            }
            if required_groups.is_empty() {
                return Ok(Standing::SecondOfTwo);
            }
            let missing: Vec<String> = required_groups
                .iter()
                .filter(|g| !first.groups.contains(g))
                .cloned()
                .collect();
            // Both sides sign: each holds a required group, and between
            // them they hold all of them.
            let covered = holds_one(&first.groups)
                && holds_one(&me.groups)
                && missing.iter().all(|g| me.groups.contains(g));
            if !covered {
                let missing = if missing.is_empty() {
                    required_groups.to_vec()
                } else {
                    missing
                };
                return Err(Ineligible::GroupsNotCovered {
                    first: first.approver.clone(),
                    first_groups: Groups(first.groups.clone()),
                    missing: Groups(missing),
                    yours: Groups(me.groups.clone()),
                });
            }
            Ok(Standing::SecondOfTwo)
        }
    }
}

/// A backend's answer to "may this approver sign this request now?"
/// (`GET /v1/requests/{id}/eligibility?approver=ID`): what it holds for
/// the approver and the request, and its judgement of each verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eligibility {
    pub request_id: String,
    pub approver: String,
    /// The approver's active enrolled key ids; empty when not enrolled.
    pub enrolled_kids: Vec<String>,
    /// The approver's enrolled groups.
    pub groups: Vec<String>,
    /// Groups a dual approval needs between its two approvers (empty: any
    /// two people).
    pub required_groups: Vec<String>,
    /// Approvals accepted so far.
    pub approvals: Vec<Signer>,
    /// Approving (or approving something narrower).
    pub approve: Judgement,
    /// Denying.
    pub deny: Judgement,
}

/// One verdict's judgement: allowed (and, for an approval, what it would
/// do), or refused with the rejection code and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Standing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Judgement {
    pub fn allowed(standing: Option<Standing>) -> Self {
        Judgement {
            allowed: true,
            standing,
            reason: None,
            message: None,
        }
    }

    pub fn refused(reason: &str, message: impl Into<String>) -> Self {
        Judgement {
            allowed: false,
            standing: None,
            reason: Some(reason.to_owned()),
            message: Some(message.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(id: &str, groups: &[&str]) -> Signer {
        Signer {
            approver: id.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn groups(g: &[&str]) -> Vec<String> {
        g.iter().map(|g| g.to_string()).collect()
    }

    #[test]
    fn a_single_approval_needs_only_someone_other_than_the_requester() {
        let me = signer("alice", &[]);
        assert_eq!(
            may_approve(ApprovalTier::SingleApproval, "bob", None, &[], &me),
            Ok(Standing::Sole)
        );
        assert_eq!(
            may_approve(
                ApprovalTier::SingleApproval,
                " Alice\u{200B}",
                None,
                &[],
                &me
            ),
            Err(Ineligible::ApproverIsRequester)
        );
    }

    #[test]
    fn a_dual_approval_needs_two_people_covering_every_group() {
        let required = groups(&["sre", "security"]);
        let dual = ApprovalTier::DualApproval;
        let nobody = signer("carol", &[]);
        let err = may_approve(dual, "soar", None, &required, &nobody).unwrap_err();
        assert_eq!(err.code(), "not_in_required_group");
        assert_eq!(
            err.to_string(),
            "the first approver of a dual approval here must hold one of groups sre, security; you are enrolled with no groups"
        );
        let alice = signer("alice", &["sre"]);
        assert_eq!(
            may_approve(dual, "soar", None, &required, &alice),
            Ok(Standing::FirstOfTwo)
        );
        assert_eq!(
            may_approve(dual, "soar", Some(&alice), &required, &alice),
            Err(Ineligible::SameApproverTwice)
        );
        let other_sre = signer("dave", &["sre"]);
        let err = may_approve(dual, "soar", Some(&alice), &required, &other_sre).unwrap_err();
        assert_eq!(err.code(), "groups_not_covered");
        assert!(
            err.to_string().contains("must come from group security"),
            "{err}"
        );
        let bob = signer("bob", &["security"]);
        assert_eq!(
            may_approve(dual, "soar", Some(&alice), &required, &bob),
            Ok(Standing::SecondOfTwo)
        );
        // No groups named: any two people.
        assert_eq!(
            may_approve(dual, "soar", Some(&alice), &[], &nobody),
            Ok(Standing::SecondOfTwo)
        );
    }

    #[test]
    fn one_person_holding_every_group_still_needs_a_second_who_holds_one() {
        let required = groups(&["sre", "security"]);
        let both = signer("alice", &["sre", "security"]);
        let none = signer("bob", &["finance"]);
        let err = may_approve(
            ApprovalTier::DualApproval,
            "soar",
            Some(&both),
            &required,
            &none,
        )
        .unwrap_err();
        assert_eq!(err.code(), "groups_not_covered");
        assert!(
            err.to_string()
                .contains("must come from groups sre, security"),
            "{err}"
        );
    }
}
