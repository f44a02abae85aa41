//! The release packages scripts/package writes to target/package/: their
//! SBOMs against the official CycloneDX schema, their checksums, what the
//! .deb and the .rpm hold and declare, and that the .deb depends on every
//! shared library its binaries link (as `dpkg-shlibdeps` finds them, the
//! tool Debian's own packages compute `${shlibs:Depends}` with), and that
//! they carry the licence notices of every crate and npm package built in.
//!
//! They read a finished package build, hence `#[ignore]`: scripts/test runs
//! them with `--ignored` after `scripts/package` (the `package` step);
//! `COUNTERSIGN_PACKAGE_DIR` points elsewhere. Installing the .deb and
//! using it is tests/package/installed.sh, which needs root.

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn package_dir() -> PathBuf {
    std::env::var_os("COUNTERSIGN_PACKAGE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/package"))
}

/// The one file in the package directory whose name ends with `suffix`.
fn artefact(suffix: &str) -> PathBuf {
    let dir = package_dir();
    let found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/package first)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one *{suffix} in {}: {found:?}",
        dir.display()
    );
    found.into_iter().next().unwrap()
}

/// Runs a program; its standard output, or a panic with its error output.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every component name in a CycloneDX document, nested ones included.
fn component_names(doc: &serde_json::Value) -> BTreeSet<String> {
    fn walk(list: &serde_json::Value, names: &mut BTreeSet<String>) {
        for c in list.as_array().into_iter().flatten() {
            let group = c["group"].as_str().filter(|g| !g.is_empty());
            let name = c["name"].as_str().unwrap_or_default();
            names.insert(match group {
                Some(g) => format!("{g}/{name}"),
                None => name.to_owned(),
            });
            walk(&c["components"], names);
        }
    }
    let mut names = BTreeSet::new();
    walk(&doc["components"], &mut names);
    names
}

#[test]
#[ignore = "needs scripts/package's output and the Python environment from scripts/test"]
fn the_sboms_validate_against_the_cyclonedx_schema() {
    let python = std::env::var("COUNTERSIGN_PYTHON")
        .expect("COUNTERSIGN_PYTHON must name the Python scripts/test sets up");
    let validator = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/validate_exports.py");
    for name in [
        "countersign.cdx.json",
        "countersign-desktop.cdx.json",
        "countersign-ui.cdx.json",
    ] {
        let path = artefact(name);
        let out = Command::new(&python)
            .arg(&validator)
            .arg("sbom")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} is not valid CycloneDX: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A document the validator would pass for any version is no proof:
        // a tampered copy must fail it.
        let mut doc = json(&path);
        doc["components"][0]["name"] = serde_json::json!(42);
        let bad = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(bad.path(), doc.to_string()).unwrap();
        let out = Command::new(&python)
            .arg(&validator)
            .arg("sbom")
            .arg(bad.path())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "a broken {name} passed the validator"
        );
    }
}

#[test]
#[ignore = "needs scripts/package's output"]
fn the_sboms_list_what_the_packages_ship_and_not_the_build_tools() {
    for (file, crate_name, shipped) in [
        (
            "countersign.cdx.json",
            "countersign",
            &[
                "sqlx-sqlite",
                "ed25519-dalek",
                "keyring",
                "cedar-policy",
                "clap_mangen",
            ][..],
        ),
        (
            "countersign-desktop.cdx.json",
            "countersign-desktop",
            &[
                "tauri",
                "webkit2gtk",
                "countersign",
                "sqlx-sqlite",
                "ed25519-dalek",
            ][..],
        ),
    ] {
        let rust = json(&artefact(file));
        assert_eq!(rust["specVersion"], "1.5");
        assert_eq!(rust["metadata"]["component"]["name"], crate_name);
        assert_eq!(rust["metadata"]["component"]["version"], VERSION);
        let names = component_names(&rust);
        for name in shipped {
            assert!(names.contains(*name), "{file} lacks {name}");
        }
        // Dev-dependencies are test tools, in no binary.
        for tool in ["criterion", "proptest", "assert_cmd", "fantoccini"] {
            assert!(!names.contains(tool), "{file} lists the test tool {tool}");
        }
        // Every component says which crate release it is.
        for c in rust["components"].as_array().unwrap() {
            let purl = c["purl"].as_str().unwrap_or_default();
            assert!(purl.starts_with("pkg:cargo/"), "{file}: {c}");
        }
    }

    let npm = json(&artefact("countersign-ui.cdx.json"));
    let names = component_names(&npm);
    // What the front end's bundle holds: the UI framework's runtime, the
    // graph libraries, Tauri's IPC client.
    for shipped in ["svelte", "sigma", "graphology", "@tauri-apps/api"] {
        assert!(
            names.contains(shipped),
            "the npm SBOM lacks {shipped}: {names:?}"
        );
    }
    for tool in [
        "vitest",
        "vite",
        "prettier",
        "@tauri-apps/cli",
        "oidc-provider",
    ] {
        assert!(
            !names.contains(tool),
            "the npm SBOM lists the build tool {tool}"
        );
    }
    assert_eq!(npm["metadata"]["component"]["name"], "countersign-ui");
}

#[test]
#[ignore = "needs scripts/package's output"]
fn the_checksums_cover_and_match_every_artefact() {
    let dir = package_dir();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut listed = BTreeSet::new();
    for line in sums.lines() {
        // sha256sum's format: 64 hex digits, two spaces (text mode), name.
        let (hash, name) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("SHA256SUMS: not `HASH  NAME`: {line:?}"));
        assert_eq!(hash.len(), 64, "{line}");
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hash, actual, "SHA256SUMS is wrong for {name}");
        listed.insert(name.to_owned());
    }
    let artefacts: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".deb") || n.ends_with(".rpm") || n.ends_with(".cdx.json"))
        .collect();
    assert_eq!(listed, artefacts);
    assert_eq!(listed.len(), 5, "{listed:?}");
}

/// The paths both packages install besides the bundler's own (the app's
/// binary, desktop entry and icons).
const CLI_FILES: &[&str] = &[
    "/usr/bin/countersign",
    "/usr/bin/countersign-desktop",
    "/usr/share/bash-completion/completions/countersign",
    "/usr/share/fish/vendor_completions.d/countersign.fish",
    "/usr/share/man/man1/countersign.1.gz",
    "/usr/share/man/man1/countersign-import.1.gz",
    "/usr/share/man/man1/countersign-campaign-start.1.gz",
    "/usr/share/man/man1/countersign-desktop.1.gz",
    "/usr/share/applications/Countersign.desktop",
    "/usr/share/icons/hicolor/128x128/apps/countersign-desktop.png",
];

#[test]
#[ignore = "needs scripts/package's output"]
fn the_deb_holds_the_app_the_cli_completions_and_man_pages() {
    let deb = artefact(".deb");
    let deb = deb.to_str().unwrap();
    let field = |name: &str| run("dpkg-deb", &["-f", deb, name]).trim().to_owned();
    assert_eq!(field("Package"), "countersign");
    assert_eq!(field("Version"), VERSION);
    assert_eq!(field("Architecture"), "amd64");
    let depends = field("Depends");
    for needed in [
        "libwebkit2gtk-4.1-0",
        "libgtk-3-0",
        "xdg-desktop-portal",
        "xdg-desktop-portal-gtk | xdg-desktop-portal-backend",
        "gnome-keyring | libkf5wallet-bin | keepassxc",
    ] {
        assert!(
            depends.split(", ").any(|d| d == needed),
            "Depends lacks {needed:?}: {depends}"
        );
    }

    let listing = run("dpkg-deb", &["--contents", deb]);
    let paths: BTreeSet<String> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        // Listed as `usr/bin/x` or `./usr/bin/x`, by dpkg-deb's version.
        .map(|p| format!("/{}", p.trim_start_matches("./").trim_end_matches('/')))
        .collect();
    for path in CLI_FILES.iter().chain(&[
        "/usr/share/zsh/vendor-completions/_countersign",
        "/usr/share/doc/countersign/copyright",
        "/usr/share/doc/countersign/changelog.gz",
    ]) {
        assert!(paths.contains(*path), "the .deb lacks {path}");
    }
    // Installed files are root's; the binaries executable, nothing else.
    for line in listing.lines() {
        let fields: Vec<_> = line.split_whitespace().collect();
        assert!(matches!(fields[1], "0/0" | "root/root"), "{line}");
        let mode = fields[0];
        if line.contains("usr/bin/") {
            assert_eq!(mode, "-rwxr-xr-x", "{line}");
        } else if mode.starts_with('-') {
            assert_eq!(mode, "-rw-r--r--", "{line}");
        }
    }

    let unpacked = tempfile::tempdir().unwrap();
    run("dpkg-deb", &["-x", deb, unpacked.path().to_str().unwrap()]);
    let entry = std::fs::read_to_string(
        unpacked
            .path()
            .join("usr/share/applications/Countersign.desktop"),
    )
    .unwrap();
    assert!(entry.contains("\nExec=countersign-desktop"), "{entry}");
    assert!(entry.contains("\nIcon=countersign-desktop"), "{entry}");
    // The man page is the CLI's, compressed.
    let page = run(
        "zcat",
        &[unpacked
            .path()
            .join("usr/share/man/man1/countersign.1.gz")
            .to_str()
            .unwrap()],
    );
    assert!(page.contains(".TH countersign 1"), "{page}");
    assert!(
        page.contains(&format!("v{VERSION}")),
        "the page's version: {page}"
    );
    // The changelog's latest entry is this version, as dpkg itself parses
    // it (Debian policy 4.4), and the file is what scripts/debian-changelog.mjs
    // makes of CHANGELOG.md with the package's maintainer and date: no entry
    // lost, none from another version's section.
    let changelog = unpacked
        .path()
        .join("usr/share/doc/countersign/changelog.gz");
    let shipped = run("zcat", &[changelog.to_str().unwrap()]);
    let plain = unpacked.path().join("changelog");
    std::fs::write(&plain, &shipped).unwrap();
    let parsed = |field: &str| {
        run(
            "dpkg-parsechangelog",
            &["-l", plain.to_str().unwrap(), "-S", field],
        )
        .trim()
        .to_owned()
    };
    assert_eq!(parsed("Source"), "countersign");
    assert_eq!(parsed("Version"), VERSION);
    assert_eq!(parsed("Maintainer"), field("Maintainer"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = run(
        "node",
        &[
            root.join("scripts/debian-changelog.mjs").to_str().unwrap(),
            root.join("CHANGELOG.md").to_str().unwrap(),
            VERSION,
            &parsed("Maintainer"),
            &parsed("Date"),
        ],
    );
    assert_eq!(shipped, expected, "the changelog is not CHANGELOG.md's");
}

/// lintian, the checker Debian runs on every package in its archive, finds
/// no error and no warning in the .deb.
#[test]
#[ignore = "needs scripts/package's output and lintian"]
fn the_deb_passes_lintian() {
    let deb = artefact(".deb");
    // An overrides file would turn its tags into "O:" lines; none may hide
    // one.
    let listing = run("dpkg-deb", &["--contents", deb.to_str().unwrap()]);
    assert!(
        !listing.contains("usr/share/lintian"),
        "the .deb overrides lintian: {listing}"
    );
    // Exits 0 whatever it finds (--fail-on none): the tags are read below.
    let report = run(
        "lintian",
        &[
            "--tag-display-limit",
            "0",
            "--show-overrides",
            "--fail-on",
            "none",
            deb.to_str().unwrap(),
        ],
    );
    let maintainer = run("dpkg-deb", &["-f", deb.to_str().unwrap(), "Maintainer"]);
    assert!(
        maintainer.contains('<'),
        "the .deb's Maintainer has no address ({}): build it with DEBEMAIL set, \
         as scripts/test does (docs/packaging.md)",
        maintainer.trim()
    );
    // "E: countersign: tag-name details", "W: …", and "O: …" for an
    // overridden one; "I:", "P:" and "N:" are not asked for.
    let reported: Vec<&str> = report
        .lines()
        .filter(|l| ["E: ", "W: ", "O: "].iter().any(|p| l.starts_with(p)))
        .collect();
    assert!(
        reported.is_empty(),
        "lintian reports {} problems with the .deb:\n{report}",
        reported.len()
    );
}

/// dpkg-shlibdeps needs a source package's debian/control to run in; this
/// is the smallest one it accepts.
const CONTROL: &str = "Source: countersign\n\nPackage: countersign\nArchitecture: any\n";

#[test]
#[ignore = "needs scripts/package's output"]
fn the_deb_depends_on_every_library_its_binaries_link() {
    let deb = artefact(".deb");
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    run(
        "dpkg-deb",
        &["-x", deb.to_str().unwrap(), root.to_str().unwrap()],
    );
    std::fs::create_dir(work.path().join("debian")).unwrap();
    std::fs::write(work.path().join("debian/control"), CONTROL).unwrap();
    let binaries = ["usr/bin/countersign", "usr/bin/countersign-desktop"];
    let out = Command::new("dpkg-shlibdeps")
        .current_dir(work.path())
        .arg("-O")
        .args(binaries.iter().map(|b| root.join(b)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg-shlibdeps: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let computed = String::from_utf8(out.stdout).unwrap();
    let computed = computed
        .trim()
        .strip_prefix("shlibs:Depends=")
        .unwrap_or_else(|| panic!("dpkg-shlibdeps printed {computed:?}"));
    let declared = run("dpkg-deb", &["-f", deb.to_str().unwrap(), "Depends"]);
    let declared: BTreeSet<&str> = declared.trim().split(", ").collect();
    // Each as dpkg-shlibdeps wrote it, version included: the binaries need
    // at least that version of the library (glibc 2.34, say), and apt must
    // refuse a machine with an older one rather than install a binary that
    // cannot start.
    let missing: Vec<&str> = computed
        .split(", ")
        .filter(|dep| !declared.contains(dep))
        .collect();
    assert!(
        missing.is_empty(),
        "the .deb's binaries link {missing:?}, which its Depends ({declared:?}) does not name"
    );
}

#[test]
#[ignore = "needs scripts/package's output and rpm"]
fn the_rpm_holds_the_same_files_and_requires_the_app_s_libraries() {
    let rpm = artefact(".rpm");
    let rpm = rpm.to_str().unwrap();
    let query = |format: &str| run("rpm", &["-qp", "--queryformat", format, rpm]);
    assert_eq!(query("%{NAME}"), "countersign");
    assert_eq!(query("%{VERSION}"), VERSION);
    assert_eq!(query("%{ARCH}"), "x86_64");
    let files = run("rpm", &["-qpl", rpm]);
    let files: BTreeSet<&str> = files.lines().collect();
    for path in CLI_FILES.iter().chain(&[
        "/usr/share/zsh/site-functions/_countersign",
        "/usr/share/licenses/countersign/LICENSE-MIT",
        "/usr/share/licenses/countersign/LICENSE-APACHE",
    ]) {
        assert!(files.contains(*path), "the .rpm lacks {path}");
    }
    // The bundler requires the app's libraries by soname, as rpmbuild's own
    // dependency generator would; the portal by package.
    let requires = run("rpm", &["-qpR", rpm]);
    for needed in [
        "libwebkit2gtk-4.1.so.0()(64bit)",
        "libgtk-3.so.0()(64bit)",
        "xdg-desktop-portal",
        "xdg-desktop-portal-gtk",
    ] {
        assert!(
            requires.lines().any(|r| r.trim() == needed),
            "the .rpm does not require {needed}: {requires}"
        );
    }
    let recommends = run("rpm", &["-qp", "--recommends", rpm]);
    assert!(
        recommends.lines().any(|r| r.trim() == "gnome-keyring"),
        "{recommends}"
    );
}

/// The separator cargo-about's template (assets/licenses/rust.hbs) and the
/// front end's (vite.config.ts) put before each licence block.
const BLOCK: &str =
    "--------------------------------------------------------------------------------\n";
const NPM_PART: &str = "npm packages bundled into the desktop app's front end";

/// The crates in the binaries that ship no licence text: no licence file, an
/// empty one, or one that holds only a path (sqlx's `LICENSE-APACHE` holds
/// `../LICENSE-APACHE`, the target of a symlink in its repository written
/// out as text when the crate was packaged), so that cargo-about can only
/// give SPDX's text, under the crate's authors as its Cargo.toml names them.
const SHIP_NO_LICENCE_FILE: &[&str] = &[
    "alloc-stdlib",
    "dlopen2",
    "dlopen2_derive",
    "libappindicator-sys",
    "maud",
    "maud_macros",
    "rustc_lexer",
    "sqlx-core",
    "sqlx-macros",
    "sqlx-macros-core",
    "sqlx-postgres",
    "sqlx-sqlite",
    "ts-rs",
    "ts-rs-macros",
];

/// Whether a crate's licence file holds no licence text: it is empty, or it
/// is one relative path and nothing else, which is what a symlink in the
/// crate's repository becomes when it is packaged from a checkout without
/// symlinks (sqlx's `LICENSE-MIT` is the 14 bytes `../LICENSE-MIT`).
fn holds_no_licence_text(text: &str) -> bool {
    let text = text.trim();
    text.is_empty()
        || (text.lines().count() == 1
            && text.starts_with("../")
            && !text.contains(char::is_whitespace))
}

#[test]
fn a_licence_file_holding_only_a_symlinks_target_holds_no_licence_text() {
    assert!(holds_no_licence_text(""));
    assert!(holds_no_licence_text("../LICENSE-APACHE"));
    assert!(holds_no_licence_text("../LICENSE-MIT\n"));
    assert!(!holds_no_licence_text(
        "MIT License\n\nCopyright (c) 2020 X"
    ));
    assert!(!holds_no_licence_text("Copyright 2020 The Authors"));
}

/// Each package of the lock file's graph with the directory its sources
/// are in (`cargo metadata`), as ("name version", directory).
fn crate_sources() -> Vec<(String, PathBuf)> {
    let out = run(
        "cargo",
        &["metadata", "--format-version", "1", "--offline", "--locked"],
    );
    let meta: serde_json::Value = serde_json::from_str(&out).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = Path::new(p["manifest_path"].as_str().unwrap());
            (
                format!(
                    "{} {}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                ),
                manifest.parent().unwrap().to_owned(),
            )
        })
        .collect()
}

/// about.toml's `accepted` list and vite.config.ts's `ACCEPTED_LICENCES`
/// are one policy: the licences Countersign ships code under.
#[test]
fn the_rust_and_npm_licence_policies_accept_the_same_licences() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let about = std::fs::read_to_string(root.join("about.toml")).unwrap();
    let list = about
        .split_once("accepted = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("about.toml's accepted list")
        .0;
    let rust: BTreeSet<String> = list
        .split(',')
        .map(|l| l.trim().trim_matches('"').to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let vite = std::fs::read_to_string(root.join("vite.config.ts")).unwrap();
    let expr = vite
        .split_once("const ACCEPTED_LICENCES =")
        .and_then(|(_, rest)| rest.split_once(';'))
        .expect("vite.config.ts's ACCEPTED_LICENCES")
        .0;
    let npm: BTreeSet<String> = expr
        .trim()
        .trim_matches('"')
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(" OR ")
        .map(str::to_owned)
        .collect();
    assert!(rust.contains("MIT") && rust.len() > 5, "{rust:?}");
    assert_eq!(rust, npm);
}

/// Every crate Cargo's own resolver builds into either binary for the
/// packages' target: normal dependencies with the features the build
/// enables, not what only build scripts or proc-macros use, and not our own
/// path crates. An oracle independent of cargo-about's own graph.
fn crates_built_in() -> BTreeSet<String> {
    let tree = run(
        "cargo",
        &[
            "tree",
            "--locked",
            "--offline",
            "--edges",
            "normal,no-proc-macro",
            "--target",
            "x86_64-unknown-linux-gnu",
            "-p",
            "countersign",
            "-p",
            "countersign-desktop",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ],
    );
    tree.lines()
        // "serde v1.0.228", "countersign v0.1.0 (/work/main)", "x v1 (*)"
        .filter(|l| !l.contains(" (/"))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some(format!("{name} {version}"))
        })
        .collect()
}

#[test]
#[ignore = "needs scripts/package's output"]
fn the_packages_carry_the_licence_of_every_crate_and_npm_package_built_in() {
    let deb = artefact(".deb");
    let unpacked = tempfile::tempdir().unwrap();
    run(
        "dpkg-deb",
        &[
            "-x",
            deb.to_str().unwrap(),
            unpacked.path().to_str().unwrap(),
        ],
    );
    let gz = unpacked
        .path()
        .join("usr/share/doc/countersign/third-party-licenses.txt.gz");
    let notices = run("zcat", &[gz.to_str().unwrap()]);
    let (rust, npm) = notices
        .split_once(NPM_PART)
        .expect("the notices have a part for the npm packages");

    // Every crate in the binaries is named, with its version, under a
    // licence block (cargo-about lists each as "  name version  repo").
    let named: BTreeSet<&str> = rust
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    let built_in = crates_built_in();
    assert!(built_in.len() > 300, "{} crates", built_in.len());
    let missing: Vec<_> = built_in
        .iter()
        .filter(|c| !named.contains(c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "built in but without a licence notice: {missing:?}"
    );
    // Neither the tests' crates nor the build scripts' are shipped.
    for absent in [
        "criterion ",
        "proptest ",
        "assert_cmd ",
        "cc ",
        "tauri-build ",
    ] {
        assert!(
            !named.iter().any(|n| n.starts_with(absent)),
            "{absent}is not in the binaries"
        );
    }
    // Each block carries a licence text, not only names: the shortest
    // accepted (0BSD) is ~650 characters. Not a file of source code (a scan
    // that takes a source file's licence header for a licence pastes the
    // whole file), and not SPDX's template with its blanks unfilled, except
    // for the crates that ship no licence file to take the text from.
    let source = |text: &str| {
        text.lines().map(str::trim_start).any(|l| {
            (l.starts_with("use ") && l.contains("::"))
                || l.starts_with("#include ")
                || l.starts_with("pub fn ")
                || (l.starts_with("fn ") && l.contains('('))
                || l.starts_with("impl ")
        })
    };
    let mut templated = BTreeSet::new();
    for block in notices.split(BLOCK).skip(1) {
        let (head, text) = block.split_once("\n\n").unwrap();
        assert!(
            text.trim().len() > 300,
            "a block without its text:\n{block}"
        );
        assert!(!source(text), "source code as a licence:\n{block}");
        if ["<year>", "<owner>", "<copyright holders>"]
            .iter()
            .any(|blank| text.contains(blank))
        {
            templated.extend(
                head.lines()
                    .filter_map(|l| l.strip_prefix("  "))
                    .filter(|l| !l.starts_with(' '))
                    .map(|l| l.split(' ').next().unwrap().to_owned()),
            );
        }
    }
    assert_eq!(
        templated,
        SHIP_NO_LICENCE_FILE.iter().map(|c| c.to_string()).collect(),
        "crates given SPDX's generic text: each must ship no licence file, or \
         about.toml must clarify which of its files holds its licence"
    );
    // And they really ship no licence text (no file, an empty one, or a
    // symlink's target written out as text): once one does, its own text,
    // with its copyright line, is what must be shipped.
    let sources = crate_sources();
    for name in SHIP_NO_LICENCE_FILE {
        let of_name = sources
            .iter()
            .filter(|(c, _)| c.split(' ').next() == Some(name));
        for dir in of_name.map(|(_, d)| d) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let file = entry.file_name().to_string_lossy().to_lowercase();
                if ["license", "licence", "copying", "copyright"]
                    .iter()
                    .any(|p| file.starts_with(p))
                {
                    let text = std::fs::read_to_string(entry.path()).unwrap();
                    assert!(
                        holds_no_licence_text(&text),
                        "{name} ships {} with a licence text: clarify it in about.toml",
                        entry.path().display()
                    );
                }
            }
        }
    }

    // An Apache-2.0 NOTICE must travel with the binaries (its section
    // 4(d)), and the template has no place for one: none may appear
    // unnoticed.
    for (krate, dir) in sources.iter().filter(|(c, _)| built_in.contains(c)) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let file = entry.unwrap().file_name().to_string_lossy().to_lowercase();
            assert!(
                !file.starts_with("notice"),
                "{krate} ships {file}: its NOTICE must be carried in the notices"
            );
        }
    }
    // Licence files below a crate's root are read too: mimalloc's own, in
    // libmimalloc-sys's vendored C sources, and the spin code tracing-core
    // vendors, each with its copyright line.
    for notice in [
        "Microsoft Corporation, Daan Leijen",
        "Copyright (c) 2014 Mathijs van de Nes",
    ] {
        assert!(rust.contains(notice), "the notices lack {notice:?}");
    }

    // The front end's direct dependencies, at the versions installed, each
    // with the licence file it ships.
    let manifest = json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("package.json"));
    for name in manifest["dependencies"].as_object().unwrap().keys() {
        let installed = json(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("node_modules")
                .join(name)
                .join("package.json"),
        );
        let head = format!("\n{name} {} (", installed["version"].as_str().unwrap());
        assert!(npm.contains(&head), "no notice for {name}: {npm}");
    }
    assert!(npm.contains("Svelte Contributors"), "svelte's copyright");
    assert!(!npm.contains("ships no licence file"), "{npm}");

    // The .deb's copyright file points to the notices; the .rpm carries the
    // same text, uncompressed, in its licence directory.
    let copyright =
        std::fs::read_to_string(unpacked.path().join("usr/share/doc/countersign/copyright"))
            .unwrap();
    assert!(
        copyright.contains("/usr/share/doc/countersign/third-party-licenses.txt.gz"),
        "{copyright}"
    );
    let dump = run(
        "rpm",
        &["-qp", "--dump", artefact(".rpm").to_str().unwrap()],
    );
    let digest: String = Sha256::digest(notices.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        dump.lines().any(|l| {
            l.starts_with("/usr/share/licenses/countersign/third-party-licenses.txt ")
                && l.split_whitespace().nth(3) == Some(digest.as_str())
        }),
        "the .rpm's notices differ from the .deb's: {dump}"
    );
}
