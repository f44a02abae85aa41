use std::path::Path;
use std::process::Command;

fn main() {
    // The migrations are embedded by `sqlx::migrate!` at compile time;
    // without this, adding a migration file would not rebuild the crate and
    // the new migration would silently not be applied (sqlx's documented
    // build script).
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rustc-env=COUNTERSIGN_BUILD={}", build_id());
}

/// What `countersign --version` says the binary was built from, after the
/// crate's version: `<commit> <commit date>` as `rustc -V` does.
///
/// - `COUNTERSIGN_COMMIT`, when set, is taken as is: scripts/package sets it
///   (with `-modified` when the work tree differs from the commit), and so
///   can a distribution building from a tarball that has no `.git`.
/// - Release builds (the packages, the README's app) ask git and rebuild
///   when HEAD moves.
/// - Debug builds do not record it: watching HEAD would rebuild the whole
///   core and relink every test after each commit, and a commit read once
///   and kept would go stale. They say so instead of naming a wrong one.
fn build_id() -> String {
    println!("cargo:rerun-if-env-changed=COUNTERSIGN_COMMIT");
    if let Ok(given) = std::env::var("COUNTERSIGN_COMMIT") {
        let given = given.trim();
        if !given.is_empty() {
            return given.to_owned();
        }
    }
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return "debug build, commit not recorded".to_owned();
    }
    match from_git() {
        Some(id) => id,
        None => "commit unknown: not built from a git checkout".to_owned(),
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

fn from_git() -> Option<String> {
    let git_dir = git(&["rev-parse", "--absolute-git-dir"])?;
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it
    // points to (a commit), and packed-refs (a gc). Only existing files:
    // cargo reruns on every build for a path that does not exist.
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for file in watch {
        let path = Path::new(&git_dir).join(file);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let date = git(&["log", "-1", "--format=%cs", "HEAD"])?;
    Some(format!("{commit} {date}"))
}
