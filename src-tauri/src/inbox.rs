//! The Approvals inbox: a background task polls the backend for requests
//! awaiting a decision (cheaply, with the listing's ETag), delivers any
//! queued decisions (so the app catches up after being offline), and tells
//! the owner: the count in the window title and the tray, a native
//! notification for each new request. The webview reads the cached state.

use std::collections::HashSet;
use std::time::Duration;

use countersign::Store;
use countersign::app::inbox::{self as app_inbox, Received};
use countersign::client::{self, Listing};
use tauri::{AppHandle, Manager};
use tokio::sync::{Mutex, Notify};

use crate::AppState;

/// How often the backend is asked; an ETag makes an unchanged answer tiny.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// What the last poll found.
#[derive(Default)]
pub struct Inbox {
    pub backend: Option<String>,
    pub requests: Vec<Received>,
    etag: Option<String>,
    pub error: Option<String>,
    pub last_poll: Option<jiff::Timestamp>,
    notified: HashSet<String>,
}

/// The poller's state and its doorbell (rung to poll now).
#[derive(Default)]
pub struct InboxState {
    pub inbox: Mutex<Inbox>,
    pub wake: Notify,
    /// `--backend URL` / `COUNTERSIGN_BACKEND`, over the stored setting.
    pub backend_override: Option<String>,
    /// While a drill runs here, its backend (with its token, which is in
    /// memory only) takes the inbox's place.
    pub drill: std::sync::Mutex<Option<client::BackendClient>>,
}

impl InboxState {
    pub fn new(backend_override: Option<String>) -> Self {
        InboxState {
            backend_override: backend_override.map(|u| client::normalise(&u)),
            ..Default::default()
        }
    }

    pub async fn backend_url(&self, store: &Store) -> Option<String> {
        if let Some(drill) = self.drill.lock().expect("drill lock").as_ref() {
            return Some(drill.url().to_owned());
        }
        match &self.backend_override {
            Some(url) => Some(url.clone()),
            None => store.backend_url().await.ok().flatten(),
        }
    }

    /// A client for `url`: the running drill's, else one with the token
    /// from the environment or the keyring.
    pub async fn client(&self, url: &str) -> Result<client::BackendClient, client::ClientError> {
        let drill = self
            .drill
            .lock()
            .expect("drill lock")
            .clone()
            .filter(|c| c.url() == url);
        match drill {
            Some(c) => Ok(c),
            None => client::connect(url).await,
        }
    }

    /// The request exactly as the backend sent it (decisions sign its digest).
    pub async fn request(&self, id: &str) -> Option<serde_json::Value> {
        self.inbox
            .lock()
            .await
            .requests
            .iter()
            .find(|r| r.id() == id)
            .map(|r| r.raw().clone())
    }
}

/// Runs for the life of the app.
pub async fn run(app: AppHandle) {
    loop {
        poll_once(&app).await;
        let state = app.state::<AppState>();
        let _ = tokio::time::timeout(POLL_INTERVAL, state.inbox.wake.notified()).await;
    }
}

/// One round: deliver what is queued, then fetch what awaits a decision.
pub async fn poll_once(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Ok(store) = state.store() else { return };
    let Some(url) = state.inbox.backend_url(store).await else {
        let mut inbox = state.inbox.inbox.lock().await;
        inbox.backend = None;
        return;
    };
    let result = async {
        let client = state.inbox.client(&url).await?;
        if let Err(e) = client::deliver_due(store, &client).await {
            eprintln!("warning: delivering queued decisions failed: {e}");
        }
        let etag = {
            let inbox = state.inbox.inbox.lock().await;
            (inbox.backend.as_deref() == Some(url.as_str()))
                .then(|| inbox.etag.clone())
                .flatten()
        };
        client.pending_requests(etag.as_deref()).await
    }
    .await;
    let mut new = Vec::new();
    {
        let mut inbox = state.inbox.inbox.lock().await;
        if inbox.backend.as_deref() != Some(url.as_str()) {
            *inbox = Inbox {
                backend: Some(url.clone()),
                ..Default::default()
            };
        }
        inbox.last_poll = Some(jiff::Timestamp::now());
        match result {
            Ok(Listing::Changed { requests, etag, .. }) => {
                // A request without an id cannot be decided or named.
                let requests: Vec<Received> = requests
                    .into_iter()
                    .filter_map(Received::from_json)
                    .collect();
                for r in &requests {
                    if inbox.notified.insert(r.id().to_owned()) {
                        new.push(r.raw().clone());
                    }
                }
                inbox.requests = requests;
                inbox.etag = etag;
                inbox.error = None;
            }
            Ok(Listing::NotModified) => inbox.error = None,
            Err(e) => inbox.error = Some(e.to_string()),
        }
    }
    let awaiting = awaiting_you(app).await;
    show_count(app, awaiting);
    crate::watch::tell(app, crate::watch::Change::Inbox);
    for request in new {
        notify(&request).await;
    }
}

/// Requests in the inbox that you have not decided yet.
pub async fn awaiting_you(app: &AppHandle) -> usize {
    let state = app.state::<AppState>();
    let Ok(store) = state.store() else { return 0 };
    let decisions = store.decisions(None).await.unwrap_or_default();
    app_inbox::awaiting(&state.inbox.inbox.lock().await.requests, &decisions)
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

async fn notify(request: &serde_json::Value) {
    let text = |path: &[&str]| {
        let mut v = request;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or("?").to_owned()
    };
    let title = format!(
        "Approval needed: {} on {}",
        text(&["action"]).replace('_', " "),
        request["target"]["display_name"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text(&["target", "external_id"]))
    );
    let body = format!(
        "{} severity · {} · requested by {}",
        text(&["severity"]),
        text(&["evidence", "signal"]).replace('_', " "),
        text(&["requested_by", "id"])
    );
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
