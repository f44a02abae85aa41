//! The engine on a plain edge list, for comparison with other graph tools
//! on identical input: a CSV with header `source,target` (an edge from a
//! thing to what breaks when it breaks) and a file of node names, one per
//! line.

use rustc_hash::FxHashMap;
use std::path::Path;

use super::{Adjacency, NodeId, build};

#[derive(Debug, thiserror::Error)]
pub enum EdgeListError {
    #[error("{path}: cannot read: {message}")]
    Io { path: String, message: String },
    #[error("{path}:1: the header must be `source,target`, found {found:?}")]
    Header { path: String, found: String },
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: u64,
        message: String,
    },
    #[error("{path}:{line}: unknown node {name:?} (not in the edge list)")]
    UnknownNode {
        path: String,
        line: u64,
        name: String,
    },
    #[error("{path}: more than {max} nodes", max = u32::MAX)]
    TooLarge { path: String },
}

/// A graph read from an edge list, with its node names.
pub struct EdgeList {
    pub names: Vec<String>,
    pub index: FxHashMap<String, NodeId>,
    pub graph: Adjacency,
}

impl EdgeList {
    pub fn read(path: &Path) -> Result<Self, EdgeListError> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| EdgeListError::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .buffer_capacity(1 << 20)
            .from_reader(file);
        let header = reader
            .byte_headers()
            .map_err(|e| line_error(&shown, 1, e))?
            .clone();
        if header.len() != 2 || &header[0] != b"source" || &header[1] != b"target" {
            return Err(EdgeListError::Header {
                path: shown,
                found: String::from_utf8_lossy(header.as_slice()).into_owned(),
            });
        }
        let mut names: Vec<String> = Vec::new();
        let mut index: FxHashMap<String, NodeId> = FxHashMap::default();
        let mut edges: Vec<(NodeId, NodeId)> = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut intern = |name: &[u8], line: u64| -> Result<NodeId, EdgeListError> {
            let name = std::str::from_utf8(name).map_err(|_| EdgeListError::Line {
                path: shown.clone(),
                line,
                message: "a node name is not UTF-8".into(),
            })?;
            if name.is_empty() {
                return Err(EdgeListError::Line {
                    path: shown.clone(),
                    line,
                    message: "empty node name".into(),
                });
            }
            if let Some(&id) = index.get(name) {
                return Ok(id);
            }
            let id = NodeId::try_from(names.len()).map_err(|_| EdgeListError::TooLarge {
                path: shown.clone(),
            })?;
            names.push(name.to_owned());
            index.insert(name.to_owned(), id);
            Ok(id)
        };
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(line_error(
                        &shown,
                        record.position().map_or(0, |p| p.line()),
                        e,
                    ));
                }
            }
            let line = record.position().map_or(0, |p| p.line());
            let s = intern(&record[0], line)?;
            let t = intern(&record[1], line)?;
            edges.push((s, t));
        }
        let graph = build(names.len(), edges);
        Ok(EdgeList {
            names,
            index,
            graph,
        })
    }

    /// Reads node names, one per line (blank lines skipped), as node ids.
    pub fn read_sources(&self, path: &Path) -> Result<Vec<NodeId>, EdgeListError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| EdgeListError::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let name = l.trim();
                self.index
                    .get(name)
                    .copied()
                    .ok_or_else(|| EdgeListError::UnknownNode {
                        path: shown.clone(),
                        line: i as u64 + 1,
                        name: name.to_owned(),
                    })
            })
            .collect()
    }
}

fn line_error(path: &str, line: u64, e: csv::Error) -> EdgeListError {
    EdgeListError::Line {
        path: path.to_owned(),
        line,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Reacher;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_edges_and_sources() {
        let dir = tempfile::tempdir().unwrap();
        let edges = write(dir.path(), "e.csv", "source,target\nk,a\na,b\nb,a\nk,c\n");
        let sources = write(dir.path(), "s.txt", "k\n\nb\n");
        let el = EdgeList::read(&edges).unwrap();
        let ids = el.read_sources(&sources).unwrap();
        let mut r = Reacher::new(el.names.len());
        let c = crate::graph::Compact::new(&el.graph);
        let counts: Vec<_> = ids.iter().map(|&s| r.count(&c, s)).collect();
        assert_eq!(counts, [3, 1]);
    }

    #[test]
    fn bad_input_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let e = EdgeList::read(&write(dir.path(), "e.csv", "from,to\na,b\n"))
            .err()
            .unwrap();
        assert!(e.to_string().starts_with(&format!(
            "{}:1: the header",
            dir.path().join("e.csv").display()
        )));
        let e = EdgeList::read(&write(dir.path(), "e.csv", "source,target\na,b\nc\n"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("e.csv:3: "), "{e}");
        let el = EdgeList::read(&write(dir.path(), "e.csv", "source,target\na,b\n")).unwrap();
        let e = el
            .read_sources(&write(dir.path(), "s.txt", "a\nz\n"))
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .ends_with("s.txt:2: unknown node \"z\" (not in the edge list)"),
            "{e}"
        );
    }
}
