//! Microsoft Entra ID as the Azure CLI prints it, without any network
//! access (issue 21): `az ad sp list --all` (service principals, managed
//! identities among them) and `az ad app list --all` (the applications
//! whose secrets and certificates their service principals sign in with).
//! Both are Microsoft Graph objects, so a Graph export (`{"value": […]}`,
//! with `appRoleAssignments` or `owners` expanded) reads the same way.
//!
//! An application's service principal is one identity, `entra:APP_ID`,
//! with the credentials of its application object; a managed identity is a
//! workload identity (Azure mints its tokens). Microsoft's own first-party
//! service principals, which every tenant lists, are skipped and counted.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::inventory::{Inventory, InventoryError, LineMap, Section};
use crate::model::{
    Credential, CredentialKind, Environment, Identity, IdentityKind, Lifetime, Tier,
};

/// What the import report calls these files.
pub(super) const FORMAT: &str = "Entra ID";

/// The tenants Microsoft's first-party applications belong to.
const MICROSOFT_TENANTS: [&str; 2] = [
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
];

/// Microsoft Graph application permissions that let their holder make
/// itself (or anything) a tenant administrator: granting roles, granting
/// app roles, or adding credentials to any application.
const ESCALATING_GRAPH_ROLES: [(&str, &str); 4] = [
    (
        "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
        "RoleManagement.ReadWrite.Directory",
    ),
    (
        "06b708a9-e830-4db3-a914-8e69da51d44f",
        "AppRoleAssignment.ReadWrite.All",
    ),
    (
        "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        "Application.ReadWrite.All",
    ),
    (
        "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
        "Directory.ReadWrite.All",
    ),
];

/// The objects of a list, as the CLI prints them (an array) or as Graph
/// returns them (`{"value": […]}`).
fn objects(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(items) => Some(items),
        Value::Object(o) => o.get("value").and_then(Value::as_array),
        _ => None,
    }
}

/// What a Microsoft Graph page says it lists: its `@odata.context` ends
/// in `$metadata#servicePrincipals` or `$metadata#applications` (with a
/// `(…)` of the selected properties under `$select`).
fn graph_context(v: &Value) -> Option<&str> {
    let context = v.get("@odata.context")?.as_str()?;
    let (_, set) = context.rsplit_once("$metadata#")?;
    Some(set.split(['(', '/']).next().unwrap_or(set))
}

/// Whether `v` lists service principals: a Graph page saying so, or
/// objects with the properties only service principals have.
pub(super) fn is_service_principals(v: &Value) -> bool {
    if let Some(set) = graph_context(v) {
        return set == "servicePrincipals";
    }
    objects(v)
        .and_then(|items| items.first())
        .is_some_and(|first| {
            first.get("appId").is_some()
                && [
                    "servicePrincipalType",
                    "servicePrincipalNames",
                    "appOwnerOrganizationId",
                ]
                .iter()
                .any(|k| first.get(k).is_some())
        })
}

/// Whether `v` lists application objects: a Graph page saying so, or
/// objects with the properties only applications have (a `$select` keeps
/// some of them, `az ad app list` prints them all).
pub(super) fn is_applications(v: &Value) -> bool {
    if let Some(set) = graph_context(v) {
        return set == "applications";
    }
    objects(v)
        .and_then(|items| items.first())
        .is_some_and(|first| {
            first.get("appId").is_some()
                && !is_service_principals(v)
                && [
                    "signInAudience",
                    "requiredResourceAccess",
                    "identifierUris",
                    "publisherDomain",
                    "web",
                    "api",
                ]
                .iter()
                .any(|k| first.get(k).is_some())
        })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServicePrincipal {
    id: String,
    app_id: String,
    display_name: String,
    service_principal_type: String,
    #[serde(default)]
    account_enabled: Option<bool>,
    #[serde(default)]
    app_owner_organization_id: Option<String>,
    #[serde(default)]
    alternative_names: Vec<String>,
    #[serde(default)]
    password_credentials: Vec<GraphCredential>,
    #[serde(default)]
    key_credentials: Vec<GraphCredential>,
    /// Only in a Graph export that expands them (`az ad sp list` omits
    /// them): absent, the permissions are not known.
    #[serde(default)]
    app_role_assignments: Option<Vec<AppRoleAssignment>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Application {
    app_id: String,
    #[serde(default)]
    password_credentials: Vec<GraphCredential>,
    #[serde(default)]
    key_credentials: Vec<GraphCredential>,
    #[serde(default)]
    owners: Vec<DirectoryObject>,
}

/// A `passwordCredential` (client secret) or `keyCredential`
/// (certificate): Graph gives both the same dates and id.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphCredential {
    key_id: String,
    #[serde(default)]
    start_date_time: Option<jiff::Timestamp>,
    #[serde(default)]
    end_date_time: Option<jiff::Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppRoleAssignment {
    app_role_id: String,
    #[serde(default)]
    resource_display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryObject {
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    mail: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

fn day(t: Option<jiff::Timestamp>) -> Option<jiff::civil::Date> {
    t.map(|t| jiff::tz::Offset::UTC.to_datetime(t).date())
}

fn credentials(passwords: &[GraphCredential], keys: &[GraphCredential]) -> Vec<Credential> {
    let kinds = passwords
        .iter()
        .map(|p| (p, CredentialKind::ClientSecret))
        .chain(keys.iter().map(|k| (k, CredentialKind::Certificate)));
    kinds
        .map(|(g, kind)| {
            let mut c = Credential::new(&g.key_id, kind);
            c.created_on = day(g.start_date_time);
            c.expires_on = day(g.end_date_time);
            c
        })
        .collect()
}

/// Reads one list: its objects, and whether Graph said more pages follow
/// (`@odata.nextLink`). A value Graph would not return is named by its
/// JSON path.
fn read_list<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<(Vec<T>, bool), InventoryError> {
    /// One page of a Graph list.
    #[derive(Deserialize)]
    struct Page<T> {
        value: Vec<T>,
        #[serde(rename = "@odata.nextLink", default)]
        next_link: Option<String>,
    }
    if text.trim_start().starts_with('{') {
        let page: Page<T> = super::json::read(text, origin)?;
        Ok((page.value, page.next_link.is_some()))
    } else {
        Ok((super::json::read(text, origin)?, false))
    }
}

/// What to do about an object listed twice.
const ONE_LIST: &str = "An import reads one list of each tenant: keep one of the two files";

/// Every Entra file of one import, resolved as one set (an application's
/// credentials join its service principal, whichever file comes first).
#[derive(Default)]
pub(super) struct Tenant {
    /// Each with its file and the line it starts on.
    principals: Vec<(String, u64, ServicePrincipal)>,
    /// Each with its file and the line it starts on.
    applications: Vec<(String, u64, Application)>,
    /// Where each service principal and application was first listed.
    seen: super::json::Listings,
    /// Files that are one page of several (`@odata.nextLink`).
    paged: Vec<String>,
}

impl Tenant {
    pub fn is_empty(&self) -> bool {
        self.principals.is_empty() && self.applications.is_empty() && self.paged.is_empty()
    }

    pub fn add_service_principals(
        &mut self,
        origin: &str,
        text: &str,
    ) -> Result<(), InventoryError> {
        let (list, more) = read_list::<ServicePrincipal>(text, origin)?;
        if more {
            self.paged.push(origin.to_owned());
        }
        let mut places = super::json::Lines::new(text, "id");
        let page = text.trim_start().starts_with('{');
        for (n, sp) in list.into_iter().enumerate() {
            let line = places.next(&sp.id);
            let at = if page {
                format!("value[{n}]")
            } else {
                format!("[{n}]")
            };
            let seen = &mut self.seen;
            seen.first(
                &format!("service principal {}", sp.id),
                origin,
                line,
                &format!("{at}.id"),
                ONE_LIST,
            )?;
            seen.first(
                &format!("the service principal of application {}", sp.app_id),
                origin,
                line,
                &format!("{at}.appId"),
                ONE_LIST,
            )?;
            self.principals.push((origin.to_owned(), line, sp));
        }
        Ok(())
    }

    pub fn add_applications(&mut self, origin: &str, text: &str) -> Result<(), InventoryError> {
        let (list, more) = read_list::<Application>(text, origin)?;
        if more {
            self.paged.push(origin.to_owned());
        }
        let mut places = super::json::Lines::new(text, "appId");
        let page = text.trim_start().starts_with('{');
        for (n, app) in list.into_iter().enumerate() {
            let line = places.next(&app.app_id);
            let at = if page {
                format!("value[{n}]")
            } else {
                format!("[{n}]")
            };
            self.seen.first(
                &format!("application {}", app.app_id),
                origin,
                line,
                &format!("{at}.appId"),
                ONE_LIST,
            )?;
            self.applications.push((origin.to_owned(), line, app));
        }
        Ok(())
    }

    pub fn build(
        self,
        working: &Inventory,
        findings: &mut super::Findings,
    ) -> (Inventory, LineMap) {
        let mut inv = Inventory::default();
        let mut lines = LineMap::default();
        for origin in &self.paged {
            findings.unresolved(origin, None, "@odata.nextLink: this is one page of Microsoft Graph's list, so service principals or applications may be missing; fetch every page (`az ad sp list --all` and `az ad app list --all` page through them all)");
        }
        let mut apps: HashMap<String, (String, u64, Application)> = self
            .applications
            .into_iter()
            .map(|(origin, line, a)| (a.app_id.clone(), (origin, line, a)))
            .collect();
        let stored_by_id = working.identities_by_id();
        // The stored owners by id and by e-mail, lower-cased (Entra ID's
        // sign-in names are not case-sensitive).
        let owner_by_name: HashMap<String, &str> = working
            .owners
            .iter()
            .flat_map(|o| {
                std::iter::once((o.id.to_lowercase(), o.id.as_str())).chain(
                    o.email
                        .as_deref()
                        .map(|e| (e.to_lowercase(), o.id.as_str())),
                )
            })
            .collect();
        for (origin, line, sp) in self.principals {
            lines.file(&origin);
            let first_party = sp
                .app_owner_organization_id
                .as_deref()
                .is_some_and(|t| MICROSOFT_TENANTS.contains(&t));
            let (kind, lifetime) = match sp.service_principal_type.as_str() {
                "Application" if first_party => {
                    findings.skip(
                        FORMAT,
                        "Microsoft first-party service principal",
                        &origin,
                        line,
                    );
                    continue;
                }
                "Application" => (IdentityKind::OauthApp, Lifetime::LongLived),
                "ManagedIdentity" => (IdentityKind::WorkloadIdentity, Lifetime::Ephemeral),
                other => {
                    findings.skip(FORMAT, &format!("{other} service principal"), &origin, line);
                    continue;
                }
            };
            let id = format!("entra:{}", sp.app_id);
            let mut i = Identity::new(
                &id,
                kind,
                &sp.display_name,
                Environment::Production,
                Tier::IMPORTANT,
            );
            i.lifetime = Some(lifetime);
            i.external_ids = vec![id.clone()];
            i.external_ids.extend(
                sp.alternative_names
                    .iter()
                    .filter(|n| n.starts_with("/subscriptions/"))
                    .cloned(),
            );
            i.description = match kind {
                IdentityKind::WorkloadIdentity => "Entra ID managed identity.".to_owned(),
                _ => "Entra ID application (service principal).".to_owned(),
            };
            if sp.account_enabled == Some(false) {
                i.description
                    .push_str(" Disabled (accountEnabled is false).");
            }
            // What the files do not speak for stays as stored (the import
            // replaces what it speaks for, MergeMode::Sync).
            let stored = stored_by_id.get(id.as_str()).copied();
            i.credentials = credentials(&sp.password_credentials, &sp.key_credentials);
            if let Some((_, _, app)) = apps.remove(&sp.app_id) {
                i.credentials
                    .extend(credentials(&app.password_credentials, &app.key_credentials));
                // A person's sign-in name or mail is matched to the owner
                // the inventory records with that id or e-mail.
                if let Some(owner) = app.owners.iter().find_map(|o| {
                    [&o.user_principal_name, &o.mail]
                        .into_iter()
                        .flatten()
                        .find_map(|name| owner_by_name.get(name.to_lowercase().as_str()))
                        .map(|id| (*id).to_owned())
                        .or_else(|| o.user_principal_name.clone())
                        .or_else(|| o.display_name.clone())
                }) {
                    i.owner = Some(owner);
                }
            } else if kind == IdentityKind::OauthApp {
                if let Some(s) = stored {
                    i.credentials = s.credentials.clone();
                }
                findings.note(&origin, Some(line), format!("{}: its application object is not in the import, so the secrets and certificates it signs in with are not known{}; import `az ad app list --all` beside it (an application registered in another tenant has none here)", sp.display_name, if stored.is_some() { " and those recorded are kept" } else { "" }));
            }
            match &sp.app_role_assignments {
                Some(assignments) => {
                    for a in assignments {
                        let resource = a.resource_display_name.as_deref().unwrap_or("a resource");
                        let escalating = ESCALATING_GRAPH_ROLES
                            .iter()
                            .find(|(role, _)| *role == a.app_role_id);
                        match escalating {
                            Some((_, name)) if resource == "Microsoft Graph" => {
                                i.permissions.push(format!("Microsoft Graph: {name}"));
                                i.admin_equivalent = true;
                            }
                            _ => i
                                .permissions
                                .push(format!("{resource}: app role {}", a.app_role_id)),
                        }
                    }
                }
                None => {
                    if let Some(s) = stored {
                        i.permissions = s.permissions.clone();
                        i.admin_equivalent = s.admin_equivalent;
                    }
                }
            }
            if let Some(owner) = &i.owner
                && !owner_by_name.contains_key(owner.to_lowercase().as_str())
            {
                findings.unresolved(&origin, Some(line), format!("{}: owner {owner} (from its application's owners) is neither in this import nor in the inventory; kept as written", sp.display_name));
            }
            lines.entity(Section::Identities, &id, line);
            inv.identities.push(i);
        }
        for (app_id, (origin, line, _)) in apps {
            findings.unresolved(&origin, Some(line), format!("application {app_id} has no service principal in the import (`az ad sp list --all`), so nothing signs in as it here; not imported"));
        }
        (inv, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_told_apart_by_shape() {
        let sps: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/cloud/entra/service-principals.json"
        ))
        .unwrap();
        let apps: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/cloud/entra/applications.json"
        ))
        .unwrap();
        assert!(is_service_principals(&sps) && !is_applications(&sps));
        assert!(is_applications(&apps) && !is_service_principals(&apps));
        let graph = serde_json::json!({"value": sps});
        assert!(is_service_principals(&graph));
    }

    #[test]
    fn a_bad_value_names_its_json_path() {
        let err = read_list::<ServicePrincipal>(
            r#"{"value": [{"id": "x", "appId": "a", "displayName": "d", "servicePrincipalType": "Application",
                "passwordCredentials": [{"keyId": "k", "endDateTime": "soon"}]}]}"#,
            "sp.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("value[0].passwordCredentials[0].endDateTime"),
            "{err}"
        );
    }
}
