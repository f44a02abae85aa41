// Turning the core's explorer columns into what the renderer draws, and the
// questions the view asks of it (paths, filters, differences). Pure
// functions over the columns, so they are tested without a canvas.
import Graph from "graphology";
import type Sigma from "sigma";
import type {
  Environment,
  Explorer,
  GroupBy,
  IdentityKind,
  RadiusSummary,
  ServiceGroup,
} from "../types";

/** Tier colours: the same in the legend, the tables and the canvas. */
export const TIER_COLORS = ["#b42318", "#c4570a", "#a27b00", "#4b5563"];
export const IDENTITY_COLOR = "#1d4ed8";
export const BREAK_GLASS_COLOR = "#9333ea";
export const ONLY_HERE_COLOR = "#0891b2";
export const DIMMED_COLOR = "#d1d5db";

export function nodeColor(ex: Explorer, i: number): string {
  if (ex.nodes.break_glass[i]) return BREAK_GLASS_COLOR;
  if (ex.nodes.identity[i]) return IDENTITY_COLOR;
  return TIER_COLORS[ex.nodes.tier[i] ?? 3] ?? TIER_COLORS[3];
}

/** Size by fan-out: how much hangs off a node, on a log scale; larger
 * when there are few nodes to draw. */
export function nodeSize(ex: Explorer, i: number): number {
  const n = ex.nodes.id.length;
  if (n > 10000) {
    // Tens of thousands share the canvas: small dots, identities stand out.
    if (ex.nodes.identity[i]) return 8;
    return 1 + Math.min(3, Math.log2(1 + ex.nodes.fan_out[i]) * 0.5);
  }
  const small = n <= 200;
  const base = ex.nodes.identity[i] ? (small ? 12 : 7) : small ? 7 : 3;
  return base + Math.min(10, Math.log2(1 + ex.nodes.fan_out[i]) * 1.5);
}

/** Up to this many nodes every node carries its label and edges are
 * routed around nodes: a graph a person reads node by node. */
export const READ_EVERY_NODE = 300;

/** Columns of labels a canvas holds side by side (a label is about 110
 * pixels of a canvas about 900 wide). */
const LABEL_COLUMNS = 8;

/** Whether every node can carry its label without labels running into
 * each other: a graph people read node by node (≤ [`READ_EVERY_NODE`]
 * nodes) laid out in few enough columns. Otherwise the renderer's label
 * grid picks the labels that fit. */
export function labelsFit(ex: Explorer): boolean {
  if (ex.nodes.id.length > READ_EVERY_NODE) return false;
  return new Set(ex.nodes.x).size <= LABEL_COLUMNS;
}

/** How far (layout units; rows are one apart) a straight edge may pass
 * from a node's centre before it counts as drawn through it. */
const CLEARANCE = 0.3;

/** Distance from point p to the segment a–b. */
function toSegment(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t =
    len2 === 0
      ? 0
      : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Points along the edge a→b as `@sigma/edge-curve` draws it with
 * `curvature` c: a quadratic Bézier whose control point sits off the
 * chord's midpoint by c × its length, on the side of the normal (dy, −dx)
 * in layout coordinates (y up; the renderer's screen normal (−dy, dx)
 * with y down). c = 0 is the straight line. */
export function edgePoints(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  c: number,
  steps = 24,
): [number, number][] {
  const cx = (ax + bx) / 2 + c * (by - ay);
  const cy = (ay + by) / 2 - c * (bx - ax);
  const out: [number, number][] = [];
  for (let k = 0; k <= steps; k++) {
    const t = k / steps;
    const u = 1 - t;
    out.push([
      u * u * ax + 2 * u * t * cx + t * t * bx,
      u * u * ay + 2 * u * t * cy + t * t * by,
    ]);
  }
  return out;
}

/** The curvature to draw each edge with (index k for the edge at
 * `edges[2k]`): 0, straight, unless the straight line passes through
 * another node (edges between nodes of one column, back edges across
 * columns); then the gentlest bend, to either side, that clears every
 * node, or the clearest one tried. Only for graphs people read node by
 * node (≤ [`READ_EVERY_NODE`]): quadratic in the nodes. */
export function routeEdges(
  ex: Explorer,
  x: ArrayLike<number> = ex.nodes.x,
  y: ArrayLike<number> = ex.nodes.y,
): Float32Array {
  const m = ex.edges.length / 2;
  const out = new Float32Array(m);
  const n = ex.nodes.id.length;
  if (n > READ_EVERY_NODE) return out;
  const nearest = (a: number, b: number, pts: [number, number][]) => {
    let best = Infinity;
    for (let i = 0; i < n; i++) {
      if (i === a || i === b) continue;
      for (let k = 1; k < pts.length; k++) {
        const d = toSegment(
          x[i],
          y[i],
          pts[k - 1][0],
          pts[k - 1][1],
          pts[k][0],
          pts[k][1],
        );
        if (d < best) best = d;
      }
    }
    return best;
  };
  for (let e = 0; e < m; e++) {
    const a = ex.edges[2 * e];
    const b = ex.edges[2 * e + 1];
    const straight = [
      [x[a], y[a]],
      [x[b], y[b]],
    ] as [number, number][];
    if (nearest(a, b, straight) >= CLEARANCE) continue;
    const len = Math.hypot(x[b] - x[a], y[b] - y[a]) || 1;
    let chosen = 0;
    let clearest = -1;
    // A bulge of 0.4 to 2 layout units, to one side then the other.
    for (const bulge of [0.4, 0.6, 0.9, 1.3, 2]) {
      for (const side of [1, -1]) {
        const c = (side * 2 * bulge) / len;
        const d = nearest(a, b, edgePoints(x[a], y[a], x[b], y[b], c));
        if (d > clearest) {
          clearest = d;
          chosen = c;
        }
        if (d >= CLEARANCE) break;
      }
      if (clearest >= CLEARANCE) break;
    }
    out[e] = chosen;
  }
  return out;
}

/** The extent to frame a layered drawing by so that every label fits:
 * the nodes' box, widened to the right until, at the scale that fits it
 * into `width` pixels, the label running right of each node (`labels`,
 * pixels; it starts `size + 3` pixels right of the node's centre, as
 * sigma draws it) ends inside. Null for an empty graph. */
export function labelBBox(
  ex: Explorer,
  labels: number[],
  width: number,
): { x: [number, number]; y: [number, number] } | null {
  const n = ex.nodes.id.length;
  if (n === 0 || width <= 0) return null;
  const xs = ex.nodes.x;
  const ys = ex.nodes.y;
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  // The scale (pixels per layout unit) at which each label still fits.
  let scale = Infinity;
  let widest = 0;
  for (let i = 0; i < n; i++) {
    const needs = nodeSize(ex, i) + 3 + labels[i];
    widest = Math.max(widest, needs);
    const span = xs[i] - minX;
    if (span > 0) scale = Math.min(scale, Math.max(1, width - needs) / span);
  }
  // One column only: as wide as its widest label at unit scale.
  const right =
    scale === Infinity
      ? minX + Math.max(1, widest / Math.max(1, width - widest))
      : minX + width / scale;
  return { x: [minX, Math.max(maxX, right)], y: [minY, maxY] };
}

/** Builds the renderer's graph: node keys are the column indices.
 * `edgeSizes` (one per edge, pixels) weighs edges, as a summary's links
 * are weighed by the paths crossing them. With `withEdges` false only
 * the nodes are added (a large radius draws its first frame before its
 * edges; see [`addEdges`]). */
export function toGraph(
  ex: Explorer,
  edgeSizes?: ArrayLike<number>,
  withEdges = true,
): Graph {
  const g = new Graph({
    type: "directed",
    multi: false,
    allowSelfLoops: false,
  });
  const n = ex.nodes.id.length;
  const everyLabel = labelsFit(ex);
  for (let i = 0; i < n; i++) {
    g.addNode(String(i), {
      x: ex.nodes.x[i],
      y: ex.nodes.y[i],
      size: nodeSize(ex, i),
      color: nodeColor(ex, i),
      label: ex.nodes.label[i],
      // Drawn whatever the label grid would hide: a small graph is read
      // node by node.
      forceLabel: everyLabel,
    });
  }
  if (withEdges) addEdges(g, ex, edgeSizes, 0, ex.edges.length / 2);
  return g;
}

/** Adds edges `from..to` (edge indices) of `ex` to `g`, routed as
 * [`routeEdges`] says for small graphs. */
export function addEdges(
  g: Graph,
  ex: Explorer,
  edgeSizes: ArrayLike<number> | undefined,
  from: number,
  to: number,
): void {
  const curvature = routeEdges(ex);
  // The core sends each edge once, sorted: no duplicate checks needed.
  for (let e = from; e < to; e++) {
    const s = ex.edges[2 * e];
    const t = ex.edges[2 * e + 1];
    if (s === t) continue;
    const c = curvature[e];
    const size = edgeSizes?.[e] ?? 0.5;
    g.addEdge(
      String(s),
      String(t),
      c === 0 ? { size } : { size, type: "curved", curvature: c },
    );
  }
}

/** Node `i` and every node on its explanation path back to the identity. */
export function pathTo(ex: Explorer, i: number): number[] {
  const path = [i];
  const seen = new Set(path);
  let at = ex.nodes.parent[i];
  while (at !== undefined && at >= 0 && !seen.has(at)) {
    path.push(at);
    seen.add(at);
    at = ex.nodes.parent[at];
  }
  return path.reverse();
}

/** The explanation path of node `i` in words, naming the hops a drawing
 * of one group leaves out ("… 2 hops in other groups …"). */
export function pathLabel(ex: Explorer, i: number): string {
  const path = pathTo(ex, i);
  const parts: string[] = [];
  path.forEach((k) => {
    const gap = ex.nodes.skipped?.[k] ?? 0;
    if (gap > 0)
      parts.push(`… ${gap} ${gap === 1 ? "hop" : "hops"} in other groups …`);
    parts.push(ex.nodes.label[k]);
  });
  return parts.join(" → ");
}

/** Radii of more nodes than this are first drawn as a summary by group. */
export const SUMMARY_ABOVE = 3000;

/** What a group is called, by what the summary grouped by. */
export function groupName(by: GroupBy, g: ServiceGroup): string {
  if (by === "tier") return `Tier ${g.key}`;
  if (g.key === null) return by === "owner" ? "No owner" : "No system";
  return g.key;
}

/** Groups drawn one node each in a summary; the rest share one node
 * (the list beside the drawing names and opens every group). */
export const SHOWN_GROUPS = 20;

/** Rows per column of a summary drawing before it wraps. */
const SUMMARY_ROWS = 10;

/** A summary drawn with the explorer's renderer: node 0 stands for the
 * contained identities, node `g + 1` for group `g` (labelled with its
 * name and count, coloured by its worst tier, sized by its count) for
 * the first [`SHOWN_GROUPS`] groups (worst tier, then largest, first),
 * and one last node for all the others; placed in columns by how near
 * the identity a group's nearest service is, wrapping tall columns; each
 * link an edge weighed by the paths crossing it. */
export function summaryGraph(sum: RadiusSummary): {
  ex: Explorer;
  edgeSizes: number[];
  /** How many groups have a node of their own (the rest share one). */
  shown: number;
} {
  const shown = Math.min(sum.groups.length, SHOWN_GROUPS);
  const rest = sum.groups.slice(shown);
  type Drawn = {
    key: string;
    label: string;
    services: number;
    worst: number;
    nearest: number;
  };
  const drawnGroups: Drawn[] = sum.groups.slice(0, shown).map((g, k) => ({
    key: g.key ?? `(none ${k})`,
    label:
      `${groupName(sum.group_by, g)} · ${g.services.toLocaleString("en-US")}` +
      (g.direct > 0 ? ` (${g.direct} direct)` : ""),
    services: g.services,
    worst: g.worst_tier,
    nearest: g.nearest,
  }));
  if (rest.length > 0) {
    const services = rest.reduce((a, g) => a + g.services, 0);
    drawnGroups.push({
      key: "(others)",
      label: `${rest.length} more groups · ${services.toLocaleString("en-US")}`,
      services,
      worst: Math.min(...rest.map((g) => g.worst_tier)),
      nearest: Math.min(...rest.map((g) => g.nearest)),
    });
  }
  const node = (g: number) => (g < shown ? g + 1 : drawnGroups.length);
  const n = drawnGroups.length + 1;
  const first = sum.contained[0]?.name ?? "identity";
  const more = sum.contained.length - 1;
  // Columns by nearest hop, wrapping every SUMMARY_ROWS rows; within a
  // column, worst tier then largest first (the core's order).
  const x = [0];
  const y = [0];
  let column = 1;
  const depths = [...new Set(drawnGroups.map((g) => g.nearest))].sort(
    (a, b) => a - b,
  );
  for (const d of depths) {
    const here = drawnGroups.filter((g) => g.nearest === d);
    const columns = Math.ceil(here.length / SUMMARY_ROWS);
    const rows = Math.ceil(here.length / columns);
    // Columns seven rows' height apart: room for a label between them.
    here.forEach((_, k) => {
      x.push((column + Math.floor(k / rows)) * 7);
      y.push(-((k % rows) - (rows - 1) / 2) * 1.5);
    });
    column += columns;
  }
  // Placed per depth above: reorder to node order.
  const order = depths.flatMap((d) =>
    drawnGroups.map((g, k) => [g, k] as const).filter(([g]) => g.nearest === d),
  );
  const xs = [0];
  const ys = [0];
  const placed = new Array<number>(drawnGroups.length);
  order.forEach(([, k], at) => (placed[k] = at + 1));
  drawnGroups.forEach((_, k) => {
    xs.push(x[placed[k]]);
    ys.push(y[placed[k]]);
  });
  const weights = new Map<string, number>();
  for (const l of sum.links) {
    const from = l.from < 0 ? 0 : node(l.from);
    const to = node(l.to);
    if (from === to) continue;
    const key = `${from},${to}`;
    weights.set(key, (weights.get(key) ?? 0) + l.paths);
  }
  const edges: number[] = [];
  const edgeSizes: number[] = [];
  for (const [key, paths] of weights) {
    const [from, to] = key.split(",").map(Number);
    edges.push(from, to);
    edgeSizes.push(0.5 + 1.5 * Math.log2(1 + paths));
  }
  const ex: Explorer = {
    targets: sum.targets,
    nodes: {
      id: ["", ...drawnGroups.map((g) => g.key)],
      label: [
        more > 0 ? `${first} and ${more} derived` : first,
        ...drawnGroups.map((g) => g.label),
      ],
      identity: [true, ...drawnGroups.map(() => false)],
      tier: [null, ...drawnGroups.map((g) => g.worst)],
      depth: [0, ...drawnGroups.map((g) => g.nearest)],
      parent: Array(n).fill(-1),
      skipped: Array(n).fill(0),
      fan_out: [sum.summary.fan_out, ...drawnGroups.map((g) => g.services)],
      break_glass: [
        sum.summary.break_glass.length > 0,
        ...drawnGroups.map(() => false),
      ],
      owner: Array(n).fill(-1),
      kind: [null, ...drawnGroups.map(() => null)],
      environment: [null, ...drawnGroups.map(() => null)],
      x: xs,
      y: ys,
    },
    edges,
    owners: [],
    summary: sum.summary,
  };
  return { ex, edgeSizes, shown };
}

/** Every node below `i` in the reach tree (what collapsing `i` hides). */
export function descendants(ex: Explorer, i: number): Set<number> {
  const children = new Map<number, number[]>();
  ex.nodes.parent.forEach((p, c) => {
    if (p >= 0) {
      const list = children.get(p) ?? [];
      list.push(c);
      children.set(p, list);
    }
  });
  const out = new Set<number>();
  const stack = [...(children.get(i) ?? [])];
  while (stack.length) {
    const c = stack.pop()!;
    if (out.has(c)) continue;
    out.add(c);
    stack.push(...(children.get(c) ?? []));
  }
  return out;
}

export interface Filters {
  tiers: boolean[];
  kind: IdentityKind | "";
  environment: Environment | "";
  owner: string;
}

export const NO_FILTERS: Filters = {
  tiers: [true, true, true, true],
  kind: "",
  environment: "",
  owner: "",
};

/** Whether node `i` passes the filters. Identities always show (they are
 * what the view is about) unless a kind or environment filter rules them
 * out; services filter by tier and owner. */
export function visible(ex: Explorer, i: number, f: Filters): boolean {
  if (ex.nodes.identity[i]) {
    if (f.kind && ex.nodes.kind[i] !== f.kind) return false;
    if (f.environment && ex.nodes.environment[i] !== f.environment)
      return false;
    return true;
  }
  const tier = ex.nodes.tier[i] ?? 3;
  if (!f.tiers[tier]) return false;
  if (f.owner && ex.owners[ex.nodes.owner[i]] !== f.owner) return false;
  return true;
}

/** Services per tier (legend counts). */
export function tierCounts(ex: Explorer): number[] {
  const counts = [0, 0, 0, 0];
  ex.nodes.tier.forEach((t) => {
    if (t !== null) counts[t] += 1;
  });
  return counts;
}

/** Node ids in `a` that `b` does not have: what one action breaks that the
 * other does not. */
export function onlyIn(a: Explorer, b: Explorer): Set<string> {
  const other = new Set(b.nodes.id);
  return new Set(a.nodes.id.filter((id) => !other.has(id)));
}

/** Nodes in reading order for keyboard navigation and the table: the
 * identities, then services most critical and nearest first. */
export function readingOrder(ex: Explorer): number[] {
  return ex.nodes.id
    .map((_, i) => i)
    .sort((a, b) => {
      const ia = ex.nodes.identity[a] ? 0 : 1;
      const ib = ex.nodes.identity[b] ? 0 : 1;
      return (
        ia - ib ||
        (ex.nodes.tier[a] ?? 9) - (ex.nodes.tier[b] ?? 9) ||
        ex.nodes.depth[a] - ex.nodes.depth[b] ||
        ex.nodes.label[a].localeCompare(ex.nodes.label[b])
      );
    });
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) =>
      ({
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        '"': "&quot;",
        "'": "&apos;",
      })[c]!,
  );
}

/** An SVG of the graph at the given positions (what the view shows). */
export function toSvg(
  ex: Explorer,
  positions: { x: number; y: number }[],
  shown: (i: number) => boolean,
  width = 1600,
  height = 1000,
): string {
  const idx = ex.nodes.id.map((_, i) => i).filter(shown);
  const xs = idx.map((i) => positions[i].x);
  const ys = idx.map((i) => positions[i].y);
  const [minX, maxX] = [Math.min(...xs), Math.max(...xs)];
  const [minY, maxY] = [Math.min(...ys), Math.max(...ys)];
  const pad = 40;
  const scale = Math.min(
    (width - 2 * pad) / Math.max(1e-9, maxX - minX),
    (height - 2 * pad) / Math.max(1e-9, maxY - minY),
  );
  const px = (i: number) => pad + (positions[i].x - minX) * scale;
  // Graph y grows upwards; SVG y grows downwards.
  const py = (i: number) => height - pad - (positions[i].y - minY) * scale;
  const show = new Set(idx);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g stroke="#9ca3af" stroke-width="0.6">`,
  ];
  for (let k = 0; k + 1 < ex.edges.length; k += 2) {
    const s = ex.edges[k];
    const t = ex.edges[k + 1];
    if (show.has(s) && show.has(t))
      parts.push(
        `<line x1="${px(s).toFixed(1)}" y1="${py(s).toFixed(1)}" x2="${px(t).toFixed(1)}" y2="${py(t).toFixed(1)}"/>`,
      );
  }
  parts.push("</g><g>");
  for (const i of idx) {
    parts.push(
      `<circle cx="${px(i).toFixed(1)}" cy="${py(i).toFixed(1)}" r="${(nodeSize(ex, i) / 2).toFixed(1)}" fill="${nodeColor(ex, i)}"><title>${escapeXml(ex.nodes.label[i])}</title></circle>`,
    );
  }
  if (idx.length <= 300) {
    parts.push(
      `</g><g font-family="sans-serif" font-size="11" fill="#111827">`,
    );
    for (const i of idx)
      parts.push(
        `<text x="${(px(i) + 6).toFixed(1)}" y="${(py(i) + 4).toFixed(1)}">${escapeXml(ex.nodes.label[i])}</text>`,
      );
  }
  parts.push("</g></svg>");
  return parts.join("\n");
}

/** What a drawn graph offers its parent: export, focus, benchmarks. */
export interface GraphApi {
  sigma: Sigma;
  positions: () => { x: number; y: number }[];
  focus: (i: number) => void;
  pan: (frames: number) => Promise<number[]>;
}
