//! AWS IAM as the AWS CLI prints it, without any network access (issue
//! 21): `aws iam get-account-authorization-details` (users, groups, roles
//! and managed policies with their documents — the file PMapper and
//! Cloudsplaining read) and `aws iam get-credential-report` (each user's
//! access keys: active, last rotated, last used).
//!
//! This module reads the files into typed documents, following IAM's own
//! grammar where the files are loose: a policy document may be an object
//! or the URL-encoded JSON the API returns (RFC 3986; the CLI decodes it,
//! SDKs and exports may not), `Statement`, `Action` and every principal
//! list may be one value or an array, and only a managed policy's default
//! version is in force. A mistake is reported with the file and the JSON
//! path of the value at fault (`RoleDetailList[2].AssumeRolePolicyDocument`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::inventory::InventoryError;

/// What the import report calls these files.
pub(super) const FORMAT: &str = "AWS IAM";

/// The top of `get-account-authorization-details`: the keys that tell the
/// file apart from any other JSON.
const DETAIL_LISTS: [&str; 4] = [
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
];

/// Whether `v` is `get-account-authorization-details` output.
pub(super) fn is_authorization_details(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| DETAIL_LISTS.iter().any(|k| o.contains_key(*k)))
}

/// Whether `v` is `aws iam get-credential-report --output json`.
pub(super) fn is_credential_report_json(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.contains_key("Content")
            && o.get("ReportFormat").and_then(Value::as_str) == Some("text/csv")
    })
}

/// Whether a CSV's header is the credential report's.
pub(super) fn is_credential_report_header(first_line: &str) -> bool {
    first_line
        .trim_start_matches('\u{feff}')
        .starts_with("user,arn,user_creation_time,")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AuthorizationDetails {
    #[serde(default)]
    pub user_detail_list: Vec<User>,
    #[serde(default)]
    pub group_detail_list: Vec<Group>,
    #[serde(default)]
    pub role_detail_list: Vec<Role>,
    #[serde(default)]
    pub policies: Vec<ManagedPolicy>,
    /// More pages follow (`--no-paginate`, `--max-items`): the file is
    /// not the whole account.
    #[serde(default)]
    pub is_truncated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct User {
    pub user_name: String,
    pub arn: String,
    #[serde(default)]
    pub user_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub group_list: Vec<String>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Group {
    pub group_name: String,
    /// `arn:aws:iam::ACCOUNT:group/NAME`: which account's group it is.
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub group_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Role {
    pub role_name: String,
    pub arn: String,
    #[serde(default)]
    pub path: String,
    pub assume_role_policy_document: Option<PolicyDocument>,
    #[serde(default)]
    pub role_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub role_last_used: Option<RoleLastUsed>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RoleLastUsed {
    #[serde(default)]
    pub last_used_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ManagedPolicy {
    pub arn: String,
    #[serde(default)]
    pub default_version_id: Option<String>,
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// The version in force: the one marked default (or named by
    /// `DefaultVersionId`); other versions grant nothing.
    pub fn default_document(&self) -> Option<&PolicyDocument> {
        self.policy_version_list
            .iter()
            .find(|v| {
                v.is_default_version
                    || self.default_version_id.as_deref() == Some(v.version_id.as_str())
            })
            .map(|v| &v.document)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PolicyVersion {
    pub document: PolicyDocument,
    pub version_id: String,
    #[serde(default)]
    pub is_default_version: bool,
}

/// An IAM policy document (identity-based or a role's trust policy).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PolicyDocument {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawDocument {
    #[serde(default)]
    statement: OneOrMany<Statement>,
}

impl<'de> Deserialize<'de> for PolicyDocument {
    /// An object, or the URL-encoded JSON text the IAM API returns.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = match Value::deserialize(d)? {
            Value::String(encoded) => {
                let text = percent_encoding::percent_decode_str(&encoded)
                    .decode_utf8()
                    .map_err(|e| {
                        D::Error::custom(format!("a URL-encoded policy that is not UTF-8: {e}"))
                    })?;
                let v: Value = serde_json::from_str(&text).map_err(|e| {
                    D::Error::custom(format!("a URL-encoded policy that is not JSON: {e}"))
                })?;
                document(v)
                    .map_err(|e| D::Error::custom(format!("in the URL-encoded policy: {e}")))?
            }
            v @ Value::Object(_) => document(v).map_err(D::Error::custom)?,
            other => {
                return Err(D::Error::custom(format!(
                    "expected a policy document (an object, or URL-encoded JSON text), found {}",
                    json_kind(&other)
                )));
            }
        };
        Ok(PolicyDocument {
            statements: raw.statement.0,
        })
    }
}

/// A policy document from its JSON, a mistake named by its path inside
/// the document (`Statement[0].Principal: …`).
fn document(v: Value) -> Result<RawDocument, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let at = e.path().to_string();
        format!("{at}: {}", e.into_inner())
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// IAM's "a value or a list of values".
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    /// Told by its shape (a list, or one value), never by trying each in
    /// turn, so a mistake inside is reported as itself, at its path.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IntoDeserializer as _, value::MapAccessDeserializer};
        struct Items<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Items<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("one value or a list of values")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(Items(std::marker::PhantomData))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Statement {
    #[serde(default)]
    pub effect: Effect,
    #[serde(default)]
    pub action: OneOrMany<String>,
    #[serde(default)]
    pub not_action: Option<OneOrMany<String>>,
    #[serde(default)]
    pub resource: OneOrMany<String>,
    #[serde(default)]
    pub principal: Option<Principal>,
    /// Operator → condition key → values.
    #[serde(default)]
    pub condition: BTreeMap<String, BTreeMap<String, OneOrMany<String>>>,
}

/// A statement's `Effect`, as IAM's policy grammar spells it (an
/// unknown value is refused, not read as either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub(super) enum Effect {
    #[default]
    Allow,
    Deny,
}

/// Who a trust policy lets assume the role.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Principal {
    /// `"Principal": "*"` (or `{"AWS": "*"}`): anyone.
    pub anyone: bool,
    /// Account roots (`arn:aws:iam::ACCOUNT:root` or a bare account id),
    /// roles and users.
    pub aws: Vec<String>,
    /// `ec2.amazonaws.com`, `lambda.amazonaws.com`, …
    pub service: Vec<String>,
    /// Identity providers (an EKS cluster's OIDC provider, SAML).
    pub federated: Vec<String>,
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase", deny_unknown_fields)]
        struct Map {
            #[serde(rename = "AWS", default)]
            aws: OneOrMany<String>,
            #[serde(default)]
            service: OneOrMany<String>,
            #[serde(default)]
            federated: OneOrMany<String>,
            #[serde(rename = "CanonicalUser", default)]
            _canonical_user: OneOrMany<String>,
        }
        match Value::deserialize(d)? {
            Value::String(s) if s == "*" => Ok(Principal {
                anyone: true,
                ..Principal::default()
            }),
            v @ Value::Object(_) => {
                let m: Map = serde_json::from_value(v).map_err(D::Error::custom)?;
                let anyone = m.aws.0.iter().any(|a| a == "*");
                Ok(Principal {
                    anyone,
                    aws: m.aws.0.into_iter().filter(|a| a != "*").collect(),
                    service: m.service.0,
                    federated: m.federated.0,
                })
            }
            other => Err(D::Error::custom(format!(
                "expected \"*\" or an object of AWS, Service and Federated principals, found {}",
                json_kind(&other)
            ))),
        }
    }
}

impl Statement {
    fn allows(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// Whether this statement alone makes its holder an administrator:
    /// every action (`*`, `*:*`), every IAM action (`iam:*`), or one of
    /// the IAM actions by which a principal grants itself the rest
    /// ([`ESCALATION_ACTIONS`], as `iam:Put*` or `iam:AttachRolePolicy`)
    /// on every resource. `NotAction` with `*` resources is all but the
    /// listed actions: admin-equivalent too unless it excludes IAM.
    pub fn is_admin_equivalent(&self) -> bool {
        if !self.allows() || !self.resource.0.iter().any(|r| r == "*") {
            return false;
        }
        if let Some(not) = &self.not_action {
            return !not
                .0
                .iter()
                .any(|a| a == "*" || a.eq_ignore_ascii_case("iam:*"));
        }
        self.action.0.iter().any(|a| {
            a == "*" || a == "*:*" || ESCALATION_ACTIONS.iter().any(|e| action_matches(a, e))
        })
    }

    /// An unconditional `Deny` of every action on every resource: an
    /// explicit deny wins over any allow (IAM's policy evaluation logic),
    /// so its holder is no administrator whatever else it is granted.
    pub fn denies_everything(&self) -> bool {
        self.effect == Effect::Deny
            && self.condition.is_empty()
            && self.not_action.is_none()
            && self.action.0.iter().any(|a| a == "*" || a == "*:*")
            && self.resource.0.iter().any(|r| r == "*")
    }
}

/// The IAM actions by which a principal can make itself (or a principal
/// it controls) an administrator: write or attach a policy, make an old
/// policy version the default, join a group, rewrite a role's trust, or
/// take over another user's credentials (Rhino Security Labs' catalogue of
/// IAM privilege-escalation methods; PMapper checks the same edges).
/// (`iam:PassRole` is not among them: it escalates only with a service
/// action that runs code as the passed role.)
const ESCALATION_ACTIONS: [&str; 13] = [
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
];

/// Whether the policy's action `pattern` (IAM's wildcards `*` and `?`,
/// matched without regard to case) covers `action`.
fn action_matches(pattern: &str, action: &str) -> bool {
    fn glob(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], a) || (!a.is_empty() && glob(p, &a[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => glob(&p[1..], &a[1..]),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), action.as_bytes())
}

impl PolicyDocument {
    pub fn is_admin_equivalent(&self) -> bool {
        self.statements.iter().any(Statement::is_admin_equivalent) && !self.denies_everything()
    }

    /// Whether an unconditional `Deny` of everything is in it.
    pub fn denies_everything(&self) -> bool {
        self.statements.iter().any(Statement::denies_everything)
    }

    /// Every Allow statement's principals and conditions: who may assume
    /// a role, read from its trust policy.
    pub fn trusted(&self) -> impl Iterator<Item = &Statement> {
        self.statements
            .iter()
            .filter(|s| s.allows() && s.principal.is_some())
    }
}

/// AWS managed policies that make their holder an administrator; their
/// documents are not in a customer's authorization details.
pub(super) fn is_admin_managed_policy(arn: &str) -> bool {
    matches!(
        arn.rsplit(':').next(),
        Some("policy/AdministratorAccess" | "policy/IAMFullAccess")
    )
}

/// The account id and resource of an IAM ARN
/// (`arn:PARTITION:iam::ACCOUNT:RESOURCE`).
pub(super) fn arn_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(_partition),
        Some(service),
        Some(_region),
        Some(account),
        Some(resource),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    (service == "iam" || service == "sts").then_some((account, resource))
}

/// The Kubernetes service account an EKS-federated trust statement lets
/// assume the role: the `…:sub` condition `system:serviceaccount:NS:NAME`
/// on an OIDC provider (`StringEquals`, or `StringLike` without wildcards).
pub(super) fn federated_service_accounts(s: &Statement) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (operator, keys) in &s.condition {
        let exact = matches!(
            operator.as_str(),
            "StringEquals" | "ForAnyValue:StringEquals" | "StringLike"
        );
        if !exact {
            continue;
        }
        for (key, values) in keys {
            if !key.ends_with(":sub") {
                continue;
            }
            for v in &values.0 {
                if operator == "StringLike" && (v.contains('*') || v.contains('?')) {
                    continue;
                }
                if let Some(rest) = v.strip_prefix("system:serviceaccount:")
                    && let Some((ns, name)) = rest.split_once(':')
                {
                    out.push((ns.to_owned(), name.to_owned()));
                }
            }
        }
    }
    out
}

/// Reads `get-account-authorization-details` output, naming the JSON path
/// of the first value that is not as the AWS CLI prints it.
pub(super) fn read_details(
    text: &str,
    origin: &str,
) -> Result<AuthorizationDetails, InventoryError> {
    super::json::read(text, origin)
}

/// One user's row of the credential report: their access keys and
/// signing certificates. The account's root row is kept apart.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ReportUser {
    pub user: String,
    pub arn: String,
    /// `access_key_1`, `access_key_2`, `cert_1`, `cert_2`: those the report
    /// says exist (rotated at some time), active or not.
    pub credentials: Vec<crate::model::Credential>,
    /// The line of the row in the CSV (the header is line 1).
    pub line: u64,
}

/// The credential report's CSV, as `get-credential-report` returns it
/// (base64 in `Content` of its JSON, or the CSV itself): each user's row,
/// the root account's apart. Dates are RFC 3339 timestamps or one of the
/// report's words (`N/A`, `no_information`, `not_supported`), read as none.
pub(super) fn read_credential_report(
    text: &str,
    origin: &str,
) -> Result<(Vec<ReportUser>, Option<ReportUser>), InventoryError> {
    use crate::model::{Credential, CredentialKind};
    let invalid = |line: Option<u64>, at: &str, message: String| InventoryError::Invalid {
        origin: origin.to_owned(),
        line,
        at: at.to_owned(),
        message,
    };
    let csv_text: std::borrow::Cow<str> = if text.trim_start().starts_with('{') {
        /// `aws iam get-credential-report --output json`.
        #[derive(Deserialize)]
        struct Report {
            #[serde(rename = "Content")]
            content: String,
        }
        let content = super::json::read::<Report>(text, origin)?.content;
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map_err(|e| invalid(None, "Content", format!("not base64: {e}")))?;
        String::from_utf8(bytes)
            .map_err(|e| invalid(None, "Content", format!("not UTF-8 text: {e}")))?
            .into()
    } else {
        text.into()
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| invalid(Some(1), "", e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let Some(user_col) = column("user") else {
        return Err(invalid(
            Some(1),
            "user",
            "not a credential report: no `user` column".into(),
        ));
    };
    let arn_col = column("arn").ok_or_else(|| invalid(Some(1), "arn", "no `arn` column".into()))?;
    // The columns the keys are read from: a table with a `user` and an
    // `arn` but none of them is some other CSV, not a report to trust.
    if let Some(missing) = [
        "access_key_1_active",
        "access_key_1_last_rotated",
        "access_key_2_active",
    ]
    .into_iter()
    .find(|c| column(c).is_none())
    {
        return Err(invalid(
            Some(1),
            missing,
            format!("not a credential report: no `{missing}` column"),
        ));
    }
    let mut users = Vec::new();
    let mut root = None;
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let record = record.map_err(|e| invalid(Some(line), "", e.to_string()))?;
        let get = |name: &str| column(name).and_then(|i| record.get(i)).unwrap_or("");
        let date = |name: &str| -> Result<Option<jiff::civil::Date>, InventoryError> {
            report_date(get(name)).map_err(|m| invalid(Some(line), name, m))
        };
        let user = record.get(user_col).unwrap_or("").to_owned();
        let mut credentials = Vec::new();
        for k in ["access_key_1", "access_key_2"] {
            let rotated = date(&format!("{k}_last_rotated"))?;
            let active = get(&format!("{k}_active")) == "true";
            if rotated.is_none() && !active {
                continue; // no such key
            }
            let mut c = Credential::new(k, CredentialKind::AccessKey);
            c.created_on = rotated;
            c.last_used_on = date(&format!("{k}_last_used_date"))?;
            // The report records every key's use: `N/A` is never.
            c.never_used = c.last_used_on.is_none();
            c.active = active;
            credentials.push(c);
        }
        for k in ["cert_1", "cert_2"] {
            let rotated = date(&format!("{k}_last_rotated"))?;
            let active = get(&format!("{k}_active")) == "true";
            if rotated.is_none() && !active {
                continue;
            }
            let mut c = Credential::new(k, CredentialKind::Certificate);
            c.created_on = rotated;
            c.active = active;
            credentials.push(c);
        }
        let row = ReportUser {
            arn: record.get(arn_col).unwrap_or("").to_owned(),
            credentials,
            line,
            user,
        };
        if row.user == "<root_account>" {
            if let Some(first) = &root {
                let first: &ReportUser = first;
                return Err(invalid(
                    Some(line),
                    "user",
                    format!(
                        "the <root_account> row is listed twice, here and first at line {}; a credential report has one",
                        first.line
                    ),
                ));
            }
            root = Some(row);
        } else {
            users.push(row);
        }
    }
    Ok((users, root))
}

/// A credential report date: an RFC 3339 timestamp, or a word for none.
fn report_date(raw: &str) -> Result<Option<jiff::civil::Date>, String> {
    match raw.trim() {
        "" | "N/A" | "no_information" | "not_supported" => Ok(None),
        t => t
            .parse::<jiff::Timestamp>()
            .map(|ts| Some(jiff::tz::Offset::UTC.to_datetime(ts).date()))
            .map_err(|e| format!("{t:?} is not a date and time (RFC 3339): {e}")),
    }
}

/// What to do about a principal listed twice.
const ONE_SNAPSHOT: &str =
    "An import reads one snapshot of each account: keep one of the two files";

/// Every AWS file of one import, resolved as one set: a role in one
/// account trusts a role in another, and each account's credential report
/// completes its users.
#[derive(Default)]
pub(super) struct Estate {
    /// Each file with the line of each principal's ARN.
    details: Vec<(String, HashMap<String, u64>, AuthorizationDetails)>,
    reports: Vec<(String, Vec<ReportUser>)>,
    /// The root rows of the reports (`<root_account>`), by file.
    roots: Vec<(String, ReportUser)>,
    /// Where each principal (user or role ARN) and report row was first
    /// read: a second listing of one is refused, not merged.
    seen: super::json::Listings,
}

/// A Countersign id for an IAM principal: `aws:ACCOUNT:role/NAME` (or
/// `user/NAME`). IAM names may hold `+=,`, which ids do not: those become
/// `_`; the ARN itself is kept whole as the external id.
fn principal_id(account: &str, what: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if matches!(c, '+' | '=' | ',') { '_' } else { c })
        .collect();
    format!("aws:{account}:{what}/{name}")
}

/// The identity a tag names, first of the keys given.
fn tag<'a>(tags: &'a [Tag], keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| tags.iter().find(|t| t.key.eq_ignore_ascii_case(k)))
        .map(|t| t.value.as_str())
}

/// The owner, environment and tier an IAM principal's tags state
/// (`countersign.dev/owner`, `owner`, `team`; `countersign.dev/environment`,
/// `environment`; `countersign.dev/tier`), as the Kubernetes importer reads
/// annotations.
fn apply_tags(
    i: &mut crate::model::Identity,
    tags: &[Tag],
    origin: &str,
    line: u64,
    findings: &mut super::Findings,
) {
    if let Some(owner) = tag(tags, &["countersign.dev/owner", "owner", "team"]) {
        i.owner = Some(owner.to_owned());
    }
    if let Some(env) = tag(tags, &["countersign.dev/environment", "environment", "env"]) {
        match env.to_ascii_lowercase().as_str() {
            "prod" => i.environment = crate::model::Environment::Production,
            "stage" => i.environment = crate::model::Environment::Staging,
            "dev" => i.environment = crate::model::Environment::Development,
            e => match e.parse() {
                Ok(e) => i.environment = e,
                Err(err) => findings.unresolved(
                    origin,
                    Some(line),
                    format!(
                        "{}: the environment tag is not understood ({err}); production assumed",
                        i.id
                    ),
                ),
            },
        }
    }
    if let Some(tier) = tag(tags, &["countersign.dev/tier"]) {
        match tier
            .parse::<u8>()
            .ok()
            .and_then(|t| crate::model::Tier::new(t).ok())
        {
            Some(t) => i.tier = t,
            None => findings.unresolved(
                origin,
                Some(line),
                format!(
                    "{}: countersign.dev/tier {tier:?} is not 0–3; tier 2 assumed",
                    i.id
                ),
            ),
        }
    }
}

impl Estate {
    pub fn is_empty(&self) -> bool {
        self.details.is_empty() && self.reports.is_empty()
    }

    pub fn add_details(&mut self, origin: &str, text: &str) -> Result<(), InventoryError> {
        let d = read_details(text, origin)?;
        let mut places = super::json::Lines::new(text, "Arn");
        let mut at = HashMap::new();
        let principals = d
            .user_detail_list
            .iter()
            .enumerate()
            .map(|(n, u)| (format!("UserDetailList[{n}].Arn"), &u.arn))
            .chain(
                d.role_detail_list
                    .iter()
                    .enumerate()
                    .map(|(n, r)| (format!("RoleDetailList[{n}].Arn"), &r.arn)),
            );
        for (path, arn) in principals {
            let line = places.next(arn);
            self.seen.first(arn, origin, line, &path, ONE_SNAPSHOT)?;
            at.insert(arn.clone(), line);
        }
        self.details.push((origin.to_owned(), at, d));
        Ok(())
    }

    pub fn add_report(&mut self, origin: &str, text: &str) -> Result<(), InventoryError> {
        let (users, root) = read_credential_report(text, origin)?;
        for u in users.iter().chain(&root) {
            let key = format!("credential report row {}", u.arn);
            self.seen.first(&key, origin, u.line, "arn", ONE_SNAPSHOT)?;
        }
        self.reports.push((origin.to_owned(), users));
        self.roots.extend(root.map(|r| (origin.to_owned(), r)));
        Ok(())
    }

    /// The identities and services the files describe, resolved against
    /// `working` (the inventory as merged so far: stored, and this
    /// import's other files, such as the Kubernetes manifests whose
    /// service accounts an EKS-federated role trusts).
    pub fn build(
        self,
        working: &crate::inventory::Inventory,
        findings: &mut super::Findings,
    ) -> (crate::inventory::Inventory, crate::inventory::LineMap) {
        use crate::inventory::{Inventory, LineMap, Section};
        use crate::model::{
            Environment, Identity, IdentityKind, Lifetime, SecretDelivery, Service, Tier, Usage,
        };
        use std::collections::{HashMap, HashSet};

        let mut inv = Inventory::default();
        let mut lines = LineMap::default();
        // Each user's report row, by ARN; which accounts have a report.
        let mut report_rows: HashMap<String, (String, ReportUser)> = HashMap::new();
        let mut reported_accounts: HashSet<String> = HashSet::new();
        for (_, root) in &self.roots {
            if let Some((account, _)) = arn_account(&root.arn) {
                reported_accounts.insert(account.to_owned());
            }
        }
        for (origin, users) in self.reports {
            for u in users {
                if let Some((account, _)) = arn_account(&u.arn) {
                    reported_accounts.insert(account.to_owned());
                }
                report_rows.insert(u.arn.clone(), (origin.clone(), u));
            }
        }
        // Every role of the estate by ARN → id, to resolve trust across
        // accounts; then what the inventory already knows by external id.
        let mut by_arn: HashMap<String, String> = HashMap::new();
        for (_, _, d) in &self.details {
            for r in &d.role_detail_list {
                if let Some((account, _)) = arn_account(&r.arn) {
                    by_arn.insert(r.arn.clone(), principal_id(account, "role", &r.role_name));
                }
            }
            for u in &d.user_detail_list {
                if let Some((account, _)) = arn_account(&u.arn) {
                    by_arn.insert(u.arn.clone(), principal_id(account, "user", &u.user_name));
                }
            }
        }
        let known_by_external: HashMap<&str, &str> = working
            .identities
            .iter()
            .flat_map(|i| {
                i.external_ids
                    .iter()
                    .map(move |x| (x.as_str(), i.id.as_str()))
            })
            .collect();
        let stored_by_id = working.identities_by_id();
        let mut services_added: HashSet<String> = HashSet::new();
        // Groups (by account and name) and managed policies (by ARN) of
        // every file: an account's details may come in parts (`--filter
        // Role`, `--filter LocalManagedPolicy`, or pages of `--max-items`
        // saved one per file), and a principal's groups and policies are
        // found in any of them.
        let mut groups: HashMap<String, &Group> = HashMap::new();
        let mut managed: HashMap<&str, &ManagedPolicy> = HashMap::new();
        for (_, _, d) in &self.details {
            for g in &d.group_detail_list {
                let account = arn_account(&g.arn).map_or("", |(a, _)| a);
                groups.insert(format!("{account}:{}", g.group_name), g);
            }
            for p in &d.policies {
                managed.insert(p.arn.as_str(), p);
            }
        }

        for (origin, places, d) in &self.details {
            let place = |arn: &str| places.get(arn).copied().unwrap_or(1);
            lines.file(origin);
            if d.is_truncated {
                findings.unresolved(
                    origin,
                    None,
                    "IsTruncated is true: this is one page of the account's authorization details, so users, roles or policies may be missing; run the command without --max-items (the CLI pages through them all)",
                );
            }
            // Permissions as "what grants it", and whether any makes the
            // principal an administrator of its account.
            let summarise = |attached: &[AttachedPolicy],
                             inline: &[InlinePolicy],
                             via: Option<&str>,
                             out: &mut Vec<String>|
             -> (Option<String>, bool) {
                let mut admin = None;
                let mut denied = false;
                let prefix = via.map(|g| format!("group/{g}: ")).unwrap_or_default();
                for a in attached {
                    out.push(format!(
                        "{prefix}{}",
                        a.policy_arn.rsplit(':').next().unwrap_or(&a.policy_arn)
                    ));
                    let document = managed
                        .get(a.policy_arn.as_str())
                        .and_then(|p| p.default_document());
                    denied |= document.is_some_and(PolicyDocument::denies_everything);
                    let grants_all = is_admin_managed_policy(&a.policy_arn)
                        || document.is_some_and(PolicyDocument::is_admin_equivalent);
                    if grants_all && admin.is_none() {
                        admin = Some(format!("{prefix}{}", a.policy_name));
                    }
                }
                for p in inline {
                    out.push(format!("{prefix}inline/{}", p.policy_name));
                    denied |= p.policy_document.denies_everything();
                    if p.policy_document.is_admin_equivalent() && admin.is_none() {
                        admin = Some(format!("{prefix}inline/{}", p.policy_name));
                    }
                }
                (admin, denied)
            };

            for u in &d.user_detail_list {
                let Some((account, _)) = arn_account(&u.arn) else {
                    findings.unresolved(
                        origin,
                        Some(place(&u.arn)),
                        format!(
                            "user {}: {:?} is not an IAM ARN; skipped",
                            u.user_name, u.arn
                        ),
                    );
                    continue;
                };
                let line = place(&u.arn);
                let id = principal_id(account, "user", &u.user_name);
                let row = report_rows.remove(&u.arn);
                let kind = match &row {
                    Some((_, r))
                        if r.credentials
                            .iter()
                            .any(|c| c.kind == crate::model::CredentialKind::AccessKey) =>
                    {
                        IdentityKind::ApiKey
                    }
                    _ => IdentityKind::ServiceAccount,
                };
                let mut i = Identity::new(
                    &id,
                    kind,
                    &u.user_name,
                    Environment::Production,
                    Tier::IMPORTANT,
                );
                i.external_ids = vec![u.arn.clone()];
                i.lifetime = Some(Lifetime::LongLived);
                i.description = format!("AWS IAM user in account {account}.");
                let (mut admin, mut denied) = summarise(
                    &u.attached_managed_policies,
                    &u.user_policy_list,
                    None,
                    &mut i.permissions,
                );
                for g in &u.group_list {
                    match groups.get(&format!("{account}:{g}")) {
                        Some(group) => {
                            let (a, d) = summarise(&group.attached_managed_policies, &group.group_policy_list, Some(g), &mut i.permissions);
                            admin = admin.or(a);
                            denied |= d;
                        }
                        None => findings.unresolved(origin, Some(line), format!("user {}: its group {g} is in no GroupDetailList of its account in the import, so what it grants is not known", u.user_name)),
                    }
                }
                // An explicit deny of everything wins over any allow.
                i.admin_equivalent = admin.is_some() && !denied;
                // Without its report row the files say nothing of its keys:
                // what is stored stands (the import replaces what it
                // speaks for, MergeMode::Sync).
                let stored = stored_by_id.get(id.as_str()).copied();
                match row {
                    Some((_, r)) => i.credentials = r.credentials,
                    None => {
                        if let Some(s) = stored {
                            i.credentials = s.credentials.clone();
                            i.kind = s.kind;
                        }
                        let why = if reported_accounts.contains(account) {
                            format!(
                                "the credential report of account {account} has no row for it (made before the user?)"
                            )
                        } else {
                            format!("no credential report for account {account} is in the import")
                        };
                        findings.note(origin, Some(line), format!("user {}: {why}, so its access keys (age, last use) are not known{}; import `aws iam get-credential-report` beside it", u.user_name, if stored.is_some() { " and those recorded are kept" } else { "" }));
                    }
                }
                apply_tags(&mut i, &u.tags, origin, line, findings);
                lines.entity(Section::Identities, &id, line);
                inv.identities.push(i);
            }

            for r in &d.role_detail_list {
                let line = place(&r.arn);
                let Some((account, _)) = arn_account(&r.arn) else {
                    findings.unresolved(
                        origin,
                        Some(line),
                        format!(
                            "role {}: {:?} is not an IAM ARN; skipped",
                            r.role_name, r.arn
                        ),
                    );
                    continue;
                };
                if r.path.starts_with("/aws-service-role/") {
                    // Made and managed by an AWS service; nothing an owner
                    // can contain or change.
                    findings.skip(FORMAT, "service-linked role", origin, line);
                    continue;
                }
                let id = principal_id(account, "role", &r.role_name);
                let mut i = Identity::new(
                    &id,
                    IdentityKind::WorkloadIdentity,
                    &r.role_name,
                    Environment::Production,
                    Tier::IMPORTANT,
                );
                i.external_ids = vec![r.arn.clone()];
                i.lifetime = Some(Lifetime::Ephemeral);
                i.description = format!("AWS IAM role in account {account}.");
                let (admin, denied) = summarise(
                    &r.attached_managed_policies,
                    &r.role_policy_list,
                    None,
                    &mut i.permissions,
                );
                i.admin_equivalent = admin.is_some() && !denied;
                apply_tags(&mut i, &r.tags, origin, line, findings);
                let mut trusted_roles: Vec<String> = Vec::new();
                if let Some(trust) = &r.assume_role_policy_document {
                    for s in trust.trusted() {
                        let p = s
                            .principal
                            .as_ref()
                            .expect("trusted() keeps statements with one");
                        if p.anyone {
                            findings.unresolved(origin, Some(line), format!("role {}: its trust policy lets any AWS principal (\"*\") assume it{}", r.role_name, if s.condition.is_empty() { "" } else { ", under conditions" }));
                        }
                        for a in &p.aws {
                            let arn = if a.bytes().all(|b| b.is_ascii_digit()) {
                                format!("arn:aws:iam::{a}:root")
                            } else {
                                a.clone()
                            };
                            if arn.ends_with(":root") {
                                findings.note(origin, Some(line), format!("role {}: trusts account {} as a whole: any of its principals allowed sts:AssumeRole may assume it, which IAM's files of that account would tell", r.role_name, arn_account(&arn).map_or(arn.as_str(), |(acc, _)| acc)));
                                continue;
                            }
                            match by_arn.get(&arn).map(String::as_str).or_else(|| known_by_external.get(arn.as_str()).copied()) {
                                Some(parent) => trusted_roles.push(parent.to_owned()),
                                None => findings.unresolved(origin, Some(line), format!("role {}: trusts {arn}, which is neither in the import nor in the inventory; import that account's authorization details too", r.role_name)),
                            }
                        }
                        for svc in &p.service {
                            let sid = format!("aws:{account}:{svc}");
                            if services_added.insert(sid.clone())
                                && !working.services.iter().any(|x| x.id == sid)
                            {
                                let service = Service {
                                    id: sid.clone(),
                                    name: format!("{svc} (account {account})"),
                                    owner: i.owner.clone(),
                                    tier: Tier::IMPORTANT,
                                    system: None,
                                    description: format!(
                                        "What in account {account} runs with roles that trust {svc}: which functions, instances or tasks is not in IAM's files."
                                    ),
                                    depends_on: Vec::new(),
                                };
                                lines.entity(Section::Services, &sid, line);
                                inv.services.push(service);
                            }
                            let mut usage = Usage::of(&sid);
                            usage.delivery = Some(SecretDelivery::Dynamic);
                            i.used_by.push(usage);
                        }
                        for provider in &p.federated {
                            let accounts = federated_service_accounts(s);
                            if accounts.is_empty() {
                                findings.note(origin, Some(line), format!("role {}: federated to {provider}; who signs in through it is not in IAM's files", r.role_name));
                            }
                            for (ns, name) in accounts {
                                let sa = format!("k8s:{ns}/{name}");
                                let by_external = known_by_external
                                    .get(sa.as_str())
                                    .and_then(|id| stored_by_id.get(id));
                                match stored_by_id.get(sa.as_str()).or(by_external).copied() {
                                    Some(account_identity) => {
                                        trusted_roles.push(account_identity.id.clone());
                                        // The workloads that run as the account
                                        // use the role's sessions: containing
                                        // the role breaks them.
                                        for u in &account_identity.used_by {
                                            if !i.used_by.iter().any(|x| x.service == u.service) {
                                                let mut usage = Usage::of(&u.service);
                                                usage.delivery = Some(SecretDelivery::Dynamic);
                                                usage.access = u.access;
                                                i.used_by.push(usage);
                                            }
                                        }
                                    }
                                    None => findings.unresolved(origin, Some(line), format!("role {}: federated to the Kubernetes service account {ns}/{name} (through {provider}), which is not in the inventory; import its manifests with this file so the workloads that assume the role are known", r.role_name)),
                                }
                            }
                        }
                    }
                }
                // Lineage: its sessions are minted from the first principal
                // that assumes it; the others are said.
                let mut trusted_roles = trusted_roles.into_iter();
                i.derived_from = trusted_roles.next();
                for other in trusted_roles {
                    findings.note(
                        origin,
                        Some(line),
                        format!(
                            "role {}: also assumable by {other}; lineage records one parent ({})",
                            r.role_name,
                            i.derived_from.as_deref().unwrap_or("")
                        ),
                    );
                }
                if let Some(last) = r
                    .role_last_used
                    .as_ref()
                    .and_then(|l| l.last_used_date.as_deref())
                {
                    i.description.push_str(&format!(" Last used {last}."));
                }
                lines.entity(Section::Identities, &id, line);
                inv.identities.push(i);
            }
        }
        // An owner a tag names that neither this import nor the inventory
        // holds is kept as written, and said once, as the other importers
        // do.
        let mut unknown_owners: HashSet<&str> = HashSet::new();
        let known_owners: HashSet<&str> = working.owners.iter().map(|o| o.id.as_str()).collect();
        for i in &inv.identities {
            // A stored owner wins the merge: the tag's is then not used.
            let stored_owner = stored_by_id
                .get(i.id.as_str())
                .and_then(|s| s.owner.as_deref());
            if let Some(owner) = i.owner.as_deref()
                && stored_owner.is_none()
                && !known_owners.contains(owner)
                && unknown_owners.insert(owner)
            {
                let (file, line) = lines
                    .entity_at(Section::Identities, &i.id)
                    .map(|(f, l)| (f.to_owned(), Some(l)))
                    .unwrap_or_default();
                findings.unresolved(
                    &file,
                    line,
                    format!(
                        "{}: owner {owner} (from its tags) is neither in this import nor in the inventory; kept as the owner id {owner} (here and on every other principal that names it)",
                        i.name
                    ),
                );
            }
        }
        for (arn, (origin, row)) in report_rows {
            findings.unresolved(&origin, Some(row.line), format!("user {} ({arn}) is in the credential report but not in any authorization details of the import; import `aws iam get-account-authorization-details` of its account", row.user));
        }
        // The root user's keys (the report's `<root_account>` row) go to
        // the identity that stands for the account's root, the inventory's
        // break-glass record of it (external id `arn:aws:iam::ACCOUNT:root`);
        // with none, keys are said, never dropped (CIS AWS Foundations 1.4:
        // the root user has no access keys).
        for (origin, root) in self.roots {
            if root.credentials.is_empty() {
                continue;
            }
            let account = arn_account(&root.arn).map_or("?", |(a, _)| a);
            let root_arn = format!("arn:aws:iam::{account}:root");
            let holder = known_by_external
                .get(root_arn.as_str())
                .or_else(|| known_by_external.get(root.arn.as_str()))
                .and_then(|id| stored_by_id.get(id));
            let active = root.credentials.iter().filter(|c| c.active).count();
            match holder {
                Some(stored) => {
                    let mut i = (*stored).clone();
                    i.credentials = root.credentials;
                    lines.file(&origin);
                    lines.entity(Section::Identities, &i.id, root.line);
                    if active > 0 {
                        findings.note(&origin, Some(root.line), format!("the root user of account {account} ({}) has {active} active access key(s) or certificate(s); CIS AWS Foundations 1.4: the root user should have none", i.id));
                    }
                    inv.identities.push(i);
                }
                None => findings.unresolved(&origin, Some(root.line), format!("the root user of account {account} has {} access key(s) or certificate(s), {active} active (CIS AWS Foundations 1.4: it should have none); no identity in the import or the inventory stands for the root (external id {root_arn}), so they are not recorded: record the root as a break-glass identity with that external id", root.credentials.len())),
            }
        }
        (inv, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: &str =
        include_str!("../../tests/fixtures/cloud/aws/prod-111122223333/authorization-details.json");

    #[test]
    fn the_cli_output_reads_with_its_loose_grammar() {
        let d = read_details(PROD, "prod.json").unwrap();
        assert_eq!(d.user_detail_list.len(), 2);
        assert_eq!(d.role_detail_list.len(), 3);
        // The Lambda role's trust policy is URL-encoded, as the API returns it.
        let lambda = &d.role_detail_list[1];
        let trust = lambda.assume_role_policy_document.as_ref().unwrap();
        let s = trust.trusted().next().unwrap();
        assert_eq!(
            s.principal.as_ref().unwrap().service,
            ["lambda.amazonaws.com"]
        );
        // A single Statement object, not a list.
        let irsa = &d.role_detail_list[0];
        assert_eq!(irsa.role_policy_list[0].policy_document.statements.len(), 1);
        assert_eq!(
            federated_service_accounts(
                irsa.assume_role_policy_document
                    .as_ref()
                    .unwrap()
                    .trusted()
                    .next()
                    .unwrap()
            ),
            [("shop".to_owned(), "orders-api".to_owned())]
        );
    }

    #[test]
    fn only_the_default_policy_version_is_in_force() {
        let d = read_details(PROD, "prod.json").unwrap();
        let p = &d.policies[0];
        assert!(!p.default_document().unwrap().is_admin_equivalent());
        assert!(p.policy_version_list[1].document.is_admin_equivalent());
    }

    #[test]
    fn admin_equivalence_is_read_from_the_statements() {
        let doc = |json: &str| -> PolicyDocument { serde_json::from_str(json).unwrap() };
        assert!(
            doc(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#)
                .is_admin_equivalent()
        );
        assert!(
            doc(r#"{"Statement": [{"Action": ["iam:*"], "Resource": ["*"]}]}"#)
                .is_admin_equivalent()
        );
        assert!(
            doc(r#"{"Statement": {"NotAction": "s3:*", "Resource": "*"}}"#).is_admin_equivalent()
        );
        assert!(
            !doc(r#"{"Statement": {"NotAction": "iam:*", "Resource": "*"}}"#).is_admin_equivalent()
        );
        assert!(
            !doc(r#"{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}"#)
                .is_admin_equivalent()
        );
        assert!(
            !doc(r#"{"Statement": {"Action": "*", "Resource": "arn:aws:s3:::b/*"}}"#)
                .is_admin_equivalent()
        );
        // The ways to grant oneself the rest (privilege escalation).
        for action in [
            "iam:Put*",
            "iam:attachrolepolicy",
            "iam:*Policy*",
            "iam:CreateAccessKey",
            "iam:?pdateAssumeRolePolicy",
        ] {
            let json = format!(r#"{{"Statement": {{"Action": "{action}", "Resource": "*"}}}}"#);
            assert!(doc(&json).is_admin_equivalent(), "{action}");
        }
        for action in ["iam:Get*", "iam:List*", "iam:PassRole", "s3:Put*"] {
            let json = format!(r#"{{"Statement": {{"Action": "{action}", "Resource": "*"}}}}"#);
            assert!(!doc(&json).is_admin_equivalent(), "{action}");
        }
        // An explicit deny of everything wins; a conditional one may not apply.
        assert!(
            !doc(r#"{"Statement": [{"Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#)
                .is_admin_equivalent()
        );
        assert!(
            doc(r#"{"Statement": [{"Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]}"#)
                .is_admin_equivalent()
        );
        assert!(is_admin_managed_policy(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!is_admin_managed_policy(
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ));
    }

    #[test]
    fn a_bad_value_names_its_json_path() {
        let text = r#"{"RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r",
            "AssumeRolePolicyDocument": {"Statement": [{"Principal": 7}]}}]}"#;
        let err = read_details(text, "bad.json").unwrap_err();
        let InventoryError::Invalid { at, message, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            at, "RoleDetailList[0].AssumeRolePolicyDocument",
            "{message}"
        );
        assert!(
            message.contains("Statement[0].Principal: expected \"*\" or an object")
                && message.contains("found a number"),
            "{message}"
        );
    }

    #[test]
    fn an_effect_iam_does_not_know_is_refused() {
        let err = serde_json::from_str::<PolicyDocument>(
            r#"{"Statement": {"Effect": "Permit", "Action": "*", "Resource": "*"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("Statement.Effect: unknown variant `Permit`"),
            "{err}"
        );
    }

    #[test]
    fn arns_name_their_account() {
        assert_eq!(
            arn_account("arn:aws:iam::111122223333:role/service-role/ingest-lambda"),
            Some(("111122223333", "role/service-role/ingest-lambda"))
        );
        assert_eq!(
            arn_account("arn:aws-cn:iam::444455556666:user/x"),
            Some(("444455556666", "user/x"))
        );
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn the_credential_report_reads_as_csv_and_as_the_clis_json() {
        let csv =
            include_str!("../../tests/fixtures/cloud/aws/prod-111122223333/credential-report.csv");
        let (users, root) = read_credential_report(csv, "report.csv").unwrap();
        assert_eq!(root.map(|r| r.line), Some(2));
        let deployer = &users[0];
        assert_eq!(deployer.user, "ci-deployer");
        assert_eq!(deployer.line, 3);
        let keys: Vec<(&str, bool, Option<String>)> = deployer
            .credentials
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.active,
                    c.last_used_on.map(|d| d.to_string()),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("access_key_1", true, Some("2026-11-29".to_owned())),
                ("access_key_2", false, Some("2022-08-01".to_owned())),
            ]
        );
        let json = include_str!(
            "../../tests/fixtures/cloud/aws/tooling-444455556666/credential-report.json"
        );
        let (users, _) = read_credential_report(json, "report.json").unwrap();
        assert_eq!(users[0].user, "build-cache-writer");
        assert_eq!(users[0].credentials[0].last_used_on, None, "never used");
        assert_eq!(
            users[0].credentials[0]
                .created_on
                .map(|d| d.to_string())
                .as_deref(),
            Some("2024-05-20")
        );
    }

    #[test]
    fn a_table_without_the_reports_key_columns_is_no_report() {
        let err = read_credential_report("user,arn\nfoo,bar\n", "r.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("r.csv:1")
                && err.contains("not a credential report: no `access_key_1_active` column"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_report_date_names_its_line_and_column() {
        let csv = "user,arn,user_creation_time,access_key_1_active,access_key_1_last_rotated,access_key_2_active\n\
                   bot,arn:aws:iam::1:user/bot,2020-01-01T00:00:00+00:00,true,yesterday,false\n";
        let err = read_credential_report(csv, "r.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("r.csv:2"), "{err}");
        assert!(err.contains("access_key_1_last_rotated"), "{err}");
        assert!(err.contains("\"yesterday\" is not a date"), "{err}");
    }
}
