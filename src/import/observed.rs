//! Reading observed usage from what tracing systems export:
//!
//! - **Zipkin dependency links** (`GET /api/v2/dependencies`): a JSON array
//!   of `{"parent", "child", "callCount", "errorCount"}`, `parent` calling
//!   `child`. Jaeger's `GET /api/dependencies` wraps the same links in
//!   `{"data": […]}`. Links carry no time: they were computed over the
//!   window the request named (`endTs`, `lookback`), which the import is
//!   told ([`Window`]; by default the file's modification time and the
//!   day before it, both APIs' default lookback).
//! - **OpenTelemetry servicegraph** metrics in the Prometheus text
//!   exposition format (the Collector's `servicegraph` connector, exported
//!   by its `prometheus` exporter or scraped from it): each
//!   `traces_service_graph_request_total{client="…",server="…"} N [ts]`
//!   sample is `client` calling `server` N times (a name with a namespace
//!   prefix, `otelcol_traces_service_graph_request_total`, counts too).
//!   When the connector is configured with the `enduser.id` dimension, the
//!   server span's `server_enduser_id` label names the credential the
//!   client authenticated with: the client service uses that identity.
//!   The sample's timestamp (milliseconds) dates it; without one, the
//!   window's end does.
//!
//! Names are resolved against the inventory: a service by its id, else by
//! its name (ignoring case) when only one service has it; an identity by
//! its id or an external id. A name nothing matches is kept as the
//! telemetry gave it and reported: an unknown consumer is exactly what
//! observed usage is for. Every line not read is reported with its line.

use std::collections::HashMap;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use super::Findings;
use crate::inventory::Inventory;
use crate::observed::{EdgeKind, Observation};

/// Which export a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Told by the file's first character: JSON is dependency links, text
    /// is Prometheus metrics.
    Auto,
    /// Zipkin's (or Jaeger's) dependency links.
    Zipkin,
    /// The servicegraph connector's metrics, Prometheus text format.
    Servicegraph,
}

/// The time window an export covers, when it does not date itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window's end (Zipkin's and Jaeger's `endTs`); `None`: the
    /// file's modification time.
    pub end: Option<Timestamp>,
    /// How far back it reaches (`lookback`).
    pub lookback: SignedDuration,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            end: None,
            lookback: SignedDuration::from_hours(24),
        }
    }
}

/// Why a file could not be read as observed usage.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] crate::import::ImportError),
    #[error("{origin}:{line}: {message}")]
    Invalid {
        origin: String,
        line: u64,
        message: String,
    },
}

/// An edge as read, before its names are resolved.
struct RawEdge {
    kind: EdgeKind,
    consumer: String,
    target: String,
    calls: u64,
    first_seen: Timestamp,
    last_seen: Timestamp,
    line: u64,
}

/// What the files said: the edges, resolved, and what was not read.
#[derive(Debug, Default)]
pub struct Read {
    pub observations: Vec<Observation>,
    pub findings: Findings,
}

/// Resolves telemetry's names to the inventory's ids.
struct Names<'a> {
    services: HashMap<&'a str, ()>,
    by_name: HashMap<String, Vec<&'a str>>,
    identities: HashMap<&'a str, &'a str>,
}

impl<'a> Names<'a> {
    fn new(inv: &'a Inventory) -> Self {
        let mut by_name: HashMap<String, Vec<&str>> = HashMap::new();
        for s in &inv.services {
            by_name
                .entry(s.name.to_lowercase())
                .or_default()
                .push(&s.id);
        }
        let mut identities = HashMap::new();
        for i in &inv.identities {
            for e in &i.external_ids {
                identities.insert(e.as_str(), i.id.as_str());
            }
        }
        for i in &inv.identities {
            identities.insert(i.id.as_str(), i.id.as_str());
        }
        Names {
            services: inv.services.iter().map(|s| (s.id.as_str(), ())).collect(),
            by_name,
            identities,
        }
    }

    fn service(&self, name: &str) -> Option<String> {
        if self.services.contains_key(name) {
            return Some(name.to_owned());
        }
        match self.by_name.get(&name.to_lowercase()).map(Vec::as_slice) {
            Some([one]) => Some((*one).to_owned()),
            _ => None,
        }
    }

    fn identity(&self, name: &str) -> Option<String> {
        self.identities.get(name).map(|s| (*s).to_owned())
    }
}

/// Reads each file, resolving names against `inv`.
///
/// # Errors
/// [`ReadError`] for a file that cannot be read or is not the export it
/// claims to be, naming its line; nothing is returned then.
pub fn read_files(
    paths: &[&Path],
    format: Format,
    window: Window,
    inv: &Inventory,
) -> Result<Read, ReadError> {
    let names = Names::new(inv);
    let mut read = Read::default();
    let mut merged: HashMap<(EdgeKind, String, String), Observation> = HashMap::new();
    let mut order = Vec::new();
    for path in paths {
        let origin = path.display().to_string();
        let text = crate::import::input::read_text(path)?;
        let end = match window.end {
            Some(end) => end,
            None => modified(path).unwrap_or_else(Timestamp::now),
        };
        let end = end.round(jiff::Unit::Second).unwrap_or(end);
        let start = end - window.lookback;
        let json = text.trim_start().starts_with(['[', '{']);
        let edges = match (format, json) {
            (Format::Zipkin, _) | (Format::Auto, true) => {
                links(&text, &origin, (start, end), &mut read.findings)?
            }
            (Format::Servicegraph, _) | (Format::Auto, false) => {
                servicegraph(&text, &origin, end, &mut read.findings)?
            }
        };
        if edges.is_empty() {
            read.findings
                .note(&origin, None, "no observed edge in it: nothing recorded");
        }
        let source = if json { "zipkin" } else { "otel-servicegraph" };
        for e in edges {
            let consumer = names.service(&e.consumer);
            if consumer.is_none() {
                read.findings.note(
                    &origin,
                    Some(e.line),
                    format!(
                        "{:?} is no service of the inventory (by id or name): kept as observed, an undocumented consumer",
                        e.consumer
                    ),
                );
            }
            let target = match e.kind {
                EdgeKind::Calls => names.service(&e.target),
                EdgeKind::Uses => names.identity(&e.target),
            };
            if target.is_none() {
                read.findings.unresolved(
                    &origin,
                    Some(e.line),
                    format!(
                        "{:?} is no {} of the inventory: the edge is kept, but nothing it could break is known",
                        e.target,
                        match e.kind {
                            EdgeKind::Calls => "service (by id or name)",
                            EdgeKind::Uses => "identity (by id or external id)",
                        }
                    ),
                );
            }
            let o = Observation {
                kind: e.kind,
                consumer_known: consumer.is_some(),
                consumer: consumer.unwrap_or(e.consumer),
                target_known: target.is_some(),
                target: target.unwrap_or(e.target),
                first_seen: e.first_seen,
                last_seen: e.last_seen,
                calls: e.calls,
                source: source.to_owned(),
            };
            let key = (o.kind, o.consumer.clone(), o.target.clone());
            match merged.get_mut(&key) {
                Some(m) => m.merge(&o),
                None => {
                    order.push(key.clone());
                    merged.insert(key, o);
                }
            }
        }
    }
    read.observations = order
        .into_iter()
        .filter_map(|k| merged.remove(&k))
        .collect();
    Ok(read)
}

fn modified(path: &Path) -> Option<Timestamp> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    Timestamp::try_from(t).ok()
}

#[derive(serde::Deserialize)]
struct Link {
    #[serde(default)]
    parent: String,
    #[serde(default)]
    child: String,
    #[serde(rename = "callCount", default)]
    call_count: u64,
}

/// Jaeger's `GET /api/dependencies` answer.
#[derive(serde::Deserialize)]
struct JaegerAnswer {
    data: Option<Vec<Link>>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

/// Zipkin's or Jaeger's dependency links, dated by the window. A value of
/// the wrong shape is named by its line and JSON path (`[2].callCount`).
fn links(
    text: &str,
    origin: &str,
    (start, end): (Timestamp, Timestamp),
    findings: &mut Findings,
) -> Result<Vec<RawEdge>, ReadError> {
    let shape = "Zipkin's or Jaeger's dependency links: [{\"parent\", \"child\", \"callCount\"}], or Jaeger's {\"data\": […]}";
    let invalid = |e: crate::inventory::InventoryError| {
        let line = match &e {
            crate::inventory::InventoryError::Syntax { position, .. } => {
                position.map_or(1, |(l, _)| l)
            }
            crate::inventory::InventoryError::Invalid { line, .. } => line.unwrap_or(1),
            _ => 1,
        };
        let message = e.to_string();
        let message = message
            .strip_prefix(&format!("{origin}:{line}: "))
            .unwrap_or(&message)
            .to_owned();
        ReadError::Invalid {
            origin: origin.to_owned(),
            line,
            message: format!("{message} (read as {shape})"),
        }
    };
    let links: Vec<Link> = if text.trim_start().starts_with('{') {
        let answer: JaegerAnswer = super::json::read(text, origin).map_err(invalid)?;
        match (answer.data, answer.errors) {
            (_, Some(errors)) if !errors.is_null() => {
                return Err(ReadError::Invalid {
                    origin: origin.to_owned(),
                    line: 1,
                    message: format!("Jaeger answered with errors, not links: {errors}"),
                });
            }
            (data, _) => data.unwrap_or_default(),
        }
    } else {
        super::json::read(text, origin).map_err(invalid)?
    };
    // Each link's line: where its "parent" key is written, in order.
    let mut lines = text
        .match_indices("\"parent\"")
        .map(|(i, _)| 1 + text[..i].matches('\n').count() as u64);
    let mut edges = Vec::new();
    for l in links {
        let line = lines.next().unwrap_or(1);
        let skip = if l.parent.trim().is_empty() || l.child.trim().is_empty() {
            Some("a link without a parent or a child service name".to_owned())
        } else if l.parent == l.child {
            Some(format!("{:?} calling itself is not a dependency", l.parent))
        } else if l.call_count == 0 {
            Some(format!(
                "{:?} → {:?} has no calls in the window",
                l.parent, l.child
            ))
        } else {
            None
        };
        if let Some(why) = skip {
            findings.note(origin, Some(line), format!("{why}: not recorded"));
            continue;
        }
        edges.push(RawEdge {
            kind: EdgeKind::Calls,
            consumer: l.parent,
            target: l.child,
            calls: l.call_count,
            first_seen: start,
            last_seen: end,
            line,
        });
    }
    Ok(edges)
}

const REQUEST_TOTAL: &str = "traces_service_graph_request_total";

/// The servicegraph connector's request counters, from Prometheus text.
fn servicegraph(
    text: &str,
    origin: &str,
    end: Timestamp,
    findings: &mut Findings,
) -> Result<Vec<RawEdge>, ReadError> {
    let mut edges = Vec::new();
    // One series (a name and its labels) sampled twice — two scrapes of
    // one cumulative counter — counts once, as its latest sample: the
    // index of its edges in `edges`, and that sample's time.
    let mut series: HashMap<String, (Vec<usize>, Timestamp)> = HashMap::new();
    let mut other: HashMap<String, u64> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n as u64 + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let sample = parse_sample(l).map_err(|message| ReadError::Invalid {
            origin: origin.to_owned(),
            line,
            message: format!("not a Prometheus text-format sample: {message}"),
        })?;
        if !sample.name.ends_with(REQUEST_TOTAL) {
            other.entry(sample.name.to_owned()).or_insert(line);
            continue;
        }
        let label = |k: &str| {
            sample
                .labels
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let (Some(client), Some(server)) = (label("client"), label("server")) else {
            findings.unresolved(
                origin,
                Some(line),
                "a servicegraph request counter without client and server labels: not recorded",
            );
            continue;
        };
        // A counter is a whole number of requests, at most what 64 bits
        // hold (2^64 as a float is already past it).
        if !(sample.value.is_finite()
            && sample.value >= 0.0
            && sample.value < 18_446_744_073_709_551_616.0)
            || sample.value.fract() != 0.0
        {
            return Err(ReadError::Invalid {
                origin: origin.to_owned(),
                line,
                message: format!(
                    "a request count of {}: a counter is a whole number of requests",
                    sample.value
                ),
            });
        }
        let at = match sample.timestamp_ms {
            Some(ms) => Timestamp::from_millisecond(ms).map_err(|e| ReadError::Invalid {
                origin: origin.to_owned(),
                line,
                message: format!("timestamp {ms}: {e}"),
            })?,
            None => end,
        };
        // A sample from the future would never grow stale.
        if at > Timestamp::now() + SignedDuration::from_hours(24) {
            return Err(ReadError::Invalid {
                origin: origin.to_owned(),
                line,
                message: format!(
                    "timestamp {at} is in the future (a Prometheus timestamp is in milliseconds since 1970)"
                ),
            });
        }
        let calls = sample.value as u64;
        let mut key_labels = sample.labels.clone();
        key_labels.sort();
        let key = format!("{}{key_labels:?}", sample.name);
        if let Some((slots, seen_at)) = series.get(&key) {
            if at >= *seen_at {
                // A later scrape of the same series replaces the earlier.
                for &slot in slots {
                    let e: &mut RawEdge = &mut edges[slot];
                    e.calls = calls;
                    e.first_seen = at;
                    e.last_seen = at;
                    e.line = line;
                }
                let slots = slots.clone();
                series.insert(key, (slots, at));
            }
            continue;
        }
        if calls == 0 {
            findings.note(
                origin,
                Some(line),
                format!("{client:?} → {server:?} has no requests: not recorded"),
            );
            continue;
        }
        let mut slots = vec![edges.len()];
        edges.push(RawEdge {
            kind: EdgeKind::Calls,
            consumer: client.to_owned(),
            target: server.to_owned(),
            calls,
            first_seen: at,
            last_seen: at,
            line,
        });
        let credential = label("server_enduser_id")
            .or(label("client_enduser_id"))
            .or(label("server_user_id"))
            .or(label("client_user_id"));
        if let Some(identity) = credential {
            slots.push(edges.len());
            edges.push(RawEdge {
                kind: EdgeKind::Uses,
                consumer: client.to_owned(),
                target: identity.to_owned(),
                calls,
                first_seen: at,
                last_seen: at,
                line,
            });
        }
        series.insert(key, (slots, at));
    }
    // One client → server pair is several series when the connector adds
    // dimensions (`connection_type`, `enduser.id`): their requests add up.
    let mut summed: Vec<RawEdge> = Vec::new();
    let mut at: HashMap<(EdgeKind, String, String), usize> = HashMap::new();
    for e in edges {
        match at.get(&(e.kind, e.consumer.clone(), e.target.clone())) {
            Some(&i) => {
                let s = &mut summed[i];
                s.calls = s.calls.saturating_add(e.calls);
                s.first_seen = s.first_seen.min(e.first_seen);
                s.last_seen = s.last_seen.max(e.last_seen);
            }
            None => {
                at.insert((e.kind, e.consumer.clone(), e.target.clone()), summed.len());
                summed.push(e);
            }
        }
    }
    let edges = summed;
    let mut other: Vec<(String, u64)> = other.into_iter().collect();
    other.sort_by_key(|(_, l)| *l);
    for (name, line) in other {
        findings.note(
            origin,
            Some(line),
            format!("{name} is not a servicegraph request counter ({REQUEST_TOTAL}): not read"),
        );
    }
    Ok(edges)
}

/// One sample line of the Prometheus text exposition format:
/// `name{label="value",…} value [timestamp]`.
struct Sample<'t> {
    name: &'t str,
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_ms: Option<i64>,
}

/// Parses a sample line as the exposition format defines it (label values
/// in double quotes with `\\`, `\"` and `\n` escapes; a trailing comma
/// allowed); the error says what is wrong.
fn parse_sample(line: &str) -> Result<Sample<'_>, String> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("it does not start with a metric name".into());
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
            match chars.peek() {
                Some((i, '}')) => {
                    rest = &after[i + 1..];
                    break;
                }
                None => return Err("its labels are not closed with }".into()),
                _ => {}
            }
            let mut key = String::new();
            while let Some((_, c)) = chars.next_if(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            {
                key.push(c);
            }
            if key.is_empty() {
                return Err("a label without a name".into());
            }
            if chars.next().map(|(_, c)| c) != Some('=')
                || chars.next().map(|(_, c)| c) != Some('"')
            {
                return Err(format!("the label {key} is not written {key}=\"value\""));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        _ => return Err(format!("the label {key}'s value has an unknown escape")),
                    },
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("the label {key}'s value is not closed with \"")),
                }
            }
            labels.push((key, value));
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
            match chars.peek() {
                Some((_, ',')) => {
                    chars.next();
                }
                Some((_, '}')) => {}
                _ => return Err("labels are separated by commas".into()),
            }
        }
    }
    // An OpenMetrics exemplar (`… 8 # {trace_id="abc"} 1.0`) follows the
    // sample; it is not part of it.
    let rest = rest.split(" # ").next().unwrap_or(rest);
    let mut parts = rest.split_whitespace();
    let value = parts.next().ok_or("it has no value")?;
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .map_err(|_| format!("the value {v:?} is not a number"))?,
    };
    let timestamp_ms = match parts.next() {
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("the timestamp {t:?} is not whole milliseconds"))?,
        ),
        None => None,
    };
    if let Some(extra) = parts.next() {
        return Err(format!("{extra:?} follows the timestamp"));
    }
    Ok(Sample {
        name,
        labels,
        value,
        timestamp_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_as_the_exposition_format_writes_them() {
        let s = parse_sample(
            r#"traces_service_graph_request_total{client="a \"b\"",server="c\\d", x="y",} 42 1733100000000"#,
        )
        .unwrap();
        assert_eq!(s.name, "traces_service_graph_request_total");
        assert_eq!(s.labels[0], ("client".into(), "a \"b\"".into()));
        assert_eq!(s.labels[1], ("server".into(), "c\\d".into()));
        assert_eq!(s.value, 42.0);
        assert_eq!(s.timestamp_ms, Some(1_733_100_000_000));
        assert_eq!(parse_sample("up 1").unwrap().labels.len(), 0);
        for (bad, says) in [
            ("x{a=\"1\" 3", "separated by commas"),
            ("x{a=1} 3", "a=\"value\""),
            ("x{a=\"1\"} three", "not a number"),
            ("{a=\"1\"} 3", "metric name"),
            ("x 1 2 3", "follows the timestamp"),
        ] {
            let err = parse_sample(bad).err().unwrap();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
