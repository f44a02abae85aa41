//! Which database the app opens: the local file, or a team PostgreSQL
//! chosen here (saved in the user's settings file, its password in the OS
//! keyring). The switch takes effect when the app starts again, so no
//! window ever shows a mix of two inventories.

use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::{DialogExt, FilePath};

use countersign::signing::OsKeyring;
use countersign::store::config::{self, Source};
use countersign::store::{Engine, Store};

use crate::{AppState, CommandError};

#[derive(Serialize)]
pub struct DatabaseSettings {
    /// What is open now.
    pub location: String,
    pub engine: Option<Engine>,
    pub source: Option<Source>,
    /// What the settings file names for the next start (no password).
    pub configured: Option<String>,
    pub settings_file: Option<String>,
}

fn settings(state: &AppState) -> DatabaseSettings {
    DatabaseSettings {
        location: state.location().to_owned(),
        engine: state.store().ok().map(Store::engine),
        source: state.source(),
        configured: config::read_config().ok().and_then(|c| c.database),
        settings_file: config::config_path().ok().map(|p| p.display().to_string()),
    }
}

#[tauri::command]
pub async fn database_settings(
    state: State<'_, AppState>,
) -> Result<DatabaseSettings, CommandError> {
    Ok(settings(&state))
}

/// Checks that `url` opens (with `password`, if given), then saves it as
/// the database to open from the next start; `None` goes back to the
/// local file.
#[tauri::command]
pub async fn use_database(
    state: State<'_, AppState>,
    url: Option<String>,
    password: Option<String>,
) -> Result<DatabaseSettings, CommandError> {
    let url = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    if url.as_ref().is_some_and(|u| u.len() > 2000) {
        return Err(CommandError::InvalidInput {
            field: "database",
            reason: "the URL is longer than 2000 characters".into(),
        });
    }
    let password = password
        .filter(|p| !p.is_empty())
        .map(zeroize::Zeroizing::new);
    config::choose_database(url.as_deref(), password, std::sync::Arc::new(OsKeyring)).await?;
    Ok(settings(&state))
}

/// Asks where to save (the portal's dialog, which asks before replacing a
/// file) and writes a consistent, checked copy of the local database there
/// (`Store::backup_to`); `None` if the user cancelled.
#[tauri::command]
pub async fn backup_database(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<countersign::store::BackupReport>, CommandError> {
    let store = state.store()?;
    crate::dialogs::ensure_available().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d");
    app.dialog()
        .file()
        .set_title("Back up the database")
        .set_file_name(format!("countersign-backup-{today}.db"))
        .add_filter("SQLite database", &["db", "sqlite"])
        .save_file(move |picked: Option<FilePath>| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    Ok(Some(store.backup_to(&path, true).await?))
}
