//! "Needs attention": the gaps in the inventory that make containment
//! unsafe, found before an incident rather than during one.

use jiff::civil::Date;
use serde::Serialize;

use crate::inventory::Inventory;

/// Reviews older than this many days are stale unless the setting says
/// otherwise (CIS Controls v8 5.5 asks for service accounts to be
/// reviewed at least quarterly).
pub const DEFAULT_STALE_DAYS: u32 = 90;

/// The ages, in days, past which the rules speak. Each is a setting an
/// organisation sets to its own policy (`countersign settings …`); the
/// defaults are the benchmarks' figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// A review older than this is stale ([`DEFAULT_STALE_DAYS`]).
    pub stale_review_days: u32,
    /// An active credential older than this is due for rotation
    /// ([`ROTATION_DAYS`]).
    pub credential_rotation_days: u32,
    /// An active credential unused for this long should be disabled
    /// ([`UNUSED_DAYS`]).
    pub credential_unused_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            stale_review_days: DEFAULT_STALE_DAYS,
            credential_rotation_days: ROTATION_DAYS,
            credential_unused_days: UNUSED_DAYS,
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    NoOwner,
    /// Its owner left the organisation (a directory import no longer lists
    /// them): handed to its backup owner or team, who must confirm it.
    Orphaned,
    BreakGlassWithoutCustodians,
    DestructiveWithoutRollback,
    /// Admin-equivalent and not designated break-glass (OWASP NHI Top 10
    /// 2025, NHI5 "Overprivileged NHI").
    AdminWithoutBreakGlass,
    SharedUndocumented,
    StaleReview,
    NeverReviewed,
    Expiring,
    /// An active credential unused for [`Thresholds::credential_unused_days`].
    CredentialUnused,
    /// An active credential older than [`Thresholds::credential_rotation_days`].
    CredentialRotationDue,
    /// Tracing saw a service use the identity, or call the service, and
    /// nobody documented it ([`crate::observed`]).
    ObservedUndocumented,
    /// A documented use or dependency tracing covers but has not seen for
    /// the `observed-stale-days` setting.
    DocumentedUnobserved,
    /// Waiting for its attestation in a review campaign past its due date
    /// (CIS Controls v8 5.5 asks for service accounts to be reviewed on a
    /// schedule).
    ReviewOverdue,
    /// Its latest attestation says the record is wrong, and the record is
    /// still as attested: nobody has acted on it.
    AttestedChangesNeeded,
}

/// How soon a finding needs an owner, so the list can be worked from
/// the top: `high` is what makes containment unsafe or unowned (nobody to
/// ask, nobody to hold the break-glass account, an action that cannot be
/// undone without a way back); `medium` is what makes a blast radius or a
/// credential's life uncertain; `low` is upkeep (a review gone stale).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Rule {
    /// The severity every finding of this rule has.
    pub fn severity(self) -> Severity {
        match self {
            Rule::NoOwner
            | Rule::Orphaned
            | Rule::BreakGlassWithoutCustodians
            | Rule::DestructiveWithoutRollback
            | Rule::AdminWithoutBreakGlass => Severity::High,
            Rule::SharedUndocumented
            | Rule::Expiring
            | Rule::NeverReviewed
            | Rule::CredentialUnused
            | Rule::CredentialRotationDue
            | Rule::ObservedUndocumented
            | Rule::ReviewOverdue
            | Rule::AttestedChangesNeeded => Severity::Medium,
            Rule::StaleReview | Rule::DocumentedUnobserved => Severity::Low,
        }
    }

    /// The keys of the controls a finding of this rule is evidence against
    /// ([`crate::controls`]): what an auditor maps it to.
    pub fn controls(self) -> &'static [&'static str] {
        match self {
            Rule::NoOwner => &["OWASP NHI1:2025", "NIST CSF GV.RR-02", "CIS 5.5"],
            Rule::BreakGlassWithoutCustodians => {
                &["OWASP NHI10:2025", "NIST CSF PR.AA-01", "CIS 5.4"]
            }
            Rule::DestructiveWithoutRollback => {
                &["NIST CSF RS.MI-01", "NIST CSF RC.RP-01", "CIS 17.4"]
            }
            Rule::AdminWithoutBreakGlass => &["OWASP NHI5:2025", "NIST CSF PR.AA-05", "CIS 5.4"],
            Rule::SharedUndocumented => {
                &["OWASP NHI9:2025", "NIST CSF ID.AM-03", "NIST CSF RS.MI-01"]
            }
            Rule::StaleReview | Rule::NeverReviewed => {
                &["OWASP NHI1:2025", "NIST CSF PR.AA-05", "CIS 5.5"]
            }
            Rule::Expiring => &["OWASP NHI7:2025", "NIST CSF PR.AA-01", "NIST CSF ID.AM-08"],
            Rule::CredentialUnused => &[
                "OWASP NHI1:2025",
                "NIST CSF PR.AA-01",
                "CIS 5.3",
                "CIS AWS 1.12",
            ],
            Rule::CredentialRotationDue => {
                &["OWASP NHI7:2025", "NIST CSF PR.AA-01", "CIS AWS 1.14"]
            }
            Rule::ObservedUndocumented => &["NIST CSF ID.AM-03", "OWASP NHI9:2025", "CIS 5.5"],
            Rule::DocumentedUnobserved => &["NIST CSF ID.AM-03", "OWASP NHI1:2025"],
            Rule::Orphaned => &["OWASP NHI1:2025", "NIST CSF GV.RR-02", "CIS 5.5"],
            Rule::ReviewOverdue => &["CIS 5.5", "OWASP NHI1:2025", "NIST CSF PR.AA-05"],
            Rule::AttestedChangesNeeded => &["CIS 5.5", "NIST CSF ID.AM-03", "OWASP NHI1:2025"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NoOwner => "no_owner",
            Rule::BreakGlassWithoutCustodians => "break_glass_without_custodians",
            Rule::DestructiveWithoutRollback => "destructive_without_rollback",
            Rule::SharedUndocumented => "shared_undocumented",
            Rule::StaleReview => "stale_review",
            Rule::NeverReviewed => "never_reviewed",
            Rule::Expiring => "expiring",
            Rule::AdminWithoutBreakGlass => "admin_without_break_glass",
            Rule::CredentialUnused => "credential_unused",
            Rule::CredentialRotationDue => "credential_rotation_due",
            Rule::Orphaned => "orphaned",
            Rule::ObservedUndocumented => "observed_undocumented",
            Rule::DocumentedUnobserved => "documented_unobserved",
            Rule::ReviewOverdue => "review_overdue",
            Rule::AttestedChangesNeeded => "attested_changes_needed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Finding {
    pub rule: Rule,
    /// The rule's [`Severity`].
    pub severity: Severity,
    /// `identity` or `service`.
    #[ts(type = "\"identity\" | \"service\"")]
    pub entity: &'static str,
    pub id: String,
    pub name: String,
    pub message: String,
    /// The keys of the controls it is evidence against ([`Rule::controls`]).
    #[ts(type = "string[]")]
    pub controls: &'static [&'static str],
}

/// Credentials expiring within this many days are flagged.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// By default, an active credential older than this many days is due for
/// rotation (CIS AWS Foundations Benchmark 1.14: access keys rotated every
/// 90 days or less).
pub const ROTATION_DAYS: u32 = 90;

/// By default, an active credential unused for this many days should be
/// disabled (CIS AWS Foundations Benchmark 1.12: credentials unused for 45
/// days or more).
pub const UNUSED_DAYS: u32 = 45;

/// Every finding, most urgent rule first, then by id.
pub fn findings(inv: &Inventory, today: Date, thresholds: Thresholds) -> Vec<Finding> {
    let mut scan = Scan::new(today, thresholds, Query::default());
    for s in &inv.services {
        scan.service(s);
    }
    for i in &inv.identities {
        scan.identity(i);
    }
    scan.finish().findings
}

/// Which findings a [`Scan`] keeps. The default keeps every finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[ts(rename = "AttentionQuery")]
pub struct Query {
    /// Only findings of this severity (all when absent).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Only findings after this one in the list's order (the last of the
    /// page before).
    #[serde(default)]
    pub after: Option<FindingKey>,
    /// At most this many findings of each severity (all when absent).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A finding's place in the list: by rule (most urgent first), then by id,
/// then identity before service.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, ts_rs::TS,
)]
pub struct FindingKey {
    pub rule: Rule,
    pub id: String,
    /// `identity` or `service`.
    pub entity: String,
}

impl Finding {
    pub fn key(&self) -> FindingKey {
        FindingKey {
            rule: self.rule,
            id: self.id.clone(),
            entity: self.entity.to_owned(),
        }
    }
}

/// How many findings one rule has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RuleCount {
    pub rule: Rule,
    pub severity: Severity,
    pub count: u32,
    /// The controls the rule serves, in full ([`Rule::controls`]).
    pub controls: Vec<crate::controls::Control>,
}

/// What a [`Scan`] found: every rule's count, and the findings the query
/// kept, most urgent rule first, then by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "AttentionReport")]
pub struct Report {
    /// Findings in all, whatever the query kept.
    pub total: u32,
    /// The rules with findings, most urgent first.
    pub counts: Vec<RuleCount>,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings of `severity` in all.
    pub fn count_of(&self, severity: Severity) -> u32 {
        self.counts
            .iter()
            .filter(|c| c.severity == severity)
            .map(|c| c.count)
            .sum()
    }
}

/// Every rule, most urgent first.
pub const RULES: [Rule; 15] = [
    Rule::NoOwner,
    Rule::Orphaned,
    Rule::BreakGlassWithoutCustodians,
    Rule::DestructiveWithoutRollback,
    Rule::AdminWithoutBreakGlass,
    Rule::SharedUndocumented,
    Rule::StaleReview,
    Rule::NeverReviewed,
    Rule::Expiring,
    Rule::CredentialUnused,
    Rule::CredentialRotationDue,
    Rule::ObservedUndocumented,
    Rule::DocumentedUnobserved,
    Rule::ReviewOverdue,
    Rule::AttestedChangesNeeded,
];

/// What review campaigns say of identities, for the campaign rules
/// ([`Scan::with_campaigns`]); the store reads it from its campaigns.
#[derive(Debug, Clone, Default)]
pub struct CampaignFacts {
    /// By identity: its items waiting for an attestation in campaigns past
    /// their due date.
    pub overdue: std::collections::HashMap<String, Vec<OverdueItem>>,
    /// By identity: its latest attestation, when it says changes are
    /// needed.
    pub changes_needed: std::collections::HashMap<String, ChangesNeeded>,
}

impl CampaignFacts {
    pub fn is_empty(&self) -> bool {
        self.overdue.is_empty() && self.changes_needed.is_empty()
    }
}

/// An item waiting past its campaign's due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueItem {
    pub campaign: String,
    pub due_on: Date,
    pub reviewer: Option<String>,
}

/// An attestation that says the record is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesNeeded {
    pub campaign: String,
    pub attested_by: String,
    /// RFC 3339.
    pub attested_at: String,
    /// The questions answered no, as the attestation names them
    /// (`still_needed`, `owners_right`, `consumers_complete`,
    /// `containment_right`).
    pub answered_no: Vec<String>,
    pub comment: Option<String>,
    /// The identity's record as attested (RFC 8785 canonical JSON): the
    /// finding stands while the record is still this.
    pub record: String,
}

/// A kept finding, ordered by its place in the list.
struct Kept(FindingKey, Finding);

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// Finds what needs attention one entity at a time, so an inventory can
/// be checked while it is read in batches: it counts every finding and
/// keeps only the ones the [`Query`] asks for (the first `limit` of each
/// severity, in the list's order, whatever order entities come in), so
/// its memory is bounded by the page, not by the inventory.
pub struct Scan {
    today: Date,
    thresholds: Thresholds,
    query: Query,
    counts: [u32; RULES.len()],
    /// Per rule, the best `limit` findings so far (a max-heap, so the
    /// worst kept one is dropped when a better one comes).
    kept: [std::collections::BinaryHeap<Kept>; RULES.len()],
    /// What tracing saw, when anything was imported, and the stale age.
    observed: Option<(std::sync::Arc<crate::observed::Index>, u32)>,
    /// What review campaigns say, when any was started.
    campaigns: Option<std::sync::Arc<CampaignFacts>>,
}

impl Scan {
    pub fn new(today: Date, thresholds: Thresholds, query: Query) -> Self {
        Scan {
            today,
            thresholds,
            query,
            counts: [0; RULES.len()],
            kept: Default::default(),
            observed: None,
            campaigns: None,
        }
    }

    /// Checks review campaigns too: the `review_overdue` and
    /// `attested_changes_needed` rules.
    pub fn with_campaigns(mut self, facts: std::sync::Arc<CampaignFacts>) -> Self {
        if !facts.is_empty() {
            self.campaigns = Some(facts);
        }
        self
    }

    /// The campaign rules for one identity.
    fn campaign_rules(&mut self, i: &crate::model::Identity) {
        let Some(facts) = self.campaigns.clone() else {
            return;
        };
        let (id, name) = (i.id.as_str(), i.name.as_str());
        if let Some(items) = facts.overdue.get(id) {
            let today = self.today;
            self.found(Rule::ReviewOverdue, "identity", id, name, || {
                items
                    .iter()
                    .map(|o| {
                        let late = (today - o.due_on).get_days();
                        format!(
                            "not attested in campaign {}, due {} ({late} day{} overdue); its reviewer is {}",
                            o.campaign,
                            o.due_on,
                            if late == 1 { "" } else { "s" },
                            o.reviewer.as_deref().unwrap_or("nobody")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            });
        }
        if let Some(c) = facts.changes_needed.get(id) {
            let now = serde_json::to_value(i)
                .ok()
                .and_then(|v| serde_jcs::to_string(&v).ok());
            if now.as_deref() == Some(c.record.as_str()) {
                self.found(Rule::AttestedChangesNeeded, "identity", id, name, || {
                    let what: Vec<&str> = c
                        .answered_no
                        .iter()
                        .map(|q| match q.as_str() {
                            "still_needed" => "it is no longer needed",
                            "owners_right" => "its owner or backup owner is wrong",
                            "consumers_complete" => "its consumers are incomplete",
                            "containment_right" => "its containment plan is wrong",
                            other => other,
                        })
                        .collect();
                    let day = c.attested_at.get(..10).unwrap_or(&c.attested_at);
                    let mut m = format!(
                        "{} attested on {day} (campaign {}) that {}",
                        c.attested_by,
                        c.campaign,
                        what.join(", ")
                    );
                    if let Some(comment) = c.comment.as_deref().filter(|t| !t.is_empty()) {
                        m.push_str(&format!(": \"{comment}\""));
                    }
                    m.push_str("; the record is unchanged since: fix it, or retire the identity");
                    m
                });
            }
        }
    }

    /// Checks observed usage too: the `observed_undocumented` and
    /// `documented_unobserved` rules, with `stale_days` the age past which
    /// a documented edge tracing covers counts as unobserved.
    pub fn with_observed(
        mut self,
        index: std::sync::Arc<crate::observed::Index>,
        stale_days: u32,
    ) -> Self {
        if !index.is_empty() {
            self.observed = Some((index, stale_days));
        }
        self
    }

    /// Whether observed usage is checked ([`Scan::with_observed`]).
    pub fn checks_observed(&self) -> bool {
        self.observed.is_some()
    }

    /// The observed-usage rules on one side of the map: `entity` `id`'s
    /// documented edges of `kind` (its consumers, or its dependencies),
    /// and the observed edges that should be among them.
    fn observed_rules(
        &mut self,
        entity: &'static str,
        (id, name): (&str, &str),
        kind: crate::observed::EdgeKind,
        documented: &[&str],
    ) {
        use crate::observed::{EdgeKind, undocumented, unobserved};
        let Some((index, stale)) = self.observed.clone() else {
            return;
        };
        let now = jiff::Timestamp::now();
        // An identity's observed consumers; a service's observed callees,
        // and the unknown services seen calling it.
        let seen: Vec<&crate::observed::Observation> = match kind {
            EdgeKind::Uses => index.into_target(kind, id).collect(),
            EdgeKind::Calls => index
                .from_consumer(kind, id)
                .chain(index.into_target(kind, id).filter(|o| !o.consumer_known))
                .collect(),
        };
        let missing: Vec<String> = seen
            .iter()
            .filter(|o| {
                // The other end: a consumer of this identity, a service this
                // one calls, or an unknown service calling it (never
                // documented, since the inventory does not hold it).
                let other = match kind {
                    EdgeKind::Uses => &o.consumer,
                    EdgeKind::Calls if o.consumer == id => &o.target,
                    EdgeKind::Calls => &o.consumer,
                };
                // Seen lately: an edge last seen long ago says nothing of now.
                !documented.contains(&other.as_str()) && o.age_days(now) < i64::from(stale)
            })
            .map(|o| undocumented(o, now).message)
            .collect();
        if !missing.is_empty() {
            self.found(Rule::ObservedUndocumented, entity, id, name, || {
                missing.join("; ")
            });
        }
        let silent: Vec<String> = documented
            .iter()
            .filter_map(|d| match kind {
                EdgeKind::Uses => unobserved(&index, kind, d, id, now, stale),
                EdgeKind::Calls => unobserved(&index, kind, id, d, now, stale),
            })
            .map(|f| f.message)
            .collect();
        if !silent.is_empty() {
            self.found(Rule::DocumentedUnobserved, entity, id, name, || {
                silent.join("; ")
            });
        }
    }

    /// The observed-usage rules for a service, from its documented
    /// dependencies ([`Scan::with_observed`]).
    pub fn service_dependencies(&mut self, id: &str, name: &str, depends_on: &[&str]) {
        self.observed_rules(
            "service",
            (id, name),
            crate::observed::EdgeKind::Calls,
            depends_on,
        );
    }

    /// Counts a finding, and keeps it if the query wants it; the message
    /// is only written for a finding kept.
    fn found(
        &mut self,
        rule: Rule,
        entity: &'static str,
        id: &str,
        name: &str,
        message: impl FnOnce() -> String,
    ) {
        let r = rule as usize;
        self.counts[r] += 1;
        if self.query.severity.is_some_and(|s| s != rule.severity()) {
            return;
        }
        let key = FindingKey {
            rule,
            id: id.to_owned(),
            entity: entity.to_owned(),
        };
        if self.query.after.as_ref().is_some_and(|a| key <= *a) {
            return;
        }
        let heap = &mut self.kept[r];
        if let Some(limit) = self.query.limit {
            if limit == 0 {
                return;
            }
            if heap.len() >= limit as usize {
                if heap.peek().is_some_and(|worst| key >= worst.0) {
                    return;
                }
                heap.pop();
            }
        }
        let finding = Finding {
            rule,
            severity: rule.severity(),
            entity,
            id: id.to_owned(),
            name: name.to_owned(),
            message: message(),
            controls: rule.controls(),
        };
        heap.push(Kept(key, finding));
    }

    pub fn service(&mut self, s: &crate::model::Service) {
        self.service_row(&s.id, &s.name, s.owner.as_deref());
        if self.observed.is_some() {
            let deps: Vec<&str> = s.depends_on.iter().map(String::as_str).collect();
            self.service_dependencies(&s.id, &s.name, &deps);
        }
    }

    /// [`Scan::service`] from the columns it reads.
    pub fn service_row(&mut self, id: &str, name: &str, owner: Option<&str>) {
        if owner.is_none_or(|o| o.trim().is_empty()) {
            self.found(Rule::NoOwner, "service", id, name, || {
                "no owner: nobody to call when it breaks".into()
            });
        }
    }

    pub fn identity(&mut self, i: &crate::model::Identity) {
        let (id, name) = (i.id.as_str(), i.name.as_str());
        self.campaign_rules(i);
        if self.observed.is_some() {
            let users: Vec<&str> = i.used_by.iter().map(|u| u.service.as_str()).collect();
            self.observed_rules(
                "identity",
                (id, name),
                crate::observed::EdgeKind::Uses,
                &users,
            );
        }
        if i.owner.as_deref().is_none_or(|o| o.trim().is_empty()) {
            self.found(Rule::NoOwner, "identity", id, name, || {
                "no owner: nobody can approve or refuse its containment".into()
            });
        }
        if let Some(o) = &i.orphaned {
            self.found(Rule::Orphaned, "identity", id, name, || {
                match i.owner.as_deref().filter(|now| *now != o.former_owner) {
                    Some(now) => format!(
                        "its owner {} left (found on {}); handed to {now}, who must confirm the record (mark it reviewed) or name its owner",
                        o.former_owner, o.since
                    ),
                    None => format!(
                        "its owner {} left (found on {}) and there was nobody to hand it to: name its owner",
                        o.former_owner, o.since
                    ),
                }
            });
        }
        if let Some(bg) = &i.break_glass
            && bg.custodians.is_empty()
        {
            self.found(
                Rule::BreakGlassWithoutCustodians,
                "identity",
                id,
                name,
                || {
                    "break-glass account with no custodians: nobody holds the sealed credentials"
                        .into()
                },
            );
        }
        for (action, plan) in &i.containment {
            if plan.reversible == Some(false) && plan.rollback.trim().is_empty() {
                self.found(
                    Rule::DestructiveWithoutRollback,
                    "identity",
                    id,
                    name,
                    || {
                        format!(
                            "{} is destructive and has no rollback path",
                            action.label().to_lowercase()
                        )
                    },
                );
            }
        }
        if i.admin_equivalent && i.break_glass.is_none() {
            self.found(Rule::AdminWithoutBreakGlass, "identity", id, name, || {
                "admin-equivalent (an administrator of its account, tenant or project) and not designated break-glass: reduce its permissions, or designate it with custodians and a use window".into()
            });
        }
        let undocumented = i.used_by.iter().filter(|u| !u.is_documented()).count();
        if i.used_by.len() > 1 && undocumented > 0 {
            let shared = i.used_by.len();
            self.found(Rule::SharedUndocumented, "identity", id, name, || {
                format!(
                    "shared by {shared} services; {undocumented} of them without documented access and secret delivery"
                )
            });
        }
        let (today, stale_days) = (self.today, self.thresholds.stale_review_days);
        let rotate = i64::from(self.thresholds.credential_rotation_days);
        let unused = i64::from(self.thresholds.credential_unused_days);
        match &i.review {
            None => self.found(Rule::NeverReviewed, "identity", id, name, || {
                "never reviewed by its owner".into()
            }),
            Some(r) => {
                let age = i64::from((today - r.on).get_days());
                if age > i64::from(stale_days) {
                    self.found(Rule::StaleReview, "identity", id, name, || {
                        format!(
                            "last reviewed {age} days ago by {} (stale after {stale_days})",
                            r.by
                        )
                    });
                }
            }
        }
        for c in i.credentials.iter().filter(|c| c.active) {
            let what = format!("{} {}", c.kind.label().to_lowercase(), c.id);
            if let Some(idle) = c.idle_days(today)
                && idle >= unused
            {
                self.found(Rule::CredentialUnused, "identity", id, name, || match c.last_used_on {
                    Some(last) => format!("{what} is active and unused since {last}, {idle} days (disable it after {unused})"),
                    None => format!("{what} is active and never used in its {idle} days (disable it after {unused})"),
                });
            }
            if let Some(age) = c.age_days(today)
                && age > rotate
            {
                self.found(Rule::CredentialRotationDue, "identity", id, name, || {
                    format!("{what} is {age} days old (rotate every {rotate})")
                });
            }
            if let Some(left) = c.days_to_expiry(today) {
                let expiry = c.expires_on.expect("days_to_expiry needs it");
                if left < 0 {
                    self.found(Rule::Expiring, "identity", id, name, || {
                        format!("{what} expired on {expiry}")
                    });
                } else if left <= EXPIRY_WARNING_DAYS {
                    self.found(Rule::Expiring, "identity", id, name, || {
                        format!("{what} expires on {expiry}, in {left} days")
                    });
                }
            }
        }
        if let Some(expiry) = i.expires_on {
            let left = i64::from((expiry - today).get_days());
            if left < 0 {
                self.found(Rule::Expiring, "identity", id, name, || {
                    format!("expired on {expiry}")
                });
            } else if left <= EXPIRY_WARNING_DAYS {
                self.found(Rule::Expiring, "identity", id, name, || {
                    format!("expires on {expiry}, in {left} days")
                });
            }
        }
    }

    pub fn finish(self) -> Report {
        let counts: Vec<RuleCount> = RULES
            .iter()
            .filter(|r| self.counts[**r as usize] > 0)
            .map(|&rule| RuleCount {
                rule,
                severity: rule.severity(),
                count: self.counts[rule as usize],
                controls: crate::controls::all(rule.controls()),
            })
            .collect();
        let total = self.counts.iter().sum();
        let mut by_rule: Vec<Vec<Finding>> = self
            .kept
            .into_iter()
            .map(|h| h.into_sorted_vec().into_iter().map(|k| k.1).collect())
            .collect();
        let mut findings = Vec::new();
        for severity in [Severity::High, Severity::Medium, Severity::Low] {
            let mut of_severity: Vec<Finding> = Vec::new();
            // Rules in list order (most urgent first): the first `limit`
            // of a severity are its first rules' first findings.
            for rule in RULES.iter().filter(|r| r.severity() == severity) {
                of_severity.append(&mut by_rule[*rule as usize]);
            }
            if let Some(limit) = self.query.limit {
                of_severity.truncate(limit as usize);
            }
            findings.append(&mut of_severity);
        }
        findings.sort_by(|a, b| (a.rule, &a.id, a.entity).cmp(&(b.rule, &b.id, b.entity)));
        Report {
            total,
            counts,
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_findings() -> Vec<Finding> {
        let today: Date = "2026-11-24".parse().unwrap();
        findings(
            &crate::demo::inventory().unwrap(),
            today,
            Thresholds::default(),
        )
    }

    fn has(f: &[Finding], rule: Rule, id: &str) -> bool {
        f.iter().any(|x| x.rule == rule && x.id == id)
    }

    #[test]
    fn demo_gaps_are_found() {
        let f = demo_findings();
        assert!(has(&f, Rule::NoOwner, "ssh-finance-sftp"));
        assert!(has(&f, Rule::BreakGlassWithoutCustodians, "bg-db-admin"));
        assert!(!has(&f, Rule::BreakGlassWithoutCustodians, "bg-cloud-root"));
        assert!(has(
            &f,
            Rule::DestructiveWithoutRollback,
            "tok-kafka-shared"
        ));
        assert!(has(&f, Rule::StaleReview, "deploy-key-prod"));
        assert!(!has(&f, Rule::StaleReview, "sa-payments-api"));
        assert!(has(&f, Rule::SharedUndocumented, "sa-ledger-writer"));
        assert!(
            !has(&f, Rule::SharedUndocumented, "tok-kafka-shared"),
            "all six consumers documented"
        );
        assert!(has(&f, Rule::Expiring, "tok-warehouse-pat"));
    }

    /// Credentials as an issuer reports them, judged on a fixed day (CIS
    /// AWS 1.12 and 1.14 thresholds), and an administrator without a
    /// break-glass designation.
    #[test]
    fn credentials_and_admin_equivalence_are_checked() {
        use crate::model::{
            BreakGlass, Credential, CredentialKind, Environment, Identity, IdentityKind, Tier,
        };
        let today: Date = "2026-12-02".parse().unwrap();
        let day = |s: &str| Some(s.parse::<Date>().unwrap());
        let mut key = Identity::new(
            "bot",
            IdentityKind::ApiKey,
            "bot",
            Environment::Production,
            Tier::IMPORTANT,
        );
        let mut fresh = Credential::new("access_key_1", CredentialKind::AccessKey);
        fresh.created_on = day("2026-11-01");
        fresh.last_used_on = day("2026-12-01");
        let mut old_unused = Credential::new("access_key_2", CredentialKind::AccessKey);
        old_unused.created_on = day("2025-01-10");
        old_unused.last_used_on = day("2026-10-01"); // 62 days
        let mut inactive = Credential::new("cert_1", CredentialKind::Certificate);
        inactive.created_on = day("2019-01-01");
        inactive.active = false;
        let mut secret = Credential::new("s1", CredentialKind::ClientSecret);
        secret.created_on = day("2026-11-20");
        secret.last_used_on = day("2026-12-01");
        secret.expires_on = day("2026-12-20");
        key.credentials = vec![fresh, old_unused, inactive, secret];
        key.admin_equivalent = true;
        let mut glass = key.clone();
        glass.id = "glass".into();
        glass.credentials.clear();
        glass.break_glass = Some(BreakGlass {
            justification: "DR".into(),
            custodians: vec!["a".into()],
            use_window: String::new(),
            always_dual_approval: true,
            owner_veto: true,
        });
        let inv = Inventory {
            identities: vec![key, glass],
            ..Inventory::default()
        };
        let f = findings(&inv, today, Thresholds::default());
        let of = |rule: Rule| -> Vec<&str> {
            f.iter()
                .filter(|x| x.rule == rule)
                .map(|x| x.message.as_str())
                .collect()
        };
        assert_eq!(
            of(Rule::CredentialUnused),
            [
                "access key access_key_2 is active and unused since 2026-10-01, 62 days (disable it after 45)"
            ]
        );
        assert_eq!(
            of(Rule::CredentialRotationDue),
            ["access key access_key_2 is 691 days old (rotate every 90)"],
            "an inactive certificate is not due"
        );
        assert_eq!(
            of(Rule::Expiring),
            ["client secret s1 expires on 2026-12-20, in 18 days"]
        );
        assert!(has(&f, Rule::AdminWithoutBreakGlass, "bot"));
        assert!(!has(&f, Rule::AdminWithoutBreakGlass, "glass"));
        assert_eq!(Rule::AdminWithoutBreakGlass.severity(), Severity::High);

        // An organisation's own policy: rotate yearly, disable after 90 days.
        let own = Thresholds {
            credential_rotation_days: 365,
            credential_unused_days: 90,
            ..Thresholds::default()
        };
        let f = findings(&inv, today, own);
        assert!(!f.iter().any(|x| x.rule == Rule::CredentialUnused));
        assert_eq!(
            f.iter()
                .filter(|x| x.rule == Rule::CredentialRotationDue)
                .map(|x| x.message.as_str())
                .collect::<Vec<_>>(),
            ["access key access_key_2 is 691 days old (rotate every 365)"]
        );
    }

    #[test]
    fn stale_threshold_is_configurable() {
        let today: Date = "2026-11-24".parse().unwrap();
        let inv = crate::demo::inventory().unwrap();
        let stale = |days| Thresholds {
            stale_review_days: days,
            ..Thresholds::default()
        };
        assert!(has(
            &findings(&inv, today, stale(30)),
            Rule::StaleReview,
            "tok-kafka-shared"
        ));
        assert!(!has(
            &findings(&inv, today, stale(90)),
            Rule::StaleReview,
            "tok-kafka-shared"
        ));
    }
}
