//! A consistent copy of a SQLite inventory while it is in use.
//!
//! Copying `countersign.db` with `cp` (or a backup tool, or a sync client)
//! while the app runs gives a file without what is still in the WAL, and
//! in-process copying would drop SQLite's locks (see [`super::guard`]).
//! SQLite's `VACUUM INTO` writes a transactionally consistent snapshot into
//! a new, self-contained file (rollback-journal mode, no `-wal` beside it)
//! through SQLite itself (<https://sqlite.org/lang_vacuum.html#vacuuminto>).
//! The copy is written beside the target under a temporary name, checked
//! (SQLite's integrity check and the audit chain), synced, and only then
//! renamed over the target, so a failed backup never leaves a partial file
//! under the name the user gave.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Engine, InventoryCounts, Store, StoreError, guard};

/// What `backup_to` wrote and checked.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The backup file, as given.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    pub counts: InventoryCounts,
    pub decisions: u64,
    /// Audit entries in the copy; its chain verified up to `audit_head`.
    pub audit_rows: u64,
    pub audit_head: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{db} is a PostgreSQL database: back it up with the server's tools (pg_dump), or copy it into a SQLite file with `countersign migrate --to FILE`"
    )]
    NotSqlite { db: String },
    #[error("{0} already exists; choose another name (or pass --force to replace it)")]
    Exists(String),
    #[error("cannot back up to {path}: {problem}")]
    Target { path: String, problem: String },
    #[error("cannot write the backup {path}: {message}")]
    Io { path: String, message: String },
    #[error("the backup {path} did not check out ({problem}); it was not kept")]
    Check { path: String, problem: String },
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `target`.
    /// `replace` allows overwriting an existing file (the app's save dialog
    /// has already asked); the database's own files are always refused.
    pub async fn backup_to(
        &self,
        target: &Path,
        replace: bool,
    ) -> Result<BackupReport, BackupError> {
        if self.engine != Engine::Sqlite {
            return Err(BackupError::NotSqlite {
                db: self.location.clone(),
            });
        }
        let shown = target.display().to_string();
        check_target(target, &shown, replace)?;
        let io = |e: std::io::Error| BackupError::Io {
            path: shown.clone(),
            message: e.to_string(),
        };
        let partial = partial_name(target);
        remove_if_present(&partial).map_err(io)?;
        let written = self.write_and_check(&partial, &shown).await;
        let report = match written {
            Ok(r) => r,
            Err(e) => {
                let _ = remove_if_present(&partial);
                return Err(e);
            }
        };
        // Whatever an old database at this name left beside it goes first,
        // so the copy is never read through it (check_target saw that no
        // one has it open).
        for stale in sidecars(target) {
            remove_if_present(&stale).map_err(io)?;
        }
        std::fs::rename(&partial, target).map_err(|e| {
            let _ = remove_if_present(&partial);
            io(e)
        })?;
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself made durable; best effort where directories
            // cannot be opened.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(BackupReport {
            path: shown,
            ..report
        })
    }

    async fn write_and_check(
        &self,
        partial: &Path,
        shown: &str,
    ) -> Result<BackupReport, BackupError> {
        let check = |problem: String| BackupError::Check {
            path: shown.to_owned(),
            problem,
        };
        let into = partial.to_str().ok_or_else(|| BackupError::Io {
            path: shown.to_owned(),
            message: "the path is not valid UTF-8".into(),
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(into)
            .execute(&self.pool().await)
            .await
            .map_err(|e| BackupError::Io {
                path: shown.to_owned(),
                message: vacuum_failure(&e),
            })?;
        // VACUUM INTO does not sync what it wrote.
        std::fs::File::open(partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| BackupError::Io {
                path: shown.to_owned(),
                message: e.to_string(),
            })?;
        let copy = Store::open_snapshot(partial).await?;
        let result = async {
            let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&copy.pool().await)
                .await
                .map_err(|e| copy.query_error(e))?;
            if integrity != "ok" {
                return Err(check(integrity));
            }
            let verified = copy
                .verify_audit()
                .await?
                .map_err(|broken| check(format!("its audit trail: {broken}")))?;
            let decisions: i64 = sqlx::query_scalar("SELECT count(*) FROM decisions")
                .fetch_one(&copy.pool().await)
                .await
                .map_err(|e| copy.query_error(e))?;
            Ok(BackupReport {
                path: shown.to_owned(),
                bytes: std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0),
                counts: copy.counts().await?,
                decisions: decisions as u64,
                audit_rows: verified.rows,
                audit_head: verified.head,
            })
        }
        .await;
        copy.close().await;
        result
    }
}

/// Refuses a target the backup must not be written over: the open
/// database or its files, a directory, a missing directory, an existing
/// file unless `replace`, and (even with `replace`) a database another
/// program has open: the copy would be pulled in under its users.
fn check_target(target: &Path, shown: &str, replace: bool) -> Result<(), BackupError> {
    let refuse = |problem: String| {
        Err(BackupError::Target {
            path: shown.to_owned(),
            problem,
        })
    };
    if let Err(e) = guard::check_not_database(target) {
        return refuse(format!(
            "it is {} of the database being backed up; choose another name",
            e.what
        ));
    }
    if target.is_dir() {
        return refuse(format!(
            "it is a directory; name a file in it, such as {}",
            target.join("countersign-backup.db").display()
        ));
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return refuse(format!("directory {} does not exist", dir.display()));
    }
    // The files SQLite keeps beside a database (Countersign's own keep
    // their -wal and -shm for good, see guard). They belong to whatever is
    // at the target's name: in use, they must not be touched; otherwise
    // they go with the file being replaced, or the copy would be read
    // through an old WAL.
    let beside = sidecars(target);
    let present: Vec<&PathBuf> = beside.iter().filter(|p| p.exists()).collect();
    let mut cannot_tell = false;
    for file in std::iter::once(target).chain(beside.iter().map(PathBuf::as_path)) {
        if !file.exists() {
            continue;
        }
        match guard::locked_by_anyone(file) {
            Some(true) => return refuse("another program has it open".into()),
            Some(false) => {}
            None => cannot_tell = true,
        }
    }
    if cannot_tell && let Some(first) = present.first() {
        return refuse(format!(
            "{} is beside it and this system cannot tell whether the database is in use; \
             choose another name",
            first.display()
        ));
    }
    if target.exists() && !replace {
        return Err(BackupError::Exists(shown.to_owned()));
    }
    Ok(())
}

/// The `-wal`, `-shm` and `-journal` names beside `target`.
fn sidecars(target: &Path) -> [PathBuf; 3] {
    guard::SIDECARS.map(|(suffix, _)| guard::sidecar(target, suffix))
}

/// What went wrong writing the copy, in terms of the backup file (SQLite
/// names the temporary file it was writing).
fn vacuum_failure(e: &sqlx::Error) -> String {
    match e.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("13") => "the disk is full".into(),
        Some("14") => "cannot create a file in that directory".into(),
        Some("8") => "the directory is read-only".into(),
        _ => e
            .as_database_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| e.to_string()),
    }
}

/// `.NAME.partial` beside `target`.
fn partial_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "countersign-backup.db".into());
    target.with_file_name(format!(".{name}.partial"))
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
