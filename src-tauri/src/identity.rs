//! IPC commands of sign-in with the organisation's identity provider,
//! over the core's app layer (`countersign::app::identity`). The browser
//! step happens in the system browser, never in the webview (RFC 8252
//! §8.12: no embedded user-agent sees the person's password); the webview
//! only shows the address in case no browser opened.

use tauri::State;
use tauri::ipc::Channel;

use countersign::app::identity::{SignInProgress, WhoAmI, open_browser};

use crate::{AppState, CommandError};

/// The longest issuer URL accepted from the window.
const MAX_ISSUER_BYTES: usize = 2048;

#[tauri::command]
pub async fn who_am_i(state: State<'_, AppState>) -> Result<WhoAmI, CommandError> {
    state.who().await
}

/// Signs in through the system browser; `progress` receives the sign-in
/// address as soon as it exists. `issuer`: the provider's issuer URL, or
/// `None` for the configured one. Then enrolls the signing keys (which the
/// sign-in was asked for) with the connected backend, if any.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    issuer: Option<String>,
    progress: Channel<SignInProgress>,
) -> Result<WhoAmI, CommandError> {
    let issuer = issuer
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty());
    if issuer.as_ref().is_some_and(|i| i.len() > MAX_ISSUER_BYTES) {
        return Err(CommandError::InvalidInput {
            field: "issuer",
            reason: format!("longer than {MAX_ISSUER_BYTES} bytes"),
        });
    }
    let config = state.provider_for(issuer.as_deref(), None, None).await?;
    state
        .sign_in(&config, |address| {
            let not_opened = open_browser(address).err();
            let _ = progress.send(SignInProgress {
                address: address.to_owned(),
                not_opened,
            });
        })
        .await?;
    state.enroll_if_connected().await?;
    state.who().await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<bool, CommandError> {
    state.sign_out().await
}
