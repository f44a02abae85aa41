use serde::{Deserialize, Serialize};

use super::names::named_enum;

named_enum!(
    /// What a SOAR can do to an identity, narrowest first.
    ContainmentAction, "containment action" {
        RevokeSession => "revoke_session", "Revoke session";
        RevokeToken => "revoke_token", "Revoke token";
        RotateSecret => "rotate_secret", "Rotate secret";
        ReduceScope => "reduce_scope", "Reduce scope";
        DisableAccount => "disable_account", "Disable account";
        Quarantine => "quarantine", "Quarantine";
    }
);

named_enum!(
    /// How much human sign-off an action needs before it runs.
    ApprovalTier, "approval tier" {
        Auto => "auto", "Automatic";
        NotifyOnly => "notify_only", "Notify only";
        SingleApproval => "single_approval", "Single approval";
        DualApproval => "dual_approval", "Dual approval";
    }
);

/// What the owner knows about one containment action on one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ContainmentPlan {
    /// `false` means destructive: undoing it means re-issuing and redeploying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversible: Option<bool>,
    /// How to undo it, step by step.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rollback: String,
    /// Recovery-time objective: how long until the services work again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_minutes: Option<u32>,
    /// The approval tier the owner has agreed to in advance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preauthorised: Option<ApprovalTier>,
}
