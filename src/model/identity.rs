use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::names::named_enum;
use super::{ContainmentAction, ContainmentPlan, Credential, Tier};

named_enum!(
    /// What sort of non-human (or emergency human) credential this is; it
    /// decides which containment actions make sense and how risky they are.
    IdentityKind, "identity kind" {
        ServiceAccount => "service_account", "Service account";
        ApiKey => "api_key", "API key";
        OauthApp => "oauth_app", "OAuth app";
        Token => "token", "Token";
        WorkloadIdentity => "workload_identity", "Workload identity";
        AiAgent => "ai_agent", "AI agent";
        Certificate => "certificate", "Certificate";
        SshKey => "ssh_key", "SSH key";
        CicdDeployKey => "cicd_deploy_key", "CI/CD deploy key";
        BreakGlassAccount => "break_glass_account", "Break-glass account";
    }
);

impl IdentityKind {
    /// Whether `action` is something that can be done to an identity of
    /// this kind: an SSH key or a certificate has no token to revoke as
    /// such (its key is rotated, or the certificate revoked, which
    /// Countersign names "revoke token" for certificates only), a
    /// workload identity's credentials are federated and short-lived (no
    /// secret to rotate). Recommendations are
    /// made only among the actions that apply.
    pub fn applies(self, action: ContainmentAction) -> bool {
        use ContainmentAction::*;
        match self {
            IdentityKind::ServiceAccount
            | IdentityKind::ApiKey
            | IdentityKind::OauthApp
            | IdentityKind::Token
            | IdentityKind::AiAgent => true,
            IdentityKind::WorkloadIdentity => action != RotateSecret,
            IdentityKind::Certificate => matches!(action, RotateSecret | RevokeToken),
            IdentityKind::SshKey => {
                matches!(
                    action,
                    RevokeSession | RotateSecret | DisableAccount | Quarantine
                )
            }
            IdentityKind::CicdDeployKey => {
                matches!(
                    action,
                    RotateSecret | RevokeToken | ReduceScope | DisableAccount
                )
            }
            IdentityKind::BreakGlassAccount => action != RevokeToken,
        }
    }
}

named_enum!(
    /// Where the identity is used; production containment is the one that hurts.
    Environment, "environment" {
        Production => "production", "Production";
        Staging => "staging", "Staging";
        Development => "development", "Development";
        Shared => "shared", "Shared";
    }
);

named_enum!(
    /// Short-lived credentials expire on their own; long-lived ones must be revoked.
    Lifetime, "credential lifetime" {
        Ephemeral => "ephemeral", "Ephemeral";
        LongLived => "long_lived", "Long-lived";
    }
);

named_enum!(
    /// How much a service does with the identity; reducing scope spares readers.
    Access, "access level" {
        Read => "read", "Read";
        Write => "write", "Write";
        Admin => "admin", "Admin";
    }
);

named_enum!(
    /// Whether a consumer fetches the secret when it needs it (and so survives
    /// a rotation) or holds a copy (and breaks until redeployed).
    SecretDelivery, "secret delivery" {
        Dynamic => "dynamic", "Fetched dynamically";
        Static => "static", "Static copy";
    }
);

/// One service's use of an identity. Unknown access or delivery is treated
/// as the worst case by the blast radius and flagged as undocumented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<SecretDelivery>,
    /// The service keeps live sessions with this identity (revoking sessions hits it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live_sessions: bool,
}

impl Usage {
    pub fn of(service: impl Into<String>) -> Self {
        Usage {
            service: service.into(),
            access: None,
            delivery: None,
            live_sessions: false,
        }
    }

    /// Whether the owner has said how the service uses the identity.
    pub fn is_documented(&self) -> bool {
        self.access.is_some() && self.delivery.is_some()
    }
}

/// The designation that makes an identity break-glass: an emergency-use
/// account whose use looks like an attack but may be a legitimate recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct BreakGlass {
    pub justification: String,
    /// The people who hold the sealed credentials.
    #[serde(default)]
    pub custodians: Vec<String>,
    /// When use is expected, e.g. "only while SSO is down".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub use_window: String,
    #[serde(default = "yes")]
    pub always_dual_approval: bool,
    /// Identity governance can veto containment of this identity.
    #[serde(default = "yes")]
    pub owner_veto: bool,
}

fn yes() -> bool {
    true
}

/// The owner's attestation that the record is right, as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub by: String,
    #[ts(type = "string")]
    pub on: Date,
}

/// An identity whose owner left the organisation: who owned it and since
/// when. Set by a directory import, which hands the identity to its backup
/// owner (or the owner's team); cleared when an owner confirms the record
/// (marks it reviewed) or names another owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Orphaned {
    /// The owner who left.
    pub former_owner: String,
    /// The day the directory import found them gone.
    #[ts(type = "string")]
    pub since: Date,
}

/// A credential someone owns and someone else may one day have to contain:
/// everything a containment decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Identity {
    /// Stable key used by importers, the backend and the CLI.
    pub id: String,
    pub kind: IdentityKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_owner: Option<String>,
    pub environment: Environment,
    pub tier: Tier,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How other systems name it: a cloud ARN, `namespace/name` in
    /// Kubernetes, a Vault path. The backend refers to identities by these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Lifetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub expires_on: Option<Date>,
    /// The secrets it authenticates with, as their issuer reports them
    /// (access keys, client secrets, certificates, private keys); none for
    /// an identity whose credentials are minted per use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<Credential>,
    /// What it is allowed to do: roles, scopes, policies (e.g. `ClusterRole/edit`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// Its permissions make it an administrator of its account, tenant or
    /// project, whatever they are called: AWS `*` or `iam:*` on every
    /// resource (AdministratorAccess), Entra ID's privileged directory
    /// roles and Graph permissions, Google Cloud's basic Owner and Editor
    /// roles. Set by the cloud importers from what they read (OWASP NHI
    /// Top 10 2025, NHI5 "Overprivileged NHI").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin_equivalent: bool,
    /// Lineage: the identity this one was minted from or belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlass>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub containment: BTreeMap<ContainmentAction, ContainmentPlan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    /// Its owner left ([`Orphaned`]); `None` while its owner is here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphaned: Option<Orphaned>,
}

impl Identity {
    /// A new identity with only the required facts; the rest is documented later.
    pub fn new(
        id: &str,
        kind: IdentityKind,
        name: &str,
        environment: Environment,
        tier: Tier,
    ) -> Self {
        Identity {
            id: id.to_owned(),
            kind,
            name: name.to_owned(),
            owner: None,
            backup_owner: None,
            environment,
            tier,
            description: String::new(),
            external_ids: Vec::new(),
            lifetime: None,
            expires_on: None,
            credentials: Vec::new(),
            permissions: Vec::new(),
            admin_equivalent: false,
            derived_from: None,
            used_by: Vec::new(),
            break_glass: None,
            containment: BTreeMap::new(),
            review: None,
            orphaned: None,
        }
    }

    pub fn is_break_glass(&self) -> bool {
        self.break_glass.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in IdentityKind::ALL {
            assert_eq!(kind.as_str().parse::<IdentityKind>().unwrap(), *kind);
        }
    }

    #[test]
    fn unknown_kind_lists_the_valid_ones() {
        let err = "robot".parse::<IdentityKind>().unwrap_err().to_string();
        assert!(
            err.contains("\"robot\" is not a valid identity kind"),
            "{err}"
        );
        assert!(err.contains("ai_agent"), "{err}");
    }

    #[test]
    fn serde_uses_the_same_names_as_from_str() {
        let json = serde_json::to_string(&IdentityKind::CicdDeployKey).unwrap();
        assert_eq!(json, "\"cicd_deploy_key\"");
        let env: Environment = serde_json::from_str("\"staging\"").unwrap();
        assert_eq!(env, Environment::Staging);
    }

    #[test]
    fn break_glass_defaults_to_dual_approval_and_veto() {
        let bg: BreakGlass = serde_json::from_str(r#"{"justification":"DR"}"#).unwrap();
        assert!(bg.always_dual_approval && bg.owner_veto);
        assert!(bg.custodians.is_empty());
    }
}
