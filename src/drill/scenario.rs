//! The drill scenario format: a named timeline of injects, each a
//! containment request the reference backend will issue at its offset from
//! the start, against an identity of the inventory, optionally with the
//! decision the team is expected to reach and the largest blast radius it
//! should accept. Documented in docs/drills.md.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::graph::blast_radius::BlastGraph;
use crate::inventory::file::yaml_options_for;
use crate::model::{ApprovalTier, ContainmentAction};

pub const SCENARIO_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DrillError {
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: line {line}: {message}")]
    Invalid {
        origin: String,
        line: u64,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileScenario {
    version: Spanned<u32>,
    name: String,
    #[serde(default)]
    description: String,
    injects: Vec<FileInject>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileInject {
    id: Spanned<String>,
    at: Spanned<String>,
    identity: Spanned<String>,
    action: ContainmentAction,
    signal: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
    #[serde(default)]
    confidence: Option<Spanned<f64>>,
    #[serde(default = "default_source")]
    source: String,
    #[serde(default)]
    requested_by: Option<Requester>,
    #[serde(default)]
    tier: Option<ApprovalTier>,
    #[serde(default)]
    expires_after: Option<Spanned<String>>,
    #[serde(default)]
    expect: Option<Expectation>,
}

fn default_source() -> String {
    "drill".to_owned()
}

/// Who the request says asked for the containment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What the facilitator expects the team to do with an inject.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ExpectedDecision>,
    /// The most services an approved action should break.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_services: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedDecision {
    Approve,
    Deny,
    ApproveNarrowed,
    /// Approve, or approve something narrower.
    AnyApproval,
}

/// One inject, checked: its offset and lifetime parsed, its identity known.
#[derive(Debug, Clone, PartialEq)]
pub struct Inject {
    pub id: String,
    pub line: u64,
    pub at: jiff::SignedDuration,
    pub identity: String,
    pub action: ContainmentAction,
    pub signal: String,
    pub summary: Option<String>,
    pub severity: String,
    pub confidence: f64,
    pub source: String,
    pub requested_by: Requester,
    pub tier: ApprovalTier,
    pub expires_after: jiff::SignedDuration,
    pub expect: Option<Expectation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// In time order.
    pub injects: Vec<Inject>,
}

pub(crate) fn duration(
    text: &str,
    line: u64,
    field: &str,
    origin: &str,
) -> Result<jiff::SignedDuration, DrillError> {
    let invalid = |message: String| DrillError::Invalid {
        origin: origin.to_owned(),
        line,
        message,
    };
    let d: jiff::SignedDuration = text.trim().parse().map_err(|e| {
        invalid(format!(
            "{field}: {text:?} is not a duration like 90s, 5m or 1h30m ({e})"
        ))
    })?;
    if d.is_negative() {
        return Err(invalid(format!("{field}: {text:?} is before the start")));
    }
    Ok(d)
}

/// Reads a YAML drill file; syntax and shape errors name the file.
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, DrillError> {
    serde_saphyr::from_str_with_options(text, yaml_options_for(text)).map_err(|e| {
        DrillError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        }
    })
}

/// Drill files say which version of the format they are written in.
pub(crate) fn check_version(version: &Spanned<u32>, origin: &str) -> Result<(), DrillError> {
    if version.value == SCENARIO_VERSION {
        return Ok(());
    }
    Err(DrillError::Invalid {
        origin: origin.to_owned(),
        line: version.referenced.line(),
        message: format!(
            "version {} is not supported (this Countersign reads version {SCENARIO_VERSION})",
            version.value
        ),
    })
}

/// Parses a scenario and checks it against the inventory: every identity
/// must resolve (by id or external id), times must parse, ids be unique.
/// Errors name the file and line.
pub fn parse(text: &str, origin: &str, graph: &BlastGraph) -> Result<Scenario, DrillError> {
    let file: FileScenario = from_yaml(text, origin)?;
    let invalid = |line: u64, message: String| DrillError::Invalid {
        origin: origin.to_owned(),
        line,
        message,
    };
    check_version(&file.version, origin)?;
    if file.injects.is_empty() {
        return Err(invalid(1, "a scenario needs at least one inject".into()));
    }
    let mut injects = Vec::new();
    for f in file.injects {
        let line = f.id.referenced.line();
        if injects.iter().any(|i: &Inject| i.id == f.id.value) {
            return Err(invalid(
                line,
                format!("inject id {:?} is used twice", f.id.value),
            ));
        }
        let at = duration(&f.at.value, f.at.referenced.line(), "at", origin)?;
        let expires_after = match &f.expires_after {
            Some(e) => duration(&e.value, e.referenced.line(), "expires_after", origin)?,
            None => jiff::SignedDuration::from_mins(30),
        };
        if expires_after.is_zero() {
            return Err(invalid(line, "expires_after must be more than zero".into()));
        }
        let blast = graph
            .blast(&[(f.identity.value.as_str(), f.action)])
            .map_err(|e| invalid(f.identity.referenced.line(), format!("identity: {e}")))?;
        let severity = match f.severity {
            Some(s) if !matches!(s.value.as_str(), "low" | "medium" | "high" | "critical") => {
                return Err(invalid(
                    s.referenced.line(),
                    format!(
                        "severity {:?}: expected low, medium, high or critical",
                        s.value
                    ),
                ));
            }
            Some(s) => s.value,
            None => "high".to_owned(),
        };
        let confidence = match f.confidence {
            Some(c) if !(0.0..=1.0).contains(&c.value) => {
                return Err(invalid(
                    c.referenced.line(),
                    "confidence must be between 0 and 1".into(),
                ));
            }
            Some(c) => c.value,
            None => 0.8,
        };
        injects.push(Inject {
            id: f.id.value,
            line,
            at,
            identity: blast.targets[0].identity.clone(),
            action: f.action,
            signal: f.signal,
            summary: f.summary,
            severity,
            confidence,
            source: f.source,
            requested_by: f.requested_by.unwrap_or(Requester {
                kind: "automation".into(),
                id: "drill-runner".into(),
                name: Some("Drill runner".into()),
            }),
            tier: f.tier.unwrap_or(ApprovalTier::SingleApproval),
            expires_after,
            expect: f.expect,
        });
    }
    injects.sort_by_key(|i| i.at);
    Ok(Scenario {
        name: file.name,
        description: file.description,
        injects,
    })
}

impl Inject {
    /// The containment request the backend issues for this inject, for a
    /// drill started at `start` and run `speed` times faster than real
    /// time (its offset and lifetime shrink alike). `external_id` is how
    /// the backend names the identity (its first external id, else its id).
    pub fn request(
        &self,
        run: &str,
        start: jiff::Timestamp,
        speed: f64,
        external_id: &str,
    ) -> serde_json::Value {
        let created = start + self.at.div_f64(speed);
        let expires = created + self.expires_after.div_f64(speed);
        // Whole milliseconds: the backend and JSON round-trip them exactly.
        let round = |t: jiff::Timestamp| {
            t.round(jiff::Unit::Millisecond)
                .expect("rounding a timestamp to milliseconds fits")
        };
        let mut request = serde_json::json!({
            "id": format!("{run}-{}", self.id),
            "action": self.action,
            "target": { "external_id": external_id },
            "evidence": {
                "signal": self.signal,
                "confidence": self.confidence,
                "source": self.source,
            },
            "severity": self.severity,
            "requested_by": self.requested_by,
            "created_at": round(created).to_string(),
            "expires_at": round(expires).to_string(),
            "tier": self.tier,
        });
        if let Some(summary) = &self.summary {
            request["evidence"]["summary"] = summary.clone().into();
        }
        request
    }
}
