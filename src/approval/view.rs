//! Everything an owner needs on one screen to decide a containment
//! request: the request and its evidence, the identity it names, the tier
//! policy gives it and the rules behind that, what the action would break
//! beside narrower alternatives, and how fresh the ownership data behind
//! all of that is. Built here, not in the app, so it is tested headless.

use serde::Serialize;

use super::ContainmentRequest;
use crate::Store;
use crate::attention::Finding;
use crate::graph::blast_radius::{
    Alternatives, BlastGraph, BlastResult, Threat, never_breaks_more,
};
use crate::model::ContainmentAction;
use crate::policy::TierDecision;
use crate::store::{DecisionRow, IdentityDetail, StoreError};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Freshness {
    /// When the identity's owner last attested the record, and who.
    pub reviewed_on: Option<String>,
    pub reviewed_by: Option<String>,
    pub stale_after_days: u32,
    /// Findings on the identity and on the services the action would
    /// break: stale or missing reviews, missing owners, undocumented
    /// consumers, destructive actions without rollback.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RequestView {
    pub request: ContainmentRequest,
    /// base64url SHA-256 of the request's JCS form: what a decision binds.
    pub request_digest: String,
    /// The inventory version (`Store::inventory_version`) this view was
    /// built from. A decision made with it is refused if the inventory has
    /// changed since, so the blast radius signed is the one shown.
    pub inventory_version: Option<String>,
    /// base64url SHA-256 of the JCS form of the requested action's blast
    /// radius as shown: what an approval of it signs as
    /// `blast_radius_digest`.
    pub blast_radius_digest: Option<String>,
    /// Why the request cannot be shown against the inventory, if it cannot
    /// (its identity is unknown here, say). Denying stays possible.
    pub problem: Option<String>,
    pub identity: Option<IdentityDetail>,
    pub threat: Threat,
    pub policy: Option<TierDecision>,
    /// The backend believes another tier applies than local policy gives.
    pub tier_mismatch: bool,
    pub blast: Option<BlastResult>,
    /// What tracing adds to the blast radius: consumers it saw that nobody
    /// documented, documented ones it has not seen lately
    /// ([`crate::observed`]); `None` when no observed usage was imported.
    pub observed: Option<crate::observed::BlastEvidence>,
    pub alternatives: Option<Alternatives>,
    /// What the owner may approve instead, best first: actions that
    /// contain the threat, never break more than the requested one (the
    /// rule `check_narrowing` holds every narrowing to), break less here,
    /// and need no stricter tier under the policy. Ranked as
    /// `Alternatives::recommended` ranks: severity score, then reversible
    /// over destructive, then the narrower action.
    pub narrower: Vec<ContainmentAction>,
    pub freshness: Option<Freshness>,
    /// Decisions already signed here on this request, with delivery state.
    pub decisions: Vec<DecisionRow>,
    /// The person at the keyboard asked for this: they cannot approve it.
    pub requested_by_you: bool,
    pub expired: bool,
}

/// The threat an evidence signal points to, so the alternatives are the
/// actions that would actually contain it.
pub fn threat_for(signal: &str) -> Threat {
    let s = signal.to_ascii_lowercase();
    if s.contains("secret") || s.contains("leak") || s.contains("exposed") {
        Threat::LeakedSecret
    } else if s.contains("replay")
        || s.contains("session")
        || s.contains("travel")
        || s.contains("hijack")
    {
        Threat::StolenSession
    } else if s.contains("tool")
        || s.contains("after_hours")
        || s.contains("misuse")
        || s.contains("unusual")
    {
        Threat::PermissionMisuse
    } else {
        Threat::Compromised
    }
}

/// Builds the view of `request_json` on `graph`, the inventory at
/// `inventory_version` (from [`crate::graph::cache::GraphCache::get_with_version`]).
pub async fn request_view(
    store: &Store,
    (graph, inventory_version): (&BlastGraph, Option<String>),
    request_json: &serde_json::Value,
    viewer: &str,
) -> Result<RequestView, ViewError> {
    let request: ContainmentRequest = serde_json::from_value(request_json.clone())
        .map_err(|e| ViewError::InvalidRequest(e.to_string()))?;
    let threat = threat_for(&request.evidence.signal);
    let mut view = RequestView {
        request_digest: crate::signing::request_digest(request_json),
        inventory_version,
        blast_radius_digest: None,
        problem: None,
        identity: None,
        threat,
        policy: None,
        tier_mismatch: false,
        blast: None,
        observed: None,
        alternatives: None,
        narrower: Vec::new(),
        freshness: None,
        decisions: store.decisions(Some(&request.id)).await?,
        requested_by_you: crate::model::text::same_person(&request.requested_by.id, viewer),
        expired: jiff::Timestamp::now() >= request.expires_at,
        request,
    };
    let target = view.request.target.external_id.clone();
    let blast = match graph.blast(&[(target.as_str(), view.request.action)]) {
        Ok(b) => b,
        Err(e) => {
            // What is shown instead of a blast radius: a denial signs it.
            view.blast_radius_digest = Some(super::decision::unknown_target_digest(&e));
            view.problem = Some(e.to_string());
            return Ok(view);
        }
    };
    view.blast_radius_digest = Some(super::decision::digest_of(&blast));
    let observed = crate::graph::observed::evidence_for(store, graph, &blast).await?;
    view.observed = (!observed.is_empty()).then_some(observed);
    let identity_id = blast.targets[0].identity.clone();
    view.alternatives = graph.alternatives(&identity_id, threat).ok();
    match super::decision::tier_on(store, graph, &view.request, view.request.action).await {
        Ok(tier) => {
            view.tier_mismatch = tier.tier != view.request.tier;
            view.policy = Some(tier);
        }
        Err(e) => view.problem = Some(e.to_string()),
    }
    let detail = store.identity_detail(&identity_id).await?;
    let impacted: Vec<String> = blast.impacted.iter().map(|s| s.id.clone()).collect();
    let findings = store
        .attention_on(std::slice::from_ref(&identity_id), &impacted)
        .await?;
    view.freshness = Some(Freshness {
        reviewed_on: detail.identity.review.as_ref().map(|r| r.on.to_string()),
        reviewed_by: detail.identity.review.as_ref().map(|r| r.by.clone()),
        stale_after_days: store.review_stale_days().await?,
        findings,
    });
    if let Some(alternatives) = &view.alternatives {
        let mut offered = Vec::new();
        for o in &alternatives.options {
            let a = o.action;
            if a == view.request.action
                || !o.contains
                || !o.applies
                || !never_breaks_more(a, view.request.action)
                || o.summary.score >= blast.summary.score
            {
                continue;
            }
            // A candidate whose tier cannot be judged is not offered.
            if let Ok(t) = super::decision::tier_on(store, graph, &view.request, a).await
                && t.tier <= view.request.tier
            {
                let destructive = detail
                    .identity
                    .containment
                    .get(&a)
                    .and_then(|p| p.reversible)
                    == Some(false);
                offered.push((o.summary.score, destructive, a));
            }
        }
        offered.sort();
        view.narrower = offered.into_iter().map(|(_, _, a)| a).collect();
    }
    view.identity = Some(detail);
    view.blast = Some(blast);
    Ok(view)
}

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("the backend sent something that is not a containment request: {0}")]
    InvalidRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_view_of_the_example_request_has_everything_to_decide_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("v.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let mut request: serde_json::Value = serde_json::from_str(include_str!(
            "../../assets/examples/containment-request.json"
        ))
        .unwrap();
        request["expires_at"] = "2999-01-01T00:00:00Z".into();
        let graph = BlastGraph::new(&store.snapshot().await.unwrap());
        let view = request_view(&store, (&graph, None), &request, "alice")
            .await
            .unwrap();
        assert_eq!(view.problem, None);
        assert_eq!(view.threat, Threat::LeakedSecret);
        assert_eq!(
            view.identity.as_ref().unwrap().identity.id,
            "tok-kafka-shared"
        );
        let policy = view.policy.as_ref().unwrap();
        assert!(!policy.permitted_by.is_empty());
        let blast = view.blast.as_ref().unwrap();
        assert!(!blast.impacted.is_empty());
        assert!(view.alternatives.as_ref().unwrap().options.len() >= 4);
        assert!(!view.requested_by_you && !view.expired);
        assert!(view.freshness.is_some());

        // Nothing is narrower than a rotation on every graph.
        assert!(view.narrower.is_empty(), "{:?}", view.narrower);
        // Disabling the shared credential can be narrowed to a rotation
        // (which contains a leak and spares the dynamic consumers); the
        // offer holds only actions `check_narrowing` would accept.
        let mut disable = request.clone();
        disable["action"] = "disable_account".into();
        disable["tier"] = "dual_approval".into();
        let wide = request_view(&store, (&graph, None), &disable, "alice")
            .await
            .unwrap();
        assert_eq!(
            wide.narrower.first(),
            Some(&ContainmentAction::RotateSecret)
        );
        let parsed: ContainmentRequest = serde_json::from_value(disable).unwrap();
        for a in &wide.narrower {
            let n = super::super::Narrowing {
                action: Some(*a),
                scope: vec![],
                until: None,
            };
            super::super::check_narrowing(&parsed, &n, jiff::Timestamp::now(), |_| {
                Ok(crate::model::ApprovalTier::DualApproval)
            })
            .unwrap();
        }

        let mine = request_view(
            &store,
            (&graph, None),
            &request,
            "soar-playbook-leaked-secret",
        )
        .await
        .unwrap();
        assert!(mine.requested_by_you);

        request["target"]["external_id"] = "arn:aws:iam::1:role/nobody".into();
        let unknown = request_view(&store, (&graph, None), &request, "alice")
            .await
            .unwrap();
        assert!(
            unknown
                .problem
                .unwrap()
                .contains("arn:aws:iam::1:role/nobody")
        );
        assert!(unknown.blast.is_none());
    }

    #[test]
    fn signals_map_to_threats() {
        assert_eq!(
            threat_for("secret_in_public_repository"),
            Threat::LeakedSecret
        );
        assert_eq!(threat_for("token_replay"), Threat::StolenSession);
        assert_eq!(threat_for("unusual_tool_call"), Threat::PermissionMisuse);
        assert_eq!(threat_for("malware_on_host"), Threat::Compromised);
    }
}
