//! IPC commands of the Approvals inbox, over the core's app layer
//! (`countersign::app::approvals`). The webview names requests by id; the
//! request itself always comes from what the backend sent, so a decision
//! signs exactly the backend's request.

use tauri::{AppHandle, State};

use countersign::app::approvals::{DecideInput, GroupsSaved, InboxView, SignCheck};
use countersign::approval::RequestView;
use countersign::client::DeliveryReport;
use countersign::store::DecisionRow;

use crate::{AppState, CommandError, inbox};

#[tauri::command]
pub async fn inbox(state: State<'_, AppState>) -> Result<InboxView, CommandError> {
    state.inbox().await
}

/// Polls the backend now (and delivers anything queued).
#[tauri::command]
pub async fn refresh_inbox(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<InboxView, CommandError> {
    inbox::poll_once(&app).await;
    state.inbox().await
}

#[tauri::command]
pub async fn request_view(
    state: State<'_, AppState>,
    id: String,
) -> Result<RequestView, CommandError> {
    state.request_view(&id).await
}

/// Signs and records a decision (durably, with its audit record and outbox
/// row), then tries to deliver it at once. The UI has already shown the
/// owner what they are signing and asked them to confirm.
#[tauri::command]
pub async fn decide_request(
    app: AppHandle,
    state: State<'_, AppState>,
    decision: DecideInput,
) -> Result<DecisionRow, CommandError> {
    let recorded = state.decide(decision).await?;
    // Deliver now; if the backend is down the poller keeps retrying.
    inbox::poll_once(&app).await;
    Ok(state
        .store()?
        .decisions(Some(&recorded.request_id))
        .await?
        .into_iter()
        .find(|d| d.jti == recorded.jti)
        .unwrap_or(recorded))
}

/// Every decision signed here, newest first, with its delivery state.
#[tauri::command]
pub async fn my_decisions(state: State<'_, AppState>) -> Result<Vec<DecisionRow>, CommandError> {
    Ok(state.store()?.decisions(None).await?)
}

/// Makes every queued decision due now and tries to deliver it.
#[tauri::command]
pub async fn retry_deliveries(state: State<'_, AppState>) -> Result<DeliveryReport, CommandError> {
    state.retry_deliveries().await
}

/// Connects to a backend (token to the OS keyring, key enrolled).
#[tauri::command]
pub async fn connect_backend(
    state: State<'_, AppState>,
    url: String,
    token: String,
) -> Result<InboxView, CommandError> {
    state.connect_backend(&url, &token).await?;
    state.inbox().await
}

/// Disconnects from the backend (its token forgotten); the inbox after.
#[tauri::command]
pub async fn disconnect_backend(state: State<'_, AppState>) -> Result<InboxView, CommandError> {
    state.disconnect_backend().await?;
    state.inbox().await
}

/// Creates the owner's signing key (private half in the OS keyring) and
/// enrolls it with the backend, if one is configured.
#[tauri::command]
pub async fn create_signing_key(state: State<'_, AppState>) -> Result<InboxView, CommandError> {
    state.create_signing_key().await?;
    state.inbox().await
}

/// Whether the owner can sign request `id` now (asked of the backend
/// before the Sign button is enabled).
#[tauri::command]
pub async fn sign_check(state: State<'_, AppState>, id: String) -> Result<SignCheck, CommandError> {
    state.sign_check(&id).await
}

/// Enrolls the signing keys and groups with the connected backend again.
#[tauri::command]
pub async fn enroll_keys(state: State<'_, AppState>) -> Result<InboxView, CommandError> {
    state.enroll_if_connected().await?;
    state.inbox().await
}

/// Sets the approver groups (local mode) and enrolls them with the
/// connected backend.
#[tauri::command]
pub async fn set_approver_groups(
    state: State<'_, AppState>,
    groups: Vec<String>,
) -> Result<GroupsSaved, CommandError> {
    if groups.len() > 1000 {
        return Err(countersign::app::AppError::InvalidInput {
            field: "approver_groups",
            reason: "too many groups".into(),
        });
    }
    state.set_approver_groups(&groups).await
}
