//! Bringing inventories in from what organisations already keep. Every
//! format is parsed into an [`Inventory`] fragment, merged with what the
//! store holds, validated as a whole, shown as a diff, and only then written
//! in one audited transaction. Re-importing the same files changes nothing;
//! a bad file changes nothing and names its line.

mod backstage;
mod csv;
mod detect;
pub mod input;
mod kubernetes;

pub use detect::Format;

/// The CSV tables, shared with `export --format csv`.
pub(crate) mod csv_tables {
    pub(crate) use super::csv::{
        ContainmentRow, IdentityRow, OwnerRow, ServiceRow, UsageRow, join_list, looks_like_formula,
    };
}

use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

use crate::Store;
use crate::inventory::{
    ChangeSet, Entity, Inventory, InventoryError, LineMap, MergeMode, Problem, Section, file,
};
use crate::store::{Applied, ChangeContext, StoreError};

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
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{origin}: cannot read: {message}")]
    Io { origin: String, message: String },
    #[error("{0}: no file to import (looked for .yaml, .yml, .json and .csv files)")]
    Empty(String),
    #[error("the files or the inventory changed since the preview; preview the import again")]
    PreviewOutdated,
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
    pub applied: Option<Applied>,
}

/// Reads and parses every file under `path` (a file or a directory).
/// CSV files are combined into one source, since their tables refer to each other.
///
/// Everything read stays inside the directory imported (or the directory a
/// single file is in): see [`input`].
pub fn read_sources(
    path: &Path,
    format: Format,
    progress: &dyn Progress,
) -> Result<Vec<Source>, ImportError> {
    let boundary = input::Boundary::of(path)?;
    let files = detect::files(path, &boundary)?;
    let mut sources = Vec::new();
    let mut csv_parts = Vec::new();
    for file in files {
        progress.file(&file.display().to_string());
        match read_file(&file, format, &boundary)? {
            Parsed::Sources(s) => sources.extend(s),
            Parsed::Csv(part) => csv_parts.push((file.display().to_string(), part)),
        }
    }
    if !csv_parts.is_empty() {
        sources.push(csv::combine(csv_parts)?);
    }
    Ok(sources)
}

enum Parsed {
    Sources(Vec<Source>),
    Csv(csv::Part),
}

fn read_file(
    path: &Path,
    format: Format,
    boundary: &input::Boundary,
) -> Result<Parsed, ImportError> {
    let is_csv = match format {
        Format::Csv => true,
        Format::Auto => detect::has_csv_extension(path),
        _ => false,
    };
    if is_csv {
        // Streamed: a CSV export of a large estate is read row by row.
        let reader = input::open_text_stream(path, input::MAX_CSV_BYTES)?;
        return Ok(Parsed::Csv(csv::read_part(
            reader,
            &path.display().to_string(),
        )?));
    }
    let text = input::read_text(path)?;
    parse_text(path, &text, format, boundary)
}

/// Parses one file's text as `format` and checks it against the rules on
/// its own (references may still point into the store). The fuzz targets
/// call this: whatever the bytes, it must return, never panic.
pub fn check_text(path: &Path, text: &str, format: Format) -> Result<(), ImportError> {
    let boundary = input::Boundary::of(path).or_else(|_| input::Boundary::of(Path::new(".")))?;
    let sources = match parse_text(path, text, format, &boundary)? {
        Parsed::Sources(s) => s,
        Parsed::Csv(part) => vec![csv::combine(vec![(path.display().to_string(), part)])?],
    };
    plan(&Inventory::default(), sources).map(|_| ())
}

fn parse_text(
    path: &Path,
    text: &str,
    format: Format,
    boundary: &input::Boundary,
) -> Result<Parsed, ImportError> {
    let origin = path.display().to_string();
    let format = match format {
        Format::Auto => detect::detect(path, text)?,
        f => f,
    };
    Ok(match format {
        Format::Native => Parsed::Sources(vec![native(text, &origin)?]),
        Format::Csv => Parsed::Csv(csv::parse_part(text, &origin)?),
        Format::Backstage => Parsed::Sources(backstage::parse(path, text, boundary)?),
        Format::Kubernetes => Parsed::Sources(vec![kubernetes::parse(text, &origin)?]),
        Format::Auto => unreachable!("detect returns a concrete format"),
    })
}

fn native(text: &str, origin: &str) -> Result<Source, InventoryError> {
    let parsed = file::parse(text, origin)?;
    let mut source = Source::new(origin, Format::Native, parsed.inventory, MergeMode::Replace);
    source.lines = parsed.lines;
    Ok(source)
}

/// Works out what importing `sources` would change, checking the merged
/// result against every rule. Nothing is written.
pub fn plan(current: &Inventory, mut sources: Vec<Source>) -> Result<ChangeSet, ImportError> {
    let mut working = current.clone();
    // Which entities the sources name, as 64-bit hashes of (kind, id): a
    // count for the report ("unchanged"), kept small for large imports.
    let mut listed: HashSet<u64> = HashSet::new();
    let key = |entity: Entity, id: &str| {
        use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
        let mut h =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .build_hasher();
        entity.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    for source in &mut sources {
        let mut incoming = std::mem::take(&mut source.inventory);
        resolve_external_ids(&working, &mut incoming);
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
            keep_uncovered(&working, &mut incoming, source);
        }
        // Merged in place, entities moved, not copied: an import's memory
        // follows what it reads (a 200 MB CSV), not a multiple of it.
        working.merge_in(incoming, source.mode);
    }
    if let Err(problems) = working.validate() {
        return Err(locate(&sources, &problems).into());
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
    set.unchanged = listed.len() - changed;
    Ok(set)
}

/// Merges by stable keys: an incoming identity whose id is new but whose
/// external id (an ARN, `k8s:namespace/name`, a Vault path) already belongs
/// to a stored identity is that identity, whatever the source calls it.
fn resolve_external_ids(working: &Inventory, incoming: &mut Inventory) {
    let mut renames = std::collections::HashMap::new();
    for i in &incoming.identities {
        if working.identities.iter().any(|w| w.id == i.id) {
            continue;
        }
        let existing = working
            .identities
            .iter()
            .find(|w| w.external_ids.iter().any(|x| i.external_ids.contains(x)));
        if let Some(w) = existing {
            renames.insert(i.id.clone(), w.id.clone());
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

/// For a replacing source that does not speak for usages or containment
/// plans, carries the stored ones over instead of erasing them.
fn keep_uncovered(working: &Inventory, incoming: &mut Inventory, source: &Source) {
    if source.covers_usages && source.covers_containment {
        return;
    }
    for i in &mut incoming.identities {
        if let Some(old) = working.identities.iter().find(|o| o.id == i.id) {
            if !source.covers_usages {
                i.used_by = old.used_by.clone();
            }
            if !source.covers_containment {
                i.containment = old.containment.clone();
            }
        }
    }
}

/// Names the file and line of the first problem: the source that lists the
/// entity at fault, or the database if none of them does.
fn locate(sources: &[Source], problems: &[Problem]) -> InventoryError {
    let first = &problems[0];
    let owner = sources
        .iter()
        .rev()
        .find(|s| s.lists(first.section, &first.id));
    match owner {
        Some(s) => file::locate(&s.origin, problems, &s.lines),
        None => file::locate("the stored inventory", problems, &LineMap::default()),
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
    format: Format,
    apply: Apply<'_>,
    actor: &str,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let sources = read_sources(path, format, progress)?;
    let current = store.snapshot().await?;
    let mut files: Vec<String> = sources.iter().map(|s| s.origin.clone()).collect();
    files.dedup();
    let changes = plan(&current, sources)?;
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
        applied,
    })
}
