//! A whole inventory in memory: what the store holds, what an importer
//! produced, what an export writes. Validation and change planning work on
//! this type so every way in (app edits, each importer) obeys the same rules.

mod changes;
pub mod file;
mod validate;

pub use changes::{
    Change, ChangeSet, Entity, EntityState, MergeMode, Operation, changed_fields_of, to_json,
};
pub use file::FORMAT_VERSION;
pub use validate::{Deleted, MAX_PROBLEMS, Problem, Referrer, Section, Stored};

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

use crate::model::{Identity, Owner, Service};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<Identity>,
}

impl Inventory {
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty() && self.services.is_empty() && self.identities.is_empty()
    }

    /// The identities by id, for an importer that looks up many of them
    /// (a scan per lookup is quadratic in an account of 10,000 roles).
    pub fn identities_by_id(&self) -> std::collections::HashMap<&str, &Identity> {
        self.identities.iter().map(|i| (i.id.as_str(), i)).collect()
    }

    /// Gives the service `old` the id `new`, and every reference to it
    /// (dependencies, usages) with it. Nothing happens if `old` is absent.
    pub fn rename_service(&mut self, old: &str, new: &str) {
        let rename = |id: &mut String| {
            if id == old {
                *id = new.to_owned();
            }
        };
        for s in &mut self.services {
            rename(&mut s.id);
            s.depends_on.iter_mut().for_each(rename);
        }
        for i in &mut self.identities {
            for u in &mut i.used_by {
                rename(&mut u.service);
            }
        }
    }

    /// Gives the owner `old` the id `new`, and every reference to it
    /// (owners and backup owners, parents, break-glass custodians) with
    /// it. Nothing happens if `old` is absent.
    pub fn rename_owner(&mut self, old: &str, new: &str) {
        let rename = |id: &mut String| {
            if id == old {
                *id = new.to_owned();
            }
        };
        for o in &mut self.owners {
            rename(&mut o.id);
            o.parent.iter_mut().for_each(rename);
        }
        for s in &mut self.services {
            s.owner.iter_mut().for_each(rename);
        }
        for i in &mut self.identities {
            i.owner.iter_mut().for_each(rename);
            i.backup_owner.iter_mut().for_each(rename);
            if let Some(b) = &mut i.break_glass {
                b.custodians.iter_mut().for_each(rename);
            }
        }
    }

    /// Sorts every section by id so exports and diffs are stable.
    pub fn sort(&mut self) {
        self.owners.sort_by(|a, b| a.id.cmp(&b.id));
        self.services.sort_by(|a, b| a.id.cmp(&b.id));
        self.identities.sort_by(|a, b| a.id.cmp(&b.id));
    }
}

/// Why an inventory source cannot be loaded. Every message starts with the
/// file, then the line where one is known, then the entry and field, so the
/// owner can fix it in one go. Nothing is written when any of these occurs.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum InventoryError {
    #[error("{origin}: cannot read: {message}")]
    Read { origin: String, message: String },

    /// Text the parser could not read, at `file:line:column` where the
    /// parser knows it.
    #[error("{origin}{}: {message}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Syntax {
        origin: String,
        /// 1-based line and column.
        position: Option<(u64, u64)>,
        message: String,
    },

    #[error("{}", Located(.origin, .line, .at, .message))]
    Invalid {
        origin: String,
        line: Option<u64>,
        at: String,
        message: String,
    },

    #[error("{origin}: {message}")]
    Unsupported { origin: String, message: String },
}

impl InventoryError {
    /// The file (or source) the problem is in.
    pub fn origin(&self) -> &str {
        match self {
            InventoryError::Read { origin, .. }
            | InventoryError::Syntax { origin, .. }
            | InventoryError::Invalid { origin, .. }
            | InventoryError::Unsupported { origin, .. } => origin,
        }
    }
}

struct Located<'a>(&'a String, &'a Option<u64>, &'a String, &'a String);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Located(origin, line, at, message) = self;
        match line {
            Some(line) => write!(f, "{origin}:{line}: {at}: {message}"),
            None => write!(f, "{origin}: {at}: {message}"),
        }
    }
}

/// Section, entity id, field (`""` for the entity itself) and list item.
type LineKey = (Section, String, &'static str, Option<String>);

/// Where each id and reference stood in the source files, to turn a
/// [`Problem`] into a file and line.
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    files: Vec<String>,
    at: HashMap<LineKey, (usize, u64)>,
}

impl LineMap {
    /// Positions recorded from now on are in `origin`.
    pub fn file(&mut self, origin: &str) {
        if self.files.last().map(String::as_str) != Some(origin) {
            self.files.push(origin.to_owned());
        }
    }

    fn insert(&mut self, key: LineKey, line: u64) {
        if self.files.is_empty() {
            self.files.push(String::new());
        }
        self.at.insert(key, (self.files.len() - 1, line));
    }

    /// Whether the entity's own line was recorded.
    pub fn has_entity(&self, section: Section, id: &str) -> bool {
        self.at.contains_key(&(section, id.to_owned(), "", None))
    }

    /// Where the entity's own line was recorded: file and line.
    pub fn entity_at(&self, section: Section, id: &str) -> Option<(&str, u64)> {
        self.at
            .get(&(section, id.to_owned(), "", None))
            .map(|&(f, line)| (self.files[f].as_str(), line))
    }

    /// Where a field of the entity was recorded (without a list item):
    /// file and line. An importer records a field only where its source
    /// states it, so this also tells stated from guessed.
    pub fn field_at(&self, section: Section, id: &str, field: &'static str) -> Option<(&str, u64)> {
        self.at
            .get(&(section, id.to_owned(), field, None))
            .map(|&(f, line)| (self.files[f].as_str(), line))
    }

    pub fn entity(&mut self, section: Section, id: &str, line: u64) {
        self.insert((section, id.to_owned(), "", None), line);
    }

    pub fn field(
        &mut self,
        section: Section,
        id: &str,
        field: &'static str,
        item: Option<&str>,
        line: u64,
    ) {
        self.insert(
            (section, id.to_owned(), field, item.map(str::to_owned)),
            line,
        );
    }

    /// The most precise position known: the offending item, else the field,
    /// else the entity.
    pub fn locate(&self, p: &Problem) -> Option<(&str, u64)> {
        let key = |field, item: Option<String>| (p.section, p.id.clone(), field, item);
        self.at
            .get(&key(p.field, p.item.clone()))
            .or_else(|| self.at.get(&key(p.field, None)))
            .or_else(|| self.at.get(&key("", None)))
            .map(|&(f, line)| (self.files[f].as_str(), line))
    }

    /// The files positions were recorded in, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    pub fn merge(&mut self, other: LineMap) {
        for (key, (f, line)) in other.at {
            self.file(&other.files[f]);
            self.insert(key, line);
        }
    }
}
