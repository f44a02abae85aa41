//! Tells the webview what changed, instead of the webview asking on a
//! timer: the inventory (the audit trail's head moved — an edit here, the
//! CLI, or another owner in team mode) and the inbox (a poll of the
//! backend finished). The webview subscribes once with a Tauri channel,
//! which needs no event permission beyond the `watch` command itself.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::AppState;

/// How often the audit head is read: one indexed read of a setting.
const HEAD_INTERVAL: Duration = Duration::from_secs(1);

/// What changed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The inventory is at a new version (the audit head).
    Inventory { version: Option<String> },
    /// The inbox was refreshed from the backend.
    Inbox,
    /// The drill running here moved on (an event, or its end).
    Drill,
}

/// The webview's subscriptions.
#[derive(Default)]
pub struct Watchers(Mutex<Vec<Channel<Change>>>);

/// Subscribes the webview to changes (a window reloading subscribes again;
/// a channel that can no longer be reached is dropped on the next send).
#[tauri::command]
pub fn watch(state: State<'_, AppState>, channel: Channel<Change>) {
    state
        .watchers
        .0
        .lock()
        .expect("watchers lock")
        .push(channel);
}

/// Sends `change` to every subscriber.
pub fn tell(app: &AppHandle, change: Change) {
    let state = app.state::<AppState>();
    let mut watchers = state.watchers.0.lock().expect("watchers lock");
    watchers.retain(|c| c.send(change.clone()).is_ok());
}

/// Runs for the life of the app: tells the webview when the inventory's
/// version moves, whoever moved it.
pub async fn run(app: AppHandle) {
    let mut last = None;
    loop {
        let head = {
            let state = app.state::<AppState>();
            match state.store() {
                Ok(store) => store.audit_head().await.ok(),
                Err(_) => None,
            }
        };
        if let Some(head) = head
            && last.as_ref() != Some(&head)
        {
            if last.is_some() {
                tell(
                    &app,
                    Change::Inventory {
                        version: head.clone(),
                    },
                );
            }
            last = Some(head);
        }
        tokio::time::sleep(HEAD_INTERVAL).await;
    }
}
