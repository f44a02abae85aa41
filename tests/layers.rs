//! The core's layers (docs/architecture.md) as a test: each module imports
//! only from the layers below it, the CLI's flag types (clap) stay in the
//! CLI, and only the app layer and the binaries sit on top. A `use` that
//! reaches upward fails here with the file and line.

use std::path::{Path, PathBuf};

/// Top-level modules of `src/` from the bottom up. A module may use any
/// module in its own layer or a lower one.
const LAYERS: &[&[&str]] = &[
    &["model", "jose", "secrets", "controls"],
    &["inventory", "attention", "observed"],
    &["store"],
    &[
        "graph",
        "policy",
        "signing",
        "oidc",
        "import",
        "export",
        "demo",
        "checkpoint",
    ],
    &["approval", "client", "campaign"],
    &["backend", "drill"],
    &["app"],
    &["cli", "main"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_reaches_up_and_clap_stays_in_the_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut problems = Vec::new();
    for path in &all {
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" {
            continue;
        }
        let own = layer_of(&top).unwrap_or_else(|| {
            panic!("src/{top} is in no layer: add it to LAYERS and docs/architecture.md")
        });
        let text = std::fs::read_to_string(path).unwrap();
        // Tests may reach anywhere; only the module's own code is held.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let line_of = |at: usize| code[..at].matches('\n').count() + 1;
        for (n, line) in code.lines().enumerate() {
            let line = line.trim_start();
            if !line.starts_with("//")
                && own < layer_of("cli").unwrap()
                && (line.contains("clap::") || line.contains("use clap"))
            {
                problems.push(format!(
                    "src/{}:{}: clap outside the CLI",
                    rel.display(),
                    n + 1
                ));
            }
        }
        // `crate::x::…`, and each name of `crate::{x::…, y}` (over lines).
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let used: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group[..group.find('}').unwrap_or(group.len())]
                    .split(',')
                    .map(str::trim)
                    .collect(),
                None => vec![rest],
            };
            for used in used {
                let module: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if let Some(theirs) = layer_of(&module)
                    && theirs > own
                {
                    problems.push(format!(
                        "src/{}:{}: {top} (layer {own}) uses {module} (layer {theirs})",
                        rel.display(),
                        line_of(at)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
