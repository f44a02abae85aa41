//! Which files to read and what format each one is.

use std::path::{Path, PathBuf};

use super::ImportError;
use crate::inventory::InventoryError;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Decide per file from its extension and contents.
    Auto,
    /// Countersign's own YAML or JSON (docs/inventory-format.md).
    Native,
    /// Countersign's CSV files (docs/csv-format.md).
    Csv,
    /// Backstage catalog entities.
    Backstage,
    /// Kubernetes manifests.
    #[value(name = "k8s", alias = "kubernetes")]
    #[serde(rename = "k8s", alias = "kubernetes")]
    Kubernetes,
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json", "csv"];

/// The file itself, or every importable file below a directory in a stable
/// (sorted) order, so a directory imports the same way on every machine.
pub fn files(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| ImportError::Io {
        origin: path.display().to_string(),
        message: e.to_string(),
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out)?;
    out.sort();
    if out.is_empty() {
        return Err(ImportError::Empty(path.display().to_string()));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError::Io {
        origin: dir.display().to_string(),
        message: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Tells the format from the extension and the first keys of the file.
pub fn detect(path: &Path, text: &str) -> Result<Format, ImportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "csv" {
        return Ok(Format::Csv);
    }
    let has_line = |prefix: &str| {
        text.lines()
            .any(|l| l.trim_start_matches(['{', ' ', '"']).starts_with(prefix))
    };
    if text.contains("backstage.io/") && has_line("apiVersion") {
        return Ok(Format::Backstage);
    }
    if has_line("apiVersion") && has_line("kind") {
        return Ok(Format::Kubernetes);
    }
    if has_line("version") {
        return Ok(Format::Native);
    }
    Err(InventoryError::Unsupported {
        origin: path.display().to_string(),
        message: "cannot tell which format this is (not a Countersign inventory, Backstage catalog or Kubernetes manifest); pass --format".into(),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        let p = Path::new("x.yaml");
        assert_eq!(
            detect(p, "version: 1\nservices: []\n").unwrap(),
            Format::Native
        );
        assert_eq!(
            detect(p, "apiVersion: backstage.io/v1alpha1\nkind: Component\n").unwrap(),
            Format::Backstage
        );
        assert_eq!(
            detect(p, "apiVersion: v1\nkind: ServiceAccount\n").unwrap(),
            Format::Kubernetes
        );
        assert_eq!(
            detect(Path::new("x.csv"), "id,kind\n").unwrap(),
            Format::Csv
        );
        assert_eq!(
            detect(Path::new("x.json"), "{\"version\": 1}").unwrap(),
            Format::Native
        );
        assert!(
            detect(p, "hello: world\n")
                .unwrap_err()
                .to_string()
                .contains("pass --format")
        );
    }
}
