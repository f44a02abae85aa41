//! Plain-text output for terminals; `--json` is the format for scripts.

use comfy_table::{Table, presets::NOTHING};
use std::fmt::Write;

use countersign::attention::Finding;
use countersign::import::{Findings, ImportReport};
use countersign::inventory::Operation;
use countersign::model::Owner;
use countersign::store::{AuditEntry, IdentityDetail, IdentitySummary, ServiceSummary};

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    t
}

fn finish(t: Table, empty: &str) -> String {
    if t.row_count() == 0 {
        format!("{empty}\n")
    } else {
        format!("{t}\n")
    }
}

fn or_dash(v: Option<&str>) -> String {
    v.unwrap_or("-").to_owned()
}

pub fn identities(rows: &[IdentitySummary]) -> String {
    let mut t = table(&["id", "kind", "name", "owner", "env", "tier", "used by"]);
    for r in rows {
        let mut name = r.name.clone();
        if r.break_glass {
            name.push_str(" [break-glass]");
        }
        t.add_row(vec![
            r.id.clone(),
            r.kind.to_string(),
            name,
            or_dash(r.owner.as_deref()),
            r.environment.to_string(),
            r.tier.get().to_string(),
            r.used_by_count.to_string(),
        ]);
    }
    finish(t, "no identities")
}

pub fn services(rows: &[ServiceSummary]) -> String {
    let mut t = table(&["id", "name", "owner", "tier", "identities", "depends on"]);
    for r in rows {
        let s = &r.service;
        t.add_row(vec![
            s.id.clone(),
            s.name.clone(),
            or_dash(s.owner.as_deref()),
            s.tier.get().to_string(),
            r.identity_count.to_string(),
            s.depends_on.join(", "),
        ]);
    }
    finish(t, "no services")
}

pub fn owners(rows: &[Owner]) -> String {
    let mut t = table(&["id", "kind", "name", "email", "parent", "left on"]);
    for o in rows {
        t.add_row(vec![
            o.id.clone(),
            o.kind.to_string(),
            o.name.clone(),
            or_dash(o.email.as_deref()),
            or_dash(o.parent.as_deref()),
            o.left_on.map_or_else(|| "-".to_owned(), |d| d.to_string()),
        ]);
    }
    finish(t, "no owners")
}

pub fn identity_detail(d: &IdentityDetail) -> String {
    let i = &d.identity;
    let mut out = String::new();
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "  {k:<15}{v}");
    };
    line("kind:", i.kind.label().into());
    line("owner:", or_dash(i.owner.as_deref()));
    line("backup owner:", or_dash(i.backup_owner.as_deref()));
    if let Some(o) = &i.orphaned {
        line(
            "orphaned:",
            format!(
                "its owner {} left (found on {}); confirm it with `countersign identities review {}`",
                o.former_owner, o.since, i.id
            ),
        );
    }
    line("environment:", i.environment.label().into());
    line("tier:", format!("{} ({})", i.tier.get(), i.tier.label()));
    if let Some(l) = i.lifetime {
        line("lifetime:", l.label().into());
    }
    if let Some(e) = i.expires_on {
        line("expires on:", e.to_string());
    }
    if !i.external_ids.is_empty() {
        line("external ids:", i.external_ids.join(", "));
    }
    if !i.permissions.is_empty() {
        line("permissions:", i.permissions.join(", "));
    }
    if i.admin_equivalent {
        line(
            "privilege:",
            "admin-equivalent (administrator of its account, tenant or project)".into(),
        );
    }
    if let Some(p) = &i.derived_from {
        line("derived from:", p.clone());
    }
    if !d.derived.is_empty() {
        line("derived:", d.derived.join(", "));
    }
    if let Some(r) = &i.review {
        line("reviewed:", format!("{} by {}", r.on, r.by));
    }
    if !i.description.is_empty() {
        line("description:", i.description.clone());
    }
    if let Some(bg) = &i.break_glass {
        line("break-glass:", bg.justification.clone());
        line(
            "custodians:",
            if bg.custodians.is_empty() {
                "none".into()
            } else {
                bg.custodians.join(", ")
            },
        );
    }
    let mut text = format!("{} ({})\n{out}", i.name, i.id);
    let _ = writeln!(text, "used by {} service(s):", d.services.len());
    for (s, u) in d.services.iter().zip(&i.used_by) {
        let how = [u.access.map(|a| a.as_str()), u.delivery.map(|d| d.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            text,
            "  - {} ({}), tier {}, owner {}{}",
            s.name,
            s.id,
            s.tier.get(),
            or_dash(s.owner.as_deref()),
            if how.is_empty() {
                String::new()
            } else {
                format!(" [{how}]")
            }
        );
    }
    if !i.credentials.is_empty() {
        let _ = writeln!(text, "credentials:");
        for c in &i.credentials {
            let date =
                |d: Option<jiff::civil::Date>| d.map_or("unknown".to_owned(), |d| d.to_string());
            let _ = writeln!(
                text,
                "  - {} ({}){}: created {}, last used {}, expires {}",
                c.id,
                c.kind.label().to_lowercase(),
                if c.active { "" } else { ", inactive" },
                date(c.created_on),
                if c.never_used {
                    "never".to_owned()
                } else {
                    date(c.last_used_on)
                },
                c.expires_on.map_or("never".to_owned(), |d| d.to_string()),
            );
        }
    }
    if !i.containment.is_empty() {
        let _ = writeln!(text, "containment:");
        for (action, p) in &i.containment {
            let reversible = match p.reversible {
                Some(true) => "reversible",
                Some(false) => "destructive",
                None => "reversibility unknown",
            };
            let _ = writeln!(
                text,
                "  - {}: {reversible}{}{}",
                action.as_str(),
                p.rto_minutes
                    .map(|m| format!(", recovery {m} min"))
                    .unwrap_or_default(),
                p.preauthorised
                    .map(|t| format!(", {}", t.label().to_lowercase()))
                    .unwrap_or_default()
            );
        }
    }
    text
}

pub fn import_report(r: &ImportReport, dry_run: bool) -> String {
    let mut out = String::new();
    for c in &r.changes.changes {
        let (sign, detail) = match c.operation {
            Operation::Create => ('+', String::new()),
            Operation::Update => ('~', format!(": {}", c.changed_fields().join(", "))),
            Operation::Delete => ('-', String::new()),
        };
        let _ = writeln!(out, "{sign} {} {}{detail}", c.entity.as_str(), c.id);
    }
    let count = |op| {
        r.changes
            .changes
            .iter()
            .filter(|c| c.operation == op)
            .count()
    };
    let removed = match count(Operation::Delete) {
        0 => String::new(),
        n => format!(", {n} to remove"),
    };
    let _ = writeln!(
        out,
        "{} file(s): {} to create, {} to update{removed}, {} unchanged",
        r.files.len(),
        count(Operation::Create),
        count(Operation::Update),
        r.changes.unchanged
    );
    out.push_str(&findings(&r.findings));
    let _ = writeln!(
        out,
        "{}",
        match (&r.applied, dry_run) {
            (_, true) => "dry run: nothing written".to_owned(),
            (Some(a), false) => format!(
                "written: {} changes, audit rows {}-{}",
                a.changes,
                a.first_audit_seq.unwrap_or(0),
                a.last_audit_seq.unwrap_or(0)
            ),
            (None, false) => "nothing to write: the inventory already matches".to_owned(),
        }
    );
    out
}

/// What an import skipped, could not resolve, or did on the reader's
/// behalf, after its summary line.
fn findings(f: &Findings) -> String {
    let mut out = String::new();
    if !f.skipped.is_empty() {
        let total: usize = f.skipped.iter().map(|s| s.count).sum();
        let _ = writeln!(
            out,
            "skipped ({total} {}): no identity, service or owner in them:",
            if total == 1 { "document" } else { "documents" }
        );
        for s in &f.skipped {
            let first = &s.first;
            let place = match first.line {
                Some(line) => format!("{}:{line}", first.file),
                None => first.file.clone(),
            };
            let _ = writeln!(
                out,
                "  {} {} ({}), the first at {place}",
                s.count, s.kind, s.format
            );
        }
    }
    if !f.unresolved.is_empty() {
        let _ = writeln!(
            out,
            "unresolved ({}): references to nothing imported or stored, and what was not read, each where the files say it:",
            f.unresolved.len()
        );
        for u in &f.unresolved {
            let _ = writeln!(out, "  {u}");
        }
    }
    if !f.notes.is_empty() {
        let _ = writeln!(out, "notes ({}):", f.notes.len());
        for n in &f.notes {
            let _ = writeln!(out, "  {n}");
        }
    }
    out
}

pub fn audit(rows: &[AuditEntry]) -> String {
    let mut t = table(&["seq", "at", "actor", "operation", "entity", "id", "source"]);
    for r in rows {
        t.add_row(vec![
            r.seq.to_string(),
            r.at.clone(),
            r.actor.clone(),
            r.operation.clone(),
            r.entity.clone(),
            r.entity_id.clone(),
            r.source.clone(),
        ]);
    }
    finish(t, "no audit entries")
}

pub fn attention(rows: &[Finding]) -> String {
    let mut t = table(&["severity", "rule", "entity", "id", "why", "controls"]);
    for f in rows {
        t.add_row(vec![
            format!("{:?}", f.severity).to_lowercase(),
            f.rule.as_str().to_owned(),
            f.entity.to_owned(),
            f.id.clone(),
            f.message.clone(),
            f.controls.join(", "),
        ]);
    }
    finish(t, "nothing needs attention")
}

pub fn controls(rows: &[countersign::controls::ControlUse]) -> String {
    let mut t = table(&[
        "control",
        "what it asks",
        "needs attention",
        "policy rules",
        "drill report",
    ]);
    for u in rows {
        t.add_row(vec![
            u.control.key.to_owned(),
            u.control.title.to_owned(),
            u.attention.join(", "),
            u.policy.join(", "),
            u.drill.join(", "),
        ]);
    }
    finish(t, "no controls")
}

pub fn blast(r: &countersign::graph::blast_radius::BlastResult) -> String {
    let mut out = String::new();
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| format!("{} {}", t.action.as_str(), t.identity))
        .collect();
    let s = &r.summary;
    let _ = writeln!(out, "blast radius of {}", targets.join(" + "));
    let _ = writeln!(
        out,
        "{} services: tier 0: {}, tier 1: {}, tier 2: {}, tier 3: {}; fan-out {}; recovery {} min{}",
        s.services,
        s.per_tier[0],
        s.per_tier[1],
        s.per_tier[2],
        s.per_tier[3],
        s.fan_out,
        s.rto_minutes,
        if s.rto_unknown.is_empty() {
            ""
        } else {
            " (some unknown)"
        }
    );
    // `contained` is sorted, targets among them: name the others.
    let derived: Vec<&str> = r
        .contained
        .iter()
        .filter(|c| !r.targets.iter().any(|t| &t.identity == *c))
        .map(String::as_str)
        .collect();
    if !derived.is_empty() {
        let _ = writeln!(
            out,
            "also revokes derived credentials: {}",
            derived.join(", ")
        );
    }
    if !s.break_glass.is_empty() {
        let _ = writeln!(
            out,
            "break-glass identities involved: {}",
            s.break_glass.join(", ")
        );
    }
    for t in &s.destructive_without_rollback {
        let _ = writeln!(
            out,
            "warning: {} on {} is destructive with no rollback path",
            t.action.as_str(),
            t.identity
        );
    }
    if s.undocumented_consumers > 0 {
        let _ = writeln!(
            out,
            "warning: {} consumer(s) assumed hit because their use is undocumented",
            s.undocumented_consumers
        );
    }
    let mut t = table(&["tier", "service", "owner", "depth", "path"]);
    for i in &r.impacted {
        let path: Vec<&str> = i.path.iter().map(|p| p.id.as_str()).collect();
        t.add_row(vec![
            i.tier.get().to_string(),
            i.id.clone(),
            or_dash(i.owner.as_deref()),
            i.depth.to_string(),
            path.join(" → "),
        ]);
    }
    out.push_str(&finish(t, "nothing breaks"));
    for sp in &r.spared {
        let _ = writeln!(
            out,
            "spared: {} ({} {})",
            sp.service, sp.identity, sp.reason
        );
    }
    out
}

pub fn alternatives(a: &countersign::graph::blast_radius::Alternatives) -> String {
    let mut t = table(&[
        "action",
        "contains",
        "services",
        "tier 0",
        "tier 1",
        "score",
        "beyond recommended",
    ]);
    for o in &a.options {
        let mark = if o.action == a.recommended {
            " (recommended)"
        } else {
            ""
        };
        t.add_row(vec![
            format!("{}{mark}", o.action.as_str()),
            if o.contains { "yes" } else { "no" }.to_owned(),
            o.summary.services.to_string(),
            o.summary.per_tier[0].to_string(),
            o.summary.per_tier[1].to_string(),
            o.summary.score.to_string(),
            o.extra_services.join(", "),
        ]);
    }
    format!(
        "{} against {:?}: recommended {}\n{t}\n",
        a.identity,
        a.threat,
        a.recommended.as_str()
    )
}

pub fn rank(rows: &[countersign::graph::blast_radius::RankedIdentity]) -> String {
    let mut t = table(&["rank", "identity", "kind", "services", "score", "fan-out"]);
    for (i, r) in rows.iter().enumerate() {
        let mut id = r.id.clone();
        if r.break_glass {
            id.push_str(" [break-glass]");
        }
        t.add_row(vec![
            (i + 1).to_string(),
            id,
            r.kind.to_string(),
            r.services.to_string(),
            r.score.to_string(),
            r.fan_out.to_string(),
        ]);
    }
    finish(t, "no identities")
}

pub fn keys(rows: &[countersign::signing::KeyInfo]) -> String {
    let mut t = table(&["kid", "status", "created", "retired"]);
    for k in rows {
        t.add_row(vec![
            k.kid.clone(),
            format!("{:?}", k.status).to_lowercase(),
            k.created_at.clone(),
            or_dash(k.retired_at.as_deref()),
        ]);
    }
    finish(t, "no signing keys: run `countersign keys init`")
}

pub fn decisions(rows: &[countersign::store::DecisionRow]) -> String {
    let mut t = table(&["when", "request", "decision", "approver", "delivery", "jti"]);
    for d in rows {
        let delivery = match (&d.destination, &d.delivered_at, &d.last_error) {
            (None, _, _) => "not pushed".to_owned(),
            (Some(to), Some(at), _) => format!(
                "{} by {to} at {at}{}",
                d.receipt.as_deref().unwrap_or("delivered"),
                d.receipt_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            (Some(to), None, Some(e)) => format!(
                "pending to {to} ({} attempts; last: {e})",
                d.attempts.unwrap_or(0)
            ),
            (Some(to), None, None) => format!("pending to {to}"),
        };
        t.add_row(vec![
            d.created_at.clone(),
            d.request_id.clone(),
            d.decision.clone(),
            d.approver.clone(),
            delivery,
            d.jti.clone(),
        ]);
    }
    finish(t, "no decisions")
}

pub fn pending_requests(rows: &[super::approvals::PendingRow], url: &str) -> String {
    let mut t = table(&[
        "id",
        "action",
        "target",
        "severity",
        "backend tier",
        "local tier",
        "requested by",
        "expires",
    ]);
    let text = |v: &serde_json::Value, path: &[&str]| {
        let mut v = v;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or("-").to_owned()
    };
    for r in rows {
        let q = &r.request;
        t.add_row(vec![
            text(q, &["id"]),
            text(q, &["action"]),
            text(q, &["target", "external_id"]),
            text(q, &["severity"]),
            text(q, &["tier"]),
            match &r.local_tier {
                Ok(tier) => format!("{} ({})", tier.tier.as_str(), tier.permitted_by.join(", ")),
                Err(e) => e.clone(),
            },
            text(q, &["requested_by", "id"]),
            text(q, &["expires_at"]),
        ]);
    }
    finish(t, &format!("no requests awaiting a decision at {url}"))
}

/// What tracing adds under a blast radius (nothing when it adds nothing).
pub fn observed_evidence(e: &countersign::observed::BlastEvidence) -> String {
    let mut out = String::new();
    if !e.observed_undocumented.is_empty() {
        let _ = writeln!(
            out,
            "\nobserved but not documented ({}): they would likely break too; document them",
            e.observed_undocumented.len()
        );
        for f in &e.observed_undocumented {
            let _ = writeln!(out, "  ! {}", f.message);
        }
    }
    if !e.documented_unobserved.is_empty() {
        let _ = writeln!(
            out,
            "\ndocumented but not observed for {} days ({}): perhaps no longer a consumer",
            e.stale_days,
            e.documented_unobserved.len()
        );
        for f in &e.documented_unobserved {
            let _ = writeln!(out, "  ? {}", f.message);
        }
    }
    out
}

/// An `observed import`: the edges read, what was not, what was recorded.
pub fn observed_import(
    read: &countersign::import::observed::Read,
    recorded: Option<&countersign::store::Recorded>,
    dry_run: bool,
) -> String {
    // Names came from telemetry: one line each, whatever they hold.
    let one_line = |s: &str| s.escape_debug().to_string();
    let mut out = String::new();
    for o in &read.observations {
        let _ = writeln!(
            out,
            "{} {} {}: {} call{}, {} to {}",
            one_line(&o.consumer),
            o.kind.as_str(),
            one_line(&o.target),
            o.calls,
            if o.calls == 1 { "" } else { "s" },
            o.first_seen,
            o.last_seen
        );
    }
    let _ = writeln!(out, "{} observed edge(s) read", read.observations.len());
    for (what, list) in [
        ("unresolved", &read.findings.unresolved),
        ("notes", &read.findings.notes),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "{what} ({}):", list.len());
            for f in list {
                let _ = writeln!(out, "  {f}");
            }
        }
    }
    match recorded {
        Some(r) => {
            let _ = writeln!(
                out,
                "{}: {} new, {} updated, {} unchanged",
                if dry_run {
                    "dry run, nothing recorded; it would record"
                } else {
                    "recorded"
                },
                r.created,
                r.updated,
                r.unchanged
            );
        }
        None => {
            let _ = writeln!(out, "nothing recorded");
        }
    }
    out
}

/// `observed list`: each edge with its evidence and age.
pub fn observations(rows: &[countersign::graph::observed::ListedObservation]) -> String {
    let mut t = table(&[
        "consumer",
        "edge",
        "target",
        "evidence",
        "calls",
        "last seen",
        "age (days)",
        "source",
    ]);
    let known = |name: &str, known: bool| {
        if known {
            name.to_owned()
        } else {
            format!("{name} (not in the inventory)")
        }
    };
    for r in rows {
        let o = &r.observation;
        t.add_row(vec![
            known(&o.consumer, o.consumer_known),
            o.kind.as_str().to_owned(),
            known(&o.target, o.target_known),
            format!("{:?}", r.evidence).to_lowercase(),
            o.calls.to_string(),
            o.last_seen.to_string(),
            r.age_days.to_string(),
            o.source.clone(),
        ]);
    }
    finish(
        t,
        "no observed usage: import some with `countersign observed import FILE`",
    )
}

/// A directory import: who left, what was handed to whom.
pub fn directory(
    plan: &countersign::import::directory::DirectoryPlan,
    applied: Option<usize>,
) -> String {
    use countersign::import::directory::HandedTo;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "the directory lists {} people and {} teams ({})",
        plan.people,
        plan.teams,
        plan.files.join(", ")
    );
    if plan.departed.is_empty() {
        let _ = writeln!(out, "nobody else has left");
    } else {
        let _ = writeln!(
            out,
            "left ({}): {}",
            plan.departed.len(),
            plan.departed.join(", ")
        );
    }
    if !plan.returned.is_empty() {
        let _ = writeln!(out, "listed again: {}", plan.returned.join(", "));
    }
    for r in &plan.rerouted {
        let _ = match (r.handed_to, &r.owner) {
            (HandedTo::BackupOwner, Some(o)) => writeln!(
                out,
                "  {}: owned by {}, handed to its backup owner {o}",
                r.identity, r.former_owner
            ),
            (HandedTo::Team, Some(o)) => writeln!(
                out,
                "  {}: owned by {}, handed to their team {o}",
                r.identity, r.former_owner
            ),
            _ => writeln!(
                out,
                "  {}: owned by {}, nobody to hand it to (no backup owner or team still here): name its owner",
                r.identity, r.former_owner
            ),
        };
    }
    for f in &plan.findings.unresolved {
        let _ = writeln!(out, "unresolved: {f}");
    }
    for f in &plan.findings.notes {
        let _ = writeln!(out, "note: {f}");
    }
    let _ = match applied {
        Some(n) => writeln!(out, "written: {n} changes (audited)"),
        None if plan.changes.is_empty() => writeln!(out, "nothing to write"),
        None => writeln!(out, "{} change(s) not written", plan.changes.changes.len()),
    };
    out
}

pub fn campaigns(rows: &[countersign::store::Campaign]) -> String {
    let mut t = table(&["id", "name", "due", "started by", "started at"]);
    for c in rows {
        t.add_row(vec![
            c.id.clone(),
            c.name.clone(),
            c.due_on.clone(),
            c.started_by.clone(),
            c.started_at.clone(),
        ]);
    }
    finish(
        t,
        "no campaigns: start one with `countersign campaign start`",
    )
}

pub fn campaign_status(s: &countersign::campaign::Status) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "campaign {} ({}), due {}{}: {} of {} attested ({} confirmed, {} with changes needed), {} pending{}",
        s.campaign.id,
        s.campaign.name,
        s.campaign.due_on,
        if s.overdue { " — OVERDUE" } else { "" },
        s.confirmed + s.changes_needed,
        s.total - s.removed,
        s.confirmed,
        s.changes_needed,
        s.pending,
        if s.removed > 0 {
            format!(", {} deleted since it started", s.removed)
        } else {
            String::new()
        }
    );
    if let Some(c) = &s.campaign.closed {
        let _ = writeln!(out, "closed {} by {}: {}", c.at, c.by, c.reason);
    }
    let mut t = table(&["team", "attested", "of"]);
    for r in &s.by_team {
        t.add_row(vec![
            r.reviewer.clone(),
            r.attested.to_string(),
            r.total.to_string(),
        ]);
    }
    out.push_str(&finish(t, "no items"));
    let mut t = table(&["reviewer", "attested", "of"]);
    for r in &s.by_reviewer {
        t.add_row(vec![
            r.reviewer.clone(),
            r.attested.to_string(),
            r.total.to_string(),
        ]);
    }
    out.push_str(&finish(t, "no items"));
    let mut t = table(&["identity", "reviewer", "verdict", "by", "at"]);
    for i in &s.items {
        t.add_row(vec![
            i.identity.clone(),
            or_dash(i.reviewer.as_deref()),
            i.verdict
                .clone()
                .unwrap_or_else(|| if i.removed { "deleted" } else { "pending" }.into()),
            or_dash(i.attested_by.as_deref()),
            or_dash(i.attested_at.as_deref()),
        ]);
    }
    out.push_str(&finish(t, "no items"));
    out
}
