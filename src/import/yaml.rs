//! YAML documents read as generic trees that remember the line of every
//! node, so each importer can decide per document what it is (by its
//! `apiVersion` and `kind`) and read only the fields it maps, with a precise
//! error for a field of the wrong type and no error at all for the fields of
//! kinds it skips.
//!
//! Trees are pruned while they are read ([`Keep`]): a 100,000-document
//! manifest set keeps a few hundred bytes per document (names, references,
//! the annotations Countersign reads), never the pod specs, API definitions
//! or `last-applied-configuration` blobs around them.

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::cell::Cell;
use std::fmt;

use crate::inventory::InventoryError;
use crate::inventory::file::yaml_options_for;

/// Which parts of a subtree to keep while reading it.
#[derive(Clone, Copy)]
pub(crate) enum Keep {
    /// The whole subtree.
    All,
    /// The key and its line, not its value (read as [`Value::Null`]).
    Mark,
    /// Not even the key.
    Drop,
    /// A mapping's fields, each as this function says. A sequence passes
    /// its items the same rule.
    Fields(fn(&str) -> Keep),
}

thread_local! {
    /// The rule for the subtree being read. serde's `Deserialize` has no
    /// seed for `Spanned<T>`, so the rule travels beside the deserializer.
    static KEEP: Cell<Keep> = const { Cell::new(Keep::All) };
}

/// One YAML node and the line (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: u64,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    /// A string scalar.
    Str(String),
    /// Any other scalar (a number or a boolean), as written.
    Scalar(String),
    Seq(Vec<Node>),
    /// Each field: its key, the key's line, and its value.
    Map(Vec<(String, u64, Node)>),
}

impl Node {
    /// A field of a mapping (`None` when absent or when this is no mapping).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(fields) => fields.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The keys of a mapping, in order, each with its own line.
    pub fn keys(&self) -> impl Iterator<Item = (&str, u64)> {
        let fields: &[(String, u64, Node)] = match &self.value {
            Value::Map(fields) => fields,
            _ => &[],
        };
        fields.iter().map(|(k, line, _)| (k.as_str(), *line))
    }

    /// What kind of node this is, for messages ("a list", "a number").
    pub fn shape(&self) -> &'static str {
        match &self.value {
            Value::Null => "empty",
            Value::Str(_) => "a string",
            Value::Scalar(s) if s == "true" || s == "false" => "a boolean",
            Value::Scalar(_) => "a number",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A field of the wrong shape: the line and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misfit {
    pub line: u64,
    pub at: String,
    pub message: String,
}

impl Misfit {
    pub fn new(line: u64, at: &str, message: impl Into<String>) -> Self {
        Misfit {
            line,
            at: at.to_owned(),
            message: message.into(),
        }
    }

    pub fn into_error(self, origin: &str) -> InventoryError {
        InventoryError::Invalid {
            origin: origin.to_owned(),
            line: Some(self.line),
            at: self.at,
            message: self.message,
        }
    }
}

/// Typed reads of a document's fields, each failing with the field's path.
impl Node {
    /// An optional string field. A number, boolean, list or mapping there
    /// is an error, as it is to the source systems: the Kubernetes API
    /// server decodes these fields as strings, and Backstage validates
    /// entities against JSON schemas that say `"type": "string"`.
    pub fn string(&self, key: &str, at: &str) -> Result<Option<(&str, u64)>, Misfit> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => n.as_str(|| join(at, key)).map(|s| s.map(|s| (s, n.line))),
        }
    }

    /// This node as a string (`None` when empty), or an error at `path`.
    fn as_str(&self, path: impl FnOnce() -> String) -> Result<Option<&str>, Misfit> {
        match &self.value {
            Value::Null => Ok(None),
            Value::Str(s) => Ok(Some(s.as_str())),
            Value::Scalar(_) => Err(Misfit::new(
                self.line,
                &path(),
                format!(
                    "must be a string, not {} (write it in quotes)",
                    self.shape()
                ),
            )),
            _ => Err(Misfit::new(
                self.line,
                &path(),
                format!("must be a string, not {}", self.shape()),
            )),
        }
    }

    /// An optional list of strings. A single string there is an error, as
    /// it is to Backstage's schemas (`"type": "array"`) and kustomize.
    pub fn strings(&self, key: &str, at: &str) -> Result<Vec<(&str, u64)>, Misfit> {
        let Some(n) = self.get(key) else {
            return Ok(Vec::new());
        };
        match &n.value {
            Value::Null => Ok(Vec::new()),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    if let Some(s) = it.as_str(|| format!("{}[{i}]", join(at, key)))? {
                        out.push((s, it.line));
                    }
                }
                Ok(out)
            }
            _ => Err(Misfit::new(
                n.line,
                &join(at, key),
                format!("must be a list, not {}", n.shape()),
            )),
        }
    }

    /// An optional mapping field.
    pub fn map(&self, key: &str, at: &str) -> Result<Option<&Node>, Misfit> {
        match self.get(key) {
            None => Ok(None),
            Some(n) if n.is_null() => Ok(None),
            Some(
                n @ Node {
                    value: Value::Map(_),
                    ..
                },
            ) => Ok(Some(n)),
            Some(n) => Err(Misfit::new(
                n.line,
                &join(at, key),
                format!("must be a mapping, not {}", n.shape()),
            )),
        }
    }

    /// An optional list field's items.
    pub fn list(&self, key: &str, at: &str) -> Result<&[Node], Misfit> {
        match self.get(key) {
            None => Ok(&[]),
            Some(n) => match &n.value {
                Value::Null => Ok(&[]),
                Value::Seq(items) => Ok(items),
                _ => Err(Misfit::new(
                    n.line,
                    &join(at, key),
                    format!("must be a list, not {}", n.shape()),
                )),
            },
        }
    }
}

impl Node {
    /// A document's `metadata` mapping and its non-empty `name` (with the
    /// name's line), both required of every entity and object read;
    /// `kind_line` places the error when `metadata` is missing.
    pub fn metadata_and_name(&self, kind_line: u64) -> Result<(&Node, &str, u64), Misfit> {
        let meta = self
            .map("metadata", "")?
            .ok_or_else(|| Misfit::new(kind_line, "metadata", "required"))?;
        let (name, line) = meta
            .string("name", "metadata")?
            .filter(|(n, _)| !n.is_empty())
            .ok_or_else(|| Misfit::new(meta.line, "metadata.name", "required"))?;
        Ok((meta, name, line))
    }
}

/// `metadata` + `name` → `metadata.name`.
pub(crate) fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// Reads every document of `text`, each pruned as `keep` says while it is
/// read. A syntax error stops the file (YAML cannot resynchronise inside a
/// document) and names its line; a key repeated in a mapping (which YAML
/// forbids, and kubectl and Backstage refuse) is reported at every place
/// it happens in the file, not only the first.
pub(crate) fn documents(
    text: &str,
    origin: &str,
    keep: Keep,
) -> Result<Vec<Node>, Vec<InventoryError>> {
    let parse = |keep: Keep, duplicates| {
        let outer = KEEP.replace(keep);
        // YAML 1.2's booleans (`true`, `false`), as Backstage's parser reads
        // them: `namespace: y` or `owner: no` is a string, not a boolean.
        let mut options = yaml_options_for(text);
        options.strict_booleans = true;
        options.duplicate_keys = duplicates;
        let result = serde_saphyr::from_multiple_with_options::<Node>(text, options);
        KEEP.set(outer);
        result
    };
    let e = match parse(keep, serde_saphyr::DuplicateKeyPolicy::Error) {
        Ok(docs) => return Ok(docs),
        Err(e) => crate::inventory::file::syntax(origin, &e),
    };
    let duplicate =
        matches!(&e, InventoryError::Syntax { message, .. } if message.contains("appears twice"));
    if !duplicate {
        return Err(vec![e]);
    }
    // Read again keeping repeated keys, to find every one. Another error
    // further on is then the one reported after them.
    match parse(Keep::All, serde_saphyr::DuplicateKeyPolicy::PassThrough) {
        Ok(docs) => {
            let mut found = Vec::new();
            for d in &docs {
                repeated_keys(d, "", origin, &mut found);
            }
            if found.is_empty() {
                Err(vec![e])
            } else {
                Err(found)
            }
        }
        Err(other) => Err(vec![e, crate::inventory::file::syntax(origin, &other)]),
    }
}

/// Each key repeated in a mapping of `node`, at the repeat's line.
fn repeated_keys(node: &Node, at: &str, origin: &str, out: &mut Vec<InventoryError>) {
    match &node.value {
        Value::Map(fields) => {
            let mut seen: Vec<(&str, u64)> = Vec::new();
            for (key, line, value) in fields {
                match seen.iter().find(|(k, _)| k == key) {
                    Some((_, first)) => out.push(InventoryError::Invalid {
                        origin: origin.to_owned(),
                        line: Some(*line),
                        at: join(at, key),
                        message: format!(
                            "the key {key} appears twice in one mapping (first at line {first}); YAML forbids it, and kubectl and Backstage refuse the file"
                        ),
                    }),
                    None => seen.push((key, *line)),
                }
                repeated_keys(value, &join(at, key), origin, out);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                repeated_keys(item, &format!("{at}[{i}]"), origin, out);
            }
        }
        _ => {}
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            line: spanned.referenced.line(),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let keep = KEEP.get();
        let mut fields = Vec::new();
        while let Some(spanned) = map.next_key::<Spanned<Key>>()? {
            let (Key(key), key_line) = (spanned.value, spanned.referenced.line());
            let child = match keep {
                Keep::All => Keep::All,
                Keep::Fields(rule) => rule(&key),
                // A parent that is marked or dropped never reads its value.
                Keep::Mark | Keep::Drop => Keep::Drop,
            };
            match child {
                Keep::Drop => {
                    map.next_value::<IgnoredAny>()?;
                }
                Keep::Mark => {
                    let line = map.next_value::<Spanned<IgnoredAny>>()?.referenced.line();
                    fields.push((
                        key,
                        key_line,
                        Node {
                            line,
                            value: Value::Null,
                        },
                    ));
                }
                rule => {
                    let outer = KEEP.replace(rule);
                    let value = map.next_value::<Node>();
                    KEEP.set(outer);
                    fields.push((key, key_line, value?));
                }
            }
        }
        Ok(Value::Map(fields))
    }
}

/// A mapping key as text: scalars as written, anything else as `?`
/// (no importer reads a field with a complex key).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
            fn visit_none<E>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
                Key::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Key("?".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Key("?".into()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, keep: Keep) -> Vec<Node> {
        documents(text, "t.yaml", keep).unwrap()
    }

    #[test]
    fn every_node_knows_its_line() {
        let docs = read(
            "a: 1\nb:\n  - x\n  - {c: true}\n---\n# two\nname: second\n",
            Keep::All,
        );
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.line, 3);
        let Value::Seq(items) = &b.value else {
            panic!()
        };
        assert_eq!(items[1].get("c").unwrap().line, 4);
        assert_eq!(docs[1].get("name").unwrap().line, 7);
        assert_eq!(docs[1].string("name", "").unwrap(), Some(("second", 7)));
    }

    #[test]
    fn pruning_keeps_only_what_the_rule_names() {
        fn root(k: &str) -> Keep {
            match k {
                "keep" => Keep::All,
                "mark" => Keep::Mark,
                "nested" => Keep::Fields(|k| if k == "x" { Keep::All } else { Keep::Drop }),
                _ => Keep::Drop,
            }
        }
        let docs = read(
            "keep: {a: 1}\nmark: {big: [1, 2, 3]}\ndrop: lots\nnested: [{x: 1, y: 2}]\n",
            Keep::Fields(root),
        );
        let d = &docs[0];
        assert!(d.get("drop").is_none());
        assert!(d.get("mark").unwrap().is_null());
        assert_eq!(d.get("mark").unwrap().line, 2);
        assert!(d.get("keep").unwrap().get("a").is_some());
        let Value::Seq(items) = &d.get("nested").unwrap().value else {
            panic!()
        };
        assert!(items[0].get("x").is_some() && items[0].get("y").is_none());
    }

    #[test]
    fn wrong_shapes_name_the_field_and_line() {
        let d = &read(
            "spec:\n  owner: [a]\n  deps: x\n  lifecycle: 7\n  list: [a, true]\n  ns: y\n",
            Keep::All,
        )[0];
        let spec = d.map("spec", "").unwrap().unwrap();
        let e = spec.string("owner", "spec").unwrap_err();
        assert_eq!((e.line, e.at.as_str()), (2, "spec.owner"));
        // A list field holding one string is refused, as Backstage's
        // schemas refuse it.
        let e = spec.strings("deps", "spec").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "must be a list, not a string")
        );
        let e = spec.string("lifecycle", "spec").unwrap_err();
        assert_eq!(
            e.message,
            "must be a string, not a number (write it in quotes)"
        );
        let e = spec.strings("list", "spec").unwrap_err();
        assert_eq!((e.line, e.at.as_str()), (5, "spec.list[1]"));
        // YAML 1.2: `y` is a string.
        assert_eq!(spec.string("ns", "spec").unwrap(), Some(("y", 6)));
        assert!(d.map("nothing", "").unwrap().is_none());
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let e = documents("a: [\n", "bad.yaml", Keep::All).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].to_string(), "bad.yaml:1:4: unclosed bracket '['");
    }

    #[test]
    fn every_repeated_key_is_reported() {
        let e = documents(
            "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n---\nx: [{y: 1, y: 2}]\n",
            "dup.yaml",
            Keep::Fields(|_| Keep::Drop),
        )
        .unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "dup.yaml:4: b.c: the key c appears twice in one mapping (first at line 3); YAML forbids it, and kubectl and Backstage refuse the file",
                "dup.yaml:5: a: the key a appears twice in one mapping (first at line 1); YAML forbids it, and kubectl and Backstage refuse the file",
                "dup.yaml:7: x[0].y: the key y appears twice in one mapping (first at line 7); YAML forbids it, and kubectl and Backstage refuse the file",
            ]
        );
    }
}
