use std::fmt::Write;

use super::{identity_node, service_node};
use crate::inventory::Inventory;

/// DOT string literal: quotes and backslashes escaped, newlines kept as
/// `\n`, control characters written out as text.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            // Shown as text (model::text), its backslash escaped for DOT.
            c if crate::model::text::is_unsafe(c) => {
                out.push_str(&format!("\\\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const TIER_COLOURS: [&str; 4] = ["#b42318", "#c4320a", "#b54708", "#475467"];

/// Edges point the way breakage spreads: identity → service using it,
/// service → service depending on it.
pub fn to_dot(inv: &Inventory) -> String {
    let mut out =
        String::from("digraph countersign {\n  rankdir=LR;\n  node [fontname=\"sans-serif\"];\n");
    for i in &inv.identities {
        let shape = if i.is_break_glass() {
            "doubleoctagon"
        } else {
            "box"
        };
        let label = format!("{}\n{}", i.name, i.kind.label());
        let _ = writeln!(
            out,
            "  {} [label={}, shape={shape}, color={}];",
            quote(&identity_node(&i.id)),
            quote(&label),
            quote(TIER_COLOURS[usize::from(i.tier.get())])
        );
    }
    for s in &inv.services {
        let label = format!("{}\ntier {}", s.name, s.tier.get());
        let _ = writeln!(
            out,
            "  {} [label={}, shape=ellipse, color={}];",
            quote(&service_node(&s.id)),
            quote(&label),
            quote(TIER_COLOURS[usize::from(s.tier.get())])
        );
    }
    for i in &inv.identities {
        for u in &i.used_by {
            let label = u.access.map(|a| a.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "  {} -> {} [label={}];",
                quote(&identity_node(&i.id)),
                quote(&service_node(&u.service)),
                quote(label)
            );
        }
        if let Some(parent) = &i.derived_from {
            let _ = writeln!(
                out,
                "  {} -> {} [style=dashed, label=\"derives\"];",
                quote(&identity_node(parent)),
                quote(&identity_node(&i.id))
            );
        }
    }
    for s in &inv.services {
        for d in &s.depends_on {
            let _ = writeln!(
                out,
                "  {} -> {};",
                quote(&service_node(d)),
                quote(&service_node(&s.id))
            );
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_lists_every_edge() {
        let inv = crate::demo::inventory().unwrap();
        let dot = to_dot(&inv);
        assert!(dot.starts_with("digraph countersign {"));
        assert!(dot.contains("\"identity:tok-kafka-shared\" -> \"service:search\""));
        assert!(dot.contains("\"service:ledger-db\" -> \"service:payments-api\";"));
        let edges = dot.matches(" -> ").count();
        let expected: usize = inv
            .identities
            .iter()
            .map(|i| i.used_by.len() + usize::from(i.derived_from.is_some()))
            .sum::<usize>()
            + inv
                .services
                .iter()
                .map(|s| s.depends_on.len())
                .sum::<usize>();
        assert_eq!(edges, expected);
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
