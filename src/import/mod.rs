//! Bringing inventories in from what organisations already keep. Every
//! format is parsed into an [`Inventory`] fragment, merged with what the
//! store holds, validated as a whole, shown as a diff, and only then written
//! in one audited transaction. Re-importing the same files changes nothing;
//! a bad file changes nothing and names its line.

mod aws;
mod backstage;
mod csv;
mod cyclonedx;
mod detect;
pub mod directory;
mod entra;
mod gcp;
pub mod input;
mod json;
mod kubernetes;
mod names;
pub mod observed;
mod report;
mod yaml;

pub use detect::Format;
pub use report::{Finding, Findings, Skipped};

/// The CSV tables, shared with `export --format csv`.
pub(crate) mod csv_tables {
    pub(crate) use super::csv::{
        ContainmentRow, CredentialRow, IdentityRow, OwnerRow, ServiceRow, UsageRow, join_list,
        looks_like_formula,
    };
}

use serde::Serialize;
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::Store;
use crate::inventory::{
    ChangeSet, Deleted, Entity, Inventory, InventoryError, LineMap, MergeMode, Problem, Section,
    Stored, file,
};
use crate::store::{Applied, ChangeContext, StoreError};
use yaml::Keep;

/// What parsing one file produced.
pub struct Source {
    pub origin: String,
    pub format: Format,
    pub inventory: Inventory,
    pub mode: MergeMode,
    /// Which parts of each identity the source speaks for. A CSV of
    /// identities alone must not erase the usages another file documents.
    pub covers_usages: bool,
    pub covers_containment: bool,
    pub covers_credentials: bool,
    pub lines: LineMap,
}

impl Source {
    fn new(origin: &str, format: Format, inventory: Inventory, mode: MergeMode) -> Self {
        Source {
            origin: origin.to_owned(),
            format,
            inventory,
            mode,
            covers_usages: true,
            covers_containment: true,
            covers_credentials: true,
            lines: LineMap::default(),
        }
    }

    /// Whether this source lists the entity, by the lines it recorded (its
    /// entities are moved out while the import is planned).
    fn lists(&self, section: Section, id: &str) -> bool {
        self.lines.has_entity(section, id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// More than one problem: each names its file, line and field.
    #[error("{} problems, nothing was written:\n{}", .0.len(), lines(.0))]
    Refused(Vec<InventoryError>),
    /// `--strict`, and the import skipped or could not resolve something.
    #[error("--strict: {} finding(s), nothing was written:\n{}", .0.len(), lines(.0))]
    Strict(Vec<Finding>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{origin}: cannot read: {message}")]
    Io { origin: String, message: String },
    #[error("{0}: no file to import (looked for .yaml, .yml, .json and .csv files)")]
    Empty(String),
    #[error("the files or the inventory changed since the preview; preview the import again")]
    PreviewOutdated,
    /// A directory import whose files list no person: read as the whole
    /// organisation, it would mark every owner as gone.
    #[error(
        "{origin}: lists no person (Backstage User entities, or owners.csv rows of kind person); a directory import reads the organisation's people, and this would mark every owner as gone, so nothing was changed"
    )]
    NoPeople { origin: String },
    /// A Countersign inventory file given to a directory import.
    #[error(
        "{origin}: is a Countersign inventory, which lists some owners, not the organisation's directory; give the directory's Backstage User and Group entities or its owners.csv of people"
    )]
    NotADirectory { origin: String },
}

fn lines<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ImportError {
    /// Each problem on its own, with its file, line, column and field
    /// where known (for `--json`).
    pub fn problems(&self) -> Vec<Refusal> {
        match self {
            ImportError::Refused(v) => v.iter().map(Refusal::from).collect(),
            ImportError::Inventory(e) => vec![Refusal::from(e)],
            ImportError::Strict(v) => v
                .iter()
                .map(|f| Refusal {
                    file: Some(f.file.clone()),
                    line: f.line,
                    column: None,
                    field: None,
                    message: f.message.clone(),
                    text: f.to_string(),
                })
                .collect(),
            ImportError::Io { origin, message } => vec![Refusal {
                file: Some(origin.clone()),
                line: None,
                column: None,
                field: None,
                message: format!("cannot read: {message}"),
                text: self.to_string(),
            }],
            other => vec![Refusal {
                file: None,
                line: None,
                column: None,
                field: None,
                message: other.to_string(),
                text: other.to_string(),
            }],
        }
    }

    /// One problem as itself, several as a list.
    fn of(mut problems: Vec<InventoryError>) -> Self {
        if problems.len() == 1 {
            ImportError::Inventory(problems.remove(0))
        } else {
            ImportError::Refused(problems)
        }
    }
}

/// One reason an import was refused, for `--json`: where (each part when
/// known) and what, and `text`, the whole line as the terminal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub file: Option<String>,
    /// 1-based.
    pub line: Option<u64>,
    /// 1-based, for syntax errors.
    pub column: Option<u64>,
    /// The field at fault (`spec.owner`, `metadata.namespace`).
    pub field: Option<String>,
    pub message: String,
    pub text: String,
}

impl From<&InventoryError> for Refusal {
    fn from(e: &InventoryError) -> Self {
        let text = e.to_string();
        let (file, line, column, field, message) = match e {
            InventoryError::Read { origin, message } => {
                (origin, None, None, None, format!("cannot read: {message}"))
            }
            InventoryError::Syntax {
                origin,
                position,
                message,
            } => (
                origin,
                position.map(|(l, _)| l),
                position.map(|(_, c)| c),
                None,
                message.clone(),
            ),
            InventoryError::Invalid {
                origin,
                line,
                at,
                message,
            } => (
                origin,
                *line,
                None,
                Some(at.clone()).filter(|a| !a.is_empty()),
                message.clone(),
            ),
            InventoryError::Unsupported { origin, message } => {
                (origin, None, None, None, message.clone())
            }
        };
        Refusal {
            file: Some(file.clone()),
            line,
            column,
            field,
            message,
            text,
        }
    }
}

/// How to read what is imported.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// The namespace of namespaced Kubernetes objects that name none, as
    /// `kubectl apply -n` (default `default`).
    pub namespace: Option<String>,
    /// Refuse the import when anything was skipped or left unresolved.
    pub strict: bool,
    /// Carry Backstage Resources and APIs stored under their bare name (as
    /// imports did before service ids named the kind) over to their new
    /// ids. Only the owner can know a bare `orders-db` is the Resource and
    /// not a Component, so this is asked for, never guessed.
    pub carry_over_ids: bool,
}

impl Options {
    pub fn new(format: Format) -> Self {
        Options {
            format,
            namespace: None,
            strict: false,
            carry_over_ids: false,
        }
    }
}

/// Reports progress as files are parsed and changes written.
pub trait Progress: Sync {
    fn file(&self, _origin: &str) {}
    fn planned(&self, _changes: usize) {}
}

impl Progress for () {}

/// The result of an import, dry or real.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub files: Vec<String>,
    /// Identifies this exact plan; pass it back to apply only what was shown.
    pub fingerprint: String,
    pub changes: ChangeSet,
    /// What was skipped, left unresolved, or done on the reader's behalf.
    pub findings: Findings,
    pub applied: Option<Applied>,
}

/// Everything read for one import, before it is resolved against the
/// inventory: Countersign's own files and CSV tables as sources, and all
/// Backstage entities and Kubernetes objects each as one set, since their
/// references cross files.
pub struct Sources {
    list: Vec<Source>,
    catalog: backstage::Catalog,
    manifests: kubernetes::Manifests,
    /// AWS IAM files, resolved as one set after the manifests (a role
    /// federated to a Kubernetes service account finds its workloads).
    aws: aws::Estate,
    /// Entra ID lists, resolved as one set.
    entra: entra::Tenant,
    /// Google Cloud files, resolved as one set.
    gcp: gcp::Projects,
    /// CycloneDX BOMs, each resolved as a set after the cloud files.
    boms: cyclonedx::Boms,
    findings: Findings,
    namespace: String,
    /// Whether `namespace` was given (`--namespace`), not defaulted.
    namespace_given: bool,
    strict: bool,
    carry_over_ids: bool,
    files: Vec<String>,
}

impl Sources {
    /// The files read, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Whether planning reads the whole stored inventory: Backstage
    /// entities and Kubernetes objects resolve their references by name
    /// across all of it. Countersign's own files and CSV tables merge by
    /// id and external id, so they need only the stored entities they name
    /// ([`Sources::named`]), and an import of one identity costs what one
    /// identity costs (issue 20).
    pub fn needs_whole_inventory(&self) -> bool {
        !self.catalog.is_empty()
            || !self.manifests.is_empty()
            || !self.aws.is_empty()
            || !self.entra.is_empty()
            || !self.gcp.is_empty()
            || !self.boms.is_empty()
    }

    /// What the sources name: owner, service and identity ids, and the
    /// external ids their identities carry (an identity stored under
    /// another id may hold one, and is then the same identity).
    pub fn named(&self) -> Named {
        let mut named = Named::default();
        for source in &self.list {
            let inv = &source.inventory;
            named.owners.extend(inv.owners.iter().map(|o| o.id.clone()));
            named
                .services
                .extend(inv.services.iter().map(|s| s.id.clone()));
            for i in &inv.identities {
                named.identities.push(i.id.clone());
                named.external_ids.extend(i.external_ids.iter().cloned());
            }
        }
        named
    }
}

/// Ids an import's sources name ([`Sources::named`]).
#[derive(Debug, Clone, Default)]
pub struct Named {
    pub owners: Vec<String>,
    pub services: Vec<String>,
    pub identities: Vec<String>,
    pub external_ids: Vec<String>,
}

/// The fields of a YAML document the importers read (see [`yaml::Keep`]).
fn document_rule(key: &str) -> Keep {
    match key {
        "apiVersion" | "kind" | "type" | "namespace" | "resources" | "bases" | "subjects"
        | "roleRef" => Keep::All,
        // A Kustomization's (no other kind has these at the top).
        "components"
        | "patches"
        | "patchesStrategicMerge"
        | "patchesJson6902"
        | "replacements"
        | "crds"
        | "configurations"
        | "transformers"
        | "generators"
        | "validators"
        | "commonLabels"
        | "commonAnnotations"
        | "configMapGenerator"
        | "secretGenerator"
        | "helmCharts"
        | "openapi"
        | "labels" => Keep::All,
        "metadata" => Keep::Fields(|k| match k {
            // Labels and tags whole: their format is checked as the source
            // systems check it.
            "name" | "namespace" | "title" | "description" | "ownerReferences" | "labels"
            | "tags" => Keep::All,
            "annotations" => Keep::Fields(kubernetes::annotation_rule),
            // Only that they are there, to tell an unknown field.
            _ => Keep::Mark,
        }),
        "spec" => Keep::Fields(|k| match k {
            "template" => Keep::Fields(kubernetes::pod_template_rule),
            "jobTemplate" => Keep::Fields(kubernetes::job_template_rule),
            "serviceAccountName" | "serviceAccount" => Keep::All,
            k if backstage::is_spec_field(k) => Keep::All,
            // Only that they are there: Backstage requires an API's
            // `definition`; a workload's spec is checked for unknown
            // fields.
            _ => Keep::Mark,
        }),
        "items" => Keep::Fields(document_rule),
        // Only that they are there (a Kustomization's transformers).
        _ => Keep::Mark,
    }
}

/// Why a file given with `--format aws|entra|gcp` was not read: what
/// that provider's CLI prints instead.
fn not_cloud_output(format: Format) -> String {
    match format {
        Format::Aws => "not AWS IAM output: expected `aws iam get-account-authorization-details` (UserDetailList, RoleDetailList, …) or `aws iam get-credential-report` JSON, or the report's CSV",
        Format::Entra => "not Entra ID output: expected `az ad sp list --all` or `az ad app list --all` JSON (or the same Microsoft Graph objects under `value`)",
        Format::Cyclonedx => "not a CycloneDX BOM: expected JSON with \"bomFormat\": \"CycloneDX\" (CycloneDX's XML and protobuf forms are not read; convert them with the cyclonedx CLI)",
        _ => "not Google Cloud output: expected gcloud's --format=json of `iam service-accounts list`, `iam service-accounts keys list` or `projects get-iam-policy`",
    }
    .to_owned()
}

/// Reads files into [`Sources`], collecting every problem before refusing.
struct Reader<'a> {
    options: &'a Options,
    boundary: input::Boundary,
    sources: Sources,
    csv_parts: Vec<(String, csv::Part)>,
    problems: Vec<InventoryError>,
    /// Canonical paths read, so a file named twice (by the walk and by a
    /// Location) is read once.
    seen: HashSet<PathBuf>,
    queue: VecDeque<PathBuf>,
    /// Each file read, as shown → as resolved (to match a Kustomization's
    /// inputs).
    origins: std::collections::HashMap<String, PathBuf>,
    /// Files found by walking the directory imported (resolved).
    walked: HashSet<PathBuf>,
    /// Files a Location named: resolved → the Location's file and line.
    located: std::collections::HashMap<PathBuf, (String, u64)>,
    /// Files of no format Countersign reads, settled in `finish` (where
    /// it is known whether a Kustomization reads them).
    unrecognised: Vec<InventoryError>,
}

impl<'a> Reader<'a> {
    fn new(options: &'a Options, boundary: input::Boundary) -> Self {
        Reader {
            options,
            boundary,
            sources: Sources {
                list: Vec::new(),
                catalog: backstage::Catalog::default(),
                manifests: kubernetes::Manifests::default(),
                aws: aws::Estate::default(),
                entra: entra::Tenant::default(),
                gcp: gcp::Projects::default(),
                boms: cyclonedx::Boms::default(),
                findings: Findings::default(),
                namespace: options
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".to_owned()),
                namespace_given: options.namespace.is_some(),
                strict: options.strict,
                carry_over_ids: options.carry_over_ids,
                files: Vec::new(),
            },
            csv_parts: Vec::new(),
            problems: Vec::new(),
            seen: HashSet::new(),
            queue: VecDeque::new(),
            origins: std::collections::HashMap::new(),
            walked: HashSet::new(),
            located: std::collections::HashMap::new(),
            unrecognised: Vec::new(),
        }
    }

    fn read_all(&mut self, progress: &dyn Progress) -> Result<(), ImportError> {
        while let Some(path) = self.queue.pop_front() {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if !self.seen.insert(canonical) {
                continue;
            }
            progress.file(&path.display().to_string());
            self.origins
                .insert(path.display().to_string(), canonical_of(&path));
            // A file that cannot be read is a problem like any other, so
            // the rest are still read (and it may be a Kustomization's
            // input, which is no problem at all: see `finish`).
            match self.read_file(&path) {
                Ok(()) => {}
                Err(ImportError::Io { origin, message }) => {
                    self.problems.push(InventoryError::Read { origin, message })
                }
                Err(ImportError::Inventory(e)) => self.problems.push(e),
                Err(ImportError::Refused(v)) => self.problems.extend(v),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ImportError> {
        let origin = path.display().to_string();
        let is_csv = match self.options.format {
            Format::Csv => true,
            Format::Auto => detect::has_csv_extension(path),
            _ => false,
        };
        self.sources.files.push(origin.clone());
        // The AWS credential report is CSV of its own, told by its header.
        if is_csv || self.options.format == Format::Aws {
            let head = input::read_head(path)?;
            if aws::is_credential_report_header(&head) {
                let text = input::read_text(path)?;
                if let Err(e) = self.sources.aws.add_report(&origin, &text) {
                    self.problems.push(e);
                }
                return Ok(());
            }
        }
        if is_csv {
            // Streamed: a CSV export of a large estate is read row by row.
            let reader = input::open_text_stream(path, input::MAX_CSV_BYTES)?;
            self.csv_parts
                .push((origin.clone(), csv::read_part(reader, &origin)?));
            return Ok(());
        }
        let text = input::read_text(path)?;
        self.read_text(path, &text)
    }

    fn read_text(&mut self, path: &Path, text: &str) -> Result<(), ImportError> {
        let origin = path.display().to_string();
        // Only comments and document markers: kubectl and Backstage read
        // nothing from it and say nothing; an import notes it.
        let blank = text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
        });
        if blank && !detect::has_csv_extension(path) {
            self.sources.findings.note(
                &origin,
                None,
                "no document in it (empty, or only comments); nothing read",
            );
            return Ok(());
        }
        // JSON a cloud provider's CLI printed, told by its shape.
        let cloud = matches!(
            self.options.format,
            Format::Aws | Format::Entra | Format::Gcp | Format::Cyclonedx
        );
        if (self.options.format == Format::Auto || cloud)
            && text.trim_start().starts_with(['{', '['])
        {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(value) => match self.add_cloud(&origin, text, &value) {
                    Some(Ok(())) => return Ok(()),
                    Some(Err(e)) => {
                        self.problems.push(e);
                        return Ok(());
                    }
                    None => {}
                },
                // Insisted on, a cut-off file is named as such.
                Err(_) if cloud => {
                    if let Err(e) = json::read::<serde_json::Value>(text, &origin) {
                        self.problems.push(e);
                    }
                    return Ok(());
                }
                // A cut-off CycloneDX BOM is named as one, not read as
                // whatever its `version` key makes it look like.
                Err(_) if text.contains("\"bomFormat\"") => {
                    if let Err(mut e) = json::read::<serde_json::Value>(text, &origin) {
                        if let InventoryError::Syntax { message, .. } = &mut e {
                            message.push_str(" (read as a CycloneDX BOM, as it has bomFormat)");
                        }
                        self.problems.push(e);
                    }
                    return Ok(());
                }
                // Otherwise the YAML reader names the fault, as for any file.
                Err(_) => {}
            }
        }
        let format = match self.options.format {
            // A YAML stream is read document by document, each by its own
            // apiVersion, whatever the first one looked like.
            Format::Auto if kubernetes::is_kustomization_file(path) => Format::Auto,
            Format::Auto if detect::is_api_description(text) => {
                self.sources.findings.note(
                    &origin,
                    None,
                    "an API description (OpenAPI, Swagger or AsyncAPI), as a Backstage API's definition points to; not an inventory, catalog or manifest, so not read",
                );
                return Ok(());
            }
            Format::Auto => match detect::detect(path, text) {
                Ok(Format::Backstage | Format::Kubernetes) => Format::Auto,
                Ok(f) => f,
                Err(unknown) => {
                    // A file that does not parse is a syntax error at its
                    // line, whatever format it was meant to be. One that
                    // parses may be a Kustomization's patch: decided once
                    // every file is read.
                    match yaml::documents(text, &origin, Keep::Fields(|_| Keep::Drop)) {
                        Err(problems) => self.problems.extend(problems),
                        Ok(_) => self.unrecognised.push(unknown),
                    }
                    return Ok(());
                }
            },
            f => f,
        };
        match format {
            Format::Native => match native(text, &origin) {
                Ok(source) => self.sources.list.push(source),
                // Told by its keys, not named: say how it was read, in
                // case it is another tool's file with `version` on top.
                Err(mut e) if self.options.format == Format::Auto => {
                    if let InventoryError::Syntax { message, .. }
                    | InventoryError::Invalid { message, .. } = &mut e
                    {
                        message.push_str(
                            " (read as a Countersign inventory, as it has `version` at the top; if it is another tool's file, move it out of the directory imported)",
                        );
                    }
                    self.problems.push(e)
                }
                Err(e) => self.problems.push(e),
            },
            Format::Csv => match csv::parse_part(text, &origin) {
                Ok(part) => self.csv_parts.push((origin, part)),
                Err(e) => self.problems.push(e),
            },
            Format::Backstage | Format::Kubernetes | Format::Auto => {
                self.read_documents(path, text, format)
            }
            // Its files were told above; this one is none of them.
            Format::Aws | Format::Entra | Format::Gcp | Format::Cyclonedx => {
                self.problems.push(InventoryError::Unsupported {
                    origin: origin.clone(),
                    message: not_cloud_output(format),
                })
            }
        }
        Ok(())
    }

    /// Hands JSON a cloud provider's CLI printed to its importer, told by
    /// its shape (only that provider's, under `--format`): `None` when it
    /// is none of them.
    fn add_cloud(
        &mut self,
        origin: &str,
        text: &str,
        value: &serde_json::Value,
    ) -> Option<Result<(), InventoryError>> {
        let only = |f: Format| self.options.format == Format::Auto || self.options.format == f;
        let empty = match value {
            serde_json::Value::Array(items) => items.is_empty(),
            serde_json::Value::Object(o) => {
                o.len() <= 2
                    && o.get("value")
                        .and_then(|v| v.as_array())
                        .is_some_and(Vec::is_empty)
            }
            _ => false,
        };
        let s = &mut self.sources;
        if empty && matches!(self.options.format, Format::Entra | Format::Gcp) {
            // What `gcloud … keys list --managed-by=user` prints for an
            // account without such keys, or `az ad sp list` for an empty
            // tenant: nothing to import, and said.
            s.findings.note(
                origin,
                Some(1),
                "an empty list: nothing in it to import".to_owned(),
            );
            Some(Ok(()))
        } else if only(Format::Aws) && aws::is_authorization_details(value) {
            Some(s.aws.add_details(origin, text))
        } else if only(Format::Aws) && aws::is_credential_report_json(value) {
            Some(s.aws.add_report(origin, text))
        } else if only(Format::Entra) && entra::is_service_principals(value) {
            Some(s.entra.add_service_principals(origin, text))
        } else if only(Format::Entra) && entra::is_applications(value) {
            Some(s.entra.add_applications(origin, text))
        } else if only(Format::Gcp) && gcp::is_service_accounts(value) {
            Some(s.gcp.add_service_accounts(origin, text))
        } else if only(Format::Gcp) && gcp::is_keys(value) {
            Some(s.gcp.add_keys(origin, text))
        } else if only(Format::Gcp) && gcp::is_policy(value) {
            Some(s.gcp.add_policy(origin, text))
        } else if only(Format::Cyclonedx) && cyclonedx::is_bom(value) {
            Some(s.boms.add(origin, text, &mut s.findings))
        } else {
            None
        }
    }

    /// Each document goes where its `apiVersion` says: Backstage's groups
    /// to the catalog, any other `apiVersion` + `kind` to the manifests.
    fn read_documents(&mut self, path: &Path, text: &str, format: Format) {
        let origin = path.display().to_string();
        let docs = match yaml::documents(text, &origin, Keep::Fields(document_rule)) {
            Ok(docs) => docs,
            Err(e) => return self.problems.extend(e),
        };
        let mut catalog_file = None;
        let mut manifest_file = None;
        for doc in docs {
            let api = match doc.string("apiVersion", "") {
                Ok(api) => api,
                Err(m) => {
                    self.problems.push(m.into_error(&origin));
                    continue;
                }
            };
            let Some((api, api_line)) = api.filter(|_| doc.get("kind").is_some()) else {
                // kustomize reads its entry file with or without them.
                if format != Format::Backstage && kubernetes::is_kustomization_file(path) {
                    let file = *manifest_file.get_or_insert_with(|| {
                        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
                        self.sources.manifests.file(&origin, canonical)
                    });
                    if let Err(m) =
                        self.sources
                            .manifests
                            .kustomization(file, &doc, &mut self.sources.findings)
                    {
                        self.problems.push(m.into_error(&origin));
                    }
                    continue;
                }
                self.sources
                    .findings
                    .skip("YAML", "(no apiVersion and kind)", &origin, doc.line);
                continue;
            };
            let backstage = backstage::is_backstage(api);
            let refused = match (format, backstage) {
                (Format::Backstage, false) => Some(format!(
                    "{api:?} is not a Backstage entity (expected backstage.io/…); drop --format to read each document by its apiVersion"
                )),
                (Format::Kubernetes, true) => Some(format!(
                    "{api:?} is a Backstage entity, not a Kubernetes object; drop --format to read each document by its apiVersion"
                )),
                _ => None,
            };
            if let Some(message) = refused {
                self.problems.push(InventoryError::Invalid {
                    origin: origin.clone(),
                    line: Some(api_line),
                    at: "apiVersion".into(),
                    message,
                });
                continue;
            }
            let result = if backstage {
                let file = *catalog_file.get_or_insert_with(|| self.sources.catalog.file(&origin));
                self.sources
                    .catalog
                    .add(file, &doc, &mut self.sources.findings)
                    .map(|targets| self.locations(path, targets))
            } else {
                let file = *manifest_file.get_or_insert_with(|| {
                    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
                    self.sources.manifests.file(&origin, canonical)
                });
                self.sources
                    .manifests
                    .add(file, &doc, &mut self.sources.findings)
            };
            if let Err(mut misfits) = result {
                misfits.sort_by_key(|m| m.line);
                self.problems
                    .extend(misfits.into_iter().map(|m| m.into_error(&origin)));
            }
        }
    }

    /// Queues the files a Location's targets name. Backstage reads a
    /// `file` target through a glob; a URL target is fetched by Backstage
    /// but never by an import, so it is reported and the rest imported.
    fn locations(&mut self, path: &Path, targets: Vec<backstage::Target>) {
        let origin = path.display().to_string();
        for t in targets {
            let kind = t.kind.as_deref().unwrap_or("file");
            if kind == "url" || t.target.contains("://") {
                self.sources.findings.unresolved(
                    &origin,
                    Some(t.line),
                    format!(
                        "{}: {} is a URL; an import reads files only, so it is not read (download it into the directory being imported to include it)",
                        t.field, t.target
                    ),
                );
                continue;
            }
            if kind != "file" {
                self.sources.findings.unresolved(
                    &origin,
                    Some(t.line),
                    format!("{}: a Location of type {kind} is not read", t.field),
                );
                continue;
            }
            let invalid = |message: String| InventoryError::Invalid {
                origin: origin.clone(),
                line: Some(t.line),
                at: t.field.into(),
                message,
            };
            let resolved = match self.boundary.resolve(path, &t.target) {
                Ok(p) => p,
                Err(m) => {
                    self.problems.push(invalid(m));
                    continue;
                }
            };
            let mut matches: Vec<PathBuf> = Vec::new();
            let mut bad = None;
            for pattern in input::expand_braces(&resolved.display().to_string()) {
                match glob::glob(&pattern) {
                    Ok(paths) => {
                        for p in paths.filter_map(Result::ok).filter(|p| p.is_file()) {
                            if !matches.contains(&p) {
                                matches.push(p);
                            }
                        }
                    }
                    Err(e) => bad = Some(e),
                }
            }
            if let Some(e) = bad {
                self.problems
                    .push(invalid(format!("{} is not a valid pattern: {e}", t.target)));
                continue;
            }
            if matches.is_empty() {
                let message = if resolved.exists() {
                    format!("{}: {} is not a file", t.field, t.target)
                } else {
                    format!(
                        "{}: {} matches no file, so nothing is read from it",
                        t.field, t.target
                    )
                };
                self.sources
                    .findings
                    .unresolved(&origin, Some(t.line), message);
            }
            for m in matches {
                if let Err(real) = self.boundary.check_inside(&m) {
                    self.problems.push(invalid(format!(
                        "{} leads to {}, outside {}, the directory being imported",
                        m.display(),
                        real.display(),
                        self.boundary.shown().display()
                    )));
                    continue;
                }
                self.located
                    .insert(canonical_of(&m), (origin.clone(), t.line));
                self.queue.push_back(m);
            }
        }
    }

    fn finish(mut self) -> Result<Sources, ImportError> {
        // A file a Kustomization reads as a patch or other input (of any
        // format, even binary) is that, not a problem; nor is one beside a
        // Kustomization that does not list it, which `kubectl apply -k`
        // never reads.
        let mut noted = HashSet::new();
        // A file of no format Countersign reads: a Kustomization's input
        // or unlisted file (below); else, found by walking the directory
        // (a `mkdocs.yml`, a `docker-compose.yml`, a piece of an API
        // description), skipped and counted; named by a Location, reported
        // as Backstage reports it and the rest read; given by name, refused.
        for unknown in std::mem::take(&mut self.unrecognised) {
            let path = self.origins.get(unknown.origin()).cloned();
            let manifests = &self.sources.manifests;
            match path {
                Some(p)
                    if manifests.input_of(&p).is_some()
                        || manifests.unlisted_beside(&p).is_some() =>
                {
                    self.problems.push(unknown)
                }
                Some(p) if self.located.contains_key(&p) => {
                    let (location, line) = &self.located[&p];
                    self.sources.findings.unresolved(
                        unknown.origin(),
                        None,
                        format!(
                            "named by the Location at {location}:{line}, but holds no Backstage entity (nor an inventory or manifest); not read"
                        ),
                    );
                }
                Some(p) if self.walked.contains(&p) => self.sources.findings.skip(
                    "other",
                    "file of no format Countersign reads",
                    unknown.origin(),
                    1,
                ),
                _ => self.problems.push(unknown),
            }
        }
        let problems = std::mem::take(&mut self.problems);
        for p in problems {
            let origin = p.origin().to_owned();
            let Some(path) = self.origins.get(&origin) else {
                self.problems.push(p);
                continue;
            };
            let manifests = &self.sources.manifests;
            let message = if let Some((kustomization, line)) = manifests.input_of(path) {
                format!(
                    "read as a patch or input of the Kustomization at {kustomization}:{line}, not as objects of its own; not imported"
                )
            } else if let Some(kustomization) = manifests.unlisted_beside(path) {
                format!(
                    "not listed by the Kustomization {kustomization} in its directory, so `kubectl apply -k` does not read it, and it is not imported (it could not be read either: {p})"
                )
            } else {
                self.problems.push(p);
                continue;
            };
            if noted.insert(origin.clone()) {
                self.sources.findings.note(&origin, None, message);
            }
        }
        if !self.csv_parts.is_empty() {
            match csv::combine(std::mem::take(&mut self.csv_parts)) {
                Ok(source) => self.sources.list.push(source),
                Err(e) => self.problems.push(e),
            }
        }
        if !self.problems.is_empty() {
            // In the order of the files (a problem found late, such as a
            // file of no format, goes with its file); stable within one.
            self.problems.sort_by(|a, b| a.origin().cmp(b.origin()));
            // What building would refuse next, listed now: one round.
            let s = &self.sources;
            self.problems.extend(
                s.manifests
                    .check_namespaces(&s.namespace, s.namespace_given),
            );
            return Err(ImportError::of(self.problems));
        }
        Ok(self.sources)
    }
}

fn canonical_of(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Reads and parses every file under `path` (a file or a directory), and
/// the files its Backstage Locations name. Every problem in every file is
/// collected before the import is refused.
///
/// Everything read stays inside the directory imported (or the directory a
/// single file is in): see [`input`].
pub fn read_sources(
    path: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Sources, ImportError> {
    let boundary = input::Boundary::of(path)?;
    let files = detect::files(path, &boundary)?;
    let mut reader = Reader::new(options, boundary);
    if path.is_dir() {
        reader.walked.extend(files.iter().map(|f| canonical_of(f)));
    }
    reader.queue.extend(files);
    reader.read_all(progress)?;
    reader.finish()
}

/// Parses one file's text as `format` and checks it against the rules on
/// its own (references may still point into the store). The fuzz targets
/// call this: whatever the bytes, it must return, never panic.
pub fn check_text(path: &Path, text: &str, format: Format) -> Result<(), ImportError> {
    let boundary = input::Boundary::of(path).or_else(|_| input::Boundary::of(Path::new(".")))?;
    let options = Options::new(format);
    let mut reader = Reader::new(&options, boundary);
    reader.seen.insert(path.to_owned());
    reader.read_text(path, text)?;
    let sources = reader.finish()?;
    plan(&Inventory::default(), sources).map(|_| ())
}

fn native(text: &str, origin: &str) -> Result<Source, InventoryError> {
    let parsed = file::parse(text, origin)?;
    let mut source = Source::new(origin, Format::Native, parsed.inventory, MergeMode::Replace);
    source.lines = parsed.lines;
    Ok(source)
}

/// What an import would change, and what it read but did not keep.
pub struct Plan {
    pub changes: ChangeSet,
    pub findings: Findings,
}

/// Works out what importing `sources` would change, checking the merged
/// result against every rule. Nothing is written.
///
/// Countersign's own files and CSV tables merge first, in file order; then
/// the Backstage catalog and the Kubernetes manifests are each resolved as
/// one set against everything before them, so a binding finds an account
/// a native file defines and a relation finds a service already stored.
pub fn plan(current: &Inventory, sources: Sources) -> Result<Plan, ImportError> {
    merge_sources(current, sources)?.finish(current, &Stored::default())
}

/// The sources merged into (a copy of) the stored inventory, before the
/// result is checked against the rules.
pub struct Merged {
    working: Inventory,
    /// Which entities the sources name, as hashes of (kind, id).
    listed: HashSet<u64>,
    sources: Vec<Source>,
    findings: Findings,
    strict: bool,
}

fn listed_key(entity: Entity, id: &str) -> u64 {
    use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
    let mut h =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    entity.hash(&mut h);
    id.hash(&mut h);
    h.finish()
}

/// [`plan`]'s first half: merges every source into `current` (the stored
/// inventory, or the part of it the sources touch — see
/// [`Sources::touched`]).
pub fn merge_sources(current: &Inventory, sources: Sources) -> Result<Merged, ImportError> {
    let Sources {
        list: mut sources,
        catalog,
        manifests,
        aws,
        entra,
        gcp,
        boms,
        mut findings,
        namespace,
        namespace_given,
        strict,
        carry_over_ids,
        ..
    } = sources;
    let mut working = current.clone();
    // Which entities the sources name, as 64-bit hashes of (kind, id): a
    // count for the report ("unchanged"), kept small for large imports.
    let mut listed: HashSet<u64> = HashSet::new();
    let key = listed_key;
    let mut merge = |working: &mut Inventory, source: &mut Source| {
        let mut incoming = std::mem::take(&mut source.inventory);
        resolve_external_ids(working, &mut incoming);
        listed.extend(incoming.owners.iter().map(|o| key(Entity::Owner, &o.id)));
        listed.extend(
            incoming
                .services
                .iter()
                .map(|s| key(Entity::Service, &s.id)),
        );
        listed.extend(
            incoming
                .identities
                .iter()
                .map(|i| key(Entity::Identity, &i.id)),
        );
        if source.mode == MergeMode::Replace {
            keep_uncovered(working, &mut incoming, source);
        }
        // Merged in place, entities moved, not copied: an import's memory
        // follows what it reads (a 200 MB CSV), not a multiple of it.
        working.merge_in(incoming, source.mode);
    };
    for source in &mut sources {
        merge(&mut working, source);
    }
    // The catalog and the manifests, each resolved as one set.
    let mut resolved = |working: &mut Inventory,
                        findings: &mut Findings,
                        origin: &str,
                        format,
                        (inventory, lines): (Inventory, LineMap)| {
        stated_values(working, &inventory, &lines, findings);
        // The cloud providers are the systems of record for their
        // principals (MergeMode::Sync); catalogs and manifests know part.
        let mode = match format {
            Format::Aws | Format::Entra | Format::Gcp => MergeMode::Sync,
            _ => MergeMode::Fill,
        };
        let mut source = Source::new(origin, format, inventory, mode);
        source.lines = lines;
        merge(working, &mut source);
        sources.push(source);
    };
    // Where each service the catalog defines is, to tell when a workload
    // has the same id.
    let mut catalog_services: std::collections::HashMap<String, (String, u64)> =
        std::collections::HashMap::new();
    if !catalog.is_empty() {
        let built = catalog.build(&mut working, carry_over_ids, &mut findings);
        for s in &built.0.services {
            if let Some((file, line)) = built.1.entity_at(Section::Services, &s.id) {
                catalog_services.insert(s.id.clone(), (file.to_owned(), line));
            }
        }
        resolved(
            &mut working,
            &mut findings,
            "the Backstage catalog",
            Format::Backstage,
            built,
        );
    }
    if !manifests.is_empty() {
        let built = manifests
            .build(&working, (&namespace, namespace_given), &mut findings)
            .map_err(ImportError::of)?;
        // A Component `cart` in the Backstage namespace `shop` and a
        // Deployment `cart` in the Kubernetes namespace `shop` have one
        // id: one service, which is said rather than done in silence.
        for s in &built.0.services {
            // In Kubernetes' `default` namespace a workload's id keeps the
            // namespace while a Component in Backstage's `default` has its
            // bare name: two services, which is said.
            if let (Some((file, line)), Some(bare)) = (
                built.1.entity_at(Section::Services, &s.id),
                s.id.strip_prefix("default/"),
            ) {
                let other = match catalog_services.get(bare) {
                    Some((cfile, cline)) => {
                        Some(format!("the Backstage entity at {cfile}:{cline}"))
                    }
                    None => working
                        .services
                        .iter()
                        .any(|w| w.id == bare)
                        .then(|| "a service in the inventory".to_owned()),
                };
                if let Some(other) = other {
                    findings.note(
                        file,
                        Some(line),
                        format!(
                            "this workload is the service {}, and {other} is the service {bare}: they are imported as two services, since a workload's id keeps its namespace even when it is default while a Component in Backstage's default namespace has its bare name; if they are one service, record it under one id",
                            s.id
                        ),
                    );
                }
            }
            if let (Some((file, line)), Some((cfile, cline))) = (
                built.1.entity_at(Section::Services, &s.id),
                catalog_services.get(&s.id),
            ) {
                findings.note(
                    file,
                    Some(line),
                    format!(
                        "this workload and the Backstage entity at {cfile}:{cline} have one service id, {}, so they are imported as one service; if they are different services, give the Backstage entity another namespace or name",
                        s.id
                    ),
                );
            }
        }
        resolved(
            &mut working,
            &mut findings,
            "the Kubernetes manifests",
            Format::Kubernetes,
            built,
        );
    }
    if !aws.is_empty() {
        let built = aws.build(&working, &mut findings);
        resolved(
            &mut working,
            &mut findings,
            "the AWS IAM files",
            Format::Aws,
            built,
        );
    }
    if !entra.is_empty() {
        let built = entra.build(&working, &mut findings);
        resolved(
            &mut working,
            &mut findings,
            "the Entra ID files",
            Format::Entra,
            built,
        );
    }
    if !gcp.is_empty() {
        let built = gcp.build(&working, &mut findings);
        resolved(
            &mut working,
            &mut findings,
            "the Google Cloud files",
            Format::Gcp,
            built,
        );
    }
    for (origin, inventory, lines) in boms.into_sets() {
        resolved(
            &mut working,
            &mut findings,
            &origin,
            Format::Cyclonedx,
            (inventory, lines),
        );
    }
    Ok(Merged {
        working,
        listed,
        sources,
        findings,
        strict,
    })
}

impl Merged {
    /// The merged inventory (or part), to read the stored facts its
    /// validation needs ([`Store::stored_facts`]).
    pub fn working(&self) -> &Inventory {
        &self.working
    }

    /// [`plan`]'s second half: checks the merged result against every rule
    /// — references resolved in it first, then in `stored` — and plans the
    /// changes from `current` (the same inventory or part the merge began
    /// from).
    pub fn finish(self, current: &Inventory, stored: &Stored) -> Result<Plan, ImportError> {
        let Merged {
            working,
            listed,
            sources,
            findings,
            strict,
        } = self;
        let key = listed_key;
        if let Err(problems) = working.validate_against(&Deleted::default(), stored) {
            let mut listed: Vec<InventoryError> =
                problems.iter().map(|p| locate(&sources, p)).collect();
            if problems.len() >= crate::inventory::MAX_PROBLEMS {
                listed.push(InventoryError::Unsupported {
                    origin: "the import".into(),
                    message: format!(
                        "stopped after {} problems; fix these and import again to see the rest",
                        problems.len()
                    ),
                });
            }
            return Err(ImportError::of(listed));
        }
        if strict && !findings.is_clean() {
            return Err(ImportError::Strict(findings.strict_refusals()));
        }
        drop(sources);
        let mut set = ChangeSet::diff_into(current, working);
        // That diff sees every stored entity; count as unchanged only those the
        // sources named.
        let changed = set
            .changes
            .iter()
            .filter(|c| listed.contains(&key(c.entity, &c.id)))
            .count();
        set.unchanged = listed.len().saturating_sub(changed);
        Ok(Plan {
            changes: set,
            findings,
        })
    }
}

/// What a catalog or manifest states about an entry that already exists.
/// A tier or environment it states (an annotation) is set on an entry the
/// import made only because something named it (a placeholder account,
/// whose values were guessed); on any other entry the stored value stays,
/// since an owner may have set it in Countersign, and a note says that the
/// stated value was not applied.
fn stated_values(
    working: &mut Inventory,
    incoming: &Inventory,
    lines: &LineMap,
    findings: &mut Findings,
) {
    let mut notes = Vec::new();
    let stored_services: std::collections::HashMap<String, usize> = working
        .services
        .iter()
        .enumerate()
        .map(|(n, s)| (s.id.clone(), n))
        .collect();
    for s in &incoming.services {
        if let Some(&n) = stored_services.get(&s.id) {
            reconcile(
                lines.field_at(Section::Services, &s.id, "tier"),
                ("", "the tier", "service"),
                &format!("the service {}", s.id),
                (&mut working.services[n].tier, s.tier, false),
                &mut notes,
            );
        }
    }
    let stored_identities: std::collections::HashMap<String, usize> = working
        .identities
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id.clone(), n))
        .collect();
    for i in &incoming.identities {
        let Some(&n) = stored_identities.get(&i.id) else {
            continue;
        };
        let stored = &mut working.identities[n];
        let placeholder = kubernetes::is_placeholder(stored);
        reconcile(
            lines.field_at(Section::Identities, &i.id, "tier"),
            ("", "the tier", "identity"),
            &i.id,
            (&mut stored.tier, i.tier, placeholder),
            &mut notes,
        );
        reconcile(
            lines.field_at(Section::Identities, &i.id, "environment"),
            ("the environment ", "the environment", "identity"),
            &i.id,
            (&mut stored.environment, i.environment, placeholder),
            &mut notes,
        );
    }
    for (file, line, message) in notes {
        findings.note(&file, Some(line), message);
    }
}

/// One value a source states (`at` is where) against the stored one: set
/// on a placeholder, else noted when it differs. `words` are how the value
/// is introduced, what it is and what holds it ("the environment ", "the
/// environment", "identity").
fn reconcile<T: PartialEq + Copy + std::fmt::Display>(
    at: Option<(&str, u64)>,
    (label, setting, noun): (&str, &str, &str),
    entry: &str,
    (stored, stated, placeholder): (&mut T, T, bool),
    notes: &mut Vec<(String, u64, String)>,
) {
    let Some((file, line)) = at else { return };
    if placeholder {
        *stored = stated;
    } else if *stored != stated {
        notes.push((file.to_owned(), line, format!(
            "states {label}{stated} for {entry}, which the inventory holds as {stored}; an import sets {setting} only when it creates the {noun}, so {stored} stays (edit it in the app, or import a native inventory file, to change it)"
        )));
    }
}

/// Merges by stable keys: an incoming identity whose id is new but whose
/// external id (an ARN, `k8s:namespace/name`, a Vault path) already belongs
/// to a stored identity is that identity, whatever the source calls it.
fn resolve_external_ids(working: &Inventory, incoming: &mut Inventory) {
    // Indexed once: an import's cost follows what it reads, not what it
    // reads times what is stored.
    let ids: HashSet<&str> = working.identities.iter().map(|w| w.id.as_str()).collect();
    let by_external: std::collections::HashMap<&str, &str> = working
        .identities
        .iter()
        .flat_map(|w| w.external_ids.iter().map(|x| (x.as_str(), w.id.as_str())))
        .collect();
    let mut renames = std::collections::HashMap::new();
    for i in &incoming.identities {
        if ids.contains(i.id.as_str()) {
            continue;
        }
        if let Some(w) = i
            .external_ids
            .iter()
            .find_map(|x| by_external.get(x.as_str()))
        {
            renames.insert(i.id.clone(), (*w).to_owned());
        }
    }
    if renames.is_empty() {
        return;
    }
    for i in &mut incoming.identities {
        if let Some(new) = renames.get(&i.id) {
            i.id = new.clone();
        }
        if let Some(new) = i.derived_from.as_ref().and_then(|d| renames.get(d)) {
            i.derived_from = Some(new.clone());
        }
    }
}

/// For a replacing source that does not speak for usages, containment
/// plans or credentials, carries the stored ones over instead of erasing
/// them.
fn keep_uncovered(working: &Inventory, incoming: &mut Inventory, source: &Source) {
    if source.covers_usages && source.covers_containment && source.covers_credentials {
        return;
    }
    let stored: std::collections::HashMap<&str, &crate::model::Identity> = working
        .identities
        .iter()
        .map(|o| (o.id.as_str(), o))
        .collect();
    for i in &mut incoming.identities {
        if let Some(old) = stored.get(i.id.as_str()) {
            if !source.covers_usages {
                i.used_by = old.used_by.clone();
            }
            if !source.covers_containment {
                i.containment = old.containment.clone();
            }
            if !source.covers_credentials {
                i.credentials = old.credentials.clone();
            }
        }
    }
}

/// Names the file and line of a problem: the source that lists the
/// entity at fault, or the database if none of them does.
fn locate(sources: &[Source], problem: &Problem) -> InventoryError {
    let one = std::slice::from_ref(problem);
    let owner = sources
        .iter()
        .rev()
        .find(|s| s.lists(problem.section, &problem.id));
    match owner {
        Some(s) => file::locate(&s.origin, one, &s.lines),
        None => file::locate("the stored inventory", one, &LineMap::default()),
    }
}

/// What applying an import is allowed to write.
pub enum Apply<'a> {
    /// Nothing: a dry run.
    Nothing,
    /// Whatever the plan is now.
    Plan,
    /// Only if the plan is still the one previewed (its fingerprint).
    IfUnchanged(&'a str),
}

/// Imports `path` into the store: parse, plan, and apply as `apply` says.
pub async fn import(
    store: &Store,
    path: &Path,
    options: &Options,
    apply: Apply<'_>,
    actor: &str,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let sources = read_sources(path, options, progress)?;
    let whole = sources.needs_whole_inventory();
    let current = if whole {
        store.snapshot().await?
    } else {
        let named = sources.named();
        let mut identities = named.identities;
        identities.extend(store.holders_of(&named.external_ids).await?);
        store
            .entities(&named.owners, &named.services, &identities)
            .await?
    };
    let files = sources.files().to_vec();
    let merged = merge_sources(&current, sources)?;
    let stored = if whole {
        Stored::default()
    } else {
        store
            .stored_facts(merged.working(), &Deleted::default())
            .await?
    };
    let Plan { changes, findings } = merged.finish(&current, &stored)?;
    progress.planned(changes.changes.len());
    if let Apply::IfUnchanged(expected) = apply
        && changes.fingerprint() != expected
    {
        return Err(ImportError::PreviewOutdated);
    }
    let applied = if matches!(apply, Apply::Nothing) || changes.is_empty() {
        None
    } else {
        let ctx = ChangeContext::new(actor, format!("import:{}", path.display()));
        Some(store.apply(&changes, &ctx).await?)
    };
    Ok(ImportReport {
        files,
        fingerprint: changes.fingerprint(),
        changes,
        findings,
        applied,
    })
}
