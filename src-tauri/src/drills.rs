//! The Drills tab: runs a shipped scenario in the app. The reference
//! backend starts on loopback with a token that never leaves memory, the
//! inbox switches to it (so injects arrive in Approvals like real
//! requests, and are answered there), the owner's key is enrolled, and the
//! core's runner drives the timeline. The webview polls the session.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use countersign::backend::{self, ServeConfig};
use countersign::client::{self, BackendClient};
use countersign::drill::{self, DrillReport, Event, RunOptions, render};
use countersign::model::ContainmentAction;

use crate::commands::app_context;
use crate::{AppState, CommandError};

/// Fastest speed offered: a one-hour scenario in six seconds.
const MAX_SPEED: f64 = 600.0;

/// The drill this app runs (at most one at a time).
#[derive(Default)]
pub struct Drills {
    session: Mutex<Option<Session>>,
}

#[derive(Clone, Serialize)]
pub struct Session {
    pub example: String,
    pub scenario: String,
    pub run_id: String,
    pub speed: f64,
    pub scripted: bool,
    pub backend: String,
    pub started_at: String,
    pub events: Vec<Event>,
    pub running: bool,
    pub report: Option<DrillReport>,
    pub error: Option<String>,
    #[serde(skip)]
    stop: Arc<AtomicBool>,
}

impl Session {
    /// Everything approved so far, with the action approved.
    fn approved(&self) -> Vec<(String, ContainmentAction)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Closed {
                    identity,
                    approved_action: Some(a),
                    ..
                } => Some((identity.clone(), *a)),
                _ => None,
            })
            .collect()
    }
}

impl Drills {
    fn update(&self, f: impl FnOnce(&mut Session)) {
        if let Some(s) = self.session.lock().expect("drill lock").as_mut() {
            f(s);
        }
    }

    /// The scenario of the drill running now, if one is.
    pub fn running_scenario(&self) -> Option<String> {
        self.session
            .lock()
            .expect("drill lock")
            .as_ref()
            .filter(|s| s.running)
            .map(|s| s.scenario.clone())
    }

    fn current(&self) -> Option<Session> {
        self.session.lock().expect("drill lock").clone()
    }
}

#[derive(Serialize)]
pub struct ExampleInfo {
    pub id: &'static str,
    pub name: String,
    pub description: String,
    pub injects: Vec<drill::run::Planned>,
    pub has_participants: bool,
    /// Why it cannot run against this inventory (an identity it names is
    /// missing, for instance).
    pub problem: Option<String>,
}

/// The shipped scenarios, checked against the inventory in the store.
#[tauri::command]
pub async fn drill_examples(state: State<'_, AppState>) -> Result<Vec<ExampleInfo>, CommandError> {
    let graph = state.graphs.get(state.store()?).await?;
    Ok(drill::EXAMPLES
        .iter()
        .map(|e| {
            let origin = format!("{}.yaml", e.id);
            match drill::parse(e.scenario, &origin, &graph) {
                Ok(s) => ExampleInfo {
                    id: e.id,
                    name: s.name,
                    description: s.description.trim().to_owned(),
                    injects: s.injects.iter().map(drill::run::Planned::from).collect(),
                    has_participants: e.participants.is_some(),
                    problem: None,
                },
                Err(err) => ExampleInfo {
                    id: e.id,
                    name: e.id.to_owned(),
                    description: String::new(),
                    injects: Vec::new(),
                    has_participants: e.participants.is_some(),
                    problem: Some(err.to_string()),
                },
            }
        })
        .collect())
}

/// Starts a drill: its backend, the inbox switched to it, the owner's key
/// enrolled, and the runner on a background task.
#[tauri::command]
pub async fn start_drill(
    app: AppHandle,
    state: State<'_, AppState>,
    example: String,
    speed: f64,
    scripted: bool,
) -> Result<Session, CommandError> {
    let invalid =
        |field: &'static str, reason: String| CommandError::InvalidInput { field, reason };
    let Some(e) = drill::example(&example) else {
        return Err(invalid("example", format!("no scenario {example:?}")));
    };
    if !(speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED) {
        return Err(invalid(
            "speed",
            format!("choose a speed above 0 and up to {MAX_SPEED}"),
        ));
    }
    if state.drills.current().is_some_and(|s| s.running) {
        return Err(invalid(
            "drill",
            "a drill is already running; stop it first".into(),
        ));
    }
    let store = state.store()?;
    let graph = state.graphs.get(store).await?;
    let scenario = drill::parse(e.scenario, &format!("{example}.yaml"), &graph)
        .map_err(|err| invalid("scenario", err.to_string()))?;
    let participants = match (scripted, e.participants) {
        (false, _) => None,
        (true, Some(text)) => Some(
            drill::parse_participants(text, &format!("{example}.participants.yaml"), &scenario)
                .map_err(|err| invalid("participants", err.to_string()))?,
        ),
        (true, None) => {
            return Err(invalid(
                "scripted",
                "this scenario ships no scripted participants".into(),
            ));
        }
    };
    let token = backend::new_token().map_err(|err| invalid("drill", err.to_string()))?;
    let running = backend::spawn(ServeConfig {
        listen: "127.0.0.1:0".into(),
        token: token.clone(),
        audience: None,
        dual_groups: backend::DEFAULT_DUAL_GROUPS.map(String::from).to_vec(),
        request_files: Vec::new(),
        // Narrowings are judged by the policy the owners use.
        policy: Some(
            store
                .approval_policy()
                .await
                .map_err(|err| invalid("policy", err.to_string()))?
                .1,
        ),
    })
    .await
    .map_err(|err| invalid("drill", err.to_string()))?;
    let client = BackendClient::new(&running.url(), token.into())?;
    // Without a key the owner can still watch; Approvals offers to make one.
    client::enroll_keys(store, &client, &app_context().actor).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let run_id = drill::new_run_id();
    let session = Session {
        example: example.clone(),
        scenario: scenario.name.clone(),
        run_id: run_id.clone(),
        speed,
        scripted,
        backend: client.url().to_owned(),
        started_at: jiff::Timestamp::now().to_string(),
        events: Vec::new(),
        running: true,
        report: None,
        error: None,
        stop: stop.clone(),
    };
    *state.drills.session.lock().expect("drill lock") = Some(session.clone());
    *state.inbox.drill.lock().expect("drill lock") = Some(client.clone());

    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let result = match state.store() {
            Ok(store) => {
                let options = RunOptions {
                    run_id,
                    speed,
                    stop: Some(stop),
                };
                let drills = &state.drills;
                let inbox = &state.inbox;
                drill::run(
                    store,
                    &scenario,
                    participants.as_ref(),
                    &client,
                    options,
                    |event| {
                        drills.update(|s| s.events.push(event.clone()));
                        crate::watch::tell(&app, crate::watch::Change::Drill);
                        if matches!(event, Event::Issued { .. }) {
                            // The inbox shows the new request at once.
                            inbox.wake.notify_one();
                        }
                    },
                )
                .await
                .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        // The backend stops with the run; the inbox goes back to the
        // owner's own backend.
        drop(running);
        *state.inbox.drill.lock().expect("drill lock") = None;
        state.drills.update(|s| {
            s.running = false;
            match result {
                Ok(report) => s.report = Some(report),
                Err(e) => s.error = Some(e),
            }
        });
        crate::watch::tell(&app, crate::watch::Change::Drill);
        state.inbox.wake.notify_one();
    });
    state.inbox.wake.notify_one();
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
    state
        .drills
        .update(|s| s.stop.store(true, Ordering::Relaxed));
    Ok(state.drills.current())
}

/// The blast radius of everything approved in the drill so far, contained
/// together (the explorer's columns, as raw JSON); `null` when nothing is.
#[tauri::command]
pub async fn drill_explore(
    state: State<'_, AppState>,
) -> Result<tauri::ipc::Response, CommandError> {
    let approved = state
        .drills
        .current()
        .map(|s| s.approved())
        .unwrap_or_default();
    if approved.is_empty() {
        return Ok(tauri::ipc::Response::new(b"null".to_vec()));
    }
    let targets: Vec<(&str, ContainmentAction)> =
        approved.iter().map(|(i, a)| (i.as_str(), *a)).collect();
    let graph = state.graphs.get(state.store()?).await?;
    crate::commands::explorer_response(&graph.explore(&targets)?)
}

/// Saves the finished drill's report (HTML or Markdown) where the user
/// chooses; `None` if they cancelled.
#[tauri::command]
pub async fn save_drill_report(
    app: AppHandle,
    state: State<'_, AppState>,
    format: String,
) -> Result<Option<String>, CommandError> {
    let Some(report) = state.drills.current().and_then(|s| s.report) else {
        return Err(CommandError::InvalidInput {
            field: "report",
            reason: "no finished drill: run one first".into(),
        });
    };
    let (text, extension) = match format.as_str() {
        "html" => (render::html(&report), "html"),
        "md" => (render::markdown(&report), "md"),
        other => {
            return Err(CommandError::InvalidInput {
                field: "format",
                reason: format!("{other:?}: choose html or md"),
            });
        }
    };
    crate::commands::save_with_dialog(
        &app,
        &format!("{}.{extension}", report.run_id),
        extension,
        text.into_bytes(),
    )
    .await
}
