//! The IPC command list lives in four places that must agree: the handler
//! (`generate_handler!` in src/lib.rs), the permissions tauri-build
//! generates (`COMMANDS` in build.rs), the main window's capability, and
//! the front end's calls (`invoke("…")` in ui/src). A command in one and
//! not another is either unreachable or refused at the IPC boundary at run
//! time; this test finds it at build time.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The quoted strings between `start` and the next `end` in `text`.
fn quoted_between(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let block = &text[from..from + text[from..].find(end).unwrap()];
    block
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn handler() -> BTreeSet<String> {
    let lib = read(&root().join("src/lib.rs"));
    let from = lib.find("generate_handler![").unwrap() + "generate_handler![".len();
    let block = &lib[from..from + lib[from..].find(']').unwrap()];
    block
        .split(',')
        .filter_map(|path| path.trim().rsplit("::").next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

fn capability() -> BTreeSet<String> {
    let json: serde_json::Value =
        serde_json::from_str(&read(&root().join("capabilities/main.json"))).unwrap();
    json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let p = p.as_str().expect("permissions are names");
            p.strip_prefix("allow-")
                .unwrap_or_else(|| panic!("{p}: only allow-<command> permissions are granted"))
                .replace('-', "_")
        })
        .collect()
}

fn front_end_calls() -> BTreeSet<String> {
    let mut calls = BTreeSet::new();
    let mut stack = vec![root().join("../ui/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                stack.push(path);
            } else if (name.ends_with(".ts") || name.ends_with(".svelte"))
                && !name.contains(".test.")
            {
                let text = read(&path);
                for piece in text.split("invoke").skip(1) {
                    // invoke<T>("name", invoke<A<B>>("name" or invoke("name"
                    let piece = piece.trim_start();
                    let piece = match piece.strip_prefix('<') {
                        Some(rest) => {
                            let mut depth = 1;
                            let end = rest.find(|c| {
                                match c {
                                    '<' => depth += 1,
                                    '>' => depth -= 1,
                                    _ => {}
                                }
                                depth == 0
                            });
                            &rest[end.map_or(0, |i| i + 1)..]
                        }
                        None => piece,
                    };
                    if let Some(rest) = piece.trim_start().strip_prefix("(\"") {
                        calls.insert(rest[..rest.find('"').unwrap()].to_owned());
                    }
                }
            }
        }
    }
    calls
}

#[test]
fn the_four_command_lists_agree() {
    let build = quoted_between(&read(&root().join("build.rs")), "COMMANDS", "];");
    let sets = [
        ("src/lib.rs generate_handler!", handler()),
        ("capabilities/main.json", capability()),
        ("ui/src invoke(…)", front_end_calls()),
    ];
    assert!(build.len() > 30, "parsed build.rs: {build:?}");
    for (place, set) in sets {
        let missing: Vec<_> = build.difference(&set).collect();
        let extra: Vec<_> = set.difference(&build).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{place} disagrees with build.rs COMMANDS: missing {missing:?}, not in COMMANDS {extra:?}"
        );
    }
}
