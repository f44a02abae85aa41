//! Keeping SQLite's locks true for every database file this process opens.
//!
//! SQLite coordinates the app and the CLI, two processes on one file, with
//! POSIX advisory locks, and those locks belong to the *process*: when any
//! code in the process closes *any* descriptor on the database file, the
//! kernel drops all of the process's locks on it, and SQLite is not told
//! ("How To Corrupt An SQLite Database File", §2.2,
//! <https://sqlite.org/howtocorrupt.html#_posix_advisory_locks_canceled_by_a_separate_thread_doing_close_>).
//! Another process then believes it holds the last connection: on closing it
//! checkpoints and deletes the `-wal` and `-shm` files, and everything this
//! process commits afterwards goes into an unlinked file that no one reads.
//! The first defence is that nothing in Countersign opens the database files
//! except SQLite ([`check_not_database`], the out-of-process file dialogs);
//! this module is the second and third, for every SQLite connection the
//! process opens (registered once, as an SQLite auto-extension):
//!
//! - **No deleted WAL.** Each connection is put in persistent-WAL mode
//!   (`SQLITE_FCNTL_PERSIST_WAL`), so the last connection to close
//!   checkpoints but never unlinks the `-wal` and `-shm` files another
//!   Countersign process may still be writing to (the store's
//!   `journal_size_limit` truncates the WAL instead).
//! - **No commit into a file no one reads.** A commit hook runs before every
//!   commit and turns it into a rollback unless this process still holds
//!   SQLite's locks (read from `/proc/locks`) on the file now at the
//!   database's path and, in WAL mode, on the `-shm` file now at its path
//!   (so the WAL index it maps is the one others use), and the `-wal` at
//!   its path is still the file it opened. A refused commit surfaces as
//!   [`StoreError::LocksLost`](super::StoreError::LocksLost), and the store
//!   reopens the database so the next write takes fresh locks.
//!
//! Checks that cannot be made (another OS, `/proc` not mounted, a file
//! system whose lock table names other inode numbers than `stat` does) are
//! skipped rather than guessed: the guard never refuses a write it cannot
//! show to be lost. See `docs/sqlite-locks.md`.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use libsqlite3_sys as ffi;

/// One database file this process has opened, kept for the life of the
/// process (a handful per run; commit hooks hold a pointer to it).
struct Watched {
    /// The path as SQLite resolved it, made canonical.
    path: PathBuf,
    /// Set once this process was seen holding a lock on the file, which
    /// shows that `/proc/locks` and `stat` agree on its inode number here.
    locks_visible: AtomicBool,
    /// Why the last refused commit was refused; taken by the store.
    refusal: Mutex<Option<String>>,
    /// The `-wal` file this process's connections write to, as (device,
    /// inode), recorded when the store opened the database. SQLite never
    /// replaces a WAL while any connection has the database open, so a
    /// different file at the path means another program deleted ours.
    wal: Mutex<Option<(u64, u64)>>,
}

static WATCHED: Mutex<Vec<&'static Watched>> = Mutex::new(Vec::new());

/// Registers the auto-extension; idempotent. Must run before the first
/// connection is opened.
pub(super) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `on_open` has the entry-point signature SQLite expects and
        // stays valid for the life of the process.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        assert_eq!(rc, ffi::SQLITE_OK, "sqlite3_auto_extension failed: {rc}");
    });
}

/// Called by SQLite for each new connection, before anyone uses it.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    let result = std::panic::catch_unwind(|| {
        // The function the write triggers call (migrations/sqlite/0005): a
        // statement from any other client fails for want of it.
        // SAFETY: `db` is the connection being opened; the name is a static
        // C string and `write_is_audited` has the signature SQLite expects.
        unsafe {
            ffi::sqlite3_create_function_v2(
                db,
                c"countersign_write_is_audited".as_ptr(),
                0,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
                std::ptr::null_mut(),
                Some(write_is_audited),
                None,
                None,
                None,
            );
        }
        // SAFETY: `db` is the connection being opened; "main" always exists.
        let name = unsafe { ffi::sqlite3_db_filename(db, c"main".as_ptr()) };
        if name.is_null() {
            return;
        }
        // SAFETY: SQLite returns a NUL-terminated string owned by `db`.
        let bytes = unsafe { CStr::from_ptr(name) }.to_bytes();
        if bytes.is_empty() {
            return; // in-memory or temporary: no file, no locks
        }
        let path = path_from_bytes(bytes);
        let mut persist: c_int = 1;
        // SAFETY: PERSIST_WAL takes a pointer to an int; an error (a VFS
        // without the op) leaves the default, which is no worse.
        unsafe {
            ffi::sqlite3_file_control(
                db,
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_PERSIST_WAL,
                (&mut persist as *mut c_int).cast::<c_void>(),
            );
        }
        let watched = watch(&path);
        // SAFETY: `watched` lives for the rest of the process, longer than
        // the connection.
        unsafe {
            ffi::sqlite3_commit_hook(
                db,
                Some(before_commit),
                (watched as *const Watched).cast_mut().cast::<c_void>(),
            );
        }
    });
    if result.is_err() {
        return ffi::SQLITE_ERROR;
    }
    ffi::SQLITE_OK
}

/// `countersign_write_is_audited()`: 1, on Countersign's connections only.
unsafe extern "C" fn write_is_audited(
    ctx: *mut ffi::sqlite3_context,
    _argc: c_int,
    _argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: `ctx` is the call's context, valid for this call.
    unsafe { ffi::sqlite3_result_int(ctx, 1) };
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt as _;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

fn watch(path: &Path) -> &'static Watched {
    let path = canonical(path);
    let mut all = WATCHED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(w) = all.iter().find(|w| w.path == path) {
        return w;
    }
    let w: &'static Watched = Box::leak(Box::new(Watched {
        path,
        locks_visible: AtomicBool::new(false),
        refusal: Mutex::new(None),
        wal: Mutex::new(None),
    }));
    all.push(w);
    w
}

fn find(path: &Path) -> Option<&'static Watched> {
    let path = canonical(path);
    WATCHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|w| w.path == path)
        .copied()
}

/// SQLite's commit hook: non-zero turns the commit into a rollback.
unsafe extern "C" fn before_commit(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `&'static Watched` registered in `on_open`.
    let watched = unsafe { &*(arg as *const Watched) };
    let verdict = std::panic::catch_unwind(|| check(watched));
    match verdict {
        Ok(Ok(())) => 0,
        Ok(Err(reason)) => {
            *watched.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
            1
        }
        // A bug in the check must not take the process down mid-commit;
        // refusing is the safe side.
        Err(_) => {
            *watched.refusal.lock().unwrap_or_else(|e| e.into_inner()) =
                Some("the commit check failed unexpectedly".into());
            1
        }
    }
}

/// SQLite's extended result code for a commit the hook turned into a
/// rollback (`SQLITE_CONSTRAINT_COMMITHOOK`).
pub(super) const COMMIT_REFUSED_CODE: &str = "531";

/// Why the last commit to `path` was refused, if one was; clears it.
pub(super) fn take_refusal(path: &Path) -> Option<String> {
    find(path).and_then(|w| w.refusal.lock().unwrap_or_else(|e| e.into_inner()).take())
}

/// Called by the store once its connections are open on `path` (at open,
/// and again after a reopen): turns lock checks on where they can be made
/// ([`lock_checks_on`]) and records which `-wal` file the connections write
/// to.
pub(super) fn opened(path: &Path) {
    let Some(w) = find(path) else {
        return;
    };
    lock_checks_on(path);
    let wal = file_identity(&sidecar(&w.path, "-wal"));
    *w.wal.lock().unwrap_or_else(|e| e.into_inner()) = wal;
}

/// What SQLite keeps beside a database file, with what each is.
pub(super) const SIDECARS: [(&str, &str); 3] = [
    ("-wal", "the write-ahead log"),
    ("-shm", "the shared-memory index"),
    ("-journal", "the rollback journal"),
];

/// The file SQLite names `db` + `suffix` (`-wal`, `-shm`, `-journal`).
pub(super) fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

/// Whether commits to the database at `path` are checked against the
/// kernel's lock table. Call it while a connection is open (in WAL mode a
/// connection holds SQLite's shared lock from its first read): if this
/// process is seen holding a lock on the file, `/proc/locks` and `stat`
/// agree here, and lock checks are on from then on. `false` on other
/// systems, or before the file was opened in this process; the WAL checks
/// run either way. The store calls it when it opens a database; `db info`
/// reports it.
pub fn lock_checks_on(path: &Path) -> bool {
    let Some(w) = find(path) else {
        return false;
    };
    if !w.locks_visible.load(Ordering::Relaxed) && sys::holds_lock_on(&w.path) == Some(true) {
        w.locks_visible.store(true, Ordering::Relaxed);
    }
    w.locks_visible.load(Ordering::Relaxed)
}

/// The check before each commit; `Err` says why the commit would be lost.
fn check(w: &Watched) -> Result<(), String> {
    let db = &w.path;
    if std::fs::metadata(db).is_err() {
        return Err(format!(
            "{} is no longer at its path (moved or deleted while open)",
            db.display()
        ));
    }
    let recorded = *w.wal.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ours) = recorded {
        let wal = sidecar(db, "-wal");
        if file_identity(&wal) != Some(ours) {
            return Err(format!(
                "the write-ahead log {} this process writes to was deleted or replaced by \
                 another program",
                wal.display()
            ));
        }
    }
    if !w.locks_visible.load(Ordering::Relaxed) {
        return Ok(()); // nothing more can be told here
    }
    sys::check_locks(db)
}

#[cfg(target_os = "linux")]
mod sys {
    use std::os::unix::fs::MetadataExt as _;
    use std::path::Path;

    /// A byte range this process holds a lock on: inode, first byte, last
    /// byte (`None`: to the end of the file).
    type Held = (u64, u64, Option<u64>);

    /// The locks this process holds, from `/proc/locks` (`N: POSIX ADVISORY
    /// READ PID MAJ:MIN:INO START END`; waiting requests, marked `->`, are
    /// not held). `None` if the table cannot be read.
    fn held_locks() -> Option<Vec<Held>> {
        locks_held_by(Some(&std::process::id().to_string()))
    }

    /// Whether any process holds a lock on the file at `path` (OFD locks,
    /// whose holder shows as -1, included); `None` if that cannot be told.
    pub(super) fn locked_by_anyone(path: &Path) -> Option<bool> {
        let ino = std::fs::metadata(path).ok()?.ino();
        Some(locks_held_by(None)?.iter().any(|&(i, _, _)| i == ino))
    }

    /// The kernel's lock table, read whole in one `read(2)`. `/proc/locks`
    /// is a seq_file: each read call walks the table under the kernel's
    /// lock, but successive calls do not, so a table read in pieces (as
    /// `read_to_string` does, from a small first buffer) can miss entries
    /// that moved while other locks came and went — and a missed entry
    /// would look like a lost lock. The buffer grows until one call holds
    /// the whole table.
    fn lock_table() -> Option<String> {
        use std::io::Read as _;
        let mut size = 256 * 1024;
        loop {
            let mut buf = vec![0u8; size];
            let n = std::fs::File::open("/proc/locks")
                .ok()?
                .read(&mut buf)
                .ok()?;
            if n < size {
                buf.truncate(n);
                return String::from_utf8(buf).ok();
            }
            if size >= 64 * 1024 * 1024 {
                return None; // cannot be told; the caller does not refuse
            }
            size *= 4;
        }
    }

    /// The lock table's held locks, of one process or of all.
    fn locks_held_by(pid: Option<&str>) -> Option<Vec<Held>> {
        let table = lock_table()?;
        Some(
            table
                .lines()
                .filter_map(|line| {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    // Waiting requests have "->" after the number.
                    if f.len() < 8 || f[1] == "->" || pid.is_some_and(|p| f[4] != p) {
                        return None;
                    }
                    let ino = f[5].rsplit(':').next()?.parse().ok()?;
                    let start = f[6].parse().ok()?;
                    let end = match f[7] {
                        "EOF" => None,
                        n => Some(n.parse().ok()?),
                    };
                    Some((ino, start, end))
                })
                .collect(),
        )
    }

    fn covers(held: &[Held], ino: u64, byte: u64) -> bool {
        held.iter()
            .any(|&(i, start, end)| i == ino && start <= byte && end.is_none_or(|e| byte <= e))
    }

    /// SQLite's lock bytes (its locking protocol, fixed across versions):
    /// the first byte of the database file's SHARED range, which every
    /// connection in WAL mode holds while open (and every writer in
    /// rollback mode, with its other locks); and the `-shm` file's
    /// "dead man switch" byte, held by every connection using the WAL index.
    const SHARED_FIRST: u64 = 0x4000_0000 + 2;
    const SHM_DMS: u64 = 120 + 8;

    /// Whether this process holds SQLite's shared lock on the file now at
    /// `path`; `None` if that cannot be told.
    pub(super) fn holds_lock_on(path: &Path) -> Option<bool> {
        let ino = std::fs::metadata(path).ok()?.ino();
        Some(covers(&held_locks()?, ino, SHARED_FIRST))
    }

    /// The byte of the database file a writer holds in rollback-journal
    /// mode (RESERVED); in WAL mode writers lock the `-shm` instead.
    const RESERVED_BYTE: u64 = 0x4000_0000 + 1;

    /// Checks, from one read of the lock table, that this process still
    /// holds SQLite's shared lock on the file at `db`; and, in WAL mode,
    /// its lock on the `-shm` file now at that path (so that file is the
    /// one this process maps, and no other process can take itself for the
    /// first or the last connection).
    /// Reads no descriptor and opens nothing.
    pub(super) fn check_locks(db: &Path) -> Result<(), String> {
        let Some(held) = held_locks() else {
            return Ok(());
        };
        let Ok(db_ino) = std::fs::metadata(db).map(|m| m.ino()) else {
            return Err(format!("{} is no longer at its path", db.display()));
        };
        if !covers(&held, db_ino, SHARED_FIRST) {
            return Err(format!(
                "this process no longer holds SQLite's lock on {} (another program replaced \
                 the file, or code in this process opened and closed it, which drops every \
                 lock the process has on it)",
                db.display()
            ));
        }
        if covers(&held, db_ino, RESERVED_BYTE) {
            return Ok(()); // rollback-journal mode: no WAL to check
        }
        let shm_path = super::sidecar(db, "-shm");
        let shm = shm_path.display();
        match std::fs::metadata(&shm_path) {
            Err(_) => {
                return Err(format!(
                    "the shared-memory index {shm} was deleted by another program"
                ));
            }
            Ok(m) if !covers(&held, m.ino(), SHM_DMS) => {
                return Err(format!(
                    "this process no longer holds SQLite's lock on {shm} (another program \
                     replaced it, or code in the process opened and closed it)"
                ));
            }
            Ok(_) => {}
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::path::Path;

    pub(super) fn holds_lock_on(_path: &Path) -> Option<bool> {
        None
    }

    pub(super) fn check_locks(_db: &Path) -> Result<(), String> {
        Ok(())
    }

    pub(super) fn locked_by_anyone(_path: &Path) -> Option<bool> {
        None
    }
}

/// A file that must not be opened by anything but SQLite while this process
/// has it open: a database, its `-wal`, `-shm` or `-journal`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{path} is {what} of the Countersign database {db}, which is open; Countersign does not read \
     or write it as a file (that would drop SQLite's locks and could lose committed data): choose \
     another file, or use `countersign db backup` for a copy"
)]
pub struct DatabaseFileError {
    pub path: String,
    pub db: String,
    pub what: &'static str,
}

/// Refuses `path` if it names a database file this process has open (by
/// name, for the database and its `-wal`, `-shm` and `-journal`, which may
/// not exist yet; and by inode, for another name of the same file). Call it
/// before opening any path a user or an input file chose: importers, save
/// dialogs, reports. Neither check opens the file.
pub fn check_not_database(path: &Path) -> Result<(), DatabaseFileError> {
    let all: Vec<&'static Watched> = WATCHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    let named = canonical_name(path);
    let identity = file_identity(path);
    for w in all {
        let kinds = std::iter::once(("", "the database file")).chain(SIDECARS);
        for (suffix, what) in kinds {
            let file = sidecar(&w.path, suffix);
            let same_name = named.as_ref() == Some(&file);
            let same_file = identity.is_some() && identity == file_identity(&file);
            if same_name || same_file {
                return Err(DatabaseFileError {
                    path: path.display().to_string(),
                    db: w.path.display().to_string(),
                    what,
                });
            }
        }
    }
    Ok(())
}

/// Whether some process (this one or another) holds a lock on the file at
/// `path`, as SQLite does on a database in use; `None` where the lock
/// table cannot be read.
pub fn locked_by_anyone(path: &Path) -> Option<bool> {
    sys::locked_by_anyone(path)
}

/// [`std::fs::read_to_string`] for a path a user or an input file chose,
/// refusing an open database's files first (the error names them).
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    check_not_database(path).map_err(std::io::Error::other)?;
    std::fs::read_to_string(path)
}

/// [`std::fs::write`] for a path a user chose, refusing an open database's
/// files first (writing one would truncate the database under SQLite), and
/// never leaving a half-written file: the contents go to a temporary file
/// beside `path`, are synced, and then renamed over it, so on any error
/// (a full disk, say) the old file, if any, is as it was.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write as _;
    check_not_database(path).map_err(std::io::Error::other)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut partial = tempfile::Builder::new()
        .prefix(".countersign-")
        .suffix(".partial")
        .tempfile_in(dir)?;
    partial.write_all(contents.as_ref())?;
    partial.as_file().sync_all()?;
    // The temporary file is 0600: keep a replaced file's permissions, and
    // give a new one the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let permissions = std::fs::metadata(path)
            .map(|m| m.permissions())
            .unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644));
        partial.as_file().set_permissions(permissions)?;
    }
    partial.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`std::fs::File::create`] for a path a user chose, with the same check.
pub fn create(path: &Path) -> std::io::Result<std::fs::File> {
    check_not_database(path).map_err(std::io::Error::other)?;
    std::fs::File::create(path)
}

/// The canonical form of `path` even when the file does not exist yet (a
/// save target): its directory made canonical, its name kept.
fn canonical_name(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

#[cfg(unix)]
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_open_database_and_its_sidecars_are_refused_by_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inv.db");
        let store = crate::Store::open(&db).await.unwrap();
        for name in ["inv.db", "inv.db-wal", "inv.db-shm", "inv.db-journal"] {
            let err = check_not_database(&dir.path().join(name)).unwrap_err();
            assert!(err.to_string().contains("inv.db"), "{err}");
        }
        // Another name for the same file.
        let link = dir.path().join("alias.db");
        std::fs::hard_link(&db, &link).unwrap();
        assert!(check_not_database(&link).is_err());
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(check_not_database(&sub.join("../inv.db")).is_err());
        // Other files are fine.
        assert!(check_not_database(&dir.path().join("inventory.yaml")).is_ok());
        store.close().await;
    }

    #[test]
    fn a_user_file_is_replaced_whole_or_not_at_all() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.yaml");
        write(&path, "first").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write(&path, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600,
            "a replaced file keeps its permissions"
        );
        // A failed write leaves nothing behind: here the target is a
        // directory, so the rename fails after the contents were written.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(write(&sub, "x").is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
    }

    #[tokio::test]
    async fn a_store_sees_its_own_locks() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inv.db");
        let store = crate::Store::open(&db).await.unwrap();
        if cfg!(target_os = "linux") {
            assert!(
                lock_checks_on(&db),
                "the lock table should show this process's lock"
            );
        }
        store.close().await;
    }
}
