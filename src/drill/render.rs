//! The drill report as Markdown (to paste into the post-drill review) and
//! as one self-contained HTML page (to print or share).

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, html};

use super::report::{DecisionLine, DrillReport, InjectReport, Signature};

/// `T+5m 30s` style, whole seconds.
pub fn clock(seconds: f64) -> String {
    let d = jiff::SignedDuration::from_secs(seconds.round() as i64);
    if d.is_zero() {
        "T+0s".into()
    } else {
        format!("T+{d:#}")
    }
}

fn span(seconds: f64) -> String {
    clock(seconds).trim_start_matches("T+").to_owned()
}

fn words(code: &str) -> String {
    code.replace('_', " ")
}

fn signature_text(s: &Signature) -> String {
    match s {
        Signature::Verified { kid } => format!("verified (EdDSA, key {kid})"),
        Signature::Failed { reason } => format!("FAILED: {reason}"),
        Signature::NotAvailable => "not available".into(),
    }
}

fn verdict(d: &DecisionLine) -> String {
    let mut text = words(&d.decision);
    if let Some(a) = d.narrowed_to {
        write!(text, " to {}", a.label().to_lowercase()).expect("string write");
    }
    if !d.scope.is_empty() {
        write!(text, " (scope: {})", d.scope.join(", ")).expect("string write");
    }
    text
}

fn outcome(i: &InjectReport) -> String {
    let mut text = words(&i.status);
    if let Some(a) = i.approved_action {
        write!(text, ": {}", a.label().to_lowercase()).expect("string write");
        if let Some(n) = i.services_broken {
            write!(text, ", {n} services break").expect("string write");
        }
    }
    if let Some(t) = i.time_to_decision_seconds {
        write!(text, " · decided after {}", span(t)).expect("string write");
    }
    text
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The report in four lines: outcomes, expectations, signatures, and what
/// everything approved would break.
pub fn summary(r: &DrillReport) -> [String; 4] {
    let t = &r.totals;
    [
        format!(
            "Injects: {} ({} approved, {} denied, {} unanswered{})",
            t.injects,
            t.approved,
            t.denied,
            t.unanswered,
            if t.not_issued > 0 {
                format!(", {} not issued before the drill ended", t.not_issued)
            } else {
                String::new()
            }
        ),
        format!(
            "Expectations met: {} of {}",
            t.expectations_met, t.expectations
        ),
        format!(
            "Signatures verified: {} of {} decisions",
            t.signatures_verified, t.decisions
        ),
        format!(
            "Services the approved actions would break together: {}",
            r.cumulative.services
        ),
    ]
}

/// The line under a section's heading that names the controls it serves.
fn controls_md(md: &mut String, section: &str) {
    let keys: Vec<&str> = super::report::section_controls(section)
        .iter()
        .map(|c| c.key)
        .collect();
    let _ = writeln!(md, "_Controls: {}_\n", keys.join(", "));
}

fn controls_html(section: &str) -> Markup {
    let controls = super::report::section_controls(section);
    html! {
        p.muted.controls {
            "Controls: "
            @for (i, c) in controls.iter().enumerate() {
                @if i > 0 { ", " }
                abbr title=(format!("{}: {}", c.framework, c.title)) { (c.key) }
            }
        }
    }
}

pub fn markdown(r: &DrillReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Drill report: {}\n", r.scenario);
    if !r.description.is_empty() {
        let _ = writeln!(md, "{}\n", r.description);
    }
    let _ = writeln!(
        md,
        "Run `{}` against {} at {}× speed, {} to {}.\n",
        r.run_id, r.backend, r.speed, r.started_at, r.finished_at
    );
    if r.stopped_early {
        let _ = writeln!(
            md,
            "The facilitator stopped the drill before every request was settled.\n"
        );
    }
    for line in summary(r) {
        let _ = writeln!(md, "- {line}");
    }
    md.push('\n');
    if !r.participants.is_empty() {
        let _ = writeln!(md, "Scripted participants: {}.\n", {
            r.participants
                .iter()
                .map(|p| {
                    if p.groups.is_empty() {
                        p.id.clone()
                    } else {
                        format!("{} ({})", p.id, p.groups.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
    }

    let _ = writeln!(md, "## Timeline\n");
    controls_md(&mut md, "Timeline");
    for i in &r.injects {
        let _ = writeln!(
            md,
            "### {} {}: {} on {} ({})\n",
            clock(i.at_seconds),
            i.id,
            i.action.label(),
            i.identity_name,
            i.identity
        );
        let _ = writeln!(
            md,
            "Signal {} · severity {} · {} · request `{}`\n",
            words(&i.signal),
            i.severity,
            i.tier.label().to_lowercase(),
            i.request_id
        );
        if let Some(s) = &i.summary {
            let _ = writeln!(md, "> {s}\n");
        }
        if i.decisions.is_empty() {
            let _ = writeln!(md, "No decision reached the backend.\n");
        } else {
            let _ = writeln!(
                md,
                "| after | approver | decision | reason | backend | signature |\n|---|---|---|---|---|---|"
            );
            for d in &i.decisions {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {}{} | {} |",
                    span(d.after_seconds),
                    cell(&d.approver),
                    cell(&verdict(d)),
                    cell(&d.reason),
                    words(&d.receipt),
                    d.rejection
                        .as_deref()
                        .map(|x| format!(" ({})", words(x)))
                        .unwrap_or_default(),
                    cell(&signature_text(&d.signature))
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "Outcome: {}.\n", outcome(i));
        if let Some(e) = &i.expectation {
            let _ = writeln!(
                md,
                "Expected {}: {}{}\n",
                e.expected,
                if e.met { "met" } else { "**not met**" },
                if e.notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.notes.join("; "))
                }
            );
        }
    }
    if !r.script_failures.is_empty() {
        let _ = writeln!(md, "## Scripted decisions that could not be made\n");
        controls_md(&mut md, "Scripted decisions that could not be made");
        for f in &r.script_failures {
            let _ = writeln!(
                md,
                "- {} {} on {}: {}",
                clock(f.at_seconds),
                f.by,
                f.inject,
                f.message
            );
        }
        md.push('\n');
    }

    let _ = writeln!(md, "## What would have broken\n");
    controls_md(&mut md, "What would have broken");
    if r.cumulative.broken.is_empty() {
        let _ = writeln!(md, "Nothing: no containment was approved.\n");
    } else {
        let _ = writeln!(
            md,
            "Everything approved, contained together: {} services (tier 0: {}, tier 1: {}, tier 2: {}, tier 3: {}).\n",
            r.cumulative.services,
            r.cumulative.per_tier[0],
            r.cumulative.per_tier[1],
            r.cumulative.per_tier[2],
            r.cumulative.per_tier[3]
        );
        let _ = writeln!(md, "| service | tier | owner | why |\n|---|---|---|---|");
        for s in &r.cumulative.broken {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                cell(&s.name),
                s.tier,
                cell(s.owner.as_deref().unwrap_or("none")),
                cell(&s.path.join(" → "))
            );
        }
        md.push('\n');
    }

    let _ = writeln!(md, "## Services hit without a rollback path\n");
    controls_md(&mut md, "Services hit without a rollback path");
    if r.without_rollback.is_empty() {
        let _ = writeln!(
            md,
            "None: every approved action has a documented rollback.\n"
        );
    } else {
        for n in &r.without_rollback {
            let _ = writeln!(
                md,
                "- {} on {}{}: {}",
                n.action.label(),
                n.identity,
                if n.reversible == Some(false) {
                    " (destructive)"
                } else {
                    ""
                },
                if n.services.is_empty() {
                    "no services".into()
                } else {
                    n.services.join(", ")
                }
            );
        }
        md.push('\n');
    }

    let _ = writeln!(md, "## Ownership gaps found during the drill\n");
    controls_md(&mut md, "Ownership gaps found during the drill");
    if r.ownership_gaps.is_empty() {
        let _ = writeln!(md, "None.\n");
    } else {
        for g in &r.ownership_gaps {
            let _ = writeln!(md, "- {} {} ({}): {}", g.kind, g.name, g.id, g.gap);
        }
        md.push('\n');
    }
    // Names came from other tools' files: text, never terminal commands.
    crate::model::text::escape(&md).into_owned()
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:62em;color:#111827}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #d1d5db}h3{font-size:1em;margin-bottom:.2em}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}\
.ok{color:#067647}.bad{color:#b42318;font-weight:700}.muted{color:#6b7280}.t0{color:#b42318;font-weight:700}.t1{color:#c4570a;font-weight:700}\
blockquote{margin:.3em 0;color:#374151}@media print{body{margin:0}}";

fn signature_html(s: &Signature) -> Markup {
    match s {
        Signature::Verified { .. } => html! { span.ok { (signature_text(s)) } },
        Signature::Failed { .. } => html! { span.bad { (signature_text(s)) } },
        Signature::NotAvailable => html! { span.muted { (signature_text(s)) } },
    }
}

pub fn html(r: &DrillReport) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Drill report: " (r.scenario) }
                style { (STYLE) }
            }
            body {
                h1 { "Drill report: " (r.scenario) }
                @if !r.description.is_empty() { p { (r.description) } }
                p.muted { "Run " code { (r.run_id) } " against " (r.backend) " at " (r.speed) "× speed, " (r.started_at) " to " (r.finished_at) "." }
                @if r.stopped_early { p { strong { "The facilitator stopped the drill before every request was settled." } } }
                ul { @for line in summary(r) { li { (line) } } }
                h2 { "Timeline" } (controls_html("Timeline"))
                @for i in &r.injects {
                    h3 { (clock(i.at_seconds)) " " (i.id) ": " (i.action.label()) " on " (i.identity_name) " " span.muted { "(" (i.identity) ")" } }
                    p.muted { "Signal " (words(&i.signal)) " · severity " (i.severity) " · " (i.tier.label().to_lowercase()) " · request " code { (i.request_id) } }
                    @if let Some(s) = &i.summary { blockquote { (s) } }
                    @if i.decisions.is_empty() {
                        p { "No decision reached the backend." }
                    } @else {
                        table {
                            thead { tr { th { "after" } th { "approver" } th { "decision" } th { "reason" } th { "backend" } th { "signature" } } }
                            tbody {
                                @for d in &i.decisions {
                                    tr {
                                        td { (span(d.after_seconds)) }
                                        td { (d.approver) }
                                        td { (verdict(d)) }
                                        td { (d.reason) }
                                        td { (words(&d.receipt)) @if let Some(x) = &d.rejection { " (" (words(x)) ")" } }
                                        td { (signature_html(&d.signature)) }
                                    }
                                }
                            }
                        }
                    }
                    p { "Outcome: " strong { (outcome(i)) } }
                    @if let Some(e) = &i.expectation {
                        p {
                            "Expected " (e.expected) ": "
                            @if e.met { span.ok { "met" } } @else { span.bad { "not met" } }
                            @if !e.notes.is_empty() { " (" (e.notes.join("; ")) ")" }
                        }
                    }
                }
                @if !r.script_failures.is_empty() {
                    h2 { "Scripted decisions that could not be made" } (controls_html("Scripted decisions that could not be made"))
                    ul { @for f in &r.script_failures { li { (clock(f.at_seconds)) " " (f.by) " on " (f.inject) ": " (f.message) } } }
                }
                h2 { "What would have broken" } (controls_html("What would have broken"))
                @if r.cumulative.broken.is_empty() {
                    p { "Nothing: no containment was approved." }
                } @else {
                    p { "Everything approved, contained together: " strong { (r.cumulative.services) " services" }
                        " (tier 0: " (r.cumulative.per_tier[0]) ", tier 1: " (r.cumulative.per_tier[1]) ", tier 2: " (r.cumulative.per_tier[2]) ", tier 3: " (r.cumulative.per_tier[3]) ")." }
                    table {
                        thead { tr { th { "service" } th { "tier" } th { "owner" } th { "why" } } }
                        tbody {
                            @for s in &r.cumulative.broken {
                                tr {
                                    td class=(format!("t{}", s.tier)) { (s.name) }
                                    td { (s.tier) }
                                    td { (s.owner.as_deref().unwrap_or("none")) }
                                    td { (s.path.join(" → ")) }
                                }
                            }
                        }
                    }
                }
                h2 { "Services hit without a rollback path" } (controls_html("Services hit without a rollback path"))
                @if r.without_rollback.is_empty() {
                    p { "None: every approved action has a documented rollback." }
                } @else {
                    ul { @for n in &r.without_rollback {
                        li { strong { (n.action.label()) " on " (n.identity) } @if n.reversible == Some(false) { " (destructive)" } ": "
                            @if n.services.is_empty() { "no services" } @else { (n.services.join(", ")) } }
                    } }
                }
                h2 { "Ownership gaps found during the drill" } (controls_html("Ownership gaps found during the drill"))
                @if r.ownership_gaps.is_empty() {
                    p { "None." }
                } @else {
                    ul { @for g in &r.ownership_gaps { li { (g.kind) " " strong { (g.name) } " (" (g.id) "): " (g.gap) } } }
                }
            }
        }
    };
    crate::model::text::escape(&page.into_string()).into_owned()
}
