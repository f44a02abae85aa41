//! The Approvals inbox's poller: a background task runs the core's poll
//! (queued decisions delivered, pending requests fetched with the
//! listing's ETag) and tells the owner: the count in the window title and
//! the tray, a native notification for each new request, an event to the
//! window.

use std::time::Duration;

use tauri::{AppHandle, Manager};

use crate::AppState;

/// How often the backend is asked; an ETag makes an unchanged answer tiny.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Runs for the life of the app.
pub async fn run(app: AppHandle) {
    loop {
        poll_once(&app).await;
        let state = app.state::<AppState>();
        let _ = tokio::time::timeout(POLL_INTERVAL, state.approvals.wake.notified()).await;
    }
}

/// One round (the core's `Workspace::poll`), then tells the owner: the
/// count, the window, a notification per new request.
pub async fn poll_once(app: &AppHandle) {
    let polled = app.state::<AppState>().poll().await;
    show_count(app, polled.awaiting);
    crate::watch::tell(app, crate::watch::Change::Inbox);
    for request in polled.new {
        notify(&request).await;
    }
}

/// The pending count in the window title and the tray.
pub fn show_count(app: &AppHandle, awaiting: usize) {
    let title = match awaiting {
        0 => "Countersign".to_owned(),
        1 => "Countersign — 1 request awaiting your decision".to_owned(),
        n => format!("Countersign — {n} requests awaiting your decision"),
    };
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&title);
    }
    if let Some(tray) = app.tray_by_id(crate::tray::TRAY_ID) {
        let _ = tray.set_tooltip(Some(&title));
        let _ = tray.set_title(Some(if awaiting == 0 {
            String::new()
        } else {
            awaiting.to_string()
        }));
    }
}

async fn notify(request: &countersign::app::inbox::Received) {
    let (title, body) = request.announcement();
    // The D-Bus call blocks and runs its own runtime, so it gets a thread
    // outside ours; a missing notification daemon must not stop the inbox.
    let (done, shown) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = notify_rust::Notification::new()
            .appname("Countersign")
            .summary(&title)
            .body(&body)
            .show()
            .map(drop);
        let _ = done.send(result);
    });
    if let Ok(Err(e)) = shown.await {
        eprintln!("note: no desktop notification ({e})");
    }
}
