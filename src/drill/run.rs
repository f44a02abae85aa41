//! Running a drill: the backend issues each inject's request on schedule
//! (drill time runs `speed` times faster than the clock), scripted
//! participants decide through the same signing and delivery path as the
//! app, and people decide in their apps. The runner watches every request
//! until it is decided or expires, then builds the report, verifying each
//! decision's signature itself against the keys the backend has enrolled.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::participants::{Participant, Participants, ScriptedDecision, ScriptedVerdict};
use super::report::{self, DrillReport, Observed, RunRecord, ScriptFailure};
use super::scenario::Scenario;
use crate::Store;
use crate::approval::{self, Decision, DecisionInput, Narrowing};
use crate::client::{self, BackendClient, ClientError};
use crate::inventory::Inventory;
use crate::inventory::{ChangeSet, MergeMode};
use crate::model::ContainmentAction;
use crate::signing::{Keys, MemorySecrets, SigningError};
use crate::store::{ChangeContext, StoreError};

/// How long the backend may stay unreachable before the run gives up.
const UNREACHABLE_LIMIT: Duration = Duration::from_secs(60);
/// How often open requests are polled.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("speed must be a number above zero, not {0}")]
    Speed(f64),
    #[error(transparent)]
    Backend(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("setting up participant {participant}: {message}")]
    Participant {
        participant: String,
        message: String,
    },
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error(transparent)]
    Policy(#[from] crate::policy::ApprovalPolicyError),
}

/// What happened, as it happens: for a live timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(rename = "DrillEvent")]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Started {
        run_id: String,
        scenario: String,
        backend: String,
        speed: f64,
        injects: Vec<Planned>,
    },
    Issued {
        inject: String,
        request_id: String,
        at_seconds: f64,
    },
    Decided {
        inject: String,
        approver: String,
        #[ts(type = "\"approve\" | \"deny\" | \"approve_narrowed\"")]
        decision: String,
        #[ts(type = "\"accepted\" | \"awaiting_second_approval\" | \"rejected\"")]
        receipt: String,
        at_seconds: f64,
    },
    ScriptFailed {
        inject: String,
        by: String,
        message: String,
        at_seconds: f64,
    },
    Closed {
        inject: String,
        identity: String,
        status: String,
        /// What was approved (the narrowed action when narrowed).
        approved_action: Option<ContainmentAction>,
        at_seconds: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(rename = "PlannedInject")]
pub struct Planned {
    pub id: String,
    pub at_seconds: f64,
    pub identity: String,
    pub action: ContainmentAction,
}

impl From<&super::Inject> for Planned {
    fn from(i: &super::Inject) -> Self {
        Planned {
            id: i.id.clone(),
            at_seconds: i.at.as_secs_f64(),
            identity: i.identity.clone(),
            action: i.action,
        }
    }
}

pub struct RunOptions {
    pub run_id: String,
    /// Drill seconds per real second.
    pub speed: f64,
    /// Set to end the drill early (the facilitator stops it); the report
    /// covers what happened until then.
    pub stop: Option<Arc<AtomicBool>>,
}

/// A run id that sorts by time and does not collide with a run started
/// in the same second: `drill-20261124T181500-3f2a`.
pub fn new_run_id() -> String {
    format!(
        "drill-{}-{}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S"),
        &uuid::Uuid::new_v4().simple().to_string()[..4]
    )
}

/// A scripted participant: their own store holding a copy of the
/// inventory and policy, their groups, and a key made for this run that
/// lives only in this process's memory (a persona is not a person: no
/// keyring entry outlives the run).
struct Persona {
    participant: Participant,
    _dir: tempfile::TempDir,
    store: Store,
    secrets: Arc<MemorySecrets>,
}

async fn persona(
    participant: &Participant,
    inventory: &Inventory,
    policy: &str,
    client: &BackendClient,
) -> Result<Persona, RunError> {
    let fail = |message: String| RunError::Participant {
        participant: participant.id.clone(),
        message,
    };
    let dir = tempfile::tempdir().map_err(|e| fail(format!("no temporary directory: {e}")))?;
    let store = Store::open(&dir.path().join("participant.db")).await?;
    let ctx = ChangeContext::new(participant.id.clone(), "drill");
    let set = ChangeSet::plan_import(&Inventory::default(), inventory, MergeMode::Replace);
    store.apply(&set, &ctx).await?;
    store
        .set_approval_policy(policy, &ctx)
        .await
        .map_err(|e| fail(e.to_string()))?;
    store
        .set_setting(
            crate::store::APPROVER_GROUPS_KEY,
            &participant.groups.join(","),
            &ctx,
        )
        .await?;
    let secrets = Arc::new(MemorySecrets::default());
    let keys = Keys::new(&store, secrets.clone());
    keys.init(&ctx).await?;
    client
        .enroll(
            &participant.id,
            &participant.groups,
            &keys.jwks().await?,
            None,
        )
        .await?;
    Ok(Persona {
        participant: participant.clone(),
        _dir: dir,
        store,
        secrets,
    })
}

impl Persona {
    /// Decides exactly as `countersign decide --push` does: signed,
    /// recorded with its outbox row, then delivered.
    async fn decide(
        &self,
        client: &BackendClient,
        request_id: &str,
        scripted: &ScriptedDecision,
    ) -> Result<(), String> {
        let request = client
            .proposed_request(request_id)
            .await
            .map_err(|e| e.to_string())?;
        let decision = match &scripted.verdict {
            ScriptedVerdict::Approve => Decision::Approve,
            ScriptedVerdict::Deny => Decision::Deny,
            ScriptedVerdict::ApproveNarrowed { action, scope } => {
                Decision::ApproveNarrowed(Narrowing {
                    action: Some(*action),
                    scope: scope.clone(),
                    until: None,
                })
            }
        };
        let keys = Keys::new(&self.store, self.secrets.clone());
        let ctx = ChangeContext::new(self.participant.id.clone(), "drill");
        approval::decide(
            &self.store,
            &keys,
            DecisionInput {
                request: &request,
                decision,
                reason: &scripted.reason,
                audience: client.url(),
                destination: Some(client.url()),
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .map_err(|e| e.to_string())?;
        // Recorded and queued: what is not delivered now goes out again
        // on the next poll.
        client::deliver_due(&self.store, client)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

enum Due {
    Issue(usize),
    Decide(usize),
}

/// Runs `scenario` against the backend behind `client`, with the scripted
/// `participants` if any, reporting progress through `on_event`.
pub async fn run(
    store: &Store,
    scenario: &Scenario,
    participants: Option<&Participants>,
    client: &BackendClient,
    options: RunOptions,
    mut on_event: impl FnMut(&Event) + Send,
) -> Result<DrillReport, RunError> {
    if !(options.speed.is_finite() && options.speed > 0.0) {
        return Err(RunError::Speed(options.speed));
    }
    let speed = options.speed;
    let run_id = options.run_id;
    let stop = options.stop.unwrap_or_default();
    let inventory = store.snapshot().await?;
    let (_, policy) = store.approval_policy().await?;

    let mut personas = Vec::new();
    if let Some(p) = participants {
        for participant in &p.participants {
            personas.push(persona(participant, &inventory, &policy, client).await?);
        }
    }

    let mut schedule: Vec<(f64, Due)> = scenario
        .injects
        .iter()
        .enumerate()
        .map(|(i, inject)| (inject.at.as_secs_f64(), Due::Issue(i)))
        .collect();
    let scripted: &[ScriptedDecision] = participants.map_or(&[], |p| &p.decisions);
    for (d, decision) in scripted.iter().enumerate() {
        let inject = scenario
            .injects
            .iter()
            .find(|i| i.id == decision.inject)
            .expect("participants are checked against the scenario");
        schedule.push(((inject.at + decision.after).as_secs_f64(), Due::Decide(d)));
    }
    // Issue before deciding when both fall on the same instant.
    schedule.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then((matches!(a.1, Due::Decide(_))).cmp(&matches!(b.1, Due::Decide(_))))
    });

    let external_id = |identity: &str| {
        inventory
            .identities
            .iter()
            .find(|x| x.id == identity)
            .and_then(|x| x.external_ids.first().cloned())
            .unwrap_or_else(|| identity.to_owned())
    };

    on_event(&Event::Started {
        run_id: run_id.clone(),
        scenario: scenario.name.clone(),
        backend: client.url().to_owned(),
        speed,
        injects: scenario.injects.iter().map(Planned::from).collect(),
    });

    let started_at = jiff::Timestamp::now();
    let clock = Instant::now();
    let drill_now = || clock.elapsed().as_secs_f64() * speed;
    let mut observed = vec![Observed::default(); scenario.injects.len()];
    let mut closed = vec![false; scenario.injects.len()];
    let mut seen: HashSet<String> = HashSet::new();
    let mut failures: Vec<ScriptFailure> = Vec::new();
    let mut next = 0;
    let mut unreachable_since: Option<Instant> = None;
    let mut stopped_early = false;

    loop {
        if stop.load(Ordering::Relaxed) {
            stopped_early = true;
            break;
        }
        while next < schedule.len() && schedule[next].0 <= drill_now() {
            match schedule[next].1 {
                Due::Issue(i) => {
                    let inject = &scenario.injects[i];
                    let request =
                        inject.request(&run_id, started_at, speed, &external_id(&inject.identity));
                    client.create_request(&request).await?;
                    on_event(&Event::Issued {
                        inject: inject.id.clone(),
                        request_id: request["id"].as_str().unwrap_or_default().to_owned(),
                        at_seconds: drill_now(),
                    });
                    observed[i].request = Some(request);
                }
                Due::Decide(d) => {
                    let decision = &scripted[d];
                    let persona = personas
                        .iter()
                        .find(|p| p.participant.id == decision.by)
                        .expect("checked");
                    let request_id = format!("{run_id}-{}", decision.inject);
                    if let Err(message) = persona.decide(client, &request_id, decision).await {
                        let failure = ScriptFailure {
                            inject: decision.inject.clone(),
                            by: decision.by.clone(),
                            at_seconds: drill_now(),
                            message,
                        };
                        on_event(&Event::ScriptFailed {
                            inject: failure.inject.clone(),
                            by: failure.by.clone(),
                            message: failure.message.clone(),
                            at_seconds: failure.at_seconds,
                        });
                        failures.push(failure);
                    }
                }
            }
            next += 1;
        }

        // Decisions that could not be delivered yet go out again.
        for p in &personas {
            client::deliver_due(&p.store, client).await?;
        }

        let mut poll_failed = None;
        for (i, inject) in scenario.injects.iter().enumerate() {
            if closed[i] || observed[i].request.is_none() {
                continue;
            }
            let id = format!("{run_id}-{}", inject.id);
            let detail = match client.request_by_id(&id).await {
                Ok(d) => d,
                Err(e) if e.is_transient() => {
                    poll_failed = Some(e);
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            for receipt in detail["decisions"].as_array().into_iter().flatten() {
                let jti = receipt["jti"].as_str().unwrap_or_default();
                let key = format!("{jti}/{}", receipt["status"]);
                if seen.insert(key) {
                    on_event(&Event::Decided {
                        inject: inject.id.clone(),
                        approver: receipt["approver"].as_str().unwrap_or("unknown").into(),
                        decision: receipt["decision"].as_str().unwrap_or("unknown").into(),
                        receipt: receipt["status"].as_str().unwrap_or_default().into(),
                        at_seconds: drill_now(),
                    });
                }
            }
            let status = detail["status"].as_str().unwrap_or("pending").to_owned();
            if !matches!(status.as_str(), "pending" | "awaiting_second_approval") {
                closed[i] = true;
                let approved_action =
                    (status == "approved").then(|| approved_action(&detail, inject.action));
                on_event(&Event::Closed {
                    inject: inject.id.clone(),
                    identity: inject.identity.clone(),
                    status,
                    approved_action,
                    at_seconds: drill_now(),
                });
            }
            observed[i].detail = Some(detail);
        }
        match poll_failed {
            Some(e) => {
                let since = *unreachable_since.get_or_insert_with(Instant::now);
                if since.elapsed() > UNREACHABLE_LIMIT {
                    return Err(e.into());
                }
            }
            None => unreachable_since = None,
        }

        if next == schedule.len() && closed.iter().all(|c| *c) {
            break;
        }
        let until_next = schedule
            .get(next)
            .map(|(at, _)| Duration::from_secs_f64(((at - drill_now()) / speed).max(0.0)))
            .unwrap_or(POLL);
        tokio::time::sleep(until_next.min(POLL)).await;
    }

    let mut jwks = BTreeMap::new();
    for o in &observed {
        for receipt in o
            .detail
            .as_ref()
            .and_then(|d| d["decisions"].as_array())
            .into_iter()
            .flatten()
        {
            if let Some(approver) = receipt["approver"].as_str()
                && !jwks.contains_key(approver)
            {
                match client.approver_jwks(approver).await {
                    Ok(keys) => {
                        jwks.insert(approver.to_owned(), keys);
                    }
                    Err(ClientError::Status { status: 404, .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let record = RunRecord {
        run_id: &run_id,
        scenario,
        backend: client.url(),
        speed,
        started_at,
        finished_at: jiff::Timestamp::now(),
        participants: personas.iter().map(|p| p.participant.clone()).collect(),
        observed: &observed,
        jwks: &jwks,
        script_failures: failures,
        stopped_early,
    };
    Ok(report::build(record, &inventory))
}

/// The action an approved request's decisions approved: the narrowed one
/// when the (last accepted) approval narrowed it. For the live timeline;
/// the report verifies every signature before it says what was approved.
fn approved_action(detail: &serde_json::Value, requested: ContainmentAction) -> ContainmentAction {
    detail["decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == "accepted")
        .filter_map(|r| crate::backend::peek_claims(r["jws"].as_str()?))
        .filter_map(|claims| serde_json::from_value(claims["narrowed"]["action"].clone()).ok())
        .next_back()
        .unwrap_or(requested)
}
