// Reads the explorer's columns from the core's binary buffer
// (src/graph/columns.rs has the layout): numeric columns are viewed in
// place as typed arrays, strings decoded once per blob and sliced. A
// 50k-node radius as JSON was megabytes of text to parse before the
// first frame; this is a few copies (issue 20).
import type { Environment, Explorer, IdentityKind } from "../types";

const MAGIC = "CSX1";

/** Whether `buf` holds columns (else it is JSON, or `null`). */
export function isColumns(buf: ArrayBuffer): boolean {
  if (buf.byteLength < 16) return false;
  const b = new Uint8Array(buf, 0, 4);
  return String.fromCharCode(...b) === MAGIC;
}

export function readColumns(buf: ArrayBuffer): Explorer {
  if (!isColumns(buf))
    throw new Error("not the explorer's columns (no CSX1 header)");
  const head = new DataView(buf, 4, 12);
  const n = head.getUint32(0, true);
  const m = head.getUint32(4, true);
  const h = head.getUint32(8, true);
  const utf8 = new TextDecoder();
  let at = 16;
  const header = JSON.parse(utf8.decode(new Uint8Array(buf, at, h))) as {
    targets: Explorer["targets"];
    owners: string[];
    summary: Explorer["summary"];
    kinds: IdentityKind[];
    environments: Environment[];
  };
  at += h;
  at += (4 - (at % 4)) % 4;
  const f32 = () => {
    const v = new Float32Array(buf, at, n);
    at += 4 * n;
    return v;
  };
  const i32 = () => {
    const v = new Int32Array(buf, at, n);
    at += 4 * n;
    return v;
  };
  const u32 = (len = n) => {
    const v = new Uint32Array(buf, at, len);
    at += 4 * len;
    return v;
  };
  const u8 = () => {
    const v = new Uint8Array(buf, at, n);
    at += n;
    return v;
  };
  const x = f32();
  const y = f32();
  const parent = i32();
  const depth = u32();
  const skipped = u32();
  const fanOut = u32();
  const owner = i32();
  const edges = u32(2 * m);
  const idEnd = u32();
  const labelEnd = u32();
  const tier = u8();
  const flags = u8();
  const kind = u8();
  const env = u8();
  at += (4 - (at % 4)) % 4;
  const idBytes = new DataView(buf, at, 4).getUint32(0, true);
  at += 4;
  const ids = utf8.decode(new Uint8Array(buf, at, idBytes));
  const labels = utf8.decode(new Uint8Array(buf, at + idBytes));
  const slices = (text: string, ends: Uint32Array) => {
    const out = new Array<string>(n);
    let start = 0;
    for (let i = 0; i < n; i++) {
      out[i] = text.slice(start, ends[i]);
      start = ends[i];
    }
    return out;
  };
  const nullable = <T>(col: Uint8Array, names: T[]) =>
    Array.from(col, (v) => (v === 255 ? null : names[v]));
  return {
    targets: header.targets,
    nodes: {
      id: slices(ids, idEnd),
      label: slices(labels, labelEnd),
      identity: Array.from(flags, (f) => (f & 1) !== 0),
      tier: Array.from(tier, (t) => (t === 255 ? null : t)),
      depth: Array.from(depth),
      parent: Array.from(parent),
      skipped: Array.from(skipped),
      fan_out: Array.from(fanOut),
      break_glass: Array.from(flags, (f) => (f & 2) !== 0),
      owner: Array.from(owner),
      kind: nullable(kind, header.kinds),
      environment: nullable(env, header.environments),
      x: Array.from(x),
      y: Array.from(y),
    },
    edges: Array.from(edges),
    owners: header.owners,
    summary: header.summary,
  };
}
