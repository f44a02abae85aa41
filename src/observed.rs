//! Observed usage: what tracing saw services do, beside what owners
//! documented. Rotation outages come from consumers nobody wrote down, so
//! each edge of the map can say whether it is documented, observed, or
//! both, and how old the observation is.
//!
//! Two kinds of edge are observed:
//! - [`EdgeKind::Calls`]: a service calls another, so it depends on it (a
//!   Zipkin or Jaeger dependency link `parent` → `child`; an OpenTelemetry
//!   servicegraph edge `client` → `server`). Documented when the caller's
//!   `depends_on` names the callee.
//! - [`EdgeKind::Uses`]: a service authenticates with an identity (a
//!   servicegraph edge whose server span recorded the caller's credential
//!   as `enduser.id`). Documented when the identity's `used_by` names the
//!   service.
//!
//! Observations are evidence, not the owners' record: an import of them
//! changes no identity or service, and they are kept in their own table
//! (`observed_edges`), so a native import that replaces an identity whole
//! cannot erase them.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What an observed edge says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// The consumer service calls the target service.
    Calls,
    /// The consumer service authenticates with the target identity.
    Uses,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Calls => "calls",
            EdgeKind::Uses => "uses",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "calls" => Some(EdgeKind::Calls),
            "uses" => Some(EdgeKind::Uses),
            _ => None,
        }
    }
}

/// One observed edge, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Observation {
    pub kind: EdgeKind,
    /// The calling service: its id when `consumer_known`, else the name
    /// the telemetry gave it (a consumer the inventory does not hold).
    pub consumer: String,
    pub consumer_known: bool,
    /// The service called or the identity used: an id when
    /// `target_known`, else the telemetry's name.
    pub target: String,
    pub target_known: bool,
    /// When the edge was first and last seen (RFC 3339).
    #[ts(type = "string")]
    pub first_seen: Timestamp,
    #[ts(type = "string")]
    pub last_seen: Timestamp,
    /// Calls in the latest window it was seen in.
    pub calls: u64,
    /// Where it was read: `zipkin` (Zipkin or Jaeger dependency links) or
    /// `otel-servicegraph`.
    pub source: String,
}

impl Observation {
    /// Whole days from its last sighting to `now` (0 within a day).
    pub fn age_days(&self, now: Timestamp) -> i64 {
        now.duration_since(self.last_seen).as_secs().max(0) / 86_400
    }

    /// The same edge seen again: the first sighting stays the earliest,
    /// the last the latest, and the calls are those of the latest window.
    /// Two sightings as late as each other (the same window from two
    /// exports) keep the larger count and the first source by name, so the
    /// result does not depend on the order files are read in.
    pub fn merge(&mut self, newer: &Observation) {
        if newer.last_seen > self.last_seen {
            self.calls = newer.calls;
            self.source = newer.source.clone();
        } else if newer.last_seen == self.last_seen {
            self.calls = self.calls.max(newer.calls);
            if newer.source < self.source {
                self.source = newer.source.clone();
            }
        }
        self.first_seen = self.first_seen.min(newer.first_seen);
        self.last_seen = self.last_seen.max(newer.last_seen);
    }
}

/// Whether an edge of the map is backed by the owners' record, by
/// tracing, or by both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Documented,
    Observed,
    Both,
}

/// By default, a documented edge whose consumer tracing covers but which
/// was not seen for this many days is flagged (a setting,
/// `countersign settings observed-stale-days`).
pub const DEFAULT_STALE_DAYS: u32 = 30;

/// An edge's key: kind, consumer, target.
type EdgeKey = (EdgeKind, String, String);

/// Observations indexed for the questions the blast radius, the request
/// view and Needs attention ask.
#[derive(Debug, Default)]
pub struct Index {
    edges: HashMap<EdgeKey, Observation>,
    /// Per target, the edges into it (by kind).
    into: HashMap<(EdgeKind, String), Vec<EdgeKey>>,
    /// Per consumer, the edges out of it (by kind).
    out: HashMap<(EdgeKind, String), Vec<EdgeKey>>,
    /// Services tracing sees make calls (any observed edge out of them).
    traced: HashSet<String>,
    /// Targets tracing sees, per kind: services seen being called, and
    /// identities whose use some server records.
    seen_targets: HashSet<(EdgeKind, String)>,
    /// The span of time tracing has watched: the earliest first sighting
    /// and the latest last one of any edge.
    watched: Option<(Timestamp, Timestamp)>,
}

impl Index {
    pub fn new(observations: Vec<Observation>) -> Self {
        let mut index = Index::default();
        for o in observations {
            let key = (o.kind, o.consumer.clone(), o.target.clone());
            if o.consumer_known {
                index.traced.insert(o.consumer.clone());
            }
            index.seen_targets.insert((o.kind, o.target.clone()));
            index.watched = Some(match index.watched {
                Some((a, b)) => (a.min(o.first_seen), b.max(o.last_seen)),
                None => (o.first_seen, o.last_seen),
            });
            index
                .into
                .entry((o.kind, o.target.clone()))
                .or_default()
                .push(key.clone());
            index
                .out
                .entry((o.kind, o.consumer.clone()))
                .or_default()
                .push(key.clone());
            index.edges.insert(key, o);
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The observation of one edge, if any.
    pub fn get(&self, kind: EdgeKind, consumer: &str, target: &str) -> Option<&Observation> {
        self.edges
            .get(&(kind, consumer.to_owned(), target.to_owned()))
    }

    /// Every observed edge into `target`.
    pub fn into_target(&self, kind: EdgeKind, target: &str) -> impl Iterator<Item = &Observation> {
        self.into
            .get(&(kind, target.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|k| self.edges.get(k))
    }

    /// Every observed edge out of `consumer`.
    pub fn from_consumer(
        &self,
        kind: EdgeKind,
        consumer: &str,
    ) -> impl Iterator<Item = &Observation> {
        self.out
            .get(&(kind, consumer.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|k| self.edges.get(k))
    }

    /// Whole days tracing has watched (its observations' span).
    pub fn watched_days(&self) -> i64 {
        self.watched
            .map_or(0, |(a, b)| b.duration_since(a).as_secs().max(0) / 86_400)
    }

    /// Whether tracing would see the edge `consumer` → `target` if it were
    /// there: it sees both ends — the consumer make calls, and the target
    /// called (a service) or its use recorded by some server (an
    /// identity). Only then does its silence mean something: a consumer
    /// without instrumentation, or a server that records no credential, is
    /// never taken for gone.
    pub fn covers(&self, kind: EdgeKind, consumer: &str, target: &str) -> bool {
        self.traced.contains(consumer) && self.seen_targets.contains(&(kind, target.to_owned()))
    }

    /// What backs the edge `consumer` → `target`, given whether the owners
    /// documented it; `None` when neither did.
    pub fn evidence(
        &self,
        kind: EdgeKind,
        consumer: &str,
        target: &str,
        documented: bool,
    ) -> Option<Evidence> {
        match (documented, self.get(kind, consumer, target).is_some()) {
            (true, true) => Some(Evidence::Both),
            (true, false) => Some(Evidence::Documented),
            (false, true) => Some(Evidence::Observed),
            (false, false) => None,
        }
    }
}

/// One flagged edge: observed but not documented, or documented but not
/// observed lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Flag {
    pub kind: EdgeKind,
    pub consumer: String,
    /// The inventory holds the consumer as a service.
    pub consumer_known: bool,
    pub target: String,
    /// When it was last observed (RFC 3339), if ever.
    pub last_seen: Option<String>,
    /// Whole days since, if ever observed.
    pub age_days: Option<i64>,
    /// Calls in its latest window, if ever observed.
    pub calls: Option<u64>,
    /// Says what the flag means, in a sentence.
    pub message: String,
}

/// What tracing adds to a blast radius: consumers it saw that nobody
/// documented (they would likely break too), and documented consumers it
/// has not seen for the stale age (perhaps gone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BlastEvidence {
    pub observed_undocumented: Vec<Flag>,
    pub documented_unobserved: Vec<Flag>,
    /// The age, in days, past which a documented edge counts as unobserved.
    pub stale_days: u32,
}

impl BlastEvidence {
    pub fn is_empty(&self) -> bool {
        self.observed_undocumented.is_empty() && self.documented_unobserved.is_empty()
    }
}

fn seen(o: &Observation, now: Timestamp) -> String {
    match o.age_days(now) {
        0 => "today".to_owned(),
        1 => "1 day ago".to_owned(),
        n => format!("{n} days ago"),
    }
}

/// An observed edge nobody documented, as a flag.
pub fn undocumented(o: &Observation, now: Timestamp) -> Flag {
    let who = if o.consumer_known {
        o.consumer.clone()
    } else {
        format!("{} (not in the inventory)", o.consumer)
    };
    Flag {
        kind: o.kind,
        consumer: o.consumer.clone(),
        consumer_known: o.consumer_known,
        target: o.target.clone(),
        last_seen: Some(o.last_seen.to_string()),
        age_days: Some(o.age_days(now)),
        calls: Some(o.calls),
        message: match o.kind {
            EdgeKind::Uses => format!(
                "{who} was observed using {} ({} calls, last seen {}), but nobody documented it",
                o.target,
                o.calls,
                seen(o, now)
            ),
            EdgeKind::Calls => format!(
                "{who} was observed calling {} ({} calls, last seen {}), but nobody documented the dependency",
                o.target,
                o.calls,
                seen(o, now)
            ),
        },
    }
}

/// A documented edge tracing covers but has not seen for `stale_days`, as
/// a flag; `None` when it was seen lately or tracing does not cover its
/// consumer.
pub fn unobserved(
    index: &Index,
    kind: EdgeKind,
    consumer: &str,
    target: &str,
    now: Timestamp,
    stale_days: u32,
) -> Option<Flag> {
    if !index.covers(kind, consumer, target) {
        return None;
    }
    let o = index.get(kind, consumer, target);
    if o.is_some_and(|o| o.age_days(now) < i64::from(stale_days)) {
        return None;
    }
    // Never seen means something only once tracing has watched for the
    // stale age: a day of tracing has not seen a weekly batch job.
    if o.is_none() && index.watched_days() < i64::from(stale_days) {
        return None;
    }
    let what = match kind {
        EdgeKind::Uses => format!("{consumer} is documented as using {target}"),
        EdgeKind::Calls => format!("{consumer} is documented as depending on {target}"),
    };
    Some(Flag {
        kind,
        consumer: consumer.to_owned(),
        consumer_known: true,
        target: target.to_owned(),
        last_seen: o.map(|o| o.last_seen.to_string()),
        age_days: o.map(|o| o.age_days(now)),
        calls: o.map(|o| o.calls),
        message: match o {
            Some(o) => format!(
                "{what}, but tracing last saw it {} (over {stale_days} days)",
                seen(o, now)
            ),
            None => {
                format!(
                    "{what}, but tracing, which sees {consumer}'s calls and {target}'s other {}, never saw it",
                    match kind {
                        EdgeKind::Uses => "users",
                        EdgeKind::Calls => "callers",
                    }
                )
            }
        },
    })
}

/// The evidence for a blast radius: `contained` are the identities the
/// actions contain, `impacted` the services they break; `documented_users`
/// and `documented_dependencies` read the owners' record (an identity's
/// consumers, a service's dependencies).
pub fn blast_evidence<'g>(
    index: &Index,
    contained: &[String],
    impacted: &[String],
    documented_users: impl Fn(&str) -> Vec<&'g str>,
    documented_dependencies: impl Fn(&str) -> Vec<&'g str>,
    now: Timestamp,
    stale_days: u32,
) -> BlastEvidence {
    let mut evidence = BlastEvidence {
        stale_days,
        ..BlastEvidence::default()
    };
    let hit: HashSet<&str> = impacted.iter().map(String::as_str).collect();
    for identity in contained {
        let users = documented_users(identity);
        for o in index.into_target(EdgeKind::Uses, identity) {
            if !users.contains(&o.consumer.as_str()) && o.age_days(now) < i64::from(stale_days) {
                evidence.observed_undocumented.push(undocumented(o, now));
            }
        }
        for u in users {
            if let Some(f) = unobserved(index, EdgeKind::Uses, u, identity, now, stale_days) {
                evidence.documented_unobserved.push(f);
            }
        }
    }
    for service in impacted {
        for o in index.into_target(EdgeKind::Calls, service) {
            // A documented dependant is in the radius already.
            let documented = o.consumer_known
                && documented_dependencies(&o.consumer).contains(&service.as_str());
            if !documented
                && !hit.contains(o.consumer.as_str())
                && o.age_days(now) < i64::from(stale_days)
            {
                evidence.observed_undocumented.push(undocumented(o, now));
            }
        }
    }
    let order = |f: &Flag| (f.consumer.clone(), f.target.clone());
    evidence.observed_undocumented.sort_by_key(order);
    evidence
        .observed_undocumented
        .dedup_by(|a, b| a.consumer == b.consumer && a.target == b.target && a.kind == b.kind);
    evidence.documented_unobserved.sort_by_key(order);
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(kind: EdgeKind, consumer: &str, target: &str, last: &str, calls: u64) -> Observation {
        Observation {
            kind,
            consumer: consumer.into(),
            consumer_known: !consumer.starts_with("unknown"),
            target: target.into(),
            target_known: true,
            first_seen: "2026-11-01T00:00:00Z".parse().unwrap(),
            last_seen: last.parse().unwrap(),
            calls,
            source: "zipkin".into(),
        }
    }

    #[test]
    fn a_later_sighting_keeps_the_earliest_first_and_the_latest_calls() {
        let mut a = obs(EdgeKind::Calls, "a", "b", "2026-11-10T00:00:00Z", 5);
        let mut later = obs(EdgeKind::Calls, "a", "b", "2026-11-20T00:00:00Z", 9);
        later.first_seen = "2026-11-19T00:00:00Z".parse().unwrap();
        a.merge(&later);
        assert_eq!(a.calls, 9);
        assert_eq!(a.first_seen.to_string(), "2026-11-01T00:00:00Z");
        assert_eq!(a.last_seen.to_string(), "2026-11-20T00:00:00Z");
        // An older window changes neither the calls nor the last sighting.
        a.merge(&obs(EdgeKind::Calls, "a", "b", "2026-11-05T00:00:00Z", 1));
        assert_eq!(a.calls, 9);
        assert_eq!(a.last_seen.to_string(), "2026-11-20T00:00:00Z");
        // The same window from two exports: the same result either way.
        let mut x = obs(EdgeKind::Calls, "a", "b", "2026-11-20T00:00:00Z", 9);
        let mut y = obs(EdgeKind::Calls, "a", "b", "2026-11-20T00:00:00Z", 4);
        y.source = "otel-servicegraph".into();
        let (mut xy, mut yx) = (x.clone(), y.clone());
        xy.merge(&y);
        yx.merge(&x);
        assert_eq!(xy, yx);
        assert_eq!((xy.calls, xy.source.as_str()), (9, "otel-servicegraph"));
        x.merge(&xy);
        y.merge(&xy);
        assert_eq!(x, y);
    }

    #[test]
    fn blast_evidence_flags_the_undocumented_and_the_silent() {
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let index = Index::new(vec![
            // Documented and seen lately.
            obs(EdgeKind::Uses, "api", "tok", "2026-11-30T00:00:00Z", 100),
            // Seen, not documented.
            obs(EdgeKind::Uses, "batch", "tok", "2026-11-29T00:00:00Z", 7),
            // Documented, last seen long ago.
            obs(EdgeKind::Uses, "old", "tok", "2026-09-01T00:00:00Z", 2),
            // Calls an impacted service; not in the inventory.
            obs(
                EdgeKind::Calls,
                "unknown-cron",
                "ledger",
                "2026-11-30T00:00:00Z",
                3,
            ),
            // Calls an impacted service and is documented as doing so.
            obs(EdgeKind::Calls, "api", "ledger", "2026-11-30T00:00:00Z", 3),
        ]);
        let users = |_: &str| vec!["api", "old", "quiet"];
        let deps = |s: &str| if s == "api" { vec!["ledger"] } else { vec![] };
        let e = blast_evidence(
            &index,
            &["tok".into()],
            &["ledger".into()],
            users,
            deps,
            now,
            30,
        );
        let who: Vec<&str> = e
            .observed_undocumented
            .iter()
            .map(|f| f.consumer.as_str())
            .collect();
        assert_eq!(who, ["batch", "unknown-cron"]);
        assert!(
            e.observed_undocumented[1]
                .message
                .contains("not in the inventory")
        );
        let silent: Vec<&str> = e
            .documented_unobserved
            .iter()
            .map(|f| f.consumer.as_str())
            .collect();
        // "quiet" has no observed edges at all: tracing does not cover it,
        // so its silence says nothing.
        assert_eq!(silent, ["old"]);
        assert_eq!(e.documented_unobserved[0].age_days, Some(91));
        assert_eq!(
            index.evidence(EdgeKind::Uses, "api", "tok", true),
            Some(Evidence::Both)
        );
    }
}
