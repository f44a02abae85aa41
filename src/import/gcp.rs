//! Google Cloud IAM as gcloud prints it (`--format=json`), without any
//! network access (issue 21): `gcloud iam service-accounts list`, `gcloud
//! iam service-accounts keys list --iam-account=…` (each account's keys)
//! and `gcloud projects get-iam-policy` (the project's bindings).
//!
//! A service account is an identity `gcp:EMAIL`; its user-managed keys are
//! its credentials (Google-managed keys are rotated by Google and counted,
//! not imported); each binding naming it adds the role to its permissions,
//! and the basic roles Owner and Editor (or a project-level role that can
//! grant or impersonate them) make it admin-equivalent.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use crate::inventory::{Inventory, InventoryError, LineMap, Section};
use crate::model::{
    Credential, CredentialKind, Environment, Identity, IdentityKind, Lifetime, Tier,
};

/// What the import report calls these files.
pub(super) const FORMAT: &str = "Google Cloud";

/// The roles that make their holder an administrator of the project: the
/// basic roles that grant (almost) everything, and, granted on the
/// project, those that let it grant itself the rest (set the project's IAM
/// policy) or act as any service account of it (mint its tokens, make its
/// keys), an Owner's among them.
const ADMIN_ROLES: [&str; 6] = [
    "roles/owner",
    "roles/editor",
    "roles/resourcemanager.projectIamAdmin",
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountKeyAdmin",
];

/// Google's end of time: a key valid "until" it never expires.
const NEVER: &str = "9999-12-31";

fn first(v: &Value) -> Option<&Value> {
    v.as_array().and_then(|a| a.first())
}

/// Whether `v` is `gcloud iam service-accounts list` output.
pub(super) fn is_service_accounts(v: &Value) -> bool {
    first(v).is_some_and(|f| {
        f.get("email").is_some()
            && f.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.contains("/serviceAccounts/"))
            && f.get("keyType").is_none()
    })
}

/// Whether `v` is `gcloud iam service-accounts keys list` output.
pub(super) fn is_keys(v: &Value) -> bool {
    first(v).is_some_and(|f| f.get("keyType").is_some() && f.get("name").is_some())
}

/// Whether `v` is an IAM policy (`gcloud projects get-iam-policy`).
pub(super) fn is_policy(v: &Value) -> bool {
    v.get("bindings").is_some_and(Value::is_array) && v.get("etag").is_some()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceAccount {
    email: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    name: String,
    key_type: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default, deserialize_with = "google_time")]
    valid_after_time: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "google_time")]
    valid_before_time: Option<jiff::civil::Date>,
}

/// An RFC 3339 time as a UTC date; Google's "never"
/// (`9999-12-31T23:59:59Z`, past the last instant many libraries hold) as
/// none.
fn google_time<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<jiff::civil::Date>, D::Error> {
    use serde::de::Error;
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if text.starts_with(NEVER) {
        return Ok(None);
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| Some(jiff::tz::Offset::UTC.to_datetime(t).date()))
        .map_err(|e| D::Error::custom(format!("{text:?} is not a time (RFC 3339): {e}")))
}

#[derive(Debug, Deserialize)]
struct Policy {
    #[serde(default)]
    bindings: Vec<Binding>,
}

#[derive(Debug, Deserialize)]
struct Binding {
    role: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    condition: Option<Condition>,
}

#[derive(Debug, Deserialize)]
struct Condition {
    #[serde(default)]
    title: Option<String>,
}

/// A Google-managed service agent (`service-…@compute-system…`,
/// `…@gcp-sa-….iam.gserviceaccount.com`, `…@cloudservices…`): Google's own
/// accounts acting for a service, which no owner contains.
/// Not the default Compute Engine (`N-compute@developer…`) or App Engine
/// (`P@appspot…`) accounts: those are the project's own, often Editors.
fn is_service_agent(email: &str) -> bool {
    let (local, domain) = email.split_once('@').unwrap_or(("", email));
    (local.starts_with("service-") && domain.ends_with(".gserviceaccount.com"))
        || domain.starts_with("gcp-sa-")
        || domain.ends_with("-system.iam.gserviceaccount.com")
        || domain == "cloudservices.gserviceaccount.com"
        || domain == "container-engine-robot.iam.gserviceaccount.com"
}

/// Every Google Cloud file of one import, resolved as one set.
#[derive(Default)]
pub(super) struct Projects {
    /// Each with its file and the line it is written on.
    accounts: Vec<(String, u64, ServiceAccount)>,
    keys: Vec<(String, u64, Key)>,
    /// Each with its file and the line of each member it names.
    policies: Vec<(String, HashMap<String, u64>, Policy)>,
    /// Where each service account and key was first listed.
    seen: super::json::Listings,
}

/// What to do about an account or key listed twice.
const ONE_LIST: &str = "An import reads one list of each project's accounts and of each account's keys: keep one of the two files";

impl Projects {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.keys.is_empty() && self.policies.is_empty()
    }

    pub fn add_service_accounts(&mut self, origin: &str, text: &str) -> Result<(), InventoryError> {
        let list = super::json::read::<Vec<ServiceAccount>>(text, origin)?;
        let mut places = super::json::Lines::new(text, "email");
        for (n, a) in list.into_iter().enumerate() {
            let line = places.next(&a.email);
            let key = format!("service account {}", a.email);
            self.seen
                .first(&key, origin, line, &format!("[{n}].email"), ONE_LIST)?;
            self.accounts.push((origin.to_owned(), line, a));
        }
        Ok(())
    }

    pub fn add_keys(&mut self, origin: &str, text: &str) -> Result<(), InventoryError> {
        let list = super::json::read::<Vec<Key>>(text, origin)?;
        let mut places = super::json::Lines::new(text, "name");
        for (n, k) in list.into_iter().enumerate() {
            let line = places.next(&k.name);
            let key = format!("key {}", k.name);
            self.seen
                .first(&key, origin, line, &format!("[{n}].name"), ONE_LIST)?;
            self.keys.push((origin.to_owned(), line, k));
        }
        Ok(())
    }

    pub fn add_policy(&mut self, origin: &str, text: &str) -> Result<(), InventoryError> {
        let p = super::json::read::<Policy>(text, origin)?;
        let places = super::json::Lines::new(text, "members");
        let members = p
            .bindings
            .iter()
            .flat_map(|b| &b.members)
            .map(|m| (m.clone(), places.of(m)))
            .collect();
        self.policies.push((origin.to_owned(), members, p));
        Ok(())
    }

    pub fn build(
        self,
        working: &Inventory,
        findings: &mut super::Findings,
    ) -> (Inventory, LineMap) {
        let mut inv = Inventory::default();
        let mut lines = LineMap::default();
        let stored_by_id = working.identities_by_id();
        for (origin, line, a) in &self.accounts {
            lines.file(origin);
            let id = format!("gcp:{}", a.email);
            let name = a
                .display_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| a.email.clone());
            let mut i = Identity::new(
                &id,
                IdentityKind::ServiceAccount,
                &name,
                Environment::Production,
                Tier::IMPORTANT,
            );
            i.external_ids = vec![id.clone()];
            i.lifetime = Some(Lifetime::Ephemeral);
            i.description = format!(
                "Google Cloud service account {} in project {}.",
                a.email,
                a.project_id.as_deref().unwrap_or("?")
            );
            if let Some(d) = a.description.as_deref().filter(|d| !d.is_empty()) {
                i.description.push(' ');
                i.description.push_str(d);
            }
            if a.disabled {
                i.description.push_str(" Disabled.");
            }
            // Its keys and bindings come from other files: until they do,
            // what is stored stands (the import replaces what it speaks
            // for, MergeMode::Sync).
            if let Some(stored) = stored_by_id.get(id.as_str()) {
                i.credentials = stored.credentials.clone();
                i.lifetime = stored.lifetime;
                i.permissions = stored.permissions.clone();
                i.admin_equivalent = stored.admin_equivalent;
            }
            lines.entity(Section::Identities, &id, *line);
            inv.identities.push(i);
        }
        // The identity `id` as this import will hold it: listed by its
        // files, else as stored (the import then adds to it); `None` when
        // neither knows it.
        let mut at: HashMap<String, usize> = inv
            .identities
            .iter()
            .enumerate()
            .rev() // the first of an id listed twice, as a scan finds it
            .map(|(n, i)| (i.id.clone(), n))
            .collect();
        let mut slot =
            |inv: &mut Inventory, lines: &mut LineMap, id: &str, origin: &str, line: u64| {
                if let Some(&n) = at.get(id) {
                    return Some(n);
                }
                let stored = *stored_by_id.get(id)?;
                inv.identities.push(stored.clone());
                lines.file(origin);
                lines.entity(Section::Identities, id, line);
                at.insert(id.to_owned(), inv.identities.len() - 1);
                Some(inv.identities.len() - 1)
            };
        // Accounts whose key lists are in the import: their keys are
        // those, replacing what was stored.
        let mut keyed: HashSet<String> = HashSet::new();
        for (origin, line, k) in &self.keys {
            let line = *line;
            let Some((account, key_id)) = k
                .name
                .split_once("/serviceAccounts/")
                .and_then(|(_, rest)| rest.split_once("/keys/"))
            else {
                findings.unresolved(origin, Some(line), format!("key {:?}: not a service account key's name (projects/P/serviceAccounts/EMAIL/keys/ID); skipped", k.name));
                continue;
            };
            let id = format!("gcp:{account}");
            let Some(at) = slot(&mut inv, &mut lines, &id, origin, line) else {
                findings.unresolved(origin, Some(line), format!("key {key_id} of {account}, which is neither in this import nor in the inventory; import `gcloud iam service-accounts list` of its project"));
                continue;
            };
            let i = &mut inv.identities[at];
            // A key list is the account's whole list, Google's keys
            // included: it replaces the keys stored for it.
            if keyed.insert(id.clone()) {
                i.credentials.clear();
                i.lifetime = Some(Lifetime::Ephemeral);
            }
            if k.key_type != "USER_MANAGED" {
                findings.skip(
                    FORMAT,
                    "Google-managed key (rotated by Google)",
                    origin,
                    line,
                );
                continue;
            }
            let mut c = Credential::new(key_id, CredentialKind::PrivateKey);
            c.created_on = k.valid_after_time;
            c.expires_on = k.valid_before_time;
            c.active = !k.disabled;
            i.credentials.push(c);
            i.lifetime = Some(Lifetime::LongLived);
        }
        for (origin, members, p) in &self.policies {
            let line_of = |m: &str| members.get(m).copied().unwrap_or(1);
            let mut people = 0usize;
            let mut granted: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut agents: HashSet<&str> = HashSet::new();
            for b in &p.bindings {
                for m in &b.members {
                    let Some(email) = m.strip_prefix("serviceAccount:") else {
                        let line = line_of(m);
                        match m.as_str() {
                            "allUsers" | "allAuthenticatedUsers" => findings.unresolved(origin, Some(line), format!("the policy grants {} to {m}: anyone{} may use it, and no identity holds it to contain", b.role, if m == "allUsers" { " on the internet" } else { " with a Google account" })),
                            m if m.starts_with("deleted:") => findings.unresolved(origin, Some(line), format!("the policy still grants {} to {m}, a deleted principal: remove the binding", b.role)),
                            m if m.starts_with("principal://") || m.starts_with("principalSet://") => findings.unresolved(origin, Some(line), format!("the policy grants {} to the federated identities {m} (workload identity federation), which no file of the import describes; not imported", b.role)),
                            _ => people += 1,
                        }
                        continue;
                    };
                    if is_service_agent(email) {
                        if agents.insert(email) {
                            findings.skip(
                                FORMAT,
                                "binding of a Google-managed service agent",
                                origin,
                                line_of(m),
                            );
                        }
                        continue;
                    }
                    let role = match b.condition.as_ref().and_then(|c| c.title.as_deref()) {
                        Some(title) => format!("{} (conditional: {title})", b.role),
                        None => b.role.clone(),
                    };
                    granted.entry(email.to_owned()).or_default().push(role);
                }
            }
            if people > 0 {
                findings.note(origin, None, format!("{people} binding member(s) are people, groups or domains (user:, group:, domain:), not machine identities: not imported"));
            }
            for (email, roles) in granted {
                let id = format!("gcp:{email}");
                let line = line_of(&format!("serviceAccount:{email}"));
                let admin = roles.iter().any(|r| ADMIN_ROLES.contains(&r.as_str()));
                match slot(&mut inv, &mut lines, &id, origin, line) {
                    Some(at) => {
                        let i = &mut inv.identities[at];
                        for r in roles {
                            if !i.permissions.contains(&r) {
                                i.permissions.push(r);
                            }
                        }
                        i.admin_equivalent |= admin;
                    }
                    None => findings.unresolved(origin, Some(line), format!("the policy grants {} to {email}, which is neither in this import nor in the inventory; import `gcloud iam service-accounts list` of its project", roles.join(", "))),
                }
            }
        }
        (inv, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_told_apart_by_shape() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let accounts = v(include_str!(
            "../../tests/fixtures/cloud/gcp/service-accounts.json"
        ));
        let keys = v(include_str!(
            "../../tests/fixtures/cloud/gcp/keys-warehouse-exporter.json"
        ));
        let policy = v(include_str!(
            "../../tests/fixtures/cloud/gcp/iam-policy.json"
        ));
        assert!(is_service_accounts(&accounts) && !is_keys(&accounts) && !is_policy(&accounts));
        assert!(is_keys(&keys) && !is_service_accounts(&keys));
        assert!(is_policy(&policy) && !is_keys(&policy));
    }

    #[test]
    fn service_agents_are_googles() {
        assert!(is_service_agent(
            "service-123456789012@compute-system.iam.gserviceaccount.com"
        ));
        assert!(is_service_agent(
            "service-1@gcp-sa-pubsub.iam.gserviceaccount.com"
        ));
        assert!(is_service_agent("123@cloudservices.gserviceaccount.com"));
        assert!(!is_service_agent(
            "warehouse-exporter@harbor-data-prod.iam.gserviceaccount.com"
        ));
        assert!(!is_service_agent(
            "123456789012-compute@developer.gserviceaccount.com"
        ));
        assert!(!is_service_agent(
            "harbor-data-prod@appspot.gserviceaccount.com"
        ));
    }
}
