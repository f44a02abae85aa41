//! The Drills tab's IPC commands over the core's drills
//! (`countersign::app::drills`): a shipped scenario runs here against the
//! reference backend on loopback, its injects answered in Approvals; the
//! window is told of every event over the watch channel.

use tauri::{AppHandle, Manager, State};

use countersign::app::drills::{ExampleInfo, Session};

use crate::watch::{Change, tell};
use crate::{AppState, CommandError};

/// The shipped scenarios, checked against the inventory in the store.
#[tauri::command]
pub async fn drill_examples(state: State<'_, AppState>) -> Result<Vec<ExampleInfo>, CommandError> {
    state.drill_examples().await
}

/// Starts a drill and runs it on a background task.
#[tauri::command]
pub async fn start_drill(
    app: AppHandle,
    state: State<'_, AppState>,
    example: String,
    speed: f64,
    scripted: bool,
) -> Result<Session, CommandError> {
    let (session, run) = state.start_drill(&example, speed, scripted).await?;
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        state.run_drill(run, |_| tell(&app, Change::Drill)).await;
        tell(&app, Change::Drill);
    });
    Ok(session)
}

/// The drill running (or last run) here, if any.
#[tauri::command]
pub async fn drill_status(state: State<'_, AppState>) -> Result<Option<Session>, CommandError> {
    Ok(state.drills.current())
}

/// Ends the drill early; the report covers what happened until now.
#[tauri::command]
pub async fn stop_drill(state: State<'_, AppState>) -> Result<Option<Session>, CommandError> {
    Ok(state.drills.stop())
}

/// The blast radius of everything approved in the drill so far, contained
/// together (the explorer's binary columns); `null` when nothing is.
#[tauri::command]
pub async fn drill_explore(
    state: State<'_, AppState>,
) -> Result<tauri::ipc::Response, CommandError> {
    match state.drill_explore().await? {
        Some(explorer) => crate::commands::explorer_response(&explorer),
        None => Ok(tauri::ipc::Response::new(b"null".to_vec())),
    }
}

/// Saves the finished drill's report (HTML or Markdown) where the user
/// chooses; `None` if they cancelled.
#[tauri::command]
pub async fn save_drill_report(
    app: AppHandle,
    state: State<'_, AppState>,
    format: String,
) -> Result<Option<String>, CommandError> {
    let (name, extension, text) = state.drill_report(&format)?;
    crate::commands::save_with_dialog(&app, &name, extension, text.into_bytes()).await
}
