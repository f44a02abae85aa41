use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{identity_node, service_node};
use crate::inventory::Inventory;

/// Node and edge attributes, declared once as GraphML keys so Gephi and yEd
/// can colour and filter by them.
const KEYS: &[(&str, &str, &str, &str)] = &[
    ("label", "node", "label", "string"),
    ("type", "node", "type", "string"),
    ("kind", "node", "kind", "string"),
    ("tier", "node", "tier", "int"),
    ("owner", "node", "owner", "string"),
    ("break_glass", "node", "break_glass", "boolean"),
    ("relation", "edge", "relation", "string"),
    ("access", "edge", "access", "string"),
];

struct Graph {
    w: Writer<Vec<u8>>,
}

impl Graph {
    fn event(&mut self, e: Event<'_>) {
        self.w
            .write_event(e)
            .expect("writing XML to memory cannot fail");
    }

    fn data(&mut self, key: &str, value: &str) {
        let mut start = BytesStart::new("data");
        start.push_attribute(("key", key));
        self.event(Event::Start(start));
        self.event(Event::Text(BytesText::new(value)));
        self.event(Event::End(BytesEnd::new("data")));
    }

    fn node(&mut self, id: &str, attrs: &[(&str, &str)]) {
        let mut start = BytesStart::new("node");
        start.push_attribute(("id", id));
        self.event(Event::Start(start));
        for (k, v) in attrs {
            self.data(k, v);
        }
        self.event(Event::End(BytesEnd::new("node")));
    }

    fn edge(&mut self, source: &str, target: &str, attrs: &[(&str, &str)]) {
        let mut start = BytesStart::new("edge");
        start.push_attribute(("source", source));
        start.push_attribute(("target", target));
        self.event(Event::Start(start));
        for (k, v) in attrs {
            self.data(k, v);
        }
        self.event(Event::End(BytesEnd::new("edge")));
    }
}

/// A directed GraphML graph; edges point the way breakage spreads.
pub fn to_graphml(inv: &Inventory) -> String {
    let mut g = Graph {
        w: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    g.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut root = BytesStart::new("graphml");
    root.push_attribute(("xmlns", "http://graphml.graphdrawing.org/xmlns"));
    g.event(Event::Start(root));
    for (id, domain, name, ty) in KEYS {
        let mut key = BytesStart::new("key");
        key.push_attribute(("id", *id));
        key.push_attribute(("for", *domain));
        key.push_attribute(("attr.name", *name));
        key.push_attribute(("attr.type", *ty));
        g.event(Event::Empty(key));
    }
    let mut graph = BytesStart::new("graph");
    graph.push_attribute(("id", "countersign"));
    graph.push_attribute(("edgedefault", "directed"));
    g.event(Event::Start(graph));
    for i in &inv.identities {
        let tier = i.tier.get().to_string();
        g.node(
            &identity_node(&i.id),
            &[
                ("label", &i.name),
                ("type", "identity"),
                ("kind", i.kind.as_str()),
                ("tier", &tier),
                ("owner", i.owner.as_deref().unwrap_or("")),
                (
                    "break_glass",
                    if i.is_break_glass() { "true" } else { "false" },
                ),
            ],
        );
    }
    for s in &inv.services {
        let tier = s.tier.get().to_string();
        g.node(
            &service_node(&s.id),
            &[
                ("label", &s.name),
                ("type", "service"),
                ("tier", &tier),
                ("owner", s.owner.as_deref().unwrap_or("")),
            ],
        );
    }
    for i in &inv.identities {
        for u in &i.used_by {
            g.edge(
                &identity_node(&i.id),
                &service_node(&u.service),
                &[
                    ("relation", "used_by"),
                    ("access", u.access.map(|a| a.as_str()).unwrap_or("")),
                ],
            );
        }
        if let Some(parent) = &i.derived_from {
            g.edge(
                &identity_node(parent),
                &identity_node(&i.id),
                &[("relation", "derives")],
            );
        }
    }
    for s in &inv.services {
        for d in &s.depends_on {
            g.edge(
                &service_node(d),
                &service_node(&s.id),
                &[("relation", "depended_on_by")],
            );
        }
    }
    g.event(Event::End(BytesEnd::new("graph")));
    g.event(Event::End(BytesEnd::new("graphml")));
    let xml = String::from_utf8(g.w.into_inner()).expect("quick-xml writes UTF-8");
    // quick-xml escapes markup; characters XML 1.0 does not allow at all
    // (C0 controls, even as references) are written out as text.
    let mut xml = crate::model::text::escape(&xml).into_owned();
    xml.push('\n');
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;

    #[test]
    fn is_well_formed_and_complete() {
        let inv = crate::demo::inventory().unwrap();
        let xml = to_graphml(&inv);
        let mut reader = Reader::from_str(&xml);
        let (mut nodes, mut edges) = (0, 0);
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) if e.name().as_ref() == b"node" => nodes += 1,
                Event::Start(e) if e.name().as_ref() == b"edge" => edges += 1,
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(nodes, inv.identities.len() + inv.services.len());
        assert!(edges > 60, "{edges}");
    }
}
