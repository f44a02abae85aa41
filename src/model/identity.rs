use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use super::{ParseModelError, ServiceRef, Tier};

/// Declares a closed set of snake_case names with parsing and display, so the
/// database, YAML and IPC all agree on one spelling and a typo is caught with
/// the list of valid names.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Human wording for tables and the UI.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl FromStr for $name {
            type Err = ParseModelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseModelError {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

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

named_enum!(
    /// Where the identity is used; production containment is the one that hurts.
    Environment, "environment" {
        Production => "production", "Production";
        Staging => "staging", "Staging";
        Development => "development", "Development";
        Shared => "shared", "Shared";
    }
);

/// A credential someone owns and someone else may one day have to contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Stable key used by importers, the backend and the CLI.
    pub id: String,
    pub kind: IdentityKind,
    pub name: String,
    pub owner: String,
    pub environment: Environment,
    pub tier: Tier,
    /// Emergency-use accounts: their use looks like an attack but may be a
    /// legitimate recovery, so containing them always needs a human.
    #[serde(default)]
    pub break_glass: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// An identity with the services that would notice if it were contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDetail {
    #[serde(flatten)]
    pub identity: Identity,
    pub used_by: Vec<ServiceRef>,
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
}
