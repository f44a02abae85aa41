//! An import stays inside the directory the user chose (issue 14;
//! ../shared/security/r05 and r05b): a catalog from a repository under
//! review cannot make `countersign import` read, quote or pull in files
//! outside it, hang on a device or a FIFO, or walk a symlink loop forever;
//! files in another encoding are refused naming the byte offset.

mod common;
use common::countersign;

use std::path::Path;
use std::time::Duration;

const SECRET: &str = "s3cr3t-Hunter2";

/// A scratch database with the demo, and a repository beside a directory
/// of things the repository must not reach.
fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    countersign(&db).args(["demo", "load"]).assert().success();
    std::fs::create_dir_all(dir.path().join("repo")).unwrap();
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    std::fs::write(
        dir.path().join("other/settings.yaml"),
        format!("deploy_password: {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("other/catalog.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: pulled-from-outside}\nspec: {type: service, lifecycle: production, owner: team-x}\n",
    )
    .unwrap();
    (dir, db)
}

fn location(repo: &Path, target: &str) {
    std::fs::write(
        repo.join("catalog-info.yaml"),
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {{name: l}}\nspec:\n  targets: [{target:?}]\n"
        ),
    )
    .unwrap();
}

/// Runs `import repo` and returns its stderr, asserting it failed within
/// `timeout` and named the Location's line.
fn refused(db: &Path, dir: &Path, timeout: u64) -> String {
    let out = countersign(db)
        .current_dir(dir)
        .args(["import", "repo"])
        .timeout(Duration::from_secs(timeout))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains(SECRET), "content quoted: {stderr}");
    assert!(!stderr.contains("root:"), "content quoted: {stderr}");
    stderr
}

#[test]
fn location_targets_stay_inside_the_imported_directory() {
    let (dir, db) = setup();
    let repo = dir.path().join("repo");
    for target in [
        "../../../../../../../etc/passwd",
        "/etc/passwd",
        "../other/settings.yaml",
        "../other/catalog.yaml",
        "./sub/../../other/catalog.yaml",
    ] {
        location(&repo, target);
        let stderr = refused(&db, dir.path(), 30);
        assert!(
            stderr.contains("catalog-info.yaml:5") && stderr.contains("spec.targets"),
            "{target}: {stderr}"
        );
        assert!(
            stderr.contains("outside") || stderr.contains("absolute path"),
            "{target}: {stderr}"
        );
    }
    // A link inside the repository that leads out is refused as well.
    std::os::unix::fs::symlink(dir.path().join("other"), repo.join("linked")).unwrap();
    location(&repo, "./linked/catalog.yaml");
    let stderr = refused(&db, dir.path(), 30);
    assert!(stderr.contains("outside"), "{stderr}");
    std::fs::remove_file(repo.join("linked")).unwrap();
    // Nothing from outside was imported.
    countersign(&db)
        .args(["services", "list", "--search", "pulled-from-outside"])
        .assert()
        .success()
        .stdout(predicates::str::contains("pulled-from-outside").not());
    // And a target inside still works.
    std::fs::create_dir_all(repo.join("teams")).unwrap();
    std::fs::write(
        repo.join("teams/ui.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: inside-ui}\nspec: {type: service, lifecycle: production, owner: team-x}\n",
    )
    .unwrap();
    location(&repo, "./teams/ui.yaml");
    countersign(&db)
        .current_dir(dir.path())
        .args(["import", "repo/catalog-info.yaml"])
        .assert()
        .success();
}

use predicates::prelude::PredicateBooleanExt as _;

#[test]
fn devices_fifos_and_other_encodings_are_refused_not_read() {
    let (dir, db) = setup();
    let repo = dir.path().join("repo");
    // /dev/zero through a link inside the repository: not a regular file
    // (and outside besides); a FIFO would block a reader forever.
    location(&repo, "./zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", repo.join("zero.yaml")).unwrap();
    let stderr = refused(&db, dir.path(), 30);
    assert!(
        stderr.contains("outside") || stderr.contains("not a regular file"),
        "{stderr}"
    );
    std::fs::remove_file(repo.join("zero.yaml")).unwrap();
    std::fs::remove_file(repo.join("catalog-info.yaml")).unwrap();
    let fifo = repo.join("pipe.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let stderr = refused(&db, dir.path(), 30);
    assert!(
        stderr.contains("pipe.yaml") && stderr.contains("not a regular file"),
        "{stderr}"
    );
    std::fs::remove_file(&fifo).unwrap();

    // UTF-16 (a byte-order mark) and invalid UTF-8, with where.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("version: 1\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(repo.join("owners.yaml"), utf16).unwrap();
    let stderr = refused(&db, dir.path(), 30);
    assert!(
        stderr.contains("owners.yaml") && stderr.contains("UTF-16"),
        "{stderr}"
    );
    std::fs::write(
        repo.join("owners.yaml"),
        b"version: 1\nowners: [\xC3\x28]\n",
    )
    .unwrap();
    let stderr = refused(&db, dir.path(), 30);
    assert!(stderr.contains("byte offset 20 (line 2)"), "{stderr}");
    // A UTF-8 byte-order mark is fine (YAML 1.2 allows it).
    std::fs::write(
        repo.join("owners.yaml"),
        "\u{feff}version: 1\nowners:\n  - {id: team-bom, kind: team, name: Bom}\n",
    )
    .unwrap();
    countersign(&db)
        .current_dir(dir.path())
        .args(["import", "repo"])
        .assert()
        .success();
    std::fs::remove_file(repo.join("owners.yaml")).unwrap();

    // CSV is streamed, with the same rules.
    let csv = repo.join("owners.csv");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("id,kind,name\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(&csv, utf16).unwrap();
    let stderr = refused(&db, dir.path(), 30);
    assert!(
        stderr.contains("owners.csv") && stderr.contains("UTF-16"),
        "{stderr}"
    );
    std::fs::write(&csv, b"id,kind,name\nteam-x,team,B\xC3\x28m\n").unwrap();
    let stderr = refused(&db, dir.path(), 30);
    assert!(
        stderr.contains("line 2") && stderr.contains("utf-8"),
        "{stderr}"
    );
    std::fs::write(&csv, "\u{feff}id,kind,name\nteam-bom-csv,team,Bom\n").unwrap();
    countersign(&db)
        .current_dir(dir.path())
        .args(["import", "repo"])
        .assert()
        .success();
}

#[test]
fn a_symlink_loop_is_reported_at_once() {
    let (dir, db) = setup();
    let repo = dir.path().join("repo");
    std::fs::write(
        repo.join("owners.yaml"),
        "version: 1\nowners:\n  - {id: team-loop, kind: team, name: Loop}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(".", repo.join("a")).unwrap();
    std::os::unix::fs::symlink(".", repo.join("b")).unwrap();
    let stderr = refused(&db, dir.path(), 20);
    assert!(stderr.contains("loop"), "{stderr}");
    // A link to a sibling directory is not a loop: its files are read once.
    std::fs::remove_file(repo.join("a")).unwrap();
    std::fs::remove_file(repo.join("b")).unwrap();
    std::fs::create_dir_all(repo.join("teams")).unwrap();
    std::fs::rename(repo.join("owners.yaml"), repo.join("teams/owners.yaml")).unwrap();
    std::os::unix::fs::symlink("teams", repo.join("also-teams")).unwrap();
    countersign(&db)
        .current_dir(dir.path())
        .args(["import", "repo"])
        .timeout(Duration::from_secs(30))
        .assert()
        .success();
}

/// Targets an import cannot follow say why, at their own field and line:
/// a URL (an import reads files only), and a device given as the path.
#[test]
fn urls_and_devices_are_named_for_what_they_are() {
    let (dir, db) = setup();
    let repo = dir.path().join("repo");
    std::fs::write(
        repo.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: l}\nspec:\n  type: url\n  target: https://example.test/catalog-info.yaml\n",
    )
    .unwrap();
    // Backstage fetches a URL target; an import never does: it says so at
    // the line and imports the rest, and --strict refuses.
    let out = countersign(&db)
        .current_dir(dir.path())
        .args(["import", "repo"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("catalog-info.yaml:6: spec.target: https://example.test/catalog-info.yaml is a URL; an import reads files only, so it is not read"),
        "{stdout}"
    );
    let out = countersign(&db)
        .current_dir(dir.path())
        .args(["import", "repo", "--strict"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a URL"));
    let out = countersign(&db)
        .args(["import", "/dev/zero"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a regular file or a directory"),
        "{stderr}"
    );
}
