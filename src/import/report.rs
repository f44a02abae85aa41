//! What an import read but did not turn into inventory, so that nothing is
//! dropped in silence: kinds it skipped (counted), references it could not
//! resolve and relations it did not keep (each with its file and line), and
//! what it did on the reader's behalf (an account created because a
//! binding named it). The CLI prints it, `--json` carries it, the app's
//! import preview shows it, and `--strict` refuses an import that has any
//! skipped kind or unresolved reference.

use serde::Serialize;
use std::fmt;

/// A place in a file and what happened there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub file: String,
    /// 1-based; `None` for a finding about a whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Documents of one kind that carry no identity, service or owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// `Kubernetes`, `Backstage` or `YAML` (a document neither names).
    pub format: String,
    /// The document's `kind` (with its API group when the kind is one
    /// Countersign reads in another group: `Deployment (example.com)`).
    pub kind: String,
    pub count: usize,
    /// Where the first one is.
    pub first: Finding,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Skipped kinds in the order first seen.
    pub skipped: Vec<Skipped>,
    /// References that resolve to nothing, relations not kept, targets
    /// not read. Each means the inventory says less than the files do.
    pub unresolved: Vec<Finding>,
    /// What the import did that the files do not say outright: an account
    /// created because something named it, a namespace applied, an id
    /// carried over from an earlier import.
    pub notes: Vec<Finding>,
}

impl Findings {
    pub fn skip(&mut self, format: &str, kind: &str, file: &str, line: u64) {
        match self
            .skipped
            .iter_mut()
            .find(|s| s.format == format && s.kind == kind)
        {
            Some(s) => s.count += 1,
            None => self.skipped.push(Skipped {
                format: format.to_owned(),
                kind: kind.to_owned(),
                count: 1,
                first: Finding {
                    file: file.to_owned(),
                    line: Some(line),
                    message: format!("{format} {kind}"),
                },
            }),
        }
    }

    pub fn unresolved(&mut self, file: &str, line: Option<u64>, message: impl Into<String>) {
        self.unresolved.push(Finding {
            file: file.to_owned(),
            line,
            message: message.into(),
        });
    }

    pub fn note(&mut self, file: &str, line: Option<u64>, message: impl Into<String>) {
        self.notes.push(Finding {
            file: file.to_owned(),
            line,
            message: message.into(),
        });
    }

    pub fn is_clean(&self) -> bool {
        self.skipped.is_empty() && self.unresolved.is_empty()
    }

    /// Every finding `--strict` refuses, one line each.
    pub fn strict_refusals(&self) -> Vec<Finding> {
        self.skipped
            .iter()
            .map(|s| {
                Finding {
                    message: format!(
                        "{} {} {} document(s) skipped (the first is here): they carry no identity, service or owner",
                        s.count, s.format, s.kind
                    ),
                    ..s.first.clone()
                }
            })
            .chain(self.unresolved.iter().cloned())
            .collect()
    }
}
