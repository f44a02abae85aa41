use std::path::{Path, PathBuf};

use super::StoreError;

/// Environment variable naming the database, shared by the CLI and the app
/// so both open the same inventory.
pub const DB_ENV_VAR: &str = "COUNTERSIGN_DB";

/// `countersign.db` in the platform's data directory
/// (`~/.local/share/countersign/` on Linux).
pub fn default_db_path() -> Result<PathBuf, StoreError> {
    let dirs = directories::ProjectDirs::from("dev", "Countersign", "countersign")
        .ok_or(StoreError::NoDataDir)?;
    Ok(dirs.data_dir().join("countersign.db"))
}

/// Rejects paths SQLite would fail on with a vaguer message.
pub(super) fn check_usable(path: &Path) -> Result<(), StoreError> {
    let fail = |reason: String| {
        Err(StoreError::Open {
            db: path.display().to_string(),
            reason,
        })
    };
    if path.as_os_str().is_empty() {
        return fail("the path is empty".into());
    }
    if path.is_dir() {
        return fail("it is a directory, not a database file".into());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return fail(format!("directory {} does not exist", parent.display()));
    }
    if path.exists()
        && let Err(e) = readable(path)
    {
        return fail(format!("cannot read it: {e}"));
    }
    Ok(())
}

/// Asks the kernel whether the file may be opened for reading
/// without opening it: this runs in a process that may already have the
/// database open, and closing any descriptor on it would drop SQLite's
/// locks (see `guard`).
#[cfg(unix)]
fn readable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::R_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn readable(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path).map(drop)
}
