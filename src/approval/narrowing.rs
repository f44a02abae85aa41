//! What an `approve_narrowed` decision may say: approval of *less* than was
//! requested, never more. One function judges it, for `decide` before it
//! signs and for the reference backend before it applies, so the two can
//! never disagree about what counts as narrower.

use serde::{Deserialize, Serialize};

use super::ContainmentRequest;
use crate::graph::blast_radius::never_breaks_more;
use crate::model::{ApprovalTier, ContainmentAction};

/// How an approval narrows the request (`Narrowing` in the OpenAPI
/// document). Unknown fields are refused rather than ignored: a constraint
/// the reader does not understand would otherwise be dropped, and the
/// approval read as broader than it was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Narrowing {
    /// An action that breaks no more than the requested one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ContainmentAction>,
    /// Scopes the action is limited to: a subset of the request's scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// When the approval lapses: after now, no later than the request expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub until: Option<jiff::Timestamp>,
}

/// Most scope entries a narrowing may name.
pub const MAX_SCOPE_ENTRIES: usize = 100;
/// Longest scope entry, in bytes.
pub const MAX_SCOPE_ENTRY_BYTES: usize = 200;

/// Why a narrowing is not narrower than its request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NarrowingProblem {
    #[error(
        "{narrowed} may break more than the requested {requested}; narrow only to an action whose blast radius is contained in the request's"
    )]
    BroaderAction {
        requested: ContainmentAction,
        narrowed: ContainmentAction,
    },
    #[error(
        "the approval policy puts {narrowed} at {needs}, stricter than the request's {allowed}; it cannot be approved as a narrowing"
    )]
    StricterTier {
        narrowed: ContainmentAction,
        needs: ApprovalTier,
        allowed: ApprovalTier,
    },
    #[error("scope {entry:?} is not among the request's scope")]
    ScopeOutsideRequest { entry: String },
    #[error("scope {entry:?} names everything; it narrows nothing")]
    ScopeWildcard { entry: String },
    #[error(
        "scope entries must be 1 to {MAX_SCOPE_ENTRY_BYTES} bytes, at most {MAX_SCOPE_ENTRIES} of them"
    )]
    ScopeUnbounded,
    #[error("until {until} is not in the future (now {now})")]
    UntilPast {
        until: jiff::Timestamp,
        now: jiff::Timestamp,
    },
    #[error("until {until} is after the request expires ({expires_at})")]
    UntilAfterExpiry {
        until: jiff::Timestamp,
        expires_at: jiff::Timestamp,
    },
    #[error("scope {entry:?} is listed twice")]
    ScopeRepeated { entry: String },
    #[error(
        "the narrowing approves everything the request asks: choose a narrower action, leave part of the scope out, or set an until"
    )]
    NothingNarrowed,
    #[error("cannot evaluate the approval policy for the narrowed action: {0}")]
    Policy(String),
}

/// Checks that `narrowed` approves strictly less than `request`, at `now`:
///
/// - an action only when it never breaks more than the requested one on
///   any inventory ([`never_breaks_more`]), and — when it differs — the
///   policy gives it no stricter tier than the request carries (`tier_of`
///   evaluates the policy in force for an action on this request's
///   target: with its real blast radius in `decide`, with the request's
///   facts alone in the backend, which holds no inventory);
/// - a scope only of entries the request names (a request without a scope
///   covers the whole identity, so any entry but `*` narrows it);
/// - an `until` after `now` and no later than the request's `expires_at`;
/// - and at least one of these actually narrowing something.
///
/// # Errors
/// The first [`NarrowingProblem`] found.
pub fn check_narrowing(
    request: &ContainmentRequest,
    narrowed: &Narrowing,
    now: jiff::Timestamp,
    tier_of: impl Fn(ContainmentAction) -> Result<ApprovalTier, String>,
) -> Result<(), NarrowingProblem> {
    let mut narrows = false;
    if let Some(action) = narrowed.action
        && action != request.action
    {
        if !never_breaks_more(action, request.action) {
            return Err(NarrowingProblem::BroaderAction {
                requested: request.action,
                narrowed: action,
            });
        }
        let needs = tier_of(action).map_err(NarrowingProblem::Policy)?;
        if needs > request.tier {
            return Err(NarrowingProblem::StricterTier {
                narrowed: action,
                needs,
                allowed: request.tier,
            });
        }
        narrows = true;
    }
    if narrowed.scope.len() > MAX_SCOPE_ENTRIES
        || narrowed
            .scope
            .iter()
            .any(|e| e.trim().is_empty() || e.len() > MAX_SCOPE_ENTRY_BYTES)
    {
        return Err(NarrowingProblem::ScopeUnbounded);
    }
    let mut seen = std::collections::BTreeSet::new();
    for entry in &narrowed.scope {
        if !seen.insert(entry) {
            return Err(NarrowingProblem::ScopeRepeated {
                entry: entry.clone(),
            });
        }
        // Everything is never narrower, whatever the request lists.
        if entry.trim() == "*" {
            return Err(NarrowingProblem::ScopeWildcard {
                entry: entry.clone(),
            });
        }
        if !request.scope.is_empty() && !request.scope.contains(entry) {
            return Err(NarrowingProblem::ScopeOutsideRequest {
                entry: entry.clone(),
            });
        }
    }
    if !narrowed.scope.is_empty() {
        // Every entry is the request's, once: it narrows when it leaves one
        // out.
        let requested: std::collections::BTreeSet<&String> = request.scope.iter().collect();
        narrows |= request.scope.is_empty() || seen.len() < requested.len();
    }
    if let Some(until) = narrowed.until {
        if until <= now {
            return Err(NarrowingProblem::UntilPast { until, now });
        }
        if until > request.expires_at {
            return Err(NarrowingProblem::UntilAfterExpiry {
                until,
                expires_at: request.expires_at,
            });
        }
        narrows = true;
    }
    if narrows {
        Ok(())
    } else {
        Err(NarrowingProblem::NothingNarrowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContainmentAction::*;

    fn request(
        action: ContainmentAction,
        tier: ApprovalTier,
        scope: &[&str],
    ) -> ContainmentRequest {
        let mut r: ContainmentRequest = serde_json::from_str(include_str!(
            "../../assets/examples/containment-request.json"
        ))
        .unwrap();
        r.action = action;
        r.tier = tier;
        r.scope = scope.iter().map(|s| s.to_string()).collect();
        r.created_at = "2030-01-01T00:00:00Z".parse().unwrap();
        r.expires_at = "2030-01-01T01:00:00Z".parse().unwrap();
        r
    }

    fn now() -> jiff::Timestamp {
        "2030-01-01T00:10:00Z".parse().unwrap()
    }

    /// The shipped policy's answer for the action alone.
    fn tier(a: ContainmentAction) -> Result<ApprovalTier, String> {
        Ok(match a {
            DisableAccount | Quarantine => ApprovalTier::DualApproval,
            _ => ApprovalTier::SingleApproval,
        })
    }

    fn narrowing(
        action: Option<ContainmentAction>,
        scope: &[&str],
        until: Option<&str>,
    ) -> Narrowing {
        Narrowing {
            action,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            until: until.map(|u| u.parse().unwrap()),
        }
    }

    #[test]
    fn narrower_actions_scopes_and_times_pass() {
        let dual = request(DisableAccount, ApprovalTier::DualApproval, &[]);
        for a in [
            RotateSecret,
            RevokeToken,
            RevokeSession,
            ReduceScope,
            Quarantine,
        ] {
            check_narrowing(&dual, &narrowing(Some(a), &[], None), now(), tier).unwrap();
        }
        let scoped = request(ReduceScope, ApprovalTier::SingleApproval, &["a", "b"]);
        check_narrowing(&scoped, &narrowing(None, &["a"], None), now(), tier).unwrap();
        let until = Some("2030-01-01T00:30:00Z");
        check_narrowing(
            &scoped,
            &narrowing(Some(ReduceScope), &[], until),
            now(),
            tier,
        )
        .unwrap();
        let unscoped = request(RotateSecret, ApprovalTier::SingleApproval, &[]);
        check_narrowing(
            &unscoped,
            &narrowing(None, &["kafka:topic/orders"], None),
            now(),
            tier,
        )
        .unwrap();
    }

    #[test]
    fn broader_narrowings_are_refused_with_their_reason() {
        let single = request(RotateSecret, ApprovalTier::SingleApproval, &[]);
        assert!(matches!(
            check_narrowing(
                &single,
                &narrowing(Some(DisableAccount), &[], None),
                now(),
                tier
            ),
            Err(NarrowingProblem::BroaderAction { .. })
        ));
        assert!(matches!(
            check_narrowing(
                &single,
                &narrowing(Some(RevokeSession), &[], None),
                now(),
                tier
            ),
            Err(NarrowingProblem::BroaderAction { .. })
        ));
        // Same blast radius, stricter policy: revoke_token -> disable.
        let token = request(RevokeToken, ApprovalTier::SingleApproval, &[]);
        assert!(matches!(
            check_narrowing(
                &token,
                &narrowing(Some(DisableAccount), &[], None),
                now(),
                tier
            ),
            Err(NarrowingProblem::StricterTier { .. })
        ));
        let scoped = request(ReduceScope, ApprovalTier::SingleApproval, &["a"]);
        assert!(matches!(
            check_narrowing(&scoped, &narrowing(None, &["b"], None), now(), tier),
            Err(NarrowingProblem::ScopeOutsideRequest { .. })
        ));
        assert!(matches!(
            check_narrowing(&scoped, &narrowing(None, &["a"], None), now(), tier),
            Err(NarrowingProblem::NothingNarrowed)
        ));
        assert!(matches!(
            check_narrowing(&single, &narrowing(None, &["*"], None), now(), tier),
            Err(NarrowingProblem::ScopeWildcard { .. })
        ));
        // A request that itself lists everything is not narrowed by it.
        let star = request(ReduceScope, ApprovalTier::SingleApproval, &["*", "topic:b"]);
        assert!(matches!(
            check_narrowing(&star, &narrowing(None, &["*"], None), now(), tier),
            Err(NarrowingProblem::ScopeWildcard { .. })
        ));
        let two = request(
            ReduceScope,
            ApprovalTier::SingleApproval,
            &["topic:a", "topic:b"],
        );
        assert!(matches!(
            check_narrowing(
                &two,
                &narrowing(None, &["topic:a", "topic:a"], None),
                now(),
                tier
            ),
            Err(NarrowingProblem::ScopeRepeated { .. })
        ));
        assert!(matches!(
            check_narrowing(&single, &narrowing(None, &[""], None), now(), tier),
            Err(NarrowingProblem::ScopeUnbounded)
        ));
        assert!(matches!(
            check_narrowing(
                &single,
                &narrowing(None, &[], Some("2001-01-01T00:00:00Z")),
                now(),
                tier
            ),
            Err(NarrowingProblem::UntilPast { .. })
        ));
        assert!(matches!(
            check_narrowing(
                &single,
                &narrowing(None, &[], Some("2030-01-02T00:00:00Z")),
                now(),
                tier
            ),
            Err(NarrowingProblem::UntilAfterExpiry { .. })
        ));
        assert!(matches!(
            check_narrowing(
                &single,
                &narrowing(Some(RotateSecret), &[], None),
                now(),
                tier
            ),
            Err(NarrowingProblem::NothingNarrowed)
        ));
    }

    #[test]
    fn an_unknown_narrowing_field_is_refused_not_dropped() {
        let parsed: Result<Narrowing, _> =
            serde_json::from_str(r#"{"action":"rotate_secret","services":["all"]}"#);
        assert!(parsed.is_err());
    }
}
