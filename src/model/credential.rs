//! The secrets an identity authenticates with, as their issuer reports
//! them: an AWS IAM user's access keys (the credential report), an Entra
//! application's client secrets and certificates (`passwordCredentials`,
//! `keyCredentials`), a Google service account's user-managed keys. An
//! owner answers for each one: its age (rotation), whether it is still
//! used, and when it expires. Identities whose credentials are minted per
//! use (a federated role, a managed identity) have none.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::names::named_enum;

named_enum!(
    /// What the credential is, in the issuer's terms.
    CredentialKind, "credential kind" {
        AccessKey => "access_key", "Access key";
        ClientSecret => "client_secret", "Client secret";
        Certificate => "certificate", "Certificate";
        PrivateKey => "private_key", "Private key";
        Password => "password", "Password";
    }
);

/// One credential of an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The issuer's id for it, never the secret: an AWS access key's
    /// position (`access_key_1`) or id, an Entra `keyId`, a Google key's
    /// resource name. Unique within the identity.
    pub id: String,
    pub kind: CredentialKind,
    /// Created or last rotated (AWS `access_key_N_last_rotated`, Entra
    /// `startDateTime`, Google `validAfterTime`): its age for rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub created_on: Option<Date>,
    /// Last used, as the issuer records it; `None` when never used or not
    /// recorded (see `never_used`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub last_used_on: Option<Date>,
    /// The issuer records its use and it has never been used (AWS's
    /// credential report says `N/A`). False when use is not recorded at
    /// all (Entra ID's and Google's lists), so nothing is claimed then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub never_used: bool,
    /// When it stops working on its own (`None`: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string | null")]
    pub expires_on: Option<Date>,
    /// Whether it can be used now (an AWS key made inactive is kept, and
    /// can be made active again).
    #[serde(default = "active", skip_serializing_if = "is_active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

fn is_active(a: &bool) -> bool {
    *a
}

impl Credential {
    /// A new active credential with nothing known about its dates.
    pub fn new(id: &str, kind: CredentialKind) -> Self {
        Credential {
            id: id.to_owned(),
            kind,
            created_on: None,
            last_used_on: None,
            never_used: false,
            expires_on: None,
            active: true,
        }
    }

    /// Whole days since it was created or last rotated, on `today`.
    pub fn age_days(&self, today: Date) -> Option<i64> {
        self.created_on.map(|c| days_between(c, today))
    }

    /// Whole days since it was last used — or, recorded as never used,
    /// since it was created — on `today`: how long it has sat unused.
    /// `None` when its use is not recorded.
    pub fn idle_days(&self, today: Date) -> Option<i64> {
        self.last_used_on
            .or(self.created_on.filter(|_| self.never_used))
            .map(|d| days_between(d, today))
    }

    /// Whole days until it expires (negative once expired), on `today`.
    pub fn days_to_expiry(&self, today: Date) -> Option<i64> {
        self.expires_on.map(|e| days_between(today, e))
    }
}

fn days_between(from: Date, to: Date) -> i64 {
    let span = from.until(to).expect("dates in range");
    i64::from(span.get_days())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn ages_are_counted_in_days_from_its_dates() {
        let mut c = Credential::new("access_key_1", CredentialKind::AccessKey);
        let today = date(2026, 12, 2);
        assert_eq!(c.age_days(today), None);
        c.created_on = Some(date(2026, 9, 3));
        assert_eq!(c.age_days(today), Some(90));
        assert_eq!(c.idle_days(today), None, "use not recorded: no claim");
        c.never_used = true;
        assert_eq!(c.idle_days(today), Some(90), "never used: since created");
        c.last_used_on = Some(date(2026, 12, 1));
        assert_eq!(c.idle_days(today), Some(1));
        c.expires_on = Some(date(2026, 11, 30));
        assert_eq!(c.days_to_expiry(today), Some(-2));
    }

    #[test]
    fn a_credential_reads_and_writes_in_the_inventory_format() {
        let c: Credential = serde_json::from_str(
            r#"{"id": "k1", "kind": "client_secret", "expires_on": "2027-01-10"}"#,
        )
        .unwrap();
        assert!(c.active, "active unless said otherwise");
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"id":"k1","kind":"client_secret","expires_on":"2027-01-10"}"#
        );
        let err = serde_json::from_str::<Credential>(r#"{"id": "k1", "kind": "secret"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `secret`"), "{err}");
    }
}
