//! "Needs attention": the gaps in the inventory that make containment
//! unsafe, found before an incident rather than during one.

use jiff::civil::Date;
use serde::Serialize;

use crate::inventory::Inventory;

/// Reviews older than this many days are stale unless the setting says otherwise.
pub const DEFAULT_STALE_DAYS: u32 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    NoOwner,
    BreakGlassWithoutCustodians,
    DestructiveWithoutRollback,
    SharedUndocumented,
    StaleReview,
    NeverReviewed,
    Expiring,
}

/// How soon a finding needs an owner, so the list can be worked from
/// the top: `high` is what makes containment unsafe or unowned (nobody to
/// ask, nobody to hold the break-glass account, an action that cannot be
/// undone without a way back); `medium` is what makes a blast radius or a
/// credential's life uncertain; `low` is upkeep (a review gone stale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
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
            | Rule::BreakGlassWithoutCustodians
            | Rule::DestructiveWithoutRollback => Severity::High,
            Rule::SharedUndocumented | Rule::Expiring | Rule::NeverReviewed => Severity::Medium,
            Rule::StaleReview => Severity::Low,
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
}

/// Credentials expiring within this many days are flagged.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// Every finding, most urgent rule first, then by id.
pub fn findings(inv: &Inventory, today: Date, stale_days: u32) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |rule, entity, id: &str, name: &str, message: String| {
        out.push(Finding {
            rule,
            severity: Rule::severity(rule),
            entity,
            id: id.to_owned(),
            name: name.to_owned(),
            message,
        })
    };
    for s in &inv.services {
        if s.owner.as_deref().is_none_or(|o| o.trim().is_empty()) {
            push(
                Rule::NoOwner,
                "service",
                &s.id,
                &s.name,
                "no owner: nobody to call when it breaks".into(),
            );
        }
    }
    for i in &inv.identities {
        let (id, name) = (i.id.as_str(), i.name.as_str());
        if i.owner.as_deref().is_none_or(|o| o.trim().is_empty()) {
            push(
                Rule::NoOwner,
                "identity",
                id,
                name,
                "no owner: nobody can approve or refuse its containment".into(),
            );
        }
        if let Some(bg) = &i.break_glass
            && bg.custodians.is_empty()
        {
            push(
                Rule::BreakGlassWithoutCustodians,
                "identity",
                id,
                name,
                "break-glass account with no custodians: nobody holds the sealed credentials"
                    .into(),
            );
        }
        for (action, plan) in &i.containment {
            if plan.reversible == Some(false) && plan.rollback.trim().is_empty() {
                push(
                    Rule::DestructiveWithoutRollback,
                    "identity",
                    id,
                    name,
                    format!(
                        "{} is destructive and has no rollback path",
                        action.label().to_lowercase()
                    ),
                );
            }
        }
        let undocumented = i.used_by.iter().filter(|u| !u.is_documented()).count();
        if i.used_by.len() > 1 && undocumented > 0 {
            push(
                Rule::SharedUndocumented,
                "identity",
                id,
                name,
                format!(
                    "shared by {} services; {undocumented} of them without documented access and secret delivery",
                    i.used_by.len()
                ),
            );
        }
        match &i.review {
            None => push(
                Rule::NeverReviewed,
                "identity",
                id,
                name,
                "never reviewed by its owner".into(),
            ),
            Some(r) => {
                let age = i64::from((today - r.on).get_days());
                if age > i64::from(stale_days) {
                    push(
                        Rule::StaleReview,
                        "identity",
                        id,
                        name,
                        format!(
                            "last reviewed {age} days ago by {} (stale after {stale_days})",
                            r.by
                        ),
                    );
                }
            }
        }
        if let Some(expiry) = i.expires_on {
            let left = i64::from((expiry - today).get_days());
            if left < 0 {
                push(
                    Rule::Expiring,
                    "identity",
                    id,
                    name,
                    format!("expired on {expiry}"),
                );
            } else if left <= EXPIRY_WARNING_DAYS {
                push(
                    Rule::Expiring,
                    "identity",
                    id,
                    name,
                    format!("expires on {expiry}, in {left} days"),
                );
            }
        }
    }
    out.sort_by(|a, b| (a.rule, &a.id).cmp(&(b.rule, &b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_findings() -> Vec<Finding> {
        let today: Date = "2026-11-24".parse().unwrap();
        findings(
            &crate::demo::inventory().unwrap(),
            today,
            DEFAULT_STALE_DAYS,
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

    #[test]
    fn stale_threshold_is_configurable() {
        let today: Date = "2026-11-24".parse().unwrap();
        let inv = crate::demo::inventory().unwrap();
        assert!(has(
            &findings(&inv, today, 30),
            Rule::StaleReview,
            "tok-kafka-shared"
        ));
        assert!(!has(
            &findings(&inv, today, 90),
            Rule::StaleReview,
            "tok-kafka-shared"
        ));
    }
}
