//! Plain-text tables for terminals; `--json` is the format for scripts.

use comfy_table::{Table, presets::NOTHING};

use countersign::model::IdentityDetail;
use countersign::store::{IdentitySummary, ServiceSummary};

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

pub fn identities(rows: &[IdentitySummary]) -> String {
    let mut t = table(&["id", "kind", "name", "owner", "env", "tier", "used by"]);
    for r in rows {
        let i = &r.identity;
        let mut name = i.name.clone();
        if i.break_glass {
            name.push_str(" [break-glass]");
        }
        t.add_row(vec![
            i.id.clone(),
            i.kind.to_string(),
            name,
            i.owner.clone(),
            i.environment.to_string(),
            i.tier.get().to_string(),
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
            s.owner.clone(),
            s.tier.get().to_string(),
            r.identity_count.to_string(),
            r.depends_on.join(", "),
        ]);
    }
    finish(t, "no services")
}

pub fn identity_detail(d: &IdentityDetail) -> String {
    let i = &d.identity;
    let mut out = format!(
        "{} ({})\n  kind:        {}\n  owner:       {}\n  environment: {}\n  tier:        {} ({})\n  break-glass: {}\n",
        i.name,
        i.id,
        i.kind.label(),
        i.owner,
        i.environment.label(),
        i.tier.get(),
        i.tier.label(),
        if i.break_glass { "yes" } else { "no" },
    );
    if !i.description.is_empty() {
        out.push_str(&format!("  description: {}\n", i.description));
    }
    out.push_str(&format!("used by {} service(s):\n", d.used_by.len()));
    for s in &d.used_by {
        out.push_str(&format!(
            "  - {} ({}), tier {}, owner {}\n",
            s.name,
            s.id,
            s.tier.get(),
            s.owner
        ));
    }
    out
}
