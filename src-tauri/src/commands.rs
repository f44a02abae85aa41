//! IPC commands: validate what the webview sent, call the core, return model
//! types. Anything that is not argument checking belongs in the core.

use serde::Serialize;
use tauri::State;

use countersign::model::{IdentityDetail, validate_id};
use countersign::store::{IdentitySummary, InventoryCounts, ServiceSummary};

use crate::{AppState, CommandError};

/// Longest search text accepted over IPC; a search box never needs more.
const MAX_SEARCH_LEN: usize = 200;

#[derive(Debug, Serialize)]
pub struct AppStatus {
    pub db_path: String,
    pub startup_error: Option<String>,
    pub counts: Option<InventoryCounts>,
}

fn check_search(search: Option<String>) -> Result<Option<String>, CommandError> {
    match search {
        Some(s) if s.chars().count() > MAX_SEARCH_LEN => Err(CommandError::InvalidInput {
            field: "search",
            reason: format!("longer than {MAX_SEARCH_LEN} characters"),
        }),
        other => Ok(other),
    }
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, CommandError> {
    let counts = match state.store() {
        Ok(store) => Some(store.counts().await?),
        Err(_) => None,
    };
    Ok(AppStatus {
        db_path: state.db_path().to_owned(),
        startup_error: state.startup_error().map(str::to_owned),
        counts,
    })
}

#[tauri::command]
pub async fn list_identities(
    state: State<'_, AppState>,
    search: Option<String>,
) -> Result<Vec<IdentitySummary>, CommandError> {
    let search = check_search(search)?;
    Ok(state.store()?.list_identities(search.as_deref()).await?)
}

#[tauri::command]
pub async fn identity_detail(
    state: State<'_, AppState>,
    id: String,
) -> Result<IdentityDetail, CommandError> {
    validate_id(&id).map_err(|reason| CommandError::InvalidInput {
        field: "id",
        reason,
    })?;
    Ok(state.store()?.identity_detail(&id).await?)
}

#[tauri::command]
pub async fn list_services(
    state: State<'_, AppState>,
    search: Option<String>,
) -> Result<Vec<ServiceSummary>, CommandError> {
    let search = check_search(search)?;
    Ok(state.store()?.list_services(search.as_deref()).await?)
}

/// Loads the demo inventory, but only into an empty database: the button
/// is an onboarding aid and must never overwrite an owner's edits.
#[tauri::command]
pub async fn load_demo(state: State<'_, AppState>) -> Result<InventoryCounts, CommandError> {
    let store = state.store()?;
    countersign::demo::load(store, true).await?;
    Ok(store.counts().await?)
}
