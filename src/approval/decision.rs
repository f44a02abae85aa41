//! An owner's decision on a containment request: checked, signed with the
//! owner's key, and made durable (with its audit record and outbox row)
//! before it goes anywhere.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ContainmentRequest;
use super::narrowing::{Narrowing, NarrowingProblem, check_narrowing};
use crate::Store;
use crate::graph::blast_radius::{BlastError, BlastGraph};
use crate::graph::cache::GraphCache;
use crate::model::ContainmentAction;
use crate::signing::{Keys, SigningError, request_digest};
use crate::store::{ChangeContext, NewDecision, StoreError};

/// The JWS `typ` of decisions.
pub const DECISION_TYP: &str = "countersign-decision+jwt";

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Approve,
    Deny,
    ApproveNarrowed(Narrowing),
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::ApproveNarrowed(_) => "approve_narrowed",
        }
    }
}

/// Longest `jti`, `request_id` and approver id a decision may carry, in
/// bytes (ids elsewhere in the inventory are at most 200 characters).
pub const MAX_ID_BYTES: usize = 200;
/// Longest `reason`, in bytes.
pub const MAX_REASON_BYTES: usize = 4000;

/// What a decision's claims say was decided, once checked: the closed set
/// of the protocol (docs/protocol.md), so that nothing but `deny` denies
/// and nothing but `approve` or `approve_narrowed` approves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    Approve,
    Deny,
    ApproveNarrowed,
}

/// Why claims were refused by [`check_claims`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsProblem {
    #[error("decision {0:?} is not one of approve, deny, approve_narrowed")]
    UnknownDecision(String),
    #[error("approve_narrowed needs a narrowed with an action, a scope or an until")]
    NarrowingMissing,
    #[error("{0} carries a narrowed; only approve_narrowed may")]
    NarrowingNotAllowed(&'static str),
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
}

/// Checks the claims every reader of a decision relies on, failing closed:
/// the decision is one of the closed set, a narrowing comes with
/// `approve_narrowed` and only with it, and the ids and the reason are
/// present and bounded. The reference backend, the drill report's verifier
/// and `decide` (before signing) all call this one function.
pub fn check_claims(claims: &DecisionClaims) -> Result<DecisionKind, ClaimsProblem> {
    let bounded = |field: &'static str, value: &str, max: usize| {
        if value.trim().is_empty() {
            Err(ClaimsProblem::Empty { field })
        } else if value.len() > max {
            Err(ClaimsProblem::TooLong { field, max })
        } else {
            Ok(())
        }
    };
    bounded("jti", &claims.jti, MAX_ID_BYTES)?;
    bounded("request_id", &claims.request_id, MAX_ID_BYTES)?;
    bounded("approver.id", &claims.approver.id, MAX_ID_BYTES)?;
    bounded("reason", &claims.reason, MAX_REASON_BYTES)?;
    let kind = match claims.decision.as_str() {
        "approve" => DecisionKind::Approve,
        "deny" => DecisionKind::Deny,
        "approve_narrowed" => DecisionKind::ApproveNarrowed,
        other => return Err(ClaimsProblem::UnknownDecision(other.to_owned())),
    };
    match (&kind, &claims.narrowed) {
        (DecisionKind::ApproveNarrowed, None) => Err(ClaimsProblem::NarrowingMissing),
        (DecisionKind::ApproveNarrowed, Some(n))
            if n.action.is_none() && n.scope.is_empty() && n.until.is_none() =>
        {
            Err(ClaimsProblem::NarrowingMissing)
        }
        (DecisionKind::Approve, Some(_)) => Err(ClaimsProblem::NarrowingNotAllowed("approve")),
        (DecisionKind::Deny, Some(_)) => Err(ClaimsProblem::NarrowingNotAllowed("deny")),
        _ => Ok(kind),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approver {
    pub id: String,
    pub groups: Vec<String>,
}

/// The payload of a decision JWS (`DecisionClaims` in the OpenAPI document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub request_id: String,
    pub request_digest: String,
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrowed: Option<Narrowing>,
    pub reason: String,
    pub approver: Approver,
    pub policy_version: String,
    pub blast_radius_digest: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordedDecision {
    pub claims: DecisionClaims,
    pub jws: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("the request is not a valid containment request: {0}")]
    InvalidRequest(String),
    #[error("a decision needs a reason")]
    NoReason,
    #[error("this decision cannot be signed: {0}")]
    InvalidClaims(ClaimsProblem),
    #[error("this is not a narrowing of the request: {0}")]
    BroaderNarrowing(NarrowingProblem),
    #[error(
        "{approver} requested this containment and cannot also approve it; another owner must decide"
    )]
    ApproverIsRequester { approver: String },
    #[error("request {id} expired at {expired_at}; ask the backend for a fresh one")]
    Expired {
        id: String,
        expired_at: jiff::Timestamp,
    },
    #[error("the inventory changed since you opened this request; review it again")]
    InventoryChanged,
    #[error(
        "{0:?} is not an inventory version: give the inventory_version the request view showed (seq:hash)"
    )]
    NotAnInventoryVersion(String),
    #[error(transparent)]
    UnknownTarget(#[from] BlastError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Policy(#[from] crate::policy::ApprovalPolicyError),
}

/// base64url SHA-256 of the JCS form of what the approver was shown.
pub(super) fn digest_of<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_value(value).expect("results serialise");
    let canonical = serde_jcs::to_vec(&json).expect("JSON canonicalises");
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical))
}

/// What a denial signs as `blast_radius_digest` when the request's
/// identity is unknown here: the digest of the problem the owner was shown
/// instead of a blast radius, `{"problem": message}`.
pub(super) fn unknown_target_digest(problem: &BlastError) -> String {
    digest_of(&serde_json::json!({ "problem": problem.to_string() }))
}

/// `seq:hash`, as `Store::inventory_version` gives it.
fn is_inventory_version(v: &str) -> bool {
    v.split_once(':').is_some_and(|(seq, hash)| {
        !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) && !hash.is_empty()
    })
}

/// One decision to make.
pub struct DecisionInput<'a> {
    /// The request as the backend sent it, or as the SOAR posted it: its
    /// [`super::proposed`] part is what is signed (its digest) and kept.
    pub request: &'a serde_json::Value,
    pub decision: Decision,
    pub reason: &'a str,
    /// The backend the decision is for (`aud`).
    pub audience: &'a str,
    /// Where to push it; an outbox row is written when given.
    pub destination: Option<&'a str>,
    /// The inventory version the approver was shown
    /// ([`super::RequestView::inventory_version`]); when given, the
    /// decision is refused if the inventory changed since.
    pub inventory_version: Option<&'a str>,
}

/// Decides as `ctx.actor`: checks the request, signs the claims with the
/// active key, and records the decision durably. Builds the inventory's
/// graph for this one decision; [`decide_on`] takes a cache instead.
pub async fn decide(
    store: &Store,
    keys: &Keys<'_>,
    input: DecisionInput<'_>,
    ctx: &ChangeContext,
) -> Result<RecordedDecision, DecisionError> {
    decide_on(store, &GraphCache::new(), keys, input, ctx).await
}

/// [`decide`] on the graph `graphs` holds for the inventory as it is now:
/// the same graph, at the same version, that built the request view the
/// owner saw ([`super::request_view`]), so the `blast_radius_digest`
/// signed is the one shown. Errors: [`DecisionError::InventoryChanged`]
/// when `input.inventory_version` is given and is not the version now.
pub async fn decide_on(
    store: &Store,
    graphs: &GraphCache,
    keys: &Keys<'_>,
    input: DecisionInput<'_>,
    ctx: &ChangeContext,
) -> Result<RecordedDecision, DecisionError> {
    let DecisionInput {
        request,
        decision,
        reason,
        audience,
        destination,
        inventory_version,
    } = input;
    let request = &super::proposed(request);
    let parsed: ContainmentRequest = serde_json::from_value(request.clone())
        .map_err(|e| DecisionError::InvalidRequest(e.to_string()))?;
    if reason.trim().is_empty() {
        return Err(DecisionError::NoReason);
    }
    if crate::model::text::same_person(&parsed.requested_by.id, &ctx.actor) {
        return Err(DecisionError::ApproverIsRequester {
            approver: ctx.actor.clone(),
        });
    }
    let now = jiff::Timestamp::now();
    if now >= parsed.expires_at {
        return Err(DecisionError::Expired {
            id: parsed.id,
            expired_at: parsed.expires_at,
        });
    }
    // What the approver saw: the blast radius of the action they approve.
    let action = match &decision {
        Decision::ApproveNarrowed(Narrowing {
            action: Some(a), ..
        }) => *a,
        _ => parsed.action,
    };
    if let Some(seen) = inventory_version.filter(|v| !is_inventory_version(v)) {
        return Err(DecisionError::NotAnInventoryVersion(seen.to_owned()));
    }
    // The inventory the decision is made on is the one shown. The cache
    // gives no version for a graph raced by an edit, which never matches.
    let (version, graph) = graphs.get_with_version(store).await?;
    if inventory_version.is_some_and(|seen| version.as_deref() != Some(seen)) {
        return Err(DecisionError::InventoryChanged);
    }
    let blast_radius_digest = match graph.blast(&[(parsed.target.external_id.as_str(), action)]) {
        Ok(blast) => digest_of(&blast),
        // An unknown identity can be denied (nothing is contained), not approved.
        Err(e) if matches!(decision, Decision::Deny) => unknown_target_digest(&e),
        Err(e) => return Err(e.into()),
    };

    let pair = keys.active().await?;
    let exp = parsed.expires_at.as_second().min(now.as_second() + 3600);
    let claims = DecisionClaims {
        iss: ctx.actor.clone(),
        aud: audience.to_owned(),
        iat: now.as_second(),
        exp,
        jti: uuid::Uuid::new_v4().to_string(),
        request_id: parsed.id.clone(),
        request_digest: request_digest(request),
        decision: decision.as_str().to_owned(),
        narrowed: match decision {
            Decision::ApproveNarrowed(n) => Some(n),
            _ => None,
        },
        reason: reason.trim().to_owned(),
        approver: Approver {
            id: ctx.actor.clone(),
            groups: match &ctx.vouched_groups {
                Some(groups) => groups.clone(),
                None => store.approver_groups().await?,
            },
        },
        policy_version: store.approval_policy().await?.0.version().to_owned(),
        blast_radius_digest,
    };
    // What every reader checks is checked before anything is signed.
    check_claims(&claims).map_err(DecisionError::InvalidClaims)?;
    // Nothing broader than the request is signed: the same check the
    // backend applies, here with the narrowed action's real blast radius.
    if let Some(n) = &claims.narrowed {
        let needs = if action == parsed.action {
            None
        } else {
            Some(tier_on(store, &graph, &parsed, action).await?.tier)
        };
        check_narrowing(&parsed, n, now, |_| {
            needs.ok_or_else(|| "no tier was computed".to_owned())
        })
        .map_err(DecisionError::BroaderNarrowing)?;
    }
    let jws = pair.sign(&claims, DECISION_TYP)?;
    store
        .record_decision(
            NewDecision {
                jti: &claims.jti,
                request_id: &claims.request_id,
                request_json: &request.to_string(),
                decision: &claims.decision,
                kid: &pair.kid,
                jws: &jws,
                claims_json: &serde_json::to_string(&claims).expect("claims serialise"),
                destination,
            },
            ctx,
        )
        .await?;
    Ok(RecordedDecision { claims, jws })
}

/// The approval tier the policy in force gives a request, with the rules
/// that decided it, from the identity's facts and the blast radius of the
/// requested action.
pub async fn tier_for(
    store: &Store,
    request: &ContainmentRequest,
) -> Result<crate::policy::TierDecision, DecisionError> {
    let graph = BlastGraph::from_inventory(store.snapshot().await?);
    tier_on(store, &graph, request, request.action).await
}

/// The tier the policy in force gives `action` on the request's target,
/// with that action's blast radius on `graph`.
pub(super) async fn tier_on(
    store: &Store,
    graph: &BlastGraph,
    request: &ContainmentRequest,
    action: ContainmentAction,
) -> Result<crate::policy::TierDecision, DecisionError> {
    let blast = graph.blast(&[(request.target.external_id.as_str(), action)])?;
    let identity = store.identity(&blast.targets[0].identity).await?;
    let (policy, _) = store.approval_policy().await?;
    let facts = crate::policy::Facts {
        requester: &request.requested_by.id,
        identity: &identity.id,
        kind: Some(identity.kind),
        environment: Some(identity.environment),
        break_glass: identity.is_break_glass(),
        action,
        confidence: request.evidence.confidence,
        severity: &request.severity,
        blast: &blast.summary,
    };
    Ok(policy
        .tier(&facts)
        .map_err(crate::policy::ApprovalPolicyError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{MemorySecrets, verify};
    use std::sync::Arc;

    fn example() -> serde_json::Value {
        let mut r: serde_json::Value = serde_json::from_str(include_str!(
            "../../assets/examples/containment-request.json"
        ))
        .unwrap();
        let later = jiff::Timestamp::now().as_second() + 600;
        r["expires_at"] = jiff::Timestamp::from_second(later)
            .unwrap()
            .to_string()
            .into();
        r
    }

    async fn setup() -> (tempfile::TempDir, Store, Arc<MemorySecrets>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("d.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        Keys::new(&store, secrets.clone())
            .init(&ChangeContext::new("alice", "test"))
            .await
            .unwrap();
        (dir, store, secrets)
    }

    /// What the desktop does: the view from the graph cache, then the
    /// decision with the version the view carried.
    #[tokio::test]
    async fn what_is_signed_is_what_was_shown_and_an_edit_in_between_refuses() {
        let (_d, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets);
        let ctx = ChangeContext::new("alice", "desktop");
        let request = example();
        let cache = crate::graph::cache::GraphCache::new();
        let show = || async {
            let (version, graph) = cache.get_with_version(&store).await.unwrap();
            super::super::request_view(&store, (&graph, version), &request, "alice")
                .await
                .unwrap()
        };
        let input = |version: Option<&'static str>| DecisionInput {
            request: &request,
            decision: Decision::Approve,
            reason: "contain it",
            audience: "https://soar.test",
            destination: None,
            inventory_version: version,
        };
        let view = show().await;
        let version: &'static str = view.inventory_version.clone().unwrap().leak();
        let d = decide_on(&store, &cache, &keys, input(Some(version)), &ctx)
            .await
            .unwrap();
        assert_eq!(
            Some(d.claims.blast_radius_digest.as_str()),
            view.blast_radius_digest.as_deref(),
            "the digest signed is the digest shown"
        );

        // Another owner edits the identity while the request is open.
        let view = show().await;
        let version: &'static str = view.inventory_version.clone().unwrap().leak();
        let mut i = store.identity("tok-kafka-shared").await.unwrap();
        i.used_by.push(crate::model::Usage::of("ledger-db"));
        store
            .edit(
                crate::store::Edit::SaveIdentity(Box::new(i)),
                None,
                &ChangeContext::new("bob", "desktop"),
            )
            .await
            .unwrap();
        let e = decide_on(&store, &cache, &keys, input(Some(version)), &ctx)
            .await
            .unwrap_err();
        assert!(matches!(e, DecisionError::InventoryChanged), "{e}");
        assert_eq!(
            e.to_string(),
            "the inventory changed since you opened this request; review it again"
        );
        // Reviewed again, it is signed, on the new blast radius.
        let again = show().await;
        assert_ne!(again.blast_radius_digest, view.blast_radius_digest);
        let version: &'static str = again.inventory_version.clone().unwrap().leak();
        let d = decide_on(&store, &cache, &keys, input(Some(version)), &ctx)
            .await
            .unwrap();
        assert_eq!(
            Some(d.claims.blast_radius_digest.as_str()),
            again.blast_radius_digest.as_deref()
        );
    }

    #[tokio::test]
    async fn a_decision_is_signed_recorded_and_audited_before_delivery() {
        let (_d, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets);
        let ctx = ChangeContext::new("alice", "cli");
        let request = example();
        // Approved for the next five minutes only.
        let until = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(300);
        let narrowed = Decision::ApproveNarrowed(Narrowing {
            action: Some(ContainmentAction::RotateSecret),
            scope: vec![],
            until: Some(until),
        });
        let input = DecisionInput {
            request: &request,
            decision: narrowed,
            reason: "rotate now, and only for five minutes",
            audience: "https://soar.test",
            destination: Some("https://soar.test"),
            inventory_version: None,
        };
        let d = decide(&store, &keys, input, &ctx).await.unwrap();
        let claims = verify(&d.jws, &keys.jwks().await.unwrap(), DECISION_TYP).unwrap();
        assert_eq!(claims["decision"], "approve_narrowed");
        assert_eq!(claims["request_digest"], request_digest(&request));
        assert_eq!(claims["aud"], "https://soar.test");
        assert!(claims["exp"].as_i64().unwrap() <= jiff::Timestamp::now().as_second() + 3600);
        assert_eq!(
            claims["policy_version"],
            crate::policy::Policy::default_policy().version()
        );
        let rows = store.decisions(Some("req-2026-11-24-0001")).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].jws, d.jws);
        assert_eq!(rows[0].attempts, Some(0), "queued for delivery");
        assert!(rows[0].delivered_at.is_none());
        let log = store
            .audit_log(Some(("decision", &d.claims.jti)), 5)
            .await
            .unwrap();
        assert_eq!(log[0].operation, "approve_narrowed");
    }

    #[tokio::test]
    async fn the_requester_cannot_approve_and_expired_requests_are_refused() {
        let (_d, store, secrets) = setup().await;
        let keys = Keys::new(&store, secrets);
        let request = example();
        let requester = ChangeContext::new("soar-playbook-leaked-secret", "cli");
        let err = decide(
            &store,
            &keys,
            DecisionInput {
                request: &request,
                decision: Decision::Approve,
                reason: "ok",
                audience: "aud",
                destination: None,
                inventory_version: None,
            },
            &requester,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, DecisionError::ApproverIsRequester { .. }),
            "{err}"
        );

        let mut old = request.clone();
        old["expires_at"] = "2020-01-01T00:00:00Z".into();
        let ctx = ChangeContext::new("alice", "cli");
        let err = decide(
            &store,
            &keys,
            DecisionInput {
                request: &old,
                decision: Decision::Deny,
                reason: "no",
                audience: "aud",
                destination: None,
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        let err = decide(
            &store,
            &keys,
            DecisionInput {
                request: &request,
                decision: Decision::Deny,
                reason: "  ",
                audience: "aud",
                destination: None,
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DecisionError::NoReason));
        let mut unknown = request.clone();
        unknown["target"]["external_id"] = "arn:nothing".into();
        let err = decide(
            &store,
            &keys,
            DecisionInput {
                request: &unknown,
                // Approving what the inventory does not know is refused
                // (denying it is not: tests/app.rs).
                decision: Decision::Approve,
                reason: "no",
                audience: "aud",
                destination: None,
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("arn:nothing"), "{err}");
        assert!(
            store.decisions(None).await.unwrap().is_empty(),
            "nothing recorded for refused decisions"
        );
    }
}
