//! Kubernetes manifests, read as `kubectl apply` reads them and mapped onto
//! Countersign's model:
//! - a ServiceAccount becomes a workload identity with the external id
//!   `k8s:<namespace>/<name>`;
//! - a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod or
//!   ReplicationController becomes a service (`<namespace>/<name>`) that
//!   uses the service account its pod template names (`default` when none
//!   is named, as the API server fills it in);
//! - RoleBinding and ClusterRoleBinding subjects give the accounts they
//!   name their permissions (`ClusterRole/edit in shipping`), and raise the
//!   access of those accounts' workloads (admin, write or read, from the
//!   role's name). Subjects are read as the RBAC authorizer reads them: a
//!   ServiceAccount, the user `system:serviceaccount:<ns>:<name>`, and the
//!   groups `system:serviceaccounts[:<ns>]` and `system:authenticated`
//!   (which hold every account, or every account of a namespace);
//! - a Secret of type `kubernetes.io/service-account-token` becomes a
//!   long-lived token derived from its service account.
//!
//! All files of one import are one set, as `kubectl apply -f DIR` applies
//! them: a binding in one file grants an account defined in another, or
//! one already in the inventory. An account that something names but that
//! is nowhere is created (Kubernetes makes `default` in every namespace)
//! and reported, never dropped. A namespaced object without a namespace
//! gets the import's (`--namespace`, else `default`, as `kubectl apply -n`);
//! a Kustomization's `namespace`, common labels and annotations apply to
//! the files it lists, as `kubectl apply -k` on each outermost
//! Kustomization would (a base two overlays list is applied twice), and the
//! files it reads as patches are not objects. `List` and typed `…List`
//! documents are unwrapped. Every other kind is skipped and counted.
//!
//! Owners, tiers and environments come from the annotations
//! `countersign.dev/owner`, `countersign.dev/tier` and
//! `countersign.dev/environment` (or the labels `team`/`owner`), and are
//! only set on creation, so what an owner documented in Countersign stays.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use super::report::Findings;
use super::yaml::{Keep, Misfit, Node};
use crate::inventory::{Inventory, InventoryError, LineMap, Section};
use crate::model::{
    Access, Environment, Identity, IdentityKind, Lifetime, OwnerKind, ParseModelError, Service,
    Tier, Usage,
};

pub(super) const FORMAT: &str = "Kubernetes";

const OWNER: &str = "countersign.dev/owner";
const TIER: &str = "countersign.dev/tier";
const ENVIRONMENT: &str = "countersign.dev/environment";
const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const TOKEN_ACCOUNT: &str = "kubernetes.io/service-account.name";
const RBAC: &str = "rbac.authorization.k8s.io";
const KUSTOMIZE: &str = "kustomize.config.k8s.io";

/// The fields of a manifest that are read; everything else is dropped
/// while parsing. Shared with Backstage's rule by [`super::document_rule`].
/// Annotations read whole; the others only as keys (their format is
/// checked; values can be large, such as `last-applied-configuration`).
pub(super) fn annotation_rule(key: &str) -> Keep {
    if key.starts_with("countersign.dev/") || key == TOKEN_ACCOUNT {
        Keep::All
    } else {
        Keep::Mark
    }
}

pub(super) fn pod_template_rule(key: &str) -> Keep {
    match key {
        "spec" => Keep::Fields(pod_spec_rule),
        // Only that they are there, to tell an unknown field.
        _ => Keep::Mark,
    }
}

fn pod_spec_rule(key: &str) -> Keep {
    match key {
        "serviceAccountName" | "serviceAccount" => Keep::All,
        // Only that they are there, to tell an unknown field.
        _ => Keep::Mark,
    }
}

pub(super) fn job_template_rule(key: &str) -> Keep {
    match key {
        "spec" => Keep::Fields(|k| match k {
            "template" => Keep::Fields(pod_template_rule),
            _ => Keep::Mark,
        }),
        _ => Keep::Mark,
    }
}

fn sa_id(namespace: &str, name: &str) -> String {
    format!("k8s:{namespace}/{name}")
}

/// A service account as a workload identity: id and external id
/// `k8s:<namespace>/<name>`, ephemeral (its tokens are projected and
/// short-lived); production and tier 2 unless annotated.
fn account_identity(
    ns: &str,
    name: &str,
    environment: Option<Environment>,
    tier: Option<Tier>,
) -> Identity {
    let id = sa_id(ns, name);
    let mut i = Identity::new(
        &id,
        IdentityKind::WorkloadIdentity,
        &format!("{ns}/{name}"),
        environment.unwrap_or(Environment::Production),
        tier.unwrap_or(Tier::IMPORTANT),
    );
    i.external_ids = vec![id];
    i.lifetime = Some(Lifetime::Ephemeral);
    i
}

/// How the description of an account ends when the import created it
/// only because something named it.
const PLACEHOLDER: &str = "no ServiceAccount manifest in the import that created it.";

/// Whether `i` is an account an import created only because something
/// named it, and no manifest has defined since.
pub(super) fn is_placeholder(i: &Identity) -> bool {
    i.description.ends_with(PLACEHOLDER)
}

/// The fields of `ObjectMeta` (Kubernetes API reference).
const METADATA_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// The fields of `JobSpec` (Kubernetes API reference, v1.34).
const JOB_SPEC_FIELDS: &[&str] = &[
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "podFailurePolicy",
    "successPolicy",
    "backoffLimit",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
    "selector",
    "manualSelector",
    "template",
    "ttlSecondsAfterFinished",
    "completionMode",
    "suspend",
    "podReplacementPolicy",
    "managedBy",
];

/// The fields of `PodSpec` (Kubernetes API reference, v1.34).
const POD_SPEC_FIELDS: &[&str] = &[
    "activeDeadlineSeconds",
    "affinity",
    "automountServiceAccountToken",
    "containers",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "ephemeralContainers",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "hostname",
    "hostnameOverride",
    "imagePullSecrets",
    "initContainers",
    "nodeName",
    "nodeSelector",
    "os",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "resourceClaims",
    "resources",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "schedulingGates",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "setHostnameAsFQDN",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
    "volumes",
];

/// Fields of the parts of an object this import reads that the object's
/// type does not have: a typo (`serviceAcountName`, `subject:`) would
/// otherwise change what is imported without a word. `kubectl apply`
/// refuses such an object (strict field validation); the import reports
/// each at its line, with the field meant when one is close. Returns
/// (line, message).
fn unknown_fields(doc: &Node, kind: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut check = |node: &Node, at: &str, known: &[&str]| {
        for (key, line) in node.keys() {
            if !known.contains(&key) {
                let hint = super::names::did_you_mean(key, known)
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                let place = if at.is_empty() {
                    String::new()
                } else {
                    format!("{at}: ")
                };
                out.push((
                    line,
                    format!(
                        "{place}unknown field {key}{hint}; `kubectl apply` refuses an object with a field its type does not have, and this import does not read it"
                    ),
                ));
            }
        }
    };
    let own: &[&str] = match kind {
        "ServiceAccount" => &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        "Secret" => &["data", "stringData", "type", "immutable"],
        "RoleBinding" | "ClusterRoleBinding" => &["subjects", "roleRef"],
        _ => &["spec"],
    };
    let top: Vec<&str> = ["apiVersion", "kind", "metadata", "status"]
        .into_iter()
        .chain(own.iter().copied())
        .collect();
    check(doc, "", &top);
    if let Some(meta) = doc
        .get("metadata")
        .filter(|m| matches!(m.value, super::yaml::Value::Map(_)))
    {
        check(meta, "metadata", METADATA_FIELDS);
    }
    if kind.ends_with("Binding") {
        if let Some(role) = doc.get("roleRef") {
            check(role, "roleRef", &["apiGroup", "kind", "name"]);
        }
        if let Some(super::yaml::Value::Seq(items)) = doc.get("subjects").map(|s| &s.value) {
            for (i, subject) in items.iter().enumerate() {
                check(
                    subject,
                    &format!("subjects[{i}]"),
                    &["kind", "apiGroup", "name", "namespace"],
                );
            }
        }
    }
    // The workload's own spec and the templates down to the pod spec: a
    // typo there loses the service account as surely as one in it.
    let workload: &[&str] = match kind {
        "Deployment" => &[
            "replicas",
            "selector",
            "template",
            "strategy",
            "minReadySeconds",
            "revisionHistoryLimit",
            "paused",
            "progressDeadlineSeconds",
        ],
        "StatefulSet" => &[
            "replicas",
            "selector",
            "template",
            "volumeClaimTemplates",
            "serviceName",
            "podManagementPolicy",
            "updateStrategy",
            "revisionHistoryLimit",
            "minReadySeconds",
            "persistentVolumeClaimRetentionPolicy",
            "ordinals",
        ],
        "DaemonSet" => &[
            "selector",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "revisionHistoryLimit",
        ],
        "ReplicaSet" | "ReplicationController" => {
            &["replicas", "minReadySeconds", "selector", "template"]
        }
        "Job" => JOB_SPEC_FIELDS,
        "CronJob" => &[
            "schedule",
            "timeZone",
            "startingDeadlineSeconds",
            "concurrencyPolicy",
            "suspend",
            "jobTemplate",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        ],
        _ => &[],
    };
    let map = |n: &&Node| matches!(n.value, super::yaml::Value::Map(_));
    if let Some(spec) = doc.get("spec").filter(map)
        && !workload.is_empty()
    {
        check(spec, "spec", workload);
        let template = if kind == "CronJob" {
            let job = spec.get("jobTemplate").filter(map);
            if let Some(job) = job {
                check(job, "spec.jobTemplate", &["metadata", "spec"]);
            }
            let job_spec = job.and_then(|j| j.get("spec")).filter(map);
            if let Some(js) = job_spec {
                check(js, "spec.jobTemplate.spec", JOB_SPEC_FIELDS);
            }
            job_spec.and_then(|j| j.get("template"))
        } else {
            spec.get("template")
        };
        if let Some(t) = template.filter(map) {
            check(t, "pod template", &["metadata", "spec"]);
        }
    }
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "ServiceAccount" | "Secret" | "RoleBinding" | "ClusterRoleBinding" => &[],
        _ => &["spec", "template", "spec"],
    };
    if !path.is_empty() {
        let pod = path.iter().try_fold(doc, |n, k| n.get(k));
        if let Some(pod) = pod {
            check(pod, "pod spec", POD_SPEC_FIELDS);
        }
    }
    out
}

/// An object's metadata, as `add` reads it.
struct Head {
    name: String,
    namespace: Option<(String, u64)>,
    meta: Meta,
    /// The kind of the controller that made it, if one did.
    made_by: Option<String>,
}

/// Reads `metadata`: name, namespace, the controller that made the object,
/// and what its annotations and labels say. Each problem is reported.
fn read_head(doc: &Node, kind: &str, kind_line: u64) -> Result<Head, Vec<Misfit>> {
    let (meta, name, name_line) = doc.metadata_and_name(kind_line).map_err(|m| vec![m])?;
    let mut misfits = Vec::new();
    let mut ok = |r: Result<(), Misfit>| {
        if let Err(m) = r {
            misfits.push(m);
        }
    };
    // Names the API server refuses: RBAC objects' are path segments
    // (`system:controller:…`), the others' DNS subdomains.
    let valid_name = if kind.ends_with("Binding") {
        super::names::path_segment(name)
    } else {
        super::names::dns_subdomain(name)
    };
    ok(valid_name.map_err(|m| Misfit::new(name_line, "metadata.name", m)));
    let mut namespace = None;
    ok(meta.string("namespace", "metadata").and_then(|n| {
        namespace = n
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, l)| (n.to_owned(), l));
        match &namespace {
            Some((n, l)) => {
                super::names::dns_label(n).map_err(|m| Misfit::new(*l, "metadata.namespace", m))
            }
            None => Ok(()),
        }
    }));
    let mut made_by = None;
    if kind != "ServiceAccount" && kind != "Secret" && !kind.ends_with("Binding") {
        match meta.list("ownerReferences", "metadata") {
            Ok(owners) => {
                for owner in owners {
                    let controller = owner.get("controller").is_some_and(
                        |c| matches!(&c.value, super::yaml::Value::Scalar(v) if v == "true"),
                    );
                    if controller && made_by.is_none() {
                        match owner.string("kind", "metadata.ownerReferences") {
                            Ok(k) => made_by = Some(k.map_or("controller", |(k, _)| k).to_owned()),
                            Err(m) => ok(Err(m)),
                        }
                    }
                }
            }
            Err(m) => ok(Err(m)),
        }
    }
    let annotations = meta.map("annotations", "metadata").unwrap_or_else(|m| {
        ok(Err(m));
        None
    });
    let labels = meta.map("labels", "metadata").unwrap_or_else(|m| {
        ok(Err(m));
        None
    });
    // Keys and values the API server refuses.
    for (key, line) in annotations
        .map(|a| a.keys().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        ok(super::names::qualified_name(&key.to_ascii_lowercase())
            .map_err(|m| Misfit::new(line, "metadata.annotations", m)));
    }
    if let Some(l) = labels {
        for (key, line) in l.keys() {
            ok(super::names::qualified_name(key)
                .map_err(|m| Misfit::new(line, "metadata.labels", m)));
            ok(l.string(key, "metadata.labels").and_then(|v| {
                v.map_or(Ok(()), |(v, vl)| {
                    super::names::label_value(v)
                        .map_err(|m| Misfit::new(vl, &format!("metadata.labels[{key:?}]"), m))
                })
            }));
        }
    }
    let object_meta = Meta::read(
        &annotations
            .map(|a| (a, "metadata.annotations"))
            .into_iter()
            .collect::<Vec<_>>(),
        &labels
            .map(|l| (l, "metadata.labels"))
            .into_iter()
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|m| {
        m.into_iter().for_each(|m| ok(Err(m)));
        Meta::default()
    });
    if !misfits.is_empty() {
        return Err(misfits);
    }
    Ok(Head {
        name: name.to_owned(),
        namespace,
        meta: object_meta,
        made_by,
    })
}

/// Reads what the kind itself holds: a token's account, a binding's
/// roleRef and subjects (each subject's problems reported), a workload's
/// service account. `line` is the object's, for fields it lacks.
fn read_what(doc: &Node, kind: &str, line: u64) -> Result<What, Vec<Misfit>> {
    let one = |m: Misfit| vec![m];
    match kind {
        "ServiceAccount" => Ok(What::Account),
        "Secret" => {
            let annotations = match doc
                .get("metadata")
                .map(|m| m.map("annotations", "metadata"))
            {
                Some(Ok(a)) => a,
                // Of the wrong shape: reported with the metadata.
                Some(Err(_)) => return Err(Vec::new()),
                None => None,
            };
            let account = match annotations {
                Some(a) => a
                    .string(TOKEN_ACCOUNT, "metadata.annotations")
                    .map_err(one)?,
                None => None,
            };
            let (account, _) = account.ok_or_else(|| {
                one(Misfit::new(
                    line,
                    "metadata.annotations",
                    format!("a {TOKEN_TYPE} Secret needs the annotation {TOKEN_ACCOUNT}"),
                ))
            })?;
            Ok(What::Token(account.to_owned()))
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let mut misfits = Vec::new();
            let role = match doc.map("roleRef", "") {
                Ok(Some(role)) => {
                    let kind = role
                        .string("kind", "roleRef")
                        .map(|k| k.map_or("", |(k, _)| k));
                    let name = role.string("name", "roleRef").and_then(|n| {
                        n.ok_or_else(|| Misfit::new(role.line, "roleRef.name", "required"))
                    });
                    match (kind, name) {
                        (Ok(k), Ok((n, _))) => Some((k.to_owned(), n.to_owned())),
                        (k, n) => {
                            misfits.extend(k.err());
                            misfits.extend(n.err());
                            None
                        }
                    }
                }
                Ok(None) => {
                    misfits.push(Misfit::new(
                        line,
                        "roleRef",
                        "a binding needs a roleRef (the API server refuses one without)",
                    ));
                    None
                }
                Err(m) => {
                    misfits.push(m);
                    None
                }
            };
            let mut subjects = Vec::new();
            match doc.list("subjects", "") {
                Ok(items) => {
                    for (i, s) in items.iter().enumerate() {
                        let at = format!("subjects[{i}]");
                        let get = |k| s.string(k, &at).map(|v| v.map(|(v, _)| v.to_owned()));
                        let kind = get("kind");
                        let name = get("name").and_then(|n| {
                            n.ok_or_else(|| Misfit::new(s.line, &format!("{at}.name"), "required"))
                        });
                        let namespace = get("namespace");
                        // The API server checks a ServiceAccount subject's
                        // name and namespace as it checks the account's.
                        let (name, namespace) = match (&kind, name, namespace) {
                            (Ok(Some(k)), Ok(n), Ok(ns)) if k == "ServiceAccount" => {
                                let name = super::names::dns_subdomain(&n)
                                    .map(|()| n)
                                    .map_err(|m| Misfit::new(s.line, &format!("{at}.name"), m));
                                // (Its namespace's format the API server
                                // does not check.)
                                (name, Ok(ns))
                            }
                            (_, n, ns) => (n, ns),
                        };
                        match (kind, name, namespace) {
                            (Ok(kind), Ok(name), Ok(namespace)) => subjects.push(Subject {
                                kind: kind.unwrap_or_default(),
                                name,
                                namespace: namespace.filter(|n| !n.is_empty()),
                                line: s.line,
                            }),
                            (k, n, ns) => {
                                misfits.extend(k.err());
                                misfits.extend(n.err());
                                misfits.extend(ns.err());
                            }
                        }
                    }
                }
                Err(m) => misfits.push(m),
            }
            match role {
                Some((role_kind, role_name)) if misfits.is_empty() => Ok(What::Binding {
                    cluster: kind == "ClusterRoleBinding",
                    role_kind,
                    role_name,
                    subjects,
                }),
                _ => Err(misfits),
            }
        }
        _ => {
            let spec = doc.map("spec", "").map_err(one)?;
            let pod = match (kind, spec) {
                (_, None) => None,
                ("Pod", Some(s)) => Some(s),
                ("CronJob", Some(s)) => s
                    .map("jobTemplate", "spec")
                    .map_err(one)?
                    .and_then(|j| j.map("spec", "spec.jobTemplate").transpose())
                    .transpose()
                    .map_err(one)?
                    .and_then(|j| j.map("template", "spec.jobTemplate.spec").transpose())
                    .transpose()
                    .map_err(one)?
                    .and_then(|t| t.map("spec", "spec.jobTemplate.spec.template").transpose())
                    .transpose()
                    .map_err(one)?,
                (_, Some(s)) => s
                    .map("template", "spec")
                    .map_err(one)?
                    .and_then(|t| t.map("spec", "spec.template").transpose())
                    .transpose()
                    .map_err(one)?,
            };
            let account = match pod {
                Some(p) => match p.string("serviceAccountName", "pod spec").map_err(one)? {
                    Some(a) => Some(a),
                    None => p.string("serviceAccount", "pod spec").map_err(one)?,
                },
                None => None,
            }
            .filter(|(a, _)| !a.is_empty())
            .map(|(a, l)| (a.to_owned(), l));
            if let Some((a, l)) = &account {
                super::names::dns_subdomain(a)
                    .map_err(|m| one(Misfit::new(*l, "pod spec.serviceAccountName", m)))?;
            }
            Ok(What::Workload(account))
        }
    }
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

struct File {
    origin: String,
    /// Canonical, to match a Kustomization's `resources`.
    path: PathBuf,
}

struct Object {
    file: usize,
    line: u64,
    kind: String,
    name: String,
    /// `metadata.namespace` and its line.
    namespace: Option<(String, u64)>,
    meta: Meta,
    what: What,
}

/// What an object's labels and annotations (or a Kustomization's common
/// ones) say about ownership, tier, environment and system.
#[derive(Clone, Default, PartialEq)]
struct Meta {
    /// The annotation `countersign.dev/owner`.
    owner: Option<String>,
    /// The label `team`.
    team: Option<String>,
    /// The label `owner`.
    owner_label: Option<String>,
    tier: Option<Tier>,
    environment: Option<Environment>,
    /// The label `app.kubernetes.io/part-of`.
    part_of: Option<String>,
}

impl Meta {
    /// Reads the annotations and labels Countersign maps. `at` names the
    /// fields in errors (`metadata.annotations`, `commonLabels`).
    fn read(annotations: &[(&Node, &str)], labels: &[(&Node, &str)]) -> Result<Meta, Vec<Misfit>> {
        let find =
            |maps: &[(&Node, &str)], key: &str| -> Result<Option<(String, u64, String)>, Misfit> {
                let mut found = None;
                for (map, at) in maps {
                    if let Some((v, line)) = map.string(key, at)? {
                        found = Some((v.to_owned(), line, (*at).to_owned()));
                    }
                }
                Ok(found)
            };
        fn parsed<T: std::str::FromStr<Err = ParseModelError>>(
            value: Option<(String, u64, String)>,
            key: &str,
        ) -> Result<Option<T>, Misfit> {
            value
                .map(|(raw, line, at)| {
                    raw.trim().parse().map_err(|e: ParseModelError| {
                        Misfit::new(line, &format!("{at}[{key:?}]"), e.to_string())
                    })
                })
                .transpose()
        }
        // Each field read on its own, so that every problem is listed.
        let mut misfits = Vec::new();
        let mut text = |maps: &[(&Node, &str)], key: &str| match find(maps, key) {
            Ok(v) => v.map(|(v, _, _)| v),
            Err(m) => {
                misfits.push(m);
                None
            }
        };
        let owner = text(annotations, OWNER);
        let team = text(labels, "team");
        let owner_label = text(labels, "owner");
        let part_of = text(labels, "app.kubernetes.io/part-of");
        let tier = find(annotations, TIER).and_then(|v| parsed(v, TIER));
        let environment = find(annotations, ENVIRONMENT).and_then(|v| parsed(v, ENVIRONMENT));
        let (tier, environment) = match (tier, environment) {
            (Ok(t), Ok(e)) if misfits.is_empty() => (t, e),
            (t, e) => {
                misfits.extend(t.err());
                misfits.extend(e.err());
                return Err(misfits);
            }
        };
        Ok(Meta {
            owner,
            team,
            owner_label,
            tier,
            environment,
            part_of,
        })
    }

    /// What `outer` sets replaces what this says, as kustomize's common
    /// labels and annotations replace an object's own.
    fn overlay(&mut self, outer: &Meta) {
        fn set<T: Clone>(here: &mut Option<T>, outer: &Option<T>) {
            if outer.is_some() {
                here.clone_from(outer);
            }
        }
        set(&mut self.owner, &outer.owner);
        set(&mut self.team, &outer.team);
        set(&mut self.owner_label, &outer.owner_label);
        set(&mut self.tier, &outer.tier);
        set(&mut self.environment, &outer.environment);
        set(&mut self.part_of, &outer.part_of);
    }

    /// Records that the object states its tier and environment (see
    /// [`LineMap::field_at`]): an import sets them on an entry that already
    /// exists only where it was a placeholder, and says so otherwise.
    fn stated(&self, lines: &mut LineMap, section: Section, id: &str, line: u64) {
        if self.tier.is_some() {
            lines.field(section, id, "tier", None, line);
        }
        if self.environment.is_some() && section == Section::Identities {
            lines.field(section, id, "environment", None, line);
        }
    }

    /// The owner: the annotation, else the label `team`, else `owner`.
    fn owner(&self) -> Option<String> {
        self.owner
            .clone()
            .or_else(|| self.team.clone())
            .or_else(|| self.owner_label.clone())
    }
}

enum What {
    Account,
    /// The account its pods run as, where named, and that line.
    Workload(Option<(String, u64)>),
    Binding {
        cluster: bool,
        role_kind: String,
        role_name: String,
        subjects: Vec<Subject>,
    },
    Token(String),
}

struct Subject {
    kind: String,
    name: String,
    namespace: Option<String>,
    line: u64,
}

struct Kustomization {
    file: usize,
    dir: PathBuf,
    namespace: Option<String>,
    /// Where `namespace:` is written.
    namespace_line: u64,
    /// `resources`, `bases` and `components`: what it applies.
    resources: Vec<(String, u64)>,
    /// Files it reads as patches, replacements, CRDs or transformer
    /// configuration: never objects of their own.
    inputs: Vec<(String, u64)>,
    /// `commonLabels`, `labels[].pairs` and `commonAnnotations`.
    meta: Meta,
}

/// One way a file's objects are applied: in a Kustomization's namespace
/// (or their own, when none sets one) with the labels and annotations the
/// Kustomizations set.
#[derive(Clone, Default, PartialEq)]
struct Applied {
    namespace: Option<String>,
    meta: Meta,
}

/// What the Kustomizations of an import do to its files.
#[derive(Default)]
struct Kustomized {
    /// File index → every way it is applied (two overlays over one base
    /// apply it twice, in two namespaces).
    applied: HashMap<usize, Vec<Applied>>,
    /// File index → the Kustomization (file, line) that reads it as a
    /// patch or other input.
    inputs: HashMap<usize, (usize, u64)>,
    /// File index → the Kustomization (file) in whose directory it sits
    /// without being listed: `kubectl apply -k` does not apply it.
    unlisted: HashMap<usize, usize>,
}

/// Where a resource or input a Kustomization names is, resolved from its
/// directory (symbolic links followed where it exists).
fn resource_target(k: &Kustomization, r: &str) -> PathBuf {
    let t = k.dir.join(r);
    t.canonicalize().unwrap_or(t)
}

/// Whether `path` is a kustomize entry file, which kustomize reads with or
/// without `apiVersion` and `kind`.
pub(super) fn is_kustomization_file(path: &std::path::Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        matches!(
            n,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        )
    })
}

/// Every manifest of one import, read but not yet resolved.
#[derive(Default)]
pub(super) struct Manifests {
    files: Vec<File>,
    objects: Vec<Object>,
    kustomizations: Vec<Kustomization>,
}

/// Which of the kinds read here a document is, by API group and kind.
fn handled(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        (
            "",
            "ServiceAccount" | "Secret" | "Pod" | "ReplicationController"
        ) | (
            "apps",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        ) | ("extensions", "Deployment" | "DaemonSet" | "ReplicaSet")
            | ("batch", "Job" | "CronJob")
            | (RBAC, "RoleBinding" | "ClusterRoleBinding")
    )
}

fn is_known_kind_name(kind: &str) -> bool {
    [
        "ServiceAccount",
        "Secret",
        "Pod",
        "ReplicationController",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "RoleBinding",
        "ClusterRoleBinding",
    ]
    .contains(&kind)
}

impl Manifests {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.kustomizations.is_empty()
    }

    /// Registers a file; its documents are then added with its index.
    pub fn file(&mut self, origin: &str, path: PathBuf) -> usize {
        self.files.push(File {
            origin: origin.to_owned(),
            path,
        });
        self.files.len() - 1
    }

    /// Reads one document: an object, a `List` of them, or a Kustomization.
    /// Kinds that carry no identity are counted in `findings`. Every field
    /// of the wrong shape is reported, not only the first: the metadata,
    /// each subject and the kind's own fields are read apart.
    pub fn add(
        &mut self,
        file: usize,
        doc: &Node,
        findings: &mut Findings,
    ) -> Result<(), Vec<Misfit>> {
        let one = |m: Misfit| vec![m];
        let api = doc
            .string("apiVersion", "")
            .map_err(one)?
            .map_or("", |(v, _)| v);
        let (kind, kind_line) = doc
            .string("kind", "")
            .map_err(one)?
            .unwrap_or(("", doc.line));
        let origin = self.files[file].origin.clone();
        if kind.ends_with("List") && doc.get("items").is_some() {
            let mut misfits = Vec::new();
            for (i, item) in doc.list("items", "").map_err(one)?.iter().enumerate() {
                if item.get("apiVersion").is_none() || item.get("kind").is_none() {
                    misfits.push(Misfit::new(
                        item.line,
                        &format!("items[{i}]"),
                        "a List item needs apiVersion and kind",
                    ));
                    continue;
                }
                if let Err(m) = self.add(file, item, findings) {
                    misfits.extend(m);
                }
            }
            return if misfits.is_empty() {
                Ok(())
            } else {
                Err(misfits)
            };
        }
        let group = api.split_once('/').map_or("", |(g, _)| g);
        if group == KUSTOMIZE {
            return self.kustomization(file, doc, findings).map_err(one);
        }
        if !handled(group, kind) {
            let label = if is_known_kind_name(kind) {
                format!("{kind} ({api})")
            } else {
                kind.to_owned()
            };
            findings.skip(FORMAT, &label, &origin, kind_line);
            return Ok(());
        }
        if group == "extensions" {
            findings.note(
                &origin,
                Some(kind_line),
                format!(
                    "{api} {kind}s were removed in Kubernetes 1.16 (`kubectl apply` on a current cluster refuses them); read as apps/v1, which is what they became"
                ),
            );
        }
        let secret_type = doc.string("type", "").map_err(one)?.map(|(t, _)| t);
        if kind == "Secret" && secret_type != Some(TOKEN_TYPE) {
            findings.skip(FORMAT, "Secret", &origin, kind_line);
            return Ok(());
        }
        let head = read_head(doc, kind, kind_line);
        if let Ok(h) = &head
            && let Some(by) = &h.made_by
        {
            // A Pod, ReplicaSet or Job a controller made (what `kubectl
            // get all` prints beside the Deployment) is that workload
            // again, not another.
            findings.skip(
                FORMAT,
                &format!("{kind} (made by a {by})"),
                &origin,
                kind_line,
            );
            return Ok(());
        }
        // The object's line: its name's, even when the rest of the
        // metadata is refused.
        let line = doc
            .metadata_and_name(kind_line)
            .map_or(kind_line, |(_, _, l)| l);
        let what = read_what(doc, kind, line);
        match (head, what) {
            (Ok(h), Ok(what)) => {
                for (at, message) in unknown_fields(doc, kind) {
                    findings.unresolved(
                        &origin,
                        Some(at),
                        format!("the {kind} {}: {message}", h.name),
                    );
                }
                self.objects.push(Object {
                    file,
                    line,
                    kind: kind.to_owned(),
                    name: h.name,
                    namespace: h.namespace,
                    meta: h.meta,
                    what,
                });
                Ok(())
            }
            (head, what) => {
                let mut misfits = head.err().unwrap_or_default();
                misfits.extend(what.err().unwrap_or_default());
                misfits.sort_by_key(|m| m.line);
                Err(misfits)
            }
        }
    }

    /// Reads a Kustomization (also one written without `apiVersion` and
    /// `kind`, which kustomize accepts in a `kustomization.yaml`).
    pub(super) fn kustomization(
        &mut self,
        file: usize,
        doc: &Node,
        findings: &mut Findings,
    ) -> Result<(), Misfit> {
        let origin = self.files[file].origin.clone();
        if !is_kustomization_file(&self.files[file].path) {
            findings.note(
                &origin,
                Some(doc.line),
                "kustomize reads a Kustomization only from a file named kustomization.yaml, kustomization.yml or Kustomization; this one is read for the files it lists, and does not exclude the other files of its directory",
            );
        }
        // What `kubectl apply -k` does beyond listing files, setting a
        // namespace and common labels changes names or content this import
        // does not see.
        const READ: &[&str] = &[
            "apiVersion",
            "kind",
            "metadata",
            "resources",
            "bases",
            "components",
            "namespace",
            "images",
            "labels",
            "commonLabels",
            "commonAnnotations",
            "buildMetadata",
            "configMapGenerator",
            "secretGenerator",
            "generatorOptions",
            "replicas",
            "sortOptions",
            "crds",
            "configurations",
            "openapi",
        ];
        // Fields kustomize has that change names or content this import
        // does not see (or that name patch and input files, read below).
        const UNAPPLIED: &[&str] = &[
            "namePrefix",
            "nameSuffix",
            "patches",
            "patchesStrategicMerge",
            "patchesJson6902",
            "replacements",
            "vars",
            "transformers",
            "generators",
            "validators",
            "helmGlobals",
            "helmCharts",
            "helmChartInflationGenerator",
            "imageTags",
        ];
        for (key, line) in doc.keys() {
            if !READ.contains(&key) && !UNAPPLIED.contains(&key) {
                // kustomize decodes a Kustomization strictly.
                return Err(Misfit::new(
                    line,
                    key,
                    "kustomize has no such field and refuses this Kustomization (`kubectl apply -k` fails); check its spelling",
                ));
            }
        }
        for (key, line) in doc.keys() {
            if UNAPPLIED.contains(&key) {
                findings.unresolved(
                    &origin,
                    Some(line),
                    format!(
                        "the Kustomization's {key} is not applied: the files are read as written; to import what `kubectl apply -k` would apply, import the output of `kubectl kustomize` on this directory"
                    ),
                );
            }
        }
        let mut resources = doc.strings("resources", "")?;
        resources.extend(doc.strings("bases", "")?);
        resources.extend(doc.strings("components", "")?);
        // Files named as patches and the like: a path, or inline YAML.
        let mut inputs = Vec::new();
        for key in [
            "patchesStrategicMerge",
            "crds",
            "configurations",
            "transformers",
            "generators",
            "validators",
        ] {
            for (value, line) in doc.strings(key, "")? {
                if !value.contains('\n') {
                    inputs.push((value.to_owned(), line));
                }
            }
        }
        for key in ["patches", "patchesJson6902", "replacements"] {
            for (i, item) in doc.list(key, "")?.iter().enumerate() {
                if let Some((path, line)) = item.string("path", &format!("{key}[{i}]"))? {
                    inputs.push((path.to_owned(), line));
                }
            }
        }
        // Files generators read (`key=path` or `path`), and the OpenAPI
        // schema kustomize reads.
        for key in ["configMapGenerator", "secretGenerator"] {
            for (i, item) in doc.list(key, "")?.iter().enumerate() {
                let at = format!("{key}[{i}]");
                let mut files = item.strings("files", &at)?;
                files.extend(item.strings("envs", &at)?);
                files.extend(item.string("env", &at)?);
                for (value, line) in files {
                    let path = value.split_once('=').map_or(value, |(_, p)| p);
                    inputs.push((path.to_owned(), line));
                }
            }
        }
        for (i, chart) in doc.list("helmCharts", "")?.iter().enumerate() {
            let at = format!("helmCharts[{i}]");
            inputs.extend(
                chart
                    .string("valuesFile", &at)?
                    .into_iter()
                    .chain(chart.strings("additionalValuesFiles", &at)?)
                    .map(|(p, l)| (p.to_owned(), l)),
            );
        }
        if let Some((path, line)) = doc
            .map("openapi", "")?
            .map(|o| o.string("path", "openapi"))
            .transpose()?
            .flatten()
        {
            inputs.push((path.to_owned(), line));
        }
        let mut annotations = Vec::new();
        if let Some(a) = doc.map("commonAnnotations", "")? {
            annotations.push((a, "commonAnnotations"));
        }
        let mut labels = Vec::new();
        if let Some(l) = doc.map("commonLabels", "")? {
            labels.push((l, "commonLabels"));
        }
        let label_sets = doc.list("labels", "")?;
        let paths: Vec<String> = (0..label_sets.len())
            .map(|i| format!("labels[{i}].pairs"))
            .collect();
        for (set, at) in label_sets.iter().zip(&paths) {
            if let Some(pairs) = set.map("pairs", &at[..at.len() - ".pairs".len()])? {
                labels.push((pairs, at.as_str()));
            }
        }
        let meta = Meta::read(&annotations, &labels).map_err(|mut m| m.remove(0))?;
        let dir = self.files[file]
            .path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let owned = |v: Vec<(&str, u64)>| v.into_iter().map(|(r, l)| (r.to_owned(), l)).collect();
        let namespace_line = doc
            .keys()
            .find(|(k, _)| *k == "namespace")
            .map_or(doc.line, |(_, l)| l);
        self.kustomizations.push(Kustomization {
            file,
            namespace_line,
            dir,
            namespace: doc
                .string("namespace", "")?
                .map(|(n, _)| n.to_owned())
                .filter(|n| !n.is_empty()),
            resources: owned(resources),
            inputs,
            meta,
        });
        Ok(())
    }

    /// How the Kustomizations apply each file, as `kubectl apply -k` on
    /// each outermost Kustomization (one no other lists) would: the
    /// outermost namespace set along the way wins, and labels an overlay
    /// sets replace its bases'. A base two overlays list is applied once
    /// per overlay.
    /// The Kustomization (its file and the line) that names `path` as a
    /// patch, replacement, CRD or other input.
    pub fn input_of(&self, path: &std::path::Path) -> Option<(String, u64)> {
        self.kustomizations.iter().find_map(|k| {
            k.inputs
                .iter()
                .find(|(p, _)| resource_target(k, p) == path)
                .map(|(_, line)| (self.files[k.file].origin.clone(), *line))
        })
    }

    /// The Kustomization (its file) whose directory holds `path` without
    /// any Kustomization applying it: a file `kubectl apply -k` never reads.
    pub fn unlisted_beside(&self, path: &std::path::Path) -> Option<String> {
        let k = self.kustomizations.iter().find(|k| {
            path.starts_with(&k.dir) && is_kustomization_file(&self.files[k.file].path)
        })?;
        let covered = self
            .kustomizations
            .iter()
            .any(|o| self.files[o.file].path == path || self.covers(o, path, 0));
        (!covered).then(|| self.files[k.file].origin.clone())
    }

    /// The Kustomization whose entry file (`kustomization.yaml`,
    /// `kustomization.yml`, `Kustomization`) is in the directory `dir`.
    fn entry_in(&self, dir: &std::path::Path) -> Option<&Kustomization> {
        self.kustomizations
            .iter()
            .find(|k| k.dir == dir && is_kustomization_file(&self.files[k.file].path))
    }

    /// Whether `k` applies the file `path`, as kustomize builds it: a file
    /// resource is that file; a directory resource is the Kustomization
    /// there, and what it applies in turn (never the other files of the
    /// directory). The entry file itself counts, so nesting is known.
    fn covers(&self, k: &Kustomization, path: &std::path::Path, depth: usize) -> bool {
        // kustomize refuses a cycle; a bound keeps this from following one.
        if depth > 32 {
            return false;
        }
        k.resources.iter().any(|(r, _)| {
            let t = resource_target(k, r);
            // kustomize refuses a file resource outside the Kustomization's
            // directory (a directory there is another Kustomization).
            if path == t {
                return t.starts_with(&k.dir);
            }
            match self.entry_in(&t) {
                Some(inner) => {
                    path == self.files[inner.file].path || self.covers(inner, path, depth + 1)
                }
                None => false,
            }
        })
    }

    fn kustomize(&self, findings: &mut Findings) -> Kustomized {
        let ks = &self.kustomizations;
        let file_of = |k: &Kustomization| self.files[k.file].path.as_path();
        let covers = |k: &Kustomization, path: &std::path::Path| self.covers(k, path, 0);
        let depth: Vec<usize> = ks
            .iter()
            .enumerate()
            .map(|(i, k)| {
                ks.iter()
                    .enumerate()
                    .filter(|(j, o)| *j != i && covers(o, file_of(k)))
                    .count()
            })
            .collect();
        // What kustomize refuses outright: a Kustomization that lists
        // itself through others, and a directory with two entry files.
        for k in ks {
            let file = file_of(k);
            if covers(k, file) {
                findings.unresolved(
                    &self.files[k.file].origin,
                    None,
                    "this Kustomization lists itself through the Kustomizations it lists (a cycle), which kustomize refuses (`kubectl apply -k` fails); what it applies here is not what any build produces",
                );
            }
            if is_kustomization_file(file)
                && let Some(other) = ks.iter().find(|o| {
                    o.file < k.file && o.dir == k.dir && is_kustomization_file(file_of(o))
                })
            {
                findings.unresolved(
                    &self.files[k.file].origin,
                    None,
                    format!(
                        "a second kustomization file in one directory (beside {}), which kustomize refuses (`kubectl apply -k` fails); keep one",
                        self.files[other.file].origin
                    ),
                );
            }
        }
        let mut out = Kustomized::default();
        let mut given = vec![0usize; ks.len()];
        for kz in ks {
            let origin = &self.files[kz.file].origin;
            for (r, line) in &kz.resources {
                let t = resource_target(kz, r);
                let read = self
                    .files
                    .iter()
                    .any(|f| f.path == t || f.path.starts_with(&t));
                let has_entry = |d: &std::path::Path| {
                    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                        .iter()
                        .any(|n| d.join(n).is_file())
                };
                let message = if r.contains("://") || r.starts_with("github.com/") {
                    format!("remote resource {r} is not read: an import reads files only")
                } else if t.is_file() && !t.starts_with(&kz.dir) {
                    format!(
                        "resource {r} is a file outside this Kustomization's directory, which kustomize refuses (list the directory that holds it, with its own kustomization.yaml); not applied"
                    )
                } else if t.is_dir() && !has_entry(&t) {
                    format!(
                        "resource {r} is a directory without a kustomization.yaml, which `kubectl apply -k` refuses; nothing is read from it"
                    )
                } else if read {
                    continue;
                } else if t.exists() {
                    format!(
                        "resource {r} is not read: this import did not include it (a single file was imported, or it is outside the directory imported, or not a .yaml, .yml or .json file); import the directory that holds the Kustomization and its resources, as `kubectl apply -k DIR` reads them"
                    )
                } else {
                    format!(
                        "resource {r} does not exist, so nothing is read from it (`kubectl apply -k` refuses a Kustomization whose resource is missing)"
                    )
                };
                findings.unresolved(origin, Some(*line), message);
            }
            for (p, line) in &kz.inputs {
                let t = resource_target(kz, p);
                for (i, f) in self.files.iter().enumerate() {
                    if f.path == t {
                        out.inputs.entry(i).or_insert((kz.file, *line));
                    }
                }
            }
        }
        for (i, f) in self.files.iter().enumerate() {
            if ks.iter().any(|k| k.file == i) {
                continue;
            }
            let holding: Vec<usize> = (0..ks.len()).filter(|&k| covers(&ks[k], &f.path)).collect();
            if holding.is_empty() {
                // Only an entry file claims its directory: a Kustomization
                // in a file of another name is not what `kubectl apply -k`
                // reads there.
                if let Some(k) = ks
                    .iter()
                    .find(|k| f.path.starts_with(&k.dir) && is_kustomization_file(file_of(k)))
                {
                    out.unlisted.insert(i, k.file);
                }
                continue;
            }
            let mut ways: Vec<Applied> = Vec::new();
            for &root in holding.iter().filter(|&&k| depth[k] == 0) {
                let mut chain: Vec<usize> = holding
                    .iter()
                    .copied()
                    .filter(|&m| m == root || covers(&ks[root], file_of(&ks[m])))
                    .collect();
                chain.sort_by_key(|&m| depth[m]);
                let namespace = chain
                    .iter()
                    .find_map(|&m| ks[m].namespace.clone().inspect(|_| given[m] += 1));
                let mut meta = Meta::default();
                for &m in chain.iter().rev() {
                    meta.overlay(&ks[m].meta);
                }
                let way = Applied { namespace, meta };
                if !ways.contains(&way) {
                    ways.push(way);
                }
            }
            if ways.len() > 1 {
                let namespaces: Vec<String> = ways
                    .iter()
                    .map(|w| w.namespace.clone().unwrap_or_else(|| "their own".into()))
                    .collect();
                findings.note(
                    &f.origin,
                    None,
                    format!(
                        "{} Kustomizations apply this file; its objects are imported once for each, in namespaces {}",
                        ways.len(),
                        namespaces.join(", ")
                    ),
                );
            }
            if ways.iter().any(|w| *w != Applied::default()) {
                out.applied.insert(i, ways);
            }
        }
        for (k, kz) in ks.iter().enumerate() {
            let Some(ns) = &kz.namespace else { continue };
            let origin = &self.files[kz.file].origin;
            let message = if given[k] > 0 {
                format!(
                    "namespace {ns} applied to the objects of the {} file(s) this Kustomization lists",
                    given[k]
                )
            } else if depth[k] > 0 {
                format!(
                    "namespace {ns} is not applied: every Kustomization that lists this one sets its own"
                )
            } else {
                continue;
            };
            findings.note(origin, Some(kz.namespace_line), message);
        }
        out
    }

    /// With `--namespace` given, every object that names another namespace
    /// (itself or through its Kustomization), as `kubectl apply -n` refuses
    /// it. Used to list these beside other problems when an import is
    /// refused for those, so that one round shows them all.
    pub fn check_namespaces(&self, default_namespace: &str, given: bool) -> Vec<InventoryError> {
        if !given || self.objects.is_empty() {
            return Vec::new();
        }
        let mut scratch = Findings::default();
        let kustomized = self.kustomize(&mut scratch);
        self.instances(&kustomized, (default_namespace, given), &mut scratch)
            .1
    }

    /// Each object as it is applied: in a Kustomization's namespace, else
    /// its own, else the import's; once per Kustomization that applies its
    /// file. A file a Kustomization reads as a patch holds no objects of
    /// its own, and one beside a Kustomization that does not list it is not
    /// applied. Objects refused by `--namespace` come second.
    fn instances<'o>(
        &'o self,
        kustomized: &Kustomized,
        (default_namespace, given): (&str, bool),
        findings: &mut Findings,
    ) -> (Vec<Instance<'o>>, Vec<InventoryError>) {
        let mut mismatched = Vec::new();
        let mut instances: Vec<Instance> = Vec::new();
        let mut noted = HashSet::new();
        let as_written = [Applied::default()];
        for o in &self.objects {
            let not_applied = if let Some(&(kfile, kline)) = kustomized.inputs.get(&o.file) {
                Some((
                    false,
                    format!(
                        "read as a patch or input of the Kustomization at {}:{kline}, not as objects of their own; not imported",
                        self.files[kfile].origin
                    ),
                ))
            } else {
                kustomized.unlisted.get(&o.file).map(|&kfile| (true, format!(
                    "not listed by the Kustomization {} in its directory, so `kubectl apply -k` does not apply it and it is not imported; list it in `resources`, or import it on its own",
                    self.files[kfile].origin
                )))
            };
            if let Some((unresolved, message)) = not_applied {
                if noted.insert(o.file) {
                    let origin = &self.files[o.file].origin;
                    if unresolved {
                        findings.unresolved(origin, None, message);
                    } else {
                        findings.note(origin, None, message);
                    }
                }
                continue;
            }
            let ways = kustomized
                .applied
                .get(&o.file)
                .map_or(&as_written[..], Vec::as_slice);
            for way in ways {
                let mut meta = o.meta.clone();
                meta.overlay(&way.meta);
                let (ns, defaulted) = match (&way.namespace, &o.namespace) {
                    (Some(k), _) => (k.clone(), false),
                    (None, Some((ns, _))) => (ns.clone(), false),
                    (None, None) => (default_namespace.to_owned(), true),
                };
                let cluster_scoped = matches!(o.what, What::Binding { cluster: true, .. });
                if given && !cluster_scoped && ns != default_namespace {
                    let (line, written) = match &o.namespace {
                        Some((n, l)) if way.namespace.is_none() => {
                            (*l, format!("its namespace {n}"))
                        }
                        _ => (
                            o.line,
                            format!("the namespace {ns} its Kustomization gives it"),
                        ),
                    };
                    mismatched.push(InventoryError::Invalid {
                        origin: self.files[o.file].origin.clone(),
                        line: Some(line),
                        at: "metadata.namespace".into(),
                        message: format!(
                            "the {} {} is in {written}, not --namespace {default_namespace}; `kubectl apply -n` refuses it too: import without --namespace, or with --namespace {ns}",
                            o.kind, o.name
                        ),
                    });
                    continue;
                }
                instances.push(Instance {
                    o,
                    ns,
                    defaulted,
                    kustomized_ns: way.namespace.clone(),
                    meta,
                });
            }
        }
        (instances, mismatched)
    }

    /// Resolves the manifests against each other and against `working`
    /// (what the inventory already holds, merged with earlier sources).
    ///
    /// `namespace` is the import's (`default` unless given); when it was
    /// `given` (`--namespace`), an object that names another namespace is
    /// refused, as `kubectl apply -n` refuses it.
    pub fn build(
        self,
        working: &Inventory,
        (default_namespace, given): (&str, bool),
        findings: &mut Findings,
    ) -> Result<(Inventory, LineMap), Vec<InventoryError>> {
        let kustomized = self.kustomize(findings);
        let (instances, mismatched) =
            self.instances(&kustomized, (default_namespace, given), findings);
        if !mismatched.is_empty() {
            return Err(mismatched);
        }
        let mut b = Builder {
            files: &self.files,
            working,
            stored: working
                .identities
                .iter()
                .flat_map(|i| {
                    std::iter::once((i.id.as_str(), i))
                        .chain(i.external_ids.iter().map(move |x| (x.as_str(), i)))
                })
                .collect(),
            inv: Inventory::default(),
            lines: LineMap::default(),
            accounts: BTreeMap::new(),
            defaulted: HashMap::new(),
            findings,
            unknown_owners: HashSet::new(),
        };
        // Binding subjects that named an account a Kustomization moved
        // follow it, as kustomize rewrites them.
        let mut moved: Moved = HashMap::new();
        for inst in &instances {
            if matches!(inst.o.what, What::Account)
                && let Some(k) = &inst.kustomized_ns
            {
                moved
                    .entry(inst.o.name.clone())
                    .or_default()
                    .push((inst.o.namespace.clone().map(|(n, _)| n), k.clone()));
            }
        }

        // Accounts first, so every reference below finds them.
        for inst in &instances {
            let o = inst.o;
            if !matches!(o.what, What::Account) {
                continue;
            }
            let ns = &inst.ns;
            let id = sa_id(ns, &o.name);
            if inst.defaulted {
                b.defaulted.insert(o.name.clone(), (o.file, o.line));
            }
            if b.accounts.contains_key(&id) {
                b.note(o, format!("the service account {ns}/{} is defined again here; the first definition is kept", o.name));
                continue;
            }
            b.at(o.file);
            b.lines.entity(Section::Identities, &id, o.line);
            inst.meta
                .stated(&mut b.lines, Section::Identities, &id, o.line);
            let mut i = account_identity(ns, &o.name, inst.meta.environment, inst.meta.tier);
            i.owner = b.owner(o, &inst.meta);
            if let Some(stored) = b.stored.get(id.as_str()) {
                // The name an owner gave it stays; a placeholder's
                // description goes now that the manifest is here.
                i.name = stored.name.clone();
                if is_placeholder(stored) {
                    i.description = format!("Kubernetes service account {ns}/{}.", o.name);
                }
            }
            b.accounts.insert(id, i);
        }

        // A workload's name is made up (`api (Deployment)`): one an owner
        // gave the stored service stays.
        let stored_services: HashMap<&str, &Service> = working
            .services
            .iter()
            .map(|s| (s.id.as_str(), s))
            .collect();
        let mut services: HashSet<String> = HashSet::new();
        let mut grants: Vec<(String, String, Access)> = Vec::new();
        let mut people = 0usize;
        // Group grants, expanded once every account is known (a workload
        // read after the binding may add its namespace's `default`).
        let mut groups: Vec<GroupGrant> = Vec::new();
        let mut first_person: Option<(usize, u64)> = None;
        for inst in &instances {
            let (o, ns) = (inst.o, inst.ns.clone());
            match &o.what {
                What::Account => {}
                What::Workload(account) => {
                    let id = format!("{ns}/{}", o.name);
                    if !services.insert(id.clone()) {
                        b.note(o, format!("the workload {id} is defined again here; the first definition is kept"));
                        continue;
                    }
                    b.at(o.file);
                    b.lines.entity(Section::Services, &id, o.line);
                    inst.meta
                        .stated(&mut b.lines, Section::Services, &id, o.line);
                    let name = stored_services
                        .get(id.as_str())
                        .map_or_else(|| format!("{} ({})", o.name, o.kind), |s| s.name.clone());
                    let owner = b.owner(o, &inst.meta);
                    b.inv.services.push(Service {
                        id: id.clone(),
                        name,
                        owner,
                        tier: inst.meta.tier.unwrap_or(Tier::IMPORTANT),
                        system: inst.meta.part_of.clone(),
                        description: String::new(),
                        depends_on: Vec::new(),
                    });
                    let (name, line) = account
                        .clone()
                        .unwrap_or_else(|| ("default".to_owned(), o.line));
                    let referrer = format!("the {} {id}", o.kind);
                    let account = b.account(&ns, &name, &referrer, o.file, line);
                    b.at(o.file);
                    b.lines
                        .field(Section::Identities, &account, "used_by", Some(&id), line);
                    let identity = b.accounts.get_mut(&account).expect("just ensured");
                    if !identity.used_by.iter().any(|u| u.service == id) {
                        identity.used_by.push(Usage::of(id));
                    }
                }
                What::Binding {
                    cluster,
                    role_kind,
                    role_name,
                    subjects,
                } => {
                    let scope = if *cluster {
                        String::new()
                    } else {
                        format!(" in {ns}")
                    };
                    let permission = format!("{role_kind}/{role_name}{scope}");
                    let access = access_of(role_name);
                    let referrer = format!("the {} {}", o.kind, o.name);
                    for s in subjects {
                        let kustomized_ns = inst.kustomized_ns.as_deref();
                        let targets =
                            b.subject(o, s, &ns, *cluster, (&moved, kustomized_ns), &referrer);
                        match targets {
                            Some(Grantee::Accounts(ids)) => grants
                                .extend(ids.into_iter().map(|id| (id, permission.clone(), access))),
                            Some(Grantee::Group { prefix, whom }) => groups.push(GroupGrant {
                                file: o.file,
                                line: s.line,
                                referrer: referrer.clone(),
                                group: s.name.clone(),
                                prefix,
                                whom,
                                permission: permission.clone(),
                                access,
                            }),
                            None => {
                                people += 1;
                                first_person.get_or_insert((o.file, s.line));
                            }
                        }
                    }
                }
                What::Token(account_name) => {
                    let id = format!("k8s:{ns}/secret/{}", o.name);
                    let referrer = format!("the token Secret {ns}/{}", o.name);
                    let account = b.account(&ns, account_name, &referrer, o.file, o.line);
                    b.at(o.file);
                    b.lines.entity(Section::Identities, &id, o.line);
                    inst.meta
                        .stated(&mut b.lines, Section::Identities, &id, o.line);
                    b.lines.field(
                        Section::Identities,
                        &id,
                        "derived_from",
                        Some(&account),
                        o.line,
                    );
                    let mut t = Identity::new(
                        &id,
                        IdentityKind::Token,
                        &format!("{ns}/{} (service-account token)", o.name),
                        inst.meta.environment.unwrap_or(Environment::Production),
                        inst.meta.tier.unwrap_or(Tier::IMPORTANT),
                    );
                    t.owner = b.owner(o, &inst.meta);
                    t.external_ids = vec![id.clone()];
                    t.lifetime = Some(Lifetime::LongLived);
                    t.derived_from = Some(account);
                    t.description =
                        "Legacy long-lived service-account token stored in a Secret.".into();
                    b.inv.identities.push(t);
                }
            }
        }
        for GroupGrant {
            file,
            line,
            referrer,
            group,
            prefix,
            whom,
            permission,
            access,
        } in groups
        {
            let ids = b.every(prefix.as_deref());
            b.findings.note(
                &self.files[file].origin,
                Some(line),
                format!(
                    "{referrer} grants the group {group} — {whom} this import or the inventory knows ({})",
                    ids.len()
                ),
            );
            for id in ids {
                let (n, name) = id["k8s:".len()..].split_once('/').unwrap_or(("", ""));
                let (n, name) = (n.to_owned(), name.to_owned());
                let id = b.account(&n, &name, &referrer, file, line);
                grants.push((id, permission.clone(), access));
            }
        }
        if let Some((file, line)) = first_person {
            b.findings.note(
                &self.files[file].origin,
                Some(line),
                format!(
                    "{people} binding subject(s) of kind User or Group name people, not workload identities, and are not imported (the first is here)"
                ),
            );
        }

        for (account, permission, access) in grants {
            let identity = b.accounts.get_mut(&account).expect("ensured by subject()");
            if !identity.permissions.contains(&permission) {
                identity.permissions.push(permission);
            }
            for u in &mut identity.used_by {
                u.access = Some(u.access.map_or(access, |a| a.max(access)));
            }
        }
        let Builder {
            mut inv,
            lines,
            accounts,
            ..
        } = b;
        inv.identities.extend(accounts.into_values());
        Ok((inv, lines))
    }
}

/// An object as one Kustomization (or none) applies it.
struct Instance<'o> {
    o: &'o Object,
    ns: String,
    /// No namespace came from the object or a Kustomization.
    defaulted: bool,
    kustomized_ns: Option<String>,
    meta: Meta,
}

/// Accounts a Kustomization moved: name → (namespace written, namespace given).
type Moved = HashMap<String, Vec<(Option<String>, String)>>;

struct Builder<'a> {
    files: &'a [File],
    working: &'a Inventory,
    /// Stored identities by id and by external id.
    stored: HashMap<&'a str, &'a Identity>,
    inv: Inventory,
    lines: LineMap,
    accounts: BTreeMap<String, Identity>,
    /// Accounts defined without a namespace: name → (file, line).
    defaulted: HashMap<String, (usize, u64)>,
    findings: &'a mut Findings,
    /// Owners named that no import or inventory holds, reported once.
    unknown_owners: HashSet<String>,
}

impl Builder<'_> {
    fn at(&mut self, file: usize) {
        self.lines.file(&self.files[file].origin);
    }

    fn note(&mut self, o: &Object, message: String) {
        self.findings
            .note(&self.files[o.file].origin, Some(o.line), message);
    }

    /// The owner `meta` names, checked against the owners this import and
    /// the inventory know: an owner id that is none of them is reported
    /// and kept (the team's name is not lost); a Backstage reference
    /// (`group:default/team-a`) is read as the owner it names.
    fn owner(&mut self, o: &Object, meta: &Meta) -> Option<String> {
        let written = meta.owner()?;
        let known = |id: &str| {
            self.working
                .owners
                .iter()
                .find(|w| w.id.eq_ignore_ascii_case(id))
                .map(|w| w.id.clone())
        };
        let origin = self.files[o.file].origin.clone();
        if let Some(id) = known(&written) {
            if known(&format!("user:{id}")).is_some() {
                self.findings.note(
                    &origin,
                    Some(o.line),
                    format!(
                        "the owner {id} is the team {id}; the person of that name is user:{id} (write that to give it to the person)"
                    ),
                );
            }
            return Some(id);
        }
        if written.contains(':')
            && let Ok((kind, ns, name)) =
                super::backstage::parse_ref(&written, Some("group"), "default")
        {
            let base = super::backstage::owner_id(&ns, &name);
            let (want, candidates) = match kind.as_deref() {
                Some("user") => (OwnerKind::Person, vec![format!("user:{base}"), base]),
                _ => (OwnerKind::Team, vec![base]),
            };
            // Only an owner of the kind the reference names.
            let of_kind = |id: &str| {
                self.working
                    .owners
                    .iter()
                    .find(|w| w.kind == want && w.id.eq_ignore_ascii_case(id))
                    .map(|w| w.id.clone())
            };
            if let Some(id) = candidates.iter().find_map(|c| of_kind(c)) {
                self.findings.note(
                    &origin,
                    Some(o.line),
                    format!(
                        "the owner {written} is read as the Backstage reference to the owner {id}"
                    ),
                );
                return Some(id);
            }
        }
        // Once per owner, where it is first named.
        if self.unknown_owners.insert(written.clone()) {
            self.findings.unresolved(
                &origin,
                Some(o.line),
                format!(
                    "the {} {}: owner {written} is neither in this import nor in the inventory; kept as the owner id {written} (here and on every other object that names it)",
                    o.kind, o.name
                ),
            );
        }
        Some(written)
    }

    /// The id of the account `ns/name`, which `referrer` (at `file:line`)
    /// names: defined in these manifests, already in the inventory, or
    /// created here and reported.
    fn account(&mut self, ns: &str, name: &str, referrer: &str, file: usize, line: u64) -> String {
        let id = sa_id(ns, name);
        if self.accounts.contains_key(&id) {
            return id;
        }
        let origin = self.files[file].origin.clone();
        self.at(file);
        self.lines.entity(Section::Identities, &id, line);
        if let Some(stored) = self.stored.get(id.as_str()) {
            if is_placeholder(stored) && name != "default" {
                // Still only what an earlier reference made: still reported.
                self.findings.unresolved(
                    &origin,
                    Some(line),
                    format!(
                        "{referrer} names the service account {ns}/{name}, which no manifest of this import defines; the inventory holds it only as the placeholder an earlier import created"
                    ),
                );
            }
            // Restated with what it already has, so that merging changes
            // only what these manifests add (permissions, access).
            let mut i = (*stored).clone();
            i.id = id.clone();
            i.permissions.clear();
            if !i.external_ids.contains(&id) {
                i.external_ids.push(id.clone());
            }
            self.accounts.insert(id.clone(), i);
            return id;
        }
        let mut i = account_identity(ns, name, None, None);
        i.description = format!("Named by {referrer}; {PLACEHOLDER}");
        if name == "default" {
            self.findings.note(
                &origin,
                Some(line),
                format!(
                    "{referrer} {} {ns}/default, the account Kubernetes creates in every namespace; added it to the inventory",
                    if referrer.ends_with("Binding") || referrer.contains("Binding ") {
                        "grants to"
                    } else if referrer.contains("token Secret") {
                        "is a token of"
                    } else {
                        "runs as"
                    }
                ),
            );
        } else {
            let mut message = format!(
                "{referrer} names the service account {ns}/{name}, which no manifest of this import defines and the inventory does not hold; created it"
            );
            if let Some(&(f, l)) = self.defaulted.get(name) {
                message.push_str(&format!(
                    ". An account {name} is defined at {}:{l} without a namespace and was put in the import's namespace: if these manifests are meant for `kubectl apply -n {ns}`, import them with --namespace {ns}",
                    self.files[f].origin
                ));
            }
            self.findings.unresolved(&origin, Some(line), message);
        }
        self.accounts.insert(id.clone(), i);
        id
    }

    /// Whom a binding subject grants, or `None` for a person or a group
    /// of people.
    fn subject(
        &mut self,
        o: &Object,
        s: &Subject,
        ns: &str,
        cluster: bool,
        (moved, kustomized_ns): (&Moved, Option<&str>),
        referrer: &str,
    ) -> Option<Grantee> {
        let origin = self.files[o.file].origin.clone();
        match s.kind.as_str() {
            "ServiceAccount" => {
                // kustomize moves a subject with the account it names
                // when both are in the same build.
                let follows = kustomized_ns.is_some_and(|kns| {
                    moved.get(&s.name).is_some_and(|m| {
                        m.iter().any(|(from, to)| {
                            // kustomize reads an account written without a
                            // namespace as in `default`, whatever `-n` says.
                            let from = from.as_deref().unwrap_or("default");
                            to == kns && s.namespace.as_deref().is_none_or(|n| n == from)
                        })
                    })
                });
                // And, in its default mode, gives every subject named
                // `default` the Kustomization's namespace, whatever it said
                // (kustomize's namespace transformer, DefaultSubjectsOnly).
                let namespace = match kustomized_ns {
                    Some(kns) if follows || s.name == "default" => Some(kns.to_owned()),
                    _ => s.namespace.clone(),
                };
                let namespace = match (namespace, cluster) {
                    (Some(n), _) => n,
                    (None, false) => ns.to_owned(),
                    (None, true) => {
                        self.findings.unresolved(
                            &origin,
                            Some(s.line),
                            format!(
                                "{referrer}: the ServiceAccount subject {} has no namespace, which the API server refuses in a ClusterRoleBinding; this grant is not kept",
                                s.name
                            ),
                        );
                        return Some(Grantee::Accounts(Vec::new()));
                    }
                };
                Some(Grantee::Accounts(vec![
                    self.account(&namespace, &s.name, referrer, o.file, s.line),
                ]))
            }
            "User" => {
                // How the authorizer names an account's requests.
                let parts: Vec<&str> = s.name.splitn(4, ':').collect();
                match parts.as_slice() {
                    ["system", "serviceaccount", n, name] => Some(Grantee::Accounts(vec![
                        self.account(n, name, referrer, o.file, s.line),
                    ])),
                    _ => None,
                }
            }
            "Group" => match s.name.as_str() {
                "system:serviceaccounts" | "system:authenticated" => Some(Grantee::Group {
                    prefix: None,
                    whom: "every service account".to_owned(),
                }),
                g if g.starts_with("system:serviceaccounts:") => {
                    let n = &g["system:serviceaccounts:".len()..];
                    Some(Grantee::Group {
                        prefix: Some(format!("k8s:{n}/")),
                        whom: format!("every service account in {n}"),
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Every account this import or the inventory knows whose id starts
    /// with `prefix` (all of them for `None`).
    fn every(&self, prefix: Option<&str>) -> Vec<String> {
        let defined = self.accounts.keys().cloned();
        let stored = self
            .working
            .identities
            .iter()
            .flat_map(|i| i.external_ids.iter())
            .filter(|x| x.starts_with("k8s:") && !x[4..].contains("/secret/"))
            .cloned();
        let mut all: Vec<String> = defined
            .chain(stored)
            .filter(|id| prefix.is_none_or(|p| id.starts_with(p)))
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// A binding's grant to a group of accounts, expanded after every object
/// is read.
struct GroupGrant {
    file: usize,
    line: u64,
    referrer: String,
    group: String,
    prefix: Option<String>,
    whom: String,
    permission: String,
    access: Access,
}

/// Whom a binding subject grants.
enum Grantee {
    /// These accounts (ensured to exist).
    Accounts(Vec<String>),
    /// Every account under `prefix`, known only once every object is read.
    Group {
        prefix: Option<String>,
        whom: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str, ns: &str) -> (Inventory, Findings) {
        let mut m = Manifests::default();
        let mut findings = Findings::default();
        let f = m.file("m.yaml", PathBuf::from("/nowhere/m.yaml"));
        for doc in
            super::super::yaml::documents(text, "m.yaml", Keep::Fields(super::super::document_rule))
                .unwrap()
        {
            m.add(f, &doc, &mut findings).unwrap();
        }
        let (inv, _) = m
            .build(&Inventory::default(), (ns, false), &mut findings)
            .unwrap();
        (inv, findings)
    }

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
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: b}
"#;

    #[test]
    fn maps_accounts_workloads_bindings_and_token_secrets() {
        let (inv, findings) = build(MANIFESTS, "default");
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
        assert_eq!(findings.skipped.len(), 1);
        assert_eq!(findings.skipped[0].kind, "ConfigMap");
        // Only that the owner is in no import.
        assert!(
            findings.unresolved.iter().all(|f| f
                .message
                .contains("neither in this import nor in the inventory; kept as the owner id")),
            "{findings:?}"
        );
    }

    #[test]
    fn bad_values_name_the_line() {
        let mut m = Manifests::default();
        let f = m.file("m.yaml", PathBuf::from("m.yaml"));
        let docs = super::super::yaml::documents(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  annotations: {countersign.dev/tier: \"9\"}\n",
            "m.yaml",
            Keep::Fields(super::super::document_rule),
        )
        .unwrap();
        let e = m.add(f, &docs[0], &mut Findings::default()).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].line, 5);
        assert!(e[0].at.starts_with("metadata.annotations"), "{e:?}");
    }

    #[test]
    fn authorizer_subjects_reach_accounts() {
        let (inv, findings) = build(
            r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: a, namespace: x}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: b, namespace: y}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-in-x}
roleRef: {kind: ClusterRole, name: view}
subjects:
  - {kind: Group, name: "system:serviceaccounts:x"}
  - {kind: User, name: "system:serviceaccount:y:b"}
  - {kind: User, name: alice}
"#,
            "default",
        );
        let perms = |id: &str| {
            inv.identities
                .iter()
                .find(|i| i.id == id)
                .unwrap()
                .permissions
                .clone()
        };
        assert_eq!(perms("k8s:x/a"), ["ClusterRole/view"]);
        assert_eq!(perms("k8s:y/b"), ["ClusterRole/view"]);
        assert!(
            findings
                .notes
                .iter()
                .any(|n| n.message.contains("1 binding subject(s)"))
        );
    }
}
