//! What a drill run produced, as data: the timeline with every decision and
//! its independently verified signature, decisions against expectations,
//! and what the approved actions together would have broken. Rendered to
//! Markdown and HTML by render.rs; also written as JSON for tools.

use std::collections::BTreeMap;

use serde::Serialize;

use super::participants::Participant;
use super::scenario::{ExpectedDecision, Inject, Scenario};
use crate::graph::blast_radius::{BlastGraph, Target};
use crate::inventory::Inventory;
use crate::model::{ApprovalTier, ContainmentAction};
use crate::signing::{request_digest, verify_signature};

/// Whether a decision's signature checked out against the approver's keys
/// as the backend has them enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Signature {
    /// EdDSA over the request digest and claims the receipt names.
    Verified {
        kid: String,
    },
    Failed {
        reason: String,
    },
    /// The backend gave no JWS (a rejection, or a backend that does not
    /// return decisions with requests).
    NotAvailable,
}

impl Signature {
    pub fn is_verified(&self) -> bool {
        matches!(self, Signature::Verified { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct DecisionLine {
    pub approver: String,
    pub decision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrowed_to: Option<ContainmentAction>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    pub reason: String,
    /// accepted, awaiting_second_approval or rejected.
    pub receipt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// Drill time from the inject being issued to the backend receiving it.
    pub after_seconds: f64,
    pub signature: Signature,
    /// The signed decision itself, so the report can be audited again
    /// with any JOSE library against `keys`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jws: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ExpectationCheck {
    pub expected: String,
    pub met: bool,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct InjectReport {
    pub id: String,
    pub at_seconds: f64,
    pub identity: String,
    pub identity_name: String,
    pub action: ContainmentAction,
    pub signal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub severity: String,
    pub tier: ApprovalTier,
    pub request_id: String,
    /// Pending if it was never issued; else the backend's final status.
    pub status: String,
    pub decisions: Vec<DecisionLine>,
    /// Drill time from issue to the decision that closed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_decision_seconds: Option<f64>,
    /// What was approved (the narrowed action when narrowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_action: Option<ContainmentAction>,
    /// Services the approved action breaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services_broken: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<ExpectationCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct BrokenService {
    pub id: String,
    pub name: String,
    pub tier: u8,
    pub owner: Option<String>,
    /// Identity → … → service, by name.
    pub path: Vec<String>,
}

/// Everything approved during the drill, contained together.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Cumulative {
    pub targets: Vec<Target>,
    pub services: u32,
    pub per_tier: [u32; 4],
    pub broken: Vec<BrokenService>,
}

/// An approved action whose owner documented no way back.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct NoRollback {
    pub identity: String,
    pub action: ContainmentAction,
    /// `Some(false)`: documented as destructive.
    pub reversible: Option<bool>,
    pub services: Vec<String>,
}

/// A hole in the ownership record the drill ran into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct OwnershipGap {
    /// identity or service
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub gap: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ScriptFailure {
    pub inject: String,
    pub by: String,
    pub at_seconds: f64,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Totals {
    pub injects: usize,
    pub approved: usize,
    pub denied: usize,
    /// Issued and expired, or never decided.
    pub unanswered: usize,
    /// Never issued: the drill ended (or was stopped) before they were due.
    pub not_issued: usize,
    pub expectations: usize,
    pub expectations_met: usize,
    pub decisions: usize,
    pub signatures_verified: usize,
}

/// The report's sections, each with the keys of the controls it is
/// evidence for ([`crate::controls`]), so an auditor can file the report
/// under them: a drill is an incident-response exercise (CIS 17.7, NIST CSF
/// ID.IM-02), its timeline the plan executed (RS.MA-01), what would have
/// broken the impact assessed (ID.RA-04, RS.MI-01), a missing rollback the
/// recovery plan's gap (RC.RP-01), an ownership gap an unowned identity
/// (OWASP NHI1:2025, CIS 5.5).
pub const SECTIONS: [(&str, &[&str]); 5] = [
    (
        "Timeline",
        &["NIST CSF RS.MA-01", "NIST CSF ID.IM-02", "CIS 17.7"],
    ),
    (
        "Scripted decisions that could not be made",
        &["NIST CSF ID.IM-02", "NIST CSF ID.IM-04", "CIS 17.7"],
    ),
    (
        "What would have broken",
        &["NIST CSF ID.RA-04", "NIST CSF RS.MI-01", "OWASP NHI9:2025"],
    ),
    (
        "Services hit without a rollback path",
        &["NIST CSF RC.RP-01", "NIST CSF ID.IM-04", "CIS 17.4"],
    ),
    (
        "Ownership gaps found during the drill",
        &["OWASP NHI1:2025", "NIST CSF GV.RR-02", "CIS 5.5"],
    ),
];

/// One section of a report and the controls it serves ([`SECTIONS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SectionControls {
    pub section: String,
    pub controls: Vec<crate::controls::Control>,
}

/// The controls of the section titled `title` ([`SECTIONS`]).
pub fn section_controls(title: &str) -> Vec<crate::controls::Control> {
    SECTIONS
        .iter()
        .find(|(t, _)| *t == title)
        .map(|(_, keys)| crate::controls::all(keys))
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct DrillReport {
    pub run_id: String,
    pub scenario: String,
    pub description: String,
    pub backend: String,
    pub speed: f64,
    pub started_at: String,
    pub finished_at: String,
    /// The facilitator ended the drill before every request was settled.
    pub stopped_early: bool,
    pub participants: Vec<Participant>,
    pub injects: Vec<InjectReport>,
    pub script_failures: Vec<ScriptFailure>,
    pub cumulative: Cumulative,
    pub without_rollback: Vec<NoRollback>,
    pub ownership_gaps: Vec<OwnershipGap>,
    pub totals: Totals,
    /// Each approver's public keys as the backend had them enrolled.
    pub keys: BTreeMap<String, serde_json::Value>,
    /// Each section's controls ([`SECTIONS`]).
    pub controls: Vec<SectionControls>,
}

impl DrillReport {
    /// Every decision the backend accepted carries a signature that
    /// verified against the approver's enrolled keys.
    pub fn all_signatures_verified(&self) -> bool {
        self.totals.decisions == self.totals.signatures_verified
    }
}

/// What the runner saw of one inject's request at the end.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The request exactly as issued (None: never issued).
    pub request: Option<serde_json::Value>,
    /// The backend's final view (`getRequest`): status and decisions.
    pub detail: Option<serde_json::Value>,
}

/// The run's facts the report is built from.
pub struct RunRecord<'a> {
    pub run_id: &'a str,
    pub scenario: &'a Scenario,
    pub backend: &'a str,
    pub speed: f64,
    pub started_at: jiff::Timestamp,
    pub finished_at: jiff::Timestamp,
    pub participants: Vec<Participant>,
    /// In scenario order.
    pub observed: &'a [Observed],
    /// Enrolled keys per approver, as the backend serves them.
    pub jwks: &'a BTreeMap<String, serde_json::Value>,
    pub script_failures: Vec<ScriptFailure>,
    pub stopped_early: bool,
}

fn parse_time(value: &serde_json::Value) -> Option<jiff::Timestamp> {
    value.as_str()?.parse().ok()
}

/// Checks a decision's JWS the way any auditor could: the signature by the
/// approver's enrolled key, and that it is about this request as issued
/// and says what the receipt says.
fn check_signature(
    receipt: &serde_json::Value,
    request: &serde_json::Value,
    jwks: &BTreeMap<String, serde_json::Value>,
    audience: &str,
) -> (Signature, Option<serde_json::Value>) {
    let Some(jws) = receipt["jws"].as_str() else {
        return (Signature::NotAvailable, None);
    };
    let approver = receipt["approver"].as_str().unwrap_or_default();
    let Some(keys) = jwks.get(approver) else {
        return (
            Signature::Failed {
                reason: format!("no keys enrolled for {approver}"),
            },
            None,
        );
    };
    let claims = match verify_signature(jws, keys, crate::approval::DECISION_TYP) {
        Ok(c) => c,
        Err(e) => {
            return (
                Signature::Failed {
                    reason: e.to_string(),
                },
                None,
            );
        }
    };
    let mismatch = [
        ("jti", receipt["jti"].clone()),
        ("request_id", request["id"].clone()),
        ("decision", receipt["decision"].clone()),
        ("request_digest", request_digest(request).into()),
        ("aud", audience.into()),
    ]
    .into_iter()
    .find(|(field, want)| &claims[*field] != want);
    if let Some((field, want)) = mismatch {
        return (
            Signature::Failed {
                reason: format!(
                    "signed {field} is {} where {} was expected",
                    claims[field], want
                ),
            },
            None,
        );
    }
    let kid = jsonwebtoken::decode_header(jws)
        .ok()
        .and_then(|h| h.kid)
        .unwrap_or_default();
    (Signature::Verified { kid }, Some(claims))
}

fn expectation(
    expect: &super::scenario::Expectation,
    status: &str,
    decision: Option<&str>,
    services: Option<u32>,
) -> ExpectationCheck {
    let mut notes = Vec::new();
    let mut met = true;
    let mut expected = Vec::new();
    if let Some(want) = expect.decision {
        let (label, ok) = match want {
            ExpectedDecision::Approve => ("approve", decision == Some("approve")),
            ExpectedDecision::Deny => ("deny", status == "denied"),
            ExpectedDecision::ApproveNarrowed => {
                ("approve narrowed", decision == Some("approve_narrowed"))
            }
            ExpectedDecision::AnyApproval => ("any approval", status == "approved"),
        };
        let ok = ok && matches!(status, "approved" | "denied");
        expected.push(label.to_owned());
        if !ok {
            met = false;
            notes.push(format!(
                "expected {label}; the request ended {}",
                match (status, decision) {
                    ("approved", Some(d)) => format!("approved ({})", d.replace('_', " ")),
                    (s, _) => s.replace('_', " "),
                }
            ));
        }
    }
    if let Some(max) = expect.max_services {
        expected.push(format!("at most {max} services broken"));
        if let Some(n) = services
            && n > max
        {
            met = false;
            notes.push(format!(
                "the approved action breaks {n} services, more than the {max} accepted"
            ));
        }
    }
    ExpectationCheck {
        expected: expected.join(", "),
        met,
        notes,
    }
}

fn inject_report(
    inject: &Inject,
    observed: &Observed,
    inv: &Inventory,
    graph: &BlastGraph,
    record: &RunRecord<'_>,
    request_id: String,
) -> InjectReport {
    let identity_name = inv
        .identities
        .iter()
        .find(|x| x.id == inject.identity)
        .map(|x| x.name.clone())
        .unwrap_or_default();
    let status = observed
        .detail
        .as_ref()
        .and_then(|d| d["status"].as_str())
        .unwrap_or(if observed.request.is_some() {
            "pending"
        } else {
            "not_issued"
        })
        .to_owned();
    let created = observed
        .request
        .as_ref()
        .and_then(|r| parse_time(&r["created_at"]));
    let mut decisions = Vec::new();
    let mut closing_after = None;
    let mut approved: Option<serde_json::Value> = None;
    let receipts = observed
        .detail
        .as_ref()
        .and_then(|d| d["decisions"].as_array().cloned())
        .unwrap_or_default();
    for receipt in &receipts {
        let after = match (created, parse_time(&receipt["received_at"])) {
            (Some(c), Some(r)) => (r - c).as_secs_f64().max(0.0) * record.speed,
            _ => 0.0,
        };
        let (signature, claims) = match &observed.request {
            Some(request) => check_signature(receipt, request, record.jwks, record.backend),
            None => (Signature::NotAvailable, None),
        };
        let receipt_status = receipt["status"].as_str().unwrap_or_default().to_owned();
        // What the signed claims say was decided, from the closed set: a
        // decision that is neither an approval nor a denial approves
        // nothing, whatever the receipt says.
        let kind = claims
            .as_ref()
            .and_then(|c| serde_json::from_value::<crate::approval::DecisionClaims>(c.clone()).ok())
            .and_then(|c| crate::approval::check_claims(&c).ok());
        if receipt_status == "accepted" {
            closing_after = Some(after);
            if matches!(
                kind,
                Some(
                    crate::approval::DecisionKind::Approve
                        | crate::approval::DecisionKind::ApproveNarrowed
                )
            ) {
                approved = claims.clone();
            }
        }
        let narrowed = claims.as_ref().map(|c| c["narrowed"].clone());
        decisions.push(DecisionLine {
            approver: receipt["approver"].as_str().unwrap_or("unknown").to_owned(),
            decision: receipt["decision"].as_str().unwrap_or("unknown").to_owned(),
            narrowed_to: narrowed
                .as_ref()
                .and_then(|n| serde_json::from_value(n["action"].clone()).ok()),
            scope: narrowed
                .as_ref()
                .and_then(|n| serde_json::from_value(n["scope"].clone()).ok())
                .unwrap_or_default(),
            reason: claims
                .as_ref()
                .and_then(|c| c["reason"].as_str())
                .unwrap_or_default()
                .to_owned(),
            receipt: receipt_status,
            rejection: receipt["reason"].as_str().map(str::to_owned),
            after_seconds: after,
            signature,
            jws: receipt["jws"].as_str().map(str::to_owned),
        });
    }
    let approved_action = (status == "approved").then(|| {
        approved
            .as_ref()
            .and_then(|c| serde_json::from_value(c["narrowed"]["action"].clone()).ok())
            .unwrap_or(inject.action)
    });
    let services_broken = approved_action.and_then(|a| {
        graph
            .blast(&[(inject.identity.as_str(), a)])
            .ok()
            .map(|b| b.summary.services)
    });
    let final_decision = approved
        .as_ref()
        .and_then(|c| c["decision"].as_str().map(str::to_owned));
    InjectReport {
        id: inject.id.clone(),
        at_seconds: inject.at.as_secs_f64(),
        identity: inject.identity.clone(),
        identity_name,
        action: inject.action,
        signal: inject.signal.clone(),
        summary: inject.summary.clone(),
        severity: inject.severity.clone(),
        tier: inject.tier,
        request_id,
        expectation: inject.expect.as_ref().map(|e| {
            expectation(
                e,
                &status,
                final_decision.as_deref().or(if status == "denied" {
                    Some("deny")
                } else {
                    None
                }),
                services_broken,
            )
        }),
        status,
        decisions,
        time_to_decision_seconds: closing_after,
        approved_action,
        services_broken,
    }
}

/// Builds the report from what the run observed, with blast radii computed
/// on `inv` (the inventory the drill ran against).
pub fn build(record: RunRecord<'_>, inv: &Inventory) -> DrillReport {
    let graph = BlastGraph::new(inv);
    let injects: Vec<InjectReport> = record
        .scenario
        .injects
        .iter()
        .zip(record.observed)
        .map(|(inject, observed)| {
            let request_id = observed
                .request
                .as_ref()
                .and_then(|r| r["id"].as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{}-{}", record.run_id, inject.id));
            inject_report(inject, observed, inv, &graph, &record, request_id)
        })
        .collect();

    let targets: Vec<(&str, ContainmentAction)> = injects
        .iter()
        .filter_map(|i| i.approved_action.map(|a| (i.identity.as_str(), a)))
        .collect();
    let cumulative = match graph.blast(&targets) {
        Ok(b) if !targets.is_empty() => Cumulative {
            targets: b.targets.clone(),
            services: b.summary.services,
            per_tier: b.summary.per_tier,
            broken: b
                .impacted
                .iter()
                .map(|s| BrokenService {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    tier: s.tier.get(),
                    owner: s.owner.clone(),
                    path: s.path.iter().map(|p| p.name.clone()).collect(),
                })
                .collect(),
        },
        _ => Cumulative {
            targets: Vec::new(),
            services: 0,
            per_tier: [0; 4],
            broken: Vec::new(),
        },
    };

    let mut without_rollback = Vec::new();
    for (identity, action) in &targets {
        let Some(x) = inv.identities.iter().find(|x| x.id == *identity) else {
            continue;
        };
        let plan = x.containment.get(action);
        if plan.is_some_and(|p| !p.rollback.trim().is_empty()) {
            continue;
        }
        let services = graph
            .blast(&[(identity, *action)])
            .map(|b| b.impacted.iter().map(|s| s.name.clone()).collect())
            .unwrap_or_default();
        without_rollback.push(NoRollback {
            identity: identity.to_string(),
            action: *action,
            reversible: plan.and_then(|p| p.reversible),
            services,
        });
    }

    let mut ownership_gaps: Vec<OwnershipGap> = Vec::new();
    let mut gap = |kind: &'static str, id: &str, name: &str, what: &str| {
        if !ownership_gaps
            .iter()
            .any(|g| g.kind == kind && g.id == id && g.gap == what)
        {
            ownership_gaps.push(OwnershipGap {
                kind,
                id: id.to_owned(),
                name: name.to_owned(),
                gap: what.to_owned(),
            });
        }
    };
    for i in &injects {
        let Some(x) = inv.identities.iter().find(|x| x.id == i.identity) else {
            continue;
        };
        if x.owner.is_none() {
            gap("identity", &x.id, &x.name, "no owner");
        }
        if x.backup_owner.is_none() {
            gap("identity", &x.id, &x.name, "no backup owner");
        }
        if let Some(bg) = &x.break_glass
            && bg.custodians.is_empty()
        {
            gap(
                "identity",
                &x.id,
                &x.name,
                "break-glass account without custodians",
            );
        }
        if let Ok(b) = graph.blast(&[(i.identity.as_str(), i.action)]) {
            for s in b.impacted.iter().filter(|s| s.owner.is_none()) {
                gap("service", &s.id, &s.name, "no owner to call when it breaks");
            }
        }
    }

    let mut totals = Totals {
        injects: injects.len(),
        ..Totals::default()
    };
    for i in &injects {
        match i.status.as_str() {
            "approved" => totals.approved += 1,
            "denied" => totals.denied += 1,
            "not_issued" => totals.not_issued += 1,
            _ => totals.unanswered += 1,
        }
        if let Some(e) = &i.expectation {
            totals.expectations += 1;
            totals.expectations_met += usize::from(e.met);
        }
        for d in i.decisions.iter().filter(|d| d.receipt != "rejected") {
            totals.decisions += 1;
            totals.signatures_verified += usize::from(d.signature.is_verified());
        }
    }

    DrillReport {
        run_id: record.run_id.to_owned(),
        scenario: record.scenario.name.clone(),
        description: record.scenario.description.trim().to_owned(),
        backend: record.backend.to_owned(),
        speed: record.speed,
        started_at: record.started_at.to_string(),
        finished_at: record.finished_at.to_string(),
        stopped_early: record.stopped_early,
        participants: record.participants,
        injects,
        script_failures: record.script_failures,
        cumulative,
        without_rollback,
        ownership_gaps,
        totals,
        keys: record.jwks.clone(),
        controls: SECTIONS
            .iter()
            .map(|(section, keys)| SectionControls {
                section: (*section).to_owned(),
                controls: crate::controls::all(keys),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::approval::{Decision, DecisionInput, decide};
    use crate::signing::{Keys, MemorySecrets};
    use crate::store::ChangeContext;
    use std::sync::Arc;

    const AUD: &str = "http://backend.test";

    struct Fixture {
        _dir: tempfile::TempDir,
        inventory: Inventory,
        scenario: Scenario,
        request: serde_json::Value,
        jws: String,
        jti: String,
        jwks: serde_json::Value,
        other_jwks: serde_json::Value,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("d.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let ctx = ChangeContext::new("alice", "test");
        let keys = Keys::new(&store, Arc::new(MemorySecrets::default()));
        keys.init(&ctx).await.unwrap();
        let other = Store::open(&dir.path().join("o.db")).await.unwrap();
        let other_keys = Keys::new(&other, Arc::new(MemorySecrets::default()));
        other_keys.init(&ctx).await.unwrap();

        let inventory = store.snapshot().await.unwrap();
        let scenario = super::super::parse(
            "version: 1\nname: t\ninjects:\n  - {id: kafka, at: 0s, identity: tok-kafka-shared, action: rotate_secret, signal: leak}\n",
            "s",
            &BlastGraph::new(&inventory),
        )
        .unwrap();
        let start = jiff::Timestamp::now();
        let request =
            scenario.injects[0].request("run", start, 1.0, "vault:secret/kafka/shared-client");
        let recorded = decide(
            &store,
            &keys,
            DecisionInput {
                request: &request,
                decision: Decision::Approve,
                reason: "rotate it",
                audience: AUD,
                destination: None,
                inventory_version: None,
            },
            &ctx,
        )
        .await
        .unwrap();
        Fixture {
            _dir: dir,
            inventory,
            scenario,
            request,
            jws: recorded.jws,
            jti: recorded.claims.jti,
            jwks: keys.jwks().await.unwrap(),
            other_jwks: other_keys.jwks().await.unwrap(),
        }
    }

    fn run(
        f: &Fixture,
        request: serde_json::Value,
        decision: &str,
        jwks: &serde_json::Value,
    ) -> DrillReport {
        let created: jiff::Timestamp = request["created_at"].as_str().unwrap().parse().unwrap();
        let received = created + jiff::SignedDuration::from_secs(90);
        let observed = [Observed {
            request: Some(request),
            detail: Some(serde_json::json!({
                "status": "approved",
                "decisions": [{
                    "jti": f.jti, "request_id": "run-kafka", "status": "accepted",
                    "approver": "alice", "decision": decision,
                    "received_at": received.to_string(), "jws": f.jws,
                }],
            })),
        }];
        let keys = BTreeMap::from([("alice".to_owned(), jwks.clone())]);
        build(
            RunRecord {
                run_id: "run",
                scenario: &f.scenario,
                backend: AUD,
                speed: 2.0,
                started_at: created,
                finished_at: received,
                participants: Vec::new(),
                observed: &observed,
                jwks: &keys,
                script_failures: Vec::new(),
                stopped_early: false,
            },
            &f.inventory,
        )
    }

    #[tokio::test]
    async fn signatures_are_verified_against_the_enrolled_keys_and_the_request_as_issued() {
        let f = fixture().await;
        let good = run(&f, f.request.clone(), "approve", &f.jwks);
        assert!(good.all_signatures_verified());
        let d = &good.injects[0].decisions[0];
        assert!(
            matches!(d.signature, Signature::Verified { .. }),
            "{:?}",
            d.signature
        );
        assert_eq!(d.reason, "rotate it");
        // Drill time: 90 s real at double speed.
        assert_eq!(good.injects[0].time_to_decision_seconds, Some(180.0));
        assert_eq!(
            good.injects[0].approved_action,
            Some(ContainmentAction::RotateSecret)
        );

        let failed = |r: &DrillReport| match &r.injects[0].decisions[0].signature {
            Signature::Failed { reason } => reason.clone(),
            other => panic!("{other:?}"),
        };
        // Someone else's keys.
        let wrong_key = run(&f, f.request.clone(), "approve", &f.other_jwks);
        assert!(!wrong_key.all_signatures_verified());
        assert!(
            failed(&wrong_key).contains("unknown key"),
            "{}",
            failed(&wrong_key)
        );
        // A request other than the one issued.
        let mut changed = f.request.clone();
        changed["severity"] = "low".into();
        let other_request = run(&f, changed, "approve", &f.jwks);
        assert!(
            failed(&other_request).contains("request_digest"),
            "{}",
            failed(&other_request)
        );
        // A receipt claiming another decision than the one signed.
        let relabelled = run(&f, f.request.clone(), "deny", &f.jwks);
        assert!(
            failed(&relabelled).contains("decision"),
            "{}",
            failed(&relabelled)
        );
        assert_eq!(relabelled.totals.signatures_verified, 0);
    }
}
