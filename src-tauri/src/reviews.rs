//! IPC commands of the Reviews tab, over the core's app layer
//! (`countersign::app::reviews`): the person's queue and the campaigns'
//! progress, attesting (signed with the person's key from the OS
//! keyring), starting a campaign, and saving a campaign's export for an
//! auditor. Every argument is checked in the core before it is used.

use tauri::{AppHandle, State};

use countersign::app::reviews::{AttestInput, ReviewRecord, ReviewsView, StartInput};
use countersign::campaign::{Started, Status};
use countersign::store::CampaignItem;

use crate::{AppState, CommandError};

#[tauri::command]
pub async fn reviews(state: State<'_, AppState>) -> Result<ReviewsView, CommandError> {
    state.reviews().await
}

/// One campaign with every item, for its detail.
#[tauri::command]
pub async fn campaign_status(
    state: State<'_, AppState>,
    id: String,
) -> Result<Status, CommandError> {
    state.campaign_status(&id).await
}

/// The record to show before attesting, with the digest a signature
/// will be bound to.
#[tauri::command]
pub async fn review_record(
    state: State<'_, AppState>,
    identity: String,
) -> Result<ReviewRecord, CommandError> {
    state.review_record(&identity).await
}

/// Signs and records an attestation. The window has shown the record and
/// the answers before the person pressed Sign.
#[tauri::command]
pub async fn attest_identity(
    state: State<'_, AppState>,
    attestation: AttestInput,
) -> Result<CampaignItem, CommandError> {
    state.attest(attestation).await
}

#[tauri::command]
pub async fn start_campaign(
    state: State<'_, AppState>,
    campaign: StartInput,
) -> Result<Started, CommandError> {
    state.start_campaign(campaign).await
}

/// Closes a campaign, saying why.
#[tauri::command]
pub async fn close_campaign(
    state: State<'_, AppState>,
    id: String,
    reason: String,
) -> Result<countersign::store::Closed, CommandError> {
    state.close_campaign(&id, &reason).await
}

/// Saves the campaign's export (attestations, records, JWKS, signed
/// manifest) where the person chooses; `None` if they cancelled.
#[tauri::command]
pub async fn save_campaign_export(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<Option<String>, CommandError> {
    let text = state.campaign_export(&id).await?;
    crate::commands::save_with_dialog(
        &app,
        &format!("campaign-{id}.json"),
        "json",
        text.into_bytes(),
    )
    .await
}
