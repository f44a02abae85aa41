//! IPC commands of the Approvals inbox. The webview names requests by id;
//! the request itself always comes from what the backend sent (the inbox
//! cache), so a decision signs exactly the backend's request.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use countersign::approval::{self, Decision, DecisionInput, Narrowing, RequestView};
use countersign::client::{self, DeliveryReport};
use countersign::model::ContainmentAction;
use countersign::signing::{KeyInfo, KeyStatus, Keys, OsKeyring};
use countersign::store::{BACKEND_URL_KEY, DecisionRow};

use crate::commands::app_context;
use crate::{AppState, CommandError, inbox};
use countersign::app::inbox::{self as app_inbox, InboxItem};

/// Decided requests listed under the pending ones.
const MAX_DECIDED_SHOWN: usize = 50;

/// Longest reason accepted; a reason is a sentence or two, not a document.
const MAX_REASON: usize = 2000;

fn check_request_id(id: &str) -> Result<(), CommandError> {
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(CommandError::InvalidInput {
            field: "request",
            reason: "not a request id".into(),
        });
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct InboxView {
    pub backend: Option<String>,
    /// The drill running here, whose backend the inbox shows meanwhile.
    pub drill: Option<String>,
    pub error: Option<String>,
    pub last_poll: Option<String>,
    pub items: Vec<InboxItem>,
    pub awaiting: usize,
    /// Decisions signed here and not yet delivered.
    pub queued: i64,
    pub signing_key: Option<KeyInfo>,
    pub approver: String,
}

async fn inbox_view(state: &AppState) -> Result<InboxView, CommandError> {
    let store = state.store()?;
    let decisions = store.decisions(None).await?;
    let (backend, error, last_poll, requests) = {
        let inbox = state.inbox.inbox.lock().await;
        (
            inbox.backend.clone(),
            inbox.error.clone(),
            inbox.last_poll.map(|t| t.to_string()),
            inbox.requests.clone(),
        )
    };
    let items = app_inbox::items(&requests, &decisions, MAX_DECIDED_SHOWN);
    let keys = Keys::new(store, Arc::new(OsKeyring));
    Ok(InboxView {
        backend: backend.or(state.inbox.backend_url(store).await),
        drill: state.drills.running_scenario(),
        error,
        last_poll,
        awaiting: app_inbox::awaiting(&requests, &decisions),
        items,
        queued: store.undelivered(None).await?,
        signing_key: keys
            .list()
            .await?
            .into_iter()
            .find(|k| k.status == KeyStatus::Active),
        approver: app_context().actor,
    })
}

#[tauri::command]
pub async fn inbox(state: State<'_, AppState>) -> Result<InboxView, CommandError> {
    inbox_view(&state).await
}

/// Polls the backend now (and delivers anything queued).
#[tauri::command]
pub async fn refresh_inbox(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<InboxView, CommandError> {
    inbox::poll_once(&app).await;
    inbox_view(&state).await
}

#[tauri::command]
pub async fn request_view(
    state: State<'_, AppState>,
    id: String,
) -> Result<RequestView, CommandError> {
    check_request_id(&id)?;
    let store = state.store()?;
    let request = match state.inbox.request(&id).await {
        Some(r) => r,
        // Decided earlier and no longer offered: show it as it was decided.
        None => store
            .decisions(Some(&id))
            .await?
            .first()
            .and_then(|d| serde_json::from_str(&d.request_json).ok())
            .ok_or_else(|| CommandError::RequestGone(id.clone()))?,
    };
    let (version, graph) = state.graphs.get_with_version(store).await?;
    Ok(approval::request_view(store, (&graph, version), &request, &app_context().actor).await?)
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
    Narrow,
}

/// What the owner decided, as the webview sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecideInput {
    id: String,
    verdict: Verdict,
    /// With `narrow`: the narrower action approved instead.
    action: Option<ContainmentAction>,
    /// With `narrow`: approved only until this time (RFC 3339).
    until: Option<String>,
    reason: String,
    /// The `inventory_version` of the request view the owner saw.
    inventory_version: Option<String>,
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
    let DecideInput {
        id,
        verdict,
        action,
        until,
        reason,
        inventory_version,
    } = decision;
    check_request_id(&id)?;
    if reason.trim().is_empty() || reason.len() > MAX_REASON {
        return Err(CommandError::InvalidInput {
            field: "reason",
            reason: format!("give a reason of 1 to {MAX_REASON} characters"),
        });
    }
    let until = until
        .filter(|u| !u.trim().is_empty())
        .map(|u| {
            u.parse::<jiff::Timestamp>()
                .map_err(|e| CommandError::InvalidInput {
                    field: "until",
                    reason: e.to_string(),
                })
        })
        .transpose()?;
    let decision = match (verdict, action) {
        (Verdict::Approve, _) => Decision::Approve,
        (Verdict::Deny, _) => Decision::Deny,
        (Verdict::Narrow, Some(action)) => Decision::ApproveNarrowed(Narrowing {
            action: Some(action),
            scope: Vec::new(),
            until,
        }),
        (Verdict::Narrow, None) => {
            return Err(CommandError::InvalidInput {
                field: "action",
                reason: "choose the narrower action to approve".into(),
            });
        }
    };
    let store = state.store()?;
    let backend = state
        .inbox
        .backend_url(store)
        .await
        .ok_or(CommandError::NoBackend)?;
    let request = state
        .inbox
        .request(&id)
        .await
        .ok_or_else(|| CommandError::RequestGone(id.clone()))?;
    let keys = Keys::new(store, Arc::new(OsKeyring));
    let recorded = approval::decide(
        store,
        &keys,
        DecisionInput {
            request: &request,
            decision,
            reason: &reason,
            audience: &backend,
            destination: Some(&backend),
            inventory_version: inventory_version.as_deref(),
        },
        &app_context(),
    )
    .await?;
    // Deliver now; if the backend is down the poller keeps retrying.
    inbox::poll_once(&app).await;
    store
        .decisions(Some(&id))
        .await?
        .into_iter()
        .find(|d| d.jti == recorded.claims.jti)
        .ok_or_else(|| CommandError::RequestGone(id))
}

/// Every decision signed here, newest first, with its delivery state.
#[tauri::command]
pub async fn my_decisions(state: State<'_, AppState>) -> Result<Vec<DecisionRow>, CommandError> {
    Ok(state.store()?.decisions(None).await?)
}

/// Makes every queued decision due now and tries to deliver it.
#[tauri::command]
pub async fn retry_deliveries(state: State<'_, AppState>) -> Result<DeliveryReport, CommandError> {
    let store = state.store()?;
    store.retry_deliveries_now().await?;
    let backend = state
        .inbox
        .backend_url(store)
        .await
        .ok_or(CommandError::NoBackend)?;
    let client = state.inbox.client(&backend).await?;
    Ok(client::deliver_due(store, &client).await?)
}

/// Connects to a backend: keeps its bearer token in the OS keyring, makes
/// it the default backend, and enrolls the signing key if there is one.
#[tauri::command]
pub async fn connect_backend(
    state: State<'_, AppState>,
    url: String,
    token: String,
) -> Result<InboxView, CommandError> {
    let url = client::normalise(&url);
    if url.len() > 2000 || token.trim().is_empty() || token.len() > 4096 {
        return Err(CommandError::InvalidInput {
            field: "backend",
            reason: "give the backend's URL and the token it issued".into(),
        });
    }
    // Validates the URL before anything is stored.
    client::BackendClient::new(&url, Default::default())?;
    let store = state.store()?;
    let (u, t) = (url.clone(), zeroize::Zeroizing::new(token));
    tokio::task::spawn_blocking(move || client::store_token(&u, &t, &OsKeyring))
        .await
        .map_err(|e| CommandError::InvalidInput {
            field: "token",
            reason: e.to_string(),
        })??;
    store
        .set_setting(BACKEND_URL_KEY, &url, &app_context())
        .await?;
    enroll(store, &url).await?;
    state.inbox.wake.notify_one();
    inbox_view(&state).await
}

async fn enroll(store: &countersign::Store, url: &str) -> Result<(), CommandError> {
    let client = client::connect(url).await?;
    client::enroll_keys(store, &client, &app_context().actor).await?;
    Ok(())
}

/// Creates the owner's signing key (private half in the OS keyring) and
/// enrolls it with the backend, if one is configured.
#[tauri::command]
pub async fn create_signing_key(state: State<'_, AppState>) -> Result<InboxView, CommandError> {
    let store = state.store()?;
    Keys::new(store, Arc::new(OsKeyring))
        .init(&app_context())
        .await?;
    if let Some(url) = state.inbox.backend_url(store).await {
        enroll(store, &url).await?;
    }
    inbox_view(&state).await
}
