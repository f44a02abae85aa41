//! The explorer's columns as one binary buffer, for the webview: numbers
//! as little-endian typed arrays the front end views in place
//! (`Float32Array`, `Int32Array`, … over the buffer, no parsing), strings
//! as two UTF-8 blobs with end offsets in UTF-16 code units (so the front
//! end decodes each blob once and slices it), and the few structured
//! fields (targets, owners, summary, the enums' names) as a small JSON
//! header. A 50k-node radius moved as JSON was megabytes of text to
//! parse before the first frame (issue 20); as columns it is a copy.
//!
//! Layout, every section starting at a multiple of 4 bytes:
//!
//! | bytes | what |
//! | --- | --- |
//! | 4 | magic `CSX1` |
//! | 4 × 3 | `u32` node count n, edge count m, header length h |
//! | h (+pad) | header JSON: `targets`, `owners`, `summary`, `kinds`, `environments` |
//! | 4n each | `f32` x, `f32` y, `i32` parent, `u32` depth, `u32` skipped, `u32` fan_out, `i32` owner |
//! | 8m | `u32` edges, `[source, target, …]` |
//! | 4n each | `u32` id ends, `u32` label ends (UTF-16 units, cumulative) |
//! | n each (+pad) | `u8` tier (255: none), `u8` flags (1 identity, 2 break-glass), `u8` kind, `u8` environment (255: none; else an index into the header's lists) |
//! | rest | `u32` id blob length in bytes, ids (UTF-8), then labels (UTF-8) |
//!
//! `ui/src/lib/explorer/columns.ts` reads it; `tests::fixture` checks a
//! checked-in buffer of the demo's radius against both sides.

use serde::Serialize;

use super::explore::Explorer;
use crate::model::{Environment, IdentityKind};

pub const MAGIC: &[u8; 4] = b"CSX1";

#[derive(Serialize)]
struct Header<'a> {
    targets: &'a [super::blast_radius::Target],
    owners: &'a [String],
    summary: &'a super::blast_radius::Summary,
    kinds: Vec<&'static str>,
    environments: Vec<&'static str>,
}

fn pad(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

impl Explorer {
    /// The columns as one buffer (see the module's layout).
    pub fn to_columns(&self) -> Vec<u8> {
        let n = self.nodes.id.len();
        let m = self.edges.len() / 2;
        let header = serde_json::to_vec(&Header {
            targets: &self.targets,
            owners: &self.owners,
            summary: &self.summary,
            kinds: IdentityKind::ALL.iter().map(|k| k.as_str()).collect(),
            environments: Environment::ALL.iter().map(|e| e.as_str()).collect(),
        })
        .expect("the header serialises");
        let strings: usize = self.nodes.id.iter().map(String::len).sum::<usize>()
            + self.nodes.label.iter().map(String::len).sum::<usize>();
        let mut out = Vec::with_capacity(32 + header.len() + n * 40 + m * 8 + strings);
        out.extend_from_slice(MAGIC);
        for v in [n, m, header.len()] {
            out.extend_from_slice(&u32::try_from(v).expect("fits u32").to_le_bytes());
        }
        out.extend_from_slice(&header);
        pad(&mut out);
        let u32s = |out: &mut Vec<u8>, v: &mut dyn Iterator<Item = u32>| {
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
        for col in [&self.nodes.x, &self.nodes.y] {
            for v in col {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        for v in &self.nodes.parent {
            out.extend_from_slice(&v.to_le_bytes());
        }
        u32s(&mut out, &mut self.nodes.depth.iter().copied());
        u32s(&mut out, &mut self.nodes.skipped.iter().copied());
        u32s(&mut out, &mut self.nodes.fan_out.iter().copied());
        for v in &self.nodes.owner {
            out.extend_from_slice(&v.to_le_bytes());
        }
        u32s(&mut out, &mut self.edges.iter().copied());
        for col in [&self.nodes.id, &self.nodes.label] {
            let mut end = 0u32;
            for s in col {
                end += s.encode_utf16().count() as u32;
                out.extend_from_slice(&end.to_le_bytes());
            }
        }
        out.extend(self.nodes.tier.iter().map(|t| t.unwrap_or(255)));
        out.extend((0..n).map(|i| {
            u8::from(self.nodes.identity[i]) | (u8::from(self.nodes.break_glass[i]) << 1)
        }));
        out.extend(self.nodes.kind.iter().map(|k| {
            k.and_then(|k| IdentityKind::ALL.iter().position(|x| *x == k))
                .map_or(255, |p| p as u8)
        }));
        out.extend(self.nodes.environment.iter().map(|e| {
            e.and_then(|e| Environment::ALL.iter().position(|x| *x == e))
                .map_or(255, |p| p as u8)
        }));
        pad(&mut out);
        let ids: usize = self.nodes.id.iter().map(String::len).sum();
        out.extend_from_slice(&u32::try_from(ids).expect("fits u32").to_le_bytes());
        for s in &self.nodes.id {
            out.extend_from_slice(s.as_bytes());
        }
        for s in &self.nodes.label {
            out.extend_from_slice(s.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainmentAction;

    /// The demo's radius as columns, checked in beside the front end's
    /// reader with the same radius as JSON: `columns.test.ts` decodes the
    /// one and compares it with the other. `UPDATE_FIXTURES=1` rewrites
    /// them; otherwise a difference fails here, so the two sides cannot
    /// drift apart unnoticed.
    #[tokio::test]
    async fn fixture() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("c.db")).await.unwrap();
        crate::demo::load(&store, false, "t").await.unwrap();
        let graph = super::super::blast_radius::BlastGraph::new(&store.snapshot().await.unwrap());
        let mut ex = graph
            .explore(&[("tok-kafka-shared", ContainmentAction::DisableAccount)])
            .unwrap();
        // Text beyond ASCII, where UTF-8 bytes and UTF-16 units differ.
        ex.nodes.label[1] = "Zahlungsdienst — Ü 😀".into();
        let bin = ex.to_columns();
        assert_eq!(&bin[..4], MAGIC);
        let json = serde_json::to_string_pretty(&ex).unwrap() + "\n";
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/explorer");
        let (bin_path, json_path) = (
            base.join("demo-columns.bin"),
            base.join("demo-columns.json"),
        );
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(&bin_path, &bin).unwrap();
            std::fs::write(&json_path, &json).unwrap();
        }
        assert_eq!(
            std::fs::read(&bin_path).unwrap(),
            bin,
            "UPDATE_FIXTURES=1 rewrites it"
        );
        // As values: the front end's formatter lays the file out its way.
        let stored: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        assert_eq!(stored, serde_json::to_value(&ex).unwrap());
    }
}
