//! Approval tiers as policy code, evaluated by Cedar. The policy is a
//! versioned text (the default is `assets/policy/default.cedar`; an owner
//! can store another, audited) and decides, for each containment request,
//! which tier applies and which rules put it there.

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::graph::blast_radius::Summary;
use crate::model::{ApprovalTier, ContainmentAction, Environment, IdentityKind};

/// Shipped with the app; used until an owner stores another.
pub const DEFAULT_POLICY: &str = include_str!("../../assets/policy/default.cedar");

/// Tiers from the lightest; the first one the policy permits applies.
const TIERS: [ApprovalTier; 4] = [
    ApprovalTier::Auto,
    ApprovalTier::NotifyOnly,
    ApprovalTier::SingleApproval,
    ApprovalTier::DualApproval,
];

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the approval policy does not parse: {0}")]
    Parse(String),
    /// A rule's `@controls` annotation names a control not in
    /// [`crate::controls::CATALOGUE`].
    #[error("the approval policy's rule {rule:?} has @controls: {source}")]
    Controls {
        rule: String,
        #[source]
        source: crate::controls::UnknownControl,
    },
    #[error("cannot evaluate the approval policy: {0}")]
    Evaluate(String),
}

/// What the policy is asked about one request.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub requester: &'a str,
    pub identity: &'a str,
    /// `None` where the asker holds no inventory (the reference backend):
    /// left out of the context, so a rule that reads it cannot be
    /// evaluated and the question fails closed.
    pub kind: Option<IdentityKind>,
    /// As `kind`.
    pub environment: Option<Environment>,
    pub break_glass: bool,
    pub action: ContainmentAction,
    /// Evidence confidence, 0.0 to 1.0.
    pub confidence: f64,
    pub severity: &'a str,
    pub blast: &'a Summary,
}

/// The tier that applies, and the rules that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct TierDecision {
    pub tier: ApprovalTier,
    /// The `@id`s of the rules that permitted this tier.
    pub permitted_by: Vec<String>,
    /// The `@id`s of the rules that ruled out lighter tiers.
    pub lighter_tiers_forbidden_by: Vec<String>,
    /// Who must sign, from the permitting rules' `@approver_groups`
    /// annotation: with dual approval, one approver from each group.
    pub approver_groups: Vec<String>,
    /// The controls the deciding rules serve, from their
    /// `@controls("NIST CSF RS.MI-01, CIS 6.2")` annotations (permitting
    /// rules first, each control once): what an auditor maps the decision to.
    pub controls: Vec<crate::controls::Control>,
    pub policy_version: String,
}

pub struct Policy {
    set: PolicySet,
    version: String,
}

impl Policy {
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let set: PolicySet = text
            .parse()
            .map_err(|e: cedar_policy::ParseErrors| PolicyError::Parse(e.to_string()))?;
        for p in set.policies() {
            if let Some(named) = p.annotation("controls") {
                crate::controls::parse_list(named).map_err(|source| PolicyError::Controls {
                    rule: p
                        .annotation("id")
                        .map_or_else(|| p.id().to_string(), str::to_owned),
                    source,
                })?;
            }
        }
        let digest: String = Sha256::digest(text.as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Policy {
            set,
            version: format!("sha256:{digest}"),
        })
    }

    pub fn default_policy() -> Self {
        Policy::parse(DEFAULT_POLICY).expect("the shipped policy parses")
    }

    /// Names the policy text exactly: the first 8 bytes of its SHA-256.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The groups named by `@approver_groups("a, b")` on the given rules:
    /// who must sign when that tier applies.
    fn approver_groups(&self, ids: &[cedar_policy::PolicyId]) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for id in ids {
            if let Some(named) = self
                .set
                .policy(id)
                .and_then(|p| p.annotation("approver_groups"))
            {
                for g in named.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                    if !groups.iter().any(|x| x == g) {
                        groups.push(g.to_owned());
                    }
                }
            }
        }
        groups
    }

    /// Every rule's `@id` and the controls its `@controls` annotation names,
    /// in the policy's order.
    pub fn rule_controls(&self) -> Vec<(String, Vec<crate::controls::Control>)> {
        self.set
            .policies()
            .map(|p| {
                let controls = p
                    .annotation("controls")
                    .and_then(|n| crate::controls::parse_list(n).ok())
                    .unwrap_or_default();
                (self.id_of(p.id()), controls)
            })
            .collect()
    }

    /// The controls named by the given rules' `@controls` annotations,
    /// each once, in order (checked when the policy was parsed).
    fn controls(&self, ids: &[cedar_policy::PolicyId]) -> Vec<crate::controls::Control> {
        let mut controls: Vec<crate::controls::Control> = Vec::new();
        for id in ids {
            let named = self.set.policy(id).and_then(|p| p.annotation("controls"));
            for c in named
                .and_then(|n| crate::controls::parse_list(n).ok())
                .unwrap_or_default()
            {
                if !controls.contains(&c) {
                    controls.push(c);
                }
            }
        }
        controls
    }

    fn id_of(&self, id: &cedar_policy::PolicyId) -> String {
        self.set
            .policy(id)
            .and_then(|p| p.annotation("id").map(str::to_owned))
            .unwrap_or_else(|| id.to_string())
    }

    pub fn tier(&self, f: &Facts<'_>) -> Result<TierDecision, PolicyError> {
        let eval = |e: String| PolicyError::Evaluate(e);
        let principal: EntityUid = format!("Requester::{:?}", f.requester)
            .parse()
            .map_err(|e| eval(format!("{e}")))?;
        let resource: EntityUid = format!("Identity::{:?}", f.identity)
            .parse()
            .map_err(|e| eval(format!("{e}")))?;
        let mut context = serde_json::json!({
                "containment": f.action.as_str(),
                "break_glass": f.break_glass,
                "confidence_pct": (f.confidence.clamp(0.0, 1.0) * 100.0).round() as i64,
                "severity": f.severity,
                "blast": {
                    "services": i64::from(f.blast.services),
                    "tier0": i64::from(f.blast.per_tier[0]),
                    "tier1": i64::from(f.blast.per_tier[1]),
                },
        });
        if let Some(kind) = f.kind {
            context["kind"] = kind.as_str().into();
        }
        if let Some(environment) = f.environment {
            context["environment"] = environment.as_str().into();
        }
        let context = Context::from_json_value(context, None).map_err(|e| eval(e.to_string()))?;
        let authorizer = Authorizer::new();
        let mut forbidden = Vec::new();
        let mut forbidden_ids: Vec<cedar_policy::PolicyId> = Vec::new();
        for tier in TIERS {
            let action: EntityUid = format!("Action::{:?}", tier.as_str())
                .parse()
                .map_err(|e| eval(format!("{e}")))?;
            let request = Request::new(
                principal.clone(),
                action,
                resource.clone(),
                context.clone(),
                None,
            )
            .map_err(|e| eval(e.to_string()))?;
            let response = authorizer.is_authorized(&request, &self.set, &Entities::empty());
            let reason_ids: Vec<cedar_policy::PolicyId> =
                response.diagnostics().reason().cloned().collect();
            let reasons: Vec<String> = reason_ids.iter().map(|id| self.id_of(id)).collect();
            if let Some(error) = response.diagnostics().errors().next() {
                return Err(eval(error.to_string()));
            }
            if response.decision() == Decision::Allow {
                let deciding: Vec<cedar_policy::PolicyId> =
                    reason_ids.iter().chain(&forbidden_ids).cloned().collect();
                return Ok(TierDecision {
                    tier,
                    approver_groups: self.approver_groups(&reason_ids),
                    controls: self.controls(&deciding),
                    permitted_by: reasons,
                    lighter_tiers_forbidden_by: forbidden,
                    policy_version: self.version.clone(),
                });
            }
            for r in reasons {
                if !forbidden.contains(&r) {
                    forbidden.push(r);
                }
            }
            forbidden_ids.extend(reason_ids);
        }
        // A policy with no permit for dual approval still yields a tier:
        // the strictest, never none.
        Ok(TierDecision {
            tier: ApprovalTier::DualApproval,
            approver_groups: Vec::new(),
            permitted_by: vec!["(no rule permitted any tier: the strictest applies)".into()],
            lighter_tiers_forbidden_by: forbidden,
            controls: self.controls(&forbidden_ids),
            policy_version: self.version.clone(),
        })
    }
}

/// Settings key of the policy text an owner stored (absent: the default).
pub const POLICY_KEY: &str = "approval_policy";

impl crate::Store {
    /// The policy in force: the stored one, else the shipped default.
    pub async fn approval_policy(&self) -> Result<(Policy, String), ApprovalPolicyError> {
        let text = self
            .setting(POLICY_KEY)
            .await?
            .unwrap_or_else(|| DEFAULT_POLICY.to_owned());
        Ok((Policy::parse(&text)?, text))
    }

    /// Stores a new policy after checking it parses; the change is audited.
    pub async fn set_approval_policy(
        &self,
        text: &str,
        ctx: &crate::store::ChangeContext,
    ) -> Result<Policy, ApprovalPolicyError> {
        let policy = Policy::parse(text)?;
        self.set_setting(POLICY_KEY, text, ctx).await?;
        Ok(policy)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApprovalPolicyError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(services: u32, tier0: u32) -> Summary {
        Summary {
            services,
            per_tier: [tier0, 0, 0, 0],
            ..Summary::default()
        }
    }

    fn facts<'a>(
        action: ContainmentAction,
        break_glass: bool,
        confidence: f64,
        blast: &'a Summary,
    ) -> Facts<'a> {
        Facts {
            requester: "soar",
            identity: "x",
            kind: Some(IdentityKind::Token),
            environment: Some(Environment::Production),
            break_glass,
            action,
            confidence,
            severity: "high",
            blast,
        }
    }

    /// Asked without an inventory (the backend), a rule that reads the
    /// identity's kind cannot be evaluated: an error, never a lighter tier.
    #[test]
    fn a_rule_on_an_unknown_fact_fails_closed() {
        let p = Policy::parse(
            r#"permit (principal, action == Action::"auto", resource)
               when { context.kind == "token" };
               permit (principal, action == Action::"dual_approval", resource);"#,
        )
        .unwrap();
        let small = summary(1, 0);
        let mut f = facts(ContainmentAction::RotateSecret, false, 0.9, &small);
        assert_eq!(p.tier(&f).unwrap().tier, ApprovalTier::Auto);
        f.kind = None;
        assert!(matches!(p.tier(&f), Err(PolicyError::Evaluate(_))));
        // The shipped policy reads neither, so the backend can judge by it.
        f.environment = None;
        assert!(Policy::default_policy().tier(&f).is_ok());
    }

    #[test]
    fn default_tiers_follow_the_domain_guidance() {
        use ContainmentAction::*;
        let p = Policy::default_policy();
        let small = summary(1, 0);
        let t = |a, bg, c, s: &Summary| p.tier(&facts(a, bg, c, s)).unwrap();

        let auto = t(RevokeSession, false, 0.9, &small);
        assert_eq!(auto.tier, ApprovalTier::Auto);
        assert_eq!(auto.permitted_by, ["auto-session-revocation"]);

        assert_eq!(
            t(ReduceScope, false, 0.9, &small).tier,
            ApprovalTier::NotifyOnly
        );
        let rotate = t(RotateSecret, false, 0.9, &small);
        assert_eq!(rotate.tier, ApprovalTier::SingleApproval);
        assert_eq!(
            rotate.permitted_by,
            ["single-approval-rotation-and-revocation"]
        );

        let disable = t(DisableAccount, false, 0.9, &small);
        assert_eq!(disable.tier, ApprovalTier::DualApproval);
        assert_eq!(
            disable.lighter_tiers_forbidden_by,
            ["disabling-and-quarantine-dual"]
        );
        assert_eq!(
            disable.approver_groups,
            ["identity-governance", "incident-response"],
            "the policy names who signs a dual approval"
        );
        assert!(rotate.approver_groups.is_empty());

        let bg = t(RevokeSession, true, 0.99, &small);
        assert_eq!(bg.tier, ApprovalTier::DualApproval);
        assert!(
            bg.lighter_tiers_forbidden_by
                .contains(&"break-glass-always-dual".to_string())
        );

        let wide = summary(12, 0);
        assert_eq!(
            t(RotateSecret, false, 0.9, &wide).tier,
            ApprovalTier::DualApproval
        );
        let low = t(RevokeSession, false, 0.3, &small);
        assert_eq!(
            low.tier,
            ApprovalTier::SingleApproval,
            "low confidence is never automatic"
        );
        assert!(
            low.lighter_tiers_forbidden_by
                .contains(&"low-confidence-not-automatic".to_string())
        );
    }

    /// The deciding rules' `@controls` come with the tier; a policy that
    /// names a control nobody knows is refused when it is parsed.
    #[test]
    fn decisions_name_the_controls_of_their_rules() {
        let p = Policy::default_policy();
        let small = summary(1, 0);
        let d = p
            .tier(&facts(
                ContainmentAction::DisableAccount,
                false,
                0.9,
                &small,
            ))
            .unwrap();
        let keys: Vec<&str> = d.controls.iter().map(|c| c.key).collect();
        assert_eq!(
            keys,
            ["NIST CSF PR.AA-05", "NIST CSF RS.MI-01", "CIS 6.2"],
            "dual-approval-always-possible, then disabling-and-quarantine-dual"
        );
        let err = Policy::parse(
            r#"@id("mine") @controls("NIST CSF RS.MI-01, CIS 99.9")
               permit (principal, action, resource);"#,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("rule \"mine\"") && err.contains("\"CIS 99.9\""),
            "{err}"
        );
        assert!(
            Policy::parse("permit (principal, action, resource);")
                .unwrap()
                .rule_controls()[0]
                .1
                .is_empty()
        );
    }

    #[test]
    fn the_version_names_the_text_and_bad_policies_are_reported() {
        let a = Policy::default_policy();
        let b = Policy::parse(&format!(
            "{DEFAULT_POLICY}\n// a comment changes the version\n"
        ))
        .unwrap();
        assert!(a.version().starts_with("sha256:"));
        assert_ne!(a.version(), b.version());
        let err = Policy::parse("permit (principal, action, resource) when { context.x ==")
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("the approval policy does not parse"),
            "{err}"
        );
        let none = Policy::parse("").unwrap();
        let s = summary(0, 0);
        assert_eq!(
            none.tier(&facts(ContainmentAction::RevokeSession, false, 1.0, &s))
                .unwrap()
                .tier,
            ApprovalTier::DualApproval
        );
    }
}
