//! Drills as the app hosts them: a shipped scenario checked against the
//! inventory, the reference backend started on loopback with a token that
//! never leaves memory, the inbox pointed at it (so injects arrive as real
//! requests and are answered in Approvals), the owner's key enrolled, and
//! the core's runner driving the timeline. At most one drill runs at once.
//!
//! [`Workspace::start_drill`] prepares and records the session; the caller
//! spawns [`Workspace::run_drill`] on its runtime with a callback that is
//! told of every event (the desktop forwards it to the window).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::{AppError, Workspace};
use crate::Store;
use crate::backend::{self, Running, ServeConfig};
use crate::client::{self, BackendClient};
use crate::drill::timeline::{self, TimelineRow};
use crate::drill::{self, DrillReport, Event, Participants, RunOptions, Scenario};
use crate::model::ContainmentAction;

/// Fastest speed offered: a one-hour scenario in six seconds.
pub const MAX_SPEED: f64 = 600.0;

/// The drill this workspace runs (at most one at a time), or ran last.
#[derive(Default)]
pub struct Drills {
    session: Mutex<Option<Session>>,
}

/// A drill as the window shows it: what runs, every event so far, and the
/// report once it is over.
#[derive(Clone, Serialize, ts_rs::TS)]
#[ts(rename = "DrillSession")]
pub struct Session {
    pub example: String,
    pub scenario: String,
    pub run_id: String,
    pub speed: f64,
    pub scripted: bool,
    pub backend: String,
    pub started_at: String,
    pub events: Vec<Event>,
    /// One row per inject, folded from `events` as they arrive.
    pub timeline: Vec<TimelineRow>,
    pub running: bool,
    pub report: Option<DrillReport>,
    pub error: Option<String>,
    #[serde(skip)]
    #[ts(skip)]
    stop: Arc<AtomicBool>,
}

impl Session {
    /// Everything approved so far, with the action approved (read from
    /// the timeline, which has folded the events already).
    pub fn approved(&self) -> Vec<(String, ContainmentAction)> {
        self.timeline
            .iter()
            .filter_map(|r| Some((r.identity.clone(), r.approved_action?)))
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

    /// The run id of the drill running here, if one is.
    pub fn running_run_id(&self) -> Option<String> {
        self.session
            .lock()
            .expect("drill lock")
            .as_ref()
            .filter(|s| s.running)
            .map(|s| s.run_id.clone())
    }

    /// The drill running (or last run) here.
    pub fn current(&self) -> Option<Session> {
        self.session.lock().expect("drill lock").clone()
    }

    /// Asks the running drill to end; its report covers what happened.
    pub fn stop(&self) -> Option<Session> {
        self.update(|s| s.stop.store(true, Ordering::Relaxed));
        self.current()
    }
}

/// A shipped scenario as the Drills view lists it.
#[derive(Serialize, ts_rs::TS)]
#[ts(rename = "DrillExample")]
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

/// A started drill, ready to run: [`Workspace::run_drill`] consumes it.
pub struct DrillRun {
    scenario: Scenario,
    participants: Option<Participants>,
    client: BackendClient,
    backend: Running,
    options: RunOptions,
}

/// Starts the reference backend for a drill on `listen`, judging
/// narrowings by the approval policy the owners use, and a client of it.
/// Both the app and `countersign drill run` host drills this way.
pub async fn host_backend(
    store: &Store,
    listen: String,
    token: String,
    dual_groups: Vec<String>,
) -> Result<(Running, BackendClient), AppError> {
    let (_, policy) = store
        .approval_policy()
        .await
        .map_err(|e| AppError::InvalidInput {
            field: "policy",
            reason: e.to_string(),
        })?;
    let running = backend::spawn(ServeConfig {
        dual_groups,
        policy: Some(policy),
        ..ServeConfig::new(listen, token.clone())
    })
    .await?;
    let client = BackendClient::new(&running.url(), token.into())?;
    Ok((running, client))
}

impl Workspace {
    /// The shipped scenarios, checked against the inventory in the store.
    pub async fn drill_examples(&self) -> Result<Vec<ExampleInfo>, AppError> {
        let graph = self.graphs.get(self.store()?).await?;
        Ok(drill::EXAMPLES
            .iter()
            .map(|e| {
                let origin = format!("{}.yaml", e.id);
                let (name, description, injects, problem) =
                    match drill::parse(e.scenario, &origin, &graph) {
                        Ok(s) => (
                            s.name,
                            s.description.trim().to_owned(),
                            s.injects.iter().map(drill::run::Planned::from).collect(),
                            None,
                        ),
                        Err(err) => (
                            e.id.to_owned(),
                            String::new(),
                            Vec::new(),
                            Some(err.to_string()),
                        ),
                    };
                ExampleInfo {
                    id: e.id,
                    name,
                    description,
                    injects,
                    has_participants: e.participants.is_some(),
                    problem,
                }
            })
            .collect())
    }

    /// Starts shipped scenario `example` at `speed` (scripted participants
    /// answering if `scripted`): its backend, the inbox switched to it,
    /// the owner's key enrolled (without a key the owner can still watch).
    /// Errors: `invalid_input` naming the field for an unknown scenario, a
    /// speed outside (0, [`MAX_SPEED`]], a drill already running.
    pub async fn start_drill(
        &self,
        example: &str,
        speed: f64,
        scripted: bool,
    ) -> Result<(Session, DrillRun), AppError> {
        let invalid =
            |field: &'static str, reason: String| AppError::InvalidInput { field, reason };
        let Some(e) = drill::example(example) else {
            return Err(invalid("example", format!("no scenario {example:?}")));
        };
        if !(speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED) {
            return Err(invalid(
                "speed",
                format!("choose a speed above 0 and up to {MAX_SPEED}"),
            ));
        }
        if self.drills.running_scenario().is_some() {
            return Err(invalid(
                "drill",
                "a drill is already running; stop it first".into(),
            ));
        }
        let store = self.store()?;
        let graph = self.graphs.get(store).await?;
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
        let token = backend::new_token()?;
        let dual = backend::DEFAULT_DUAL_GROUPS.map(String::from).to_vec();
        let (running, client) = host_backend(store, "127.0.0.1:0".into(), token, dual).await?;
        client::enroll_keys_of(&self.keys(store), store, &client, &self.ctx().actor, None).await?;

        let stop = Arc::new(AtomicBool::new(false));
        let run_id = drill::new_run_id();
        let session = Session {
            example: example.to_owned(),
            scenario: scenario.name.clone(),
            run_id: run_id.clone(),
            speed,
            scripted,
            backend: client.url().to_owned(),
            started_at: jiff::Timestamp::now().to_string(),
            events: Vec::new(),
            timeline: timeline::planned(
                &scenario
                    .injects
                    .iter()
                    .map(drill::run::Planned::from)
                    .collect::<Vec<_>>(),
            ),
            running: true,
            report: None,
            error: None,
            stop: Arc::clone(&stop),
        };
        *self.drills.session.lock().expect("drill lock") = Some(session.clone());
        self.approvals.set_drill_backend(Some(client.clone()));
        let run = DrillRun {
            scenario,
            participants,
            client,
            backend: running,
            options: RunOptions {
                run_id,
                speed,
                stop: Some(stop),
            },
        };
        Ok((session, run))
    }

    /// Runs a started drill to its end (or its stop), recording every
    /// event in the session and telling `on_event` of it; then stops its
    /// backend and points the inbox back at the owner's own.
    pub async fn run_drill(&self, run: DrillRun, mut on_event: impl FnMut(&Event) + Send) {
        let DrillRun {
            scenario,
            participants,
            client,
            backend,
            options,
        } = run;
        let result = match self.store() {
            Ok(store) => drill::run(
                store,
                &scenario,
                participants.as_ref(),
                &client,
                options,
                |event| {
                    self.drills.update(|s| {
                        s.events.push(event.clone());
                        timeline::apply(&mut s.timeline, event);
                    });
                    if matches!(event, Event::Issued { .. }) {
                        // The inbox shows the new request at once.
                        self.approvals.wake.notify_one();
                    }
                    on_event(event);
                },
            )
            .await
            .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        drop(backend);
        self.approvals.set_drill_backend(None);
        self.drills.update(|s| {
            s.running = false;
            match result {
                Ok(report) => s.report = Some(report),
                Err(e) => s.error = Some(e),
            }
        });
    }

    /// The finished drill's report as a file: its suggested name, its
    /// extension and its text, for `format` `html` or `md`. Errors:
    /// `invalid_input` for another format or when no drill has finished.
    pub fn drill_report(&self, format: &str) -> Result<(String, &'static str, String), AppError> {
        let invalid =
            |field: &'static str, reason: String| AppError::InvalidInput { field, reason };
        let Some(report) = self.drills.current().and_then(|s| s.report) else {
            return Err(invalid("report", "no finished drill: run one first".into()));
        };
        let (text, extension) = match format {
            "html" => (drill::render::html(&report), "html"),
            "md" => (drill::render::markdown(&report), "md"),
            other => return Err(invalid("format", format!("{other:?}: choose html or md"))),
        };
        Ok((format!("{}.{extension}", report.run_id), extension, text))
    }

    /// The blast radius of everything the current drill approved so far,
    /// contained together; `None` when nothing is.
    pub async fn drill_explore(&self) -> Result<Option<crate::graph::explore::Explorer>, AppError> {
        let approved = self
            .drills
            .current()
            .map(|s| s.approved())
            .unwrap_or_default();
        if approved.is_empty() {
            return Ok(None);
        }
        let targets: Vec<(&str, ContainmentAction)> =
            approved.iter().map(|(i, a)| (i.as_str(), *a)).collect();
        let graph = self.graphs.get(self.store()?).await?;
        Ok(Some(graph.explore(&targets)?))
    }
}
