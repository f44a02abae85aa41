//! Kubernetes manifests, mapped onto Countersign's model:
//! - a ServiceAccount becomes a workload identity with the external id
//!   `k8s:<namespace>/<name>`;
//! - a Deployment, StatefulSet, DaemonSet, Job or CronJob becomes a service
//!   (`<namespace>/<name>`) that uses the service account its pod template
//!   names (`default` when none is named);
//! - RoleBinding and ClusterRoleBinding subjects of kind ServiceAccount give
//!   the identity its permissions (`ClusterRole/edit`), and the access its
//!   workloads have through it (admin, write or read, from the role's name);
//! - a Secret of type `kubernetes.io/service-account-token` becomes a
//!   long-lived token derived from its service account.
//!
//! Owners, tiers and environments come from the annotations
//! `countersign.dev/owner`, `countersign.dev/tier` and
//! `countersign.dev/environment` (or the labels `team`/`owner`), and are
//! only set on creation, so what an owner documented in Countersign stays.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

use super::{Format, Source};
use crate::inventory::file::yaml_options;
use crate::inventory::{Inventory, InventoryError, LineMap, MergeMode, Section};
use crate::model::{
    Access, Environment, Identity, IdentityKind, Lifetime, ParseModelError, Service, Tier, Usage,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
// apiVersion is not read: the kinds handled here mean the same in every version.
struct Object {
    kind: Spanned<String>,
    metadata: Metadata,
    #[serde(default)]
    spec: Option<Spec>,
    #[serde(default)]
    subjects: Vec<Subject>,
    #[serde(default)]
    role_ref: Option<RoleRef>,
    #[serde(default, rename = "type")]
    secret_type: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Spanned<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    template: Option<PodTemplate>,
    #[serde(default)]
    job_template: Option<Box<JobTemplate>>,
}

#[derive(Deserialize)]
struct JobTemplate {
    spec: Spec,
}

#[derive(Deserialize)]
struct PodTemplate {
    #[serde(default)]
    spec: Option<PodSpec>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    service_account_name: Option<Spanned<String>>,
    #[serde(default)]
    service_account: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct Subject {
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
struct RoleRef {
    kind: String,
    name: String,
}

const OWNER: &str = "countersign.dev/owner";
const TIER: &str = "countersign.dev/tier";
const ENVIRONMENT: &str = "countersign.dev/environment";
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

fn sa_id(namespace: &str, name: &str) -> String {
    format!("k8s:{namespace}/{name}")
}

/// How much a role lets its holder do, judged from its name the way the
/// built-in roles are named; unknown roles count as write (the cautious
/// middle: reducing scope is assumed to hit them).
fn access_of(role: &str) -> Access {
    let r = role.to_ascii_lowercase();
    if r.contains("admin") || r.contains("owner") {
        Access::Admin
    } else if r == "view" || r.contains("read") || r.contains("viewer") {
        Access::Read
    } else {
        Access::Write
    }
}

struct Context<'a> {
    origin: &'a str,
}

impl Context<'_> {
    fn invalid(&self, line: u64, at: &str, message: String) -> InventoryError {
        InventoryError::Invalid {
            origin: self.origin.to_owned(),
            line: Some(line),
            at: at.to_owned(),
            message,
        }
    }

    fn tier(&self, meta: &Metadata) -> Result<Tier, InventoryError> {
        self.annotation(meta, TIER)
            .map(|t| t.unwrap_or(Tier::IMPORTANT))
    }

    fn environment(&self, meta: &Metadata) -> Result<Environment, InventoryError> {
        self.annotation(meta, ENVIRONMENT)
            .map(|e| e.unwrap_or(Environment::Production))
    }

    /// A model value from an annotation, with the line of the object if it is not valid.
    fn annotation<T: std::str::FromStr<Err = ParseModelError>>(
        &self,
        meta: &Metadata,
        key: &str,
    ) -> Result<Option<T>, InventoryError> {
        meta.annotations
            .get(key)
            .map(|raw| {
                raw.trim().parse().map_err(|e: ParseModelError| {
                    self.invalid(
                        meta.name.referenced.line(),
                        &format!("metadata.annotations[{key:?}]"),
                        e.to_string(),
                    )
                })
            })
            .transpose()
    }
}
fn owner(meta: &Metadata) -> Option<String> {
    meta.annotations
        .get(OWNER)
        .or_else(|| meta.labels.get("team"))
        .or_else(|| meta.labels.get("owner"))
        .cloned()
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Source, InventoryError> {
    let objects: Vec<Object> = serde_saphyr::from_multiple_with_options(text, yaml_options())
        .map_err(|e| InventoryError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
    let cx = Context { origin };
    let mut inv = Inventory::default();
    let mut lines = LineMap::default();
    lines.file(origin);
    let mut accounts: BTreeMap<String, Identity> = BTreeMap::new();
    // (service account id, workload service id, line)
    let mut uses: Vec<(String, String, u64)> = Vec::new();
    // (service account id, permission, access)
    let mut grants: Vec<(String, String, Access)> = Vec::new();

    for o in &objects {
        let meta = &o.metadata;
        let ns = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let name = &meta.name.value;
        let line = meta.name.referenced.line();
        let kind = o.kind.value.as_str();
        match kind {
            "ServiceAccount" => {
                let id = sa_id(&ns, name);
                lines.entity(Section::Identities, &id, line);
                let mut i = Identity::new(
                    &id,
                    IdentityKind::WorkloadIdentity,
                    &format!("{ns}/{name}"),
                    cx.environment(meta)?,
                    cx.tier(meta)?,
                );
                i.owner = owner(meta);
                i.external_ids = vec![id.clone()];
                i.lifetime = Some(Lifetime::Ephemeral);
                accounts.insert(id, i);
            }
            k if WORKLOADS.contains(&k) => {
                let id = format!("{ns}/{name}");
                lines.entity(Section::Services, &id, line);
                inv.services.push(Service {
                    id: id.clone(),
                    name: format!("{name} ({kind})"),
                    owner: owner(meta),
                    tier: cx.tier(meta)?,
                    system: meta.labels.get("app.kubernetes.io/part-of").cloned(),
                    description: String::new(),
                    depends_on: Vec::new(),
                });
                let spec = o.spec.as_ref();
                let pod = match kind {
                    "CronJob" => spec
                        .and_then(|s| s.job_template.as_ref())
                        .and_then(|j| j.spec.template.as_ref()),
                    _ => spec.and_then(|s| s.template.as_ref()),
                }
                .and_then(|t| t.spec.as_ref());
                let (account, at) = match pod.and_then(|p| {
                    p.service_account_name
                        .as_ref()
                        .or(p.service_account.as_ref())
                }) {
                    Some(sa) => (sa.value.clone(), sa.referenced.line()),
                    None => ("default".to_owned(), line),
                };
                uses.push((sa_id(&ns, &account), id, at));
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let role = o.role_ref.as_ref().ok_or_else(|| {
                    cx.invalid(line, "roleRef", "a binding needs a roleRef".into())
                })?;
                for s in o.subjects.iter().filter(|s| s.kind == "ServiceAccount") {
                    let sa_ns = s.namespace.clone().unwrap_or_else(|| ns.clone());
                    let scope = if kind == "RoleBinding" {
                        format!(" in {ns}")
                    } else {
                        String::new()
                    };
                    grants.push((
                        sa_id(&sa_ns, &s.name),
                        format!("{}/{}{scope}", role.kind, role.name),
                        access_of(&role.name),
                    ));
                }
            }
            "Secret" if o.secret_type.as_deref() == Some("kubernetes.io/service-account-token") => {
                let account = meta.annotations.get("kubernetes.io/service-account.name").ok_or_else(|| {
                    cx.invalid(line, "metadata.annotations", "a service-account-token Secret needs the annotation kubernetes.io/service-account.name".into())
                })?;
                let id = format!("k8s:{ns}/secret/{name}");
                lines.entity(Section::Identities, &id, line);
                lines.field(
                    Section::Identities,
                    &id,
                    "derived_from",
                    Some(&sa_id(&ns, account)),
                    line,
                );
                let mut t = Identity::new(
                    &id,
                    IdentityKind::Token,
                    &format!("{ns}/{name} (service-account token)"),
                    cx.environment(meta)?,
                    cx.tier(meta)?,
                );
                t.owner = owner(meta);
                t.external_ids = vec![id.clone()];
                t.lifetime = Some(Lifetime::LongLived);
                t.derived_from = Some(sa_id(&ns, account));
                t.description =
                    "Legacy long-lived service-account token stored in a Secret.".into();
                inv.identities.push(t);
            }
            _ => {} // ConfigMaps, Services, Ingresses, … carry no identity.
        }
    }

    for (account, service, line) in uses {
        let identity = accounts.entry(account.clone()).or_insert_with(|| {
            // Referenced but not in these manifests (`default` usually):
            // it exists in the cluster all the same.
            let (ns, name) = account
                .trim_start_matches("k8s:")
                .split_once('/')
                .unwrap_or(("default", "default"));
            let mut i = Identity::new(
                &account,
                IdentityKind::WorkloadIdentity,
                &format!("{ns}/{name}"),
                Environment::Production,
                Tier::IMPORTANT,
            );
            i.external_ids = vec![account.clone()];
            i.lifetime = Some(Lifetime::Ephemeral);
            i.description =
                "Referenced by workloads; no ServiceAccount manifest in this import.".into();
            lines.entity(Section::Identities, &account, line);
            i
        });
        lines.field(
            Section::Identities,
            &account,
            "used_by",
            Some(&service),
            line,
        );
        if !identity.used_by.iter().any(|u| u.service == service) {
            identity.used_by.push(Usage::of(service));
        }
    }
    for (account, permission, access) in grants {
        if let Some(identity) = accounts.get_mut(&account) {
            if !identity.permissions.contains(&permission) {
                identity.permissions.push(permission);
            }
            for u in &mut identity.used_by {
                u.access = Some(u.access.map_or(access, |a| a.max(access)));
            }
        }
    }
    inv.identities.extend(accounts.into_values());
    let mut source = Source::new(origin, Format::Kubernetes, inv, MergeMode::Fill);
    source.lines = lines;
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFESTS: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments
  namespace: shop
  annotations: {countersign.dev/owner: team-pay, countersign.dev/tier: "0"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: payments-api, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: payments
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  jobTemplate:
    spec:
      template:
        spec: {containers: []}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: payments-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: payments, namespace: shop}]
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: payments-token
  namespace: shop
  annotations: {kubernetes.io/service-account.name: payments}
"#;

    #[test]
    fn maps_accounts_workloads_bindings_and_token_secrets() {
        let s = parse(MANIFESTS, "m.yaml").unwrap();
        let inv = &s.inventory;
        let sa = inv
            .identities
            .iter()
            .find(|i| i.id == "k8s:shop/payments")
            .unwrap();
        assert_eq!(sa.owner.as_deref(), Some("team-pay"));
        assert_eq!(sa.tier.get(), 0);
        assert_eq!(
            sa.used_by,
            vec![Usage {
                access: Some(Access::Write),
                ..Usage::of("shop/payments-api")
            }]
        );
        assert_eq!(sa.permissions, ["ClusterRole/edit in shop"]);
        let default = inv
            .identities
            .iter()
            .find(|i| i.id == "k8s:shop/default")
            .unwrap();
        assert_eq!(default.used_by[0].service, "shop/nightly");
        let token = inv
            .identities
            .iter()
            .find(|i| i.kind == IdentityKind::Token)
            .unwrap();
        assert_eq!(token.derived_from.as_deref(), Some("k8s:shop/payments"));
        assert_eq!(inv.services.len(), 2);
        inv.validate().unwrap();
    }

    #[test]
    fn bad_values_name_the_line() {
        let e = parse("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  annotations: {countersign.dev/tier: \"9\"}\n", "m.yaml")
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("m.yaml:4: metadata.annotations"), "{e}");
        let e = parse(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: [x]\n",
            "m.yaml",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.starts_with("m.yaml: ") && e.contains("line 4"), "{e}");
    }
}
