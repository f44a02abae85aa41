//! Plain-text output for terminals; `--json` is the format for scripts.

use comfy_table::{Table, presets::NOTHING};
use std::fmt::Write;

use countersign::attention::Finding;
use countersign::import::ImportReport;
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
    let mut t = table(&["id", "kind", "name", "email", "parent"]);
    for o in rows {
        t.add_row(vec![
            o.id.clone(),
            o.kind.to_string(),
            o.name.clone(),
            or_dash(o.email.as_deref()),
            or_dash(o.parent.as_deref()),
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
    let _ = writeln!(
        out,
        "{} file(s): {} to create, {} to update, {} unchanged",
        r.files.len(),
        count(Operation::Create),
        count(Operation::Update),
        r.changes.unchanged
    );
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
    let mut t = table(&["rule", "entity", "id", "why"]);
    for f in rows {
        t.add_row(vec![
            f.rule.as_str().to_owned(),
            f.entity.to_owned(),
            f.id.clone(),
            f.message.clone(),
        ]);
    }
    finish(t, "nothing needs attention")
}
