//! Which files to read and what format each one is.

use std::path::{Path, PathBuf};

use super::ImportError;
use super::input::Boundary;
use crate::inventory::InventoryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
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
    #[serde(rename = "k8s", alias = "kubernetes")]
    Kubernetes,
    /// AWS IAM as the AWS CLI prints it: authorization details and the
    /// credential report.
    Aws,
    /// Microsoft Entra ID as the Azure CLI (or Microsoft Graph) prints it:
    /// service principals and applications.
    Entra,
    /// Google Cloud IAM as gcloud prints it (`--format=json`): service
    /// accounts, their keys, a project's IAM policy.
    Gcp,
    /// A CycloneDX BOM (JSON): its services and their dependencies.
    Cyclonedx,
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json", "csv"];

/// The file itself, or every importable file below a directory in a stable
/// (sorted) order, so a directory imports the same way on every machine.
///
/// Symbolic links are followed while they stay inside `boundary`; a link
/// that leads outside it, or back to a directory the walk is already in
/// (a loop: `a -> .`), is refused at once with its path, rather than
/// followed until the system gives up.
pub fn files(path: &Path, boundary: &Boundary) -> Result<Vec<PathBuf>, ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| ImportError::Io {
        origin: path.display().to_string(),
        message: e.to_string(),
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !meta.is_dir() {
        return Err(ImportError::Io {
            origin: path.display().to_string(),
            message: "not a regular file or a directory (a device, FIFO or socket); only files are imported".into(),
        });
    }
    let mut out = Vec::new();
    walk(path, boundary, &mut Vec::new(), &mut out)?;
    out.sort();
    // One file reached by two paths (a link beside its target) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| std::fs::metadata(p).map_or(true, |m| seen.insert(identity(&m))));
    if out.is_empty() {
        return Err(ImportError::Empty(path.display().to_string()));
    }
    Ok(out)
}

/// `path` is a symbolic link that leads to `real`, outside the import.
fn leads_out(path: &Path, real: &Path, boundary: &Boundary) -> ImportError {
    ImportError::Io {
        origin: path.display().to_string(),
        message: format!(
            "a symbolic link to {}, outside {}, the directory being imported",
            real.display(),
            boundary.shown().display()
        ),
    }
}

/// A directory's identity on disk, whatever path reached it.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

fn walk(
    dir: &Path,
    boundary: &Boundary,
    ancestors: &mut Vec<(u64, u64)>,
    out: &mut Vec<PathBuf>,
) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError::Io {
        origin: dir.display().to_string(),
        message: e.to_string(),
    };
    let here = identity(&std::fs::metadata(dir).map_err(io)?);
    if ancestors.contains(&here) {
        return Err(ImportError::Io {
            origin: dir.display().to_string(),
            message: "a symbolic link back to a directory that contains it (a loop); remove the link or import a directory without it".into(),
        });
    }
    boundary
        .check_inside(dir)
        .map_err(|real| leads_out(dir, &real, boundary))?;
    ancestors.push(here);
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
            walk(&path, boundary, ancestors, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            // kustomize's third entry file name has no extension.
            || path.file_name().is_some_and(|n| n == "Kustomization")
        {
            boundary
                .check_inside(&path)
                .map_err(|real| leads_out(&path, &real, boundary))?;
            out.push(path);
        }
    }
    ancestors.pop();
    Ok(())
}

/// Tells the format from the extension and the first keys of the file.
/// Whether the file is named as CSV (all CSV is told by its extension).
pub fn has_csv_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

pub fn detect(path: &Path, text: &str) -> Result<Format, InventoryError> {
    if has_csv_extension(path) {
        return Ok(Format::Csv);
    }
    let api_version = has_key(text, "apiVersion");
    let kind = has_key(text, "kind");
    if text.contains("backstage.io/") && api_version {
        return Ok(Format::Backstage);
    }
    if api_version && kind {
        return Ok(Format::Kubernetes);
    }
    let unsupported = |message: String| InventoryError::Unsupported {
        origin: path.display().to_string(),
        message,
    };
    if api_version {
        // Helm's chart metadata has an apiVersion (v1, v2), a name and a
        // version, and no kind: it describes templates, not objects.
        let chart = path.file_name().is_some_and(|n| {
            n.eq_ignore_ascii_case("Chart.yaml") || n.eq_ignore_ascii_case("Chart.yml")
        });
        return Err(unsupported(if chart {
            "a Helm chart's Chart.yaml describes the chart, not Kubernetes objects; render the chart (`helm template NAME CHART > rendered.yaml`) and import the output".into()
        } else {
            "has an apiVersion but no kind; a Kubernetes object and a Backstage entity each need both".into()
        }));
    }
    // Countersign's own files have `version` at the top (an OpenAPI
    // document's is under `info`) and nothing there but its sections (a
    // docker-compose.yml has `version` and `services`, and more).
    if top_level_key(text, "version") && only_native_keys(text) {
        return Ok(Format::Native);
    }
    Err(unsupported(
        "cannot tell which format this is (not a Countersign inventory, Backstage catalog or Kubernetes manifest); pass --format".into(),
    ))
}

/// Whether the block mapping at the top of `text` has no key but a native
/// inventory's (`version`, `owners`, `services`, `identities`). JSON is
/// left to the parser, which names an unknown field.
fn only_native_keys(text: &str) -> bool {
    const NATIVE: &[&str] = &["version", "owners", "services", "identities"];
    if text.trim_start().starts_with('{') {
        return true;
    }
    // Its `version` is a whole number (a compose file's is "3.8").
    let version_is_number = text.lines().any(|l| {
        l.strip_prefix("version:")
            .map(|v| v.split('#').next().unwrap_or("").trim())
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    });
    version_is_number
        && text
            .lines()
            .filter(|l| {
                l.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '"' || c == '\'')
            })
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim_matches(['"', '\''])))
            .all(|k| NATIVE.contains(&k))
}

/// Whether `text` is an API description (OpenAPI, Swagger, AsyncAPI), as
/// Backstage catalogs keep beside the API entities that point to them:
/// not an inventory, a catalog or a manifest, so not read.
pub fn is_api_description(text: &str) -> bool {
    ["openapi", "swagger", "asyncapi"]
        .iter()
        .any(|k| top_level_key(text, k))
}

/// Whether `key` is a key of the top-level mapping: a block key in the
/// first column, or a JSON key one level deep.
fn top_level_key(text: &str, key: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix(key)
            .or_else(|| l.strip_prefix(&format!("\"{key}\"")))
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    }) || (text.trim_start().starts_with('{') && json_top_level_key(text, key))
}

/// A JSON object's top-level keys, by depth, without parsing values.
fn json_top_level_key(text: &str, key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                if depth == 1
                    && text[i..].starts_with(&quoted)
                    && text[i + quoted.len()..].trim_start().starts_with(':')
                {
                    return true;
                }
                in_string = true;
            }
            _ => {}
        }
    }
    false
}

/// Whether `key` appears as a mapping key anywhere in `text`: at a line's
/// start (block YAML) or after `{`, `,` or a quote (JSON and flow YAML on
/// one line), followed by `:`.
fn has_key(text: &str, key: &str) -> bool {
    text.match_indices(key).any(|(at, _)| {
        let before = text[..at].trim_end_matches(['"', '\'']);
        let line = before.rsplit('\n').next().unwrap_or("");
        let before_ok = line.trim_start_matches([' ', '\t', '-']).is_empty()
            || before.trim_end_matches([' ', '\t']).ends_with(['{', ',']);
        let after = text[at + key.len()..].trim_start_matches(['"', '\'']);
        before_ok && after.trim_start_matches([' ', '\t']).starts_with(':')
    })
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
        assert_eq!(
            detect(
                Path::new("x.json"),
                "{\"apiVersion\": \"v1\", \"kind\": \"ServiceAccount\", \"metadata\": {\"name\": 5}}"
            )
            .unwrap(),
            Format::Kubernetes
        );
        assert_eq!(
            detect(p, "{apiVersion: v1, kind: ServiceAccount}\n").unwrap(),
            Format::Kubernetes
        );
        assert!(
            detect(
                Path::new("c/Chart.yaml"),
                "apiVersion: v2\nname: x\nversion: 1.0.0\n"
            )
            .unwrap_err()
            .to_string()
            .contains("helm template")
        );
        assert!(!has_key("description: the kind: of thing\n", "kind"));
        // An OpenAPI document's version is under info: not an inventory.
        let openapi = "openapi: 3.0.0\ninfo:\n  title: x\n  version: 1.0.0\n";
        assert!(detect(p, openapi).is_err());
        assert!(is_api_description(openapi));
        assert!(is_api_description(
            "{\"swagger\": \"2.0\", \"info\": {\"version\": \"1\"}}"
        ));
        assert!(!is_api_description("version: 1\nservices: []\n"));
        // A compose file has version and services, and more.
        assert!(
            detect(
                p,
                "version: \"3\"\nservices:\n  web: {image: x}\nvolumes: {}\n"
            )
            .is_err()
        );
        assert!(
            detect(p, "hello: world\n")
                .unwrap_err()
                .to_string()
                .contains("pass --format")
        );
    }
}
