import { describe, expect, it } from "vitest";
import {
  NO_FILTERS,
  TIER_COLORS,
  descendants,
  edgePoints,
  labelBBox,
  nodeColor,
  nodeSize,
  pathLabel,
  routeEdges,
  summaryGraph,
  onlyIn,
  pathTo,
  readingOrder,
  tierCounts,
  toGraph,
  toSvg,
  visible,
} from "./graph";

import { sample } from "./fixture";

describe("explorer graph", () => {
  it("explains each node by its path back to the identity", () => {
    const ex = sample();
    expect(pathTo(ex, 3)).toEqual([0, 1, 2, 3]);
    expect(pathTo(ex, 0)).toEqual([0]);
    expect([...descendants(ex, 1)].sort()).toEqual([2, 3]);
  });

  it("builds the renderer's graph with tier colours", () => {
    const ex = sample();
    const g = toGraph(ex);
    expect(g.order).toBe(5);
    expect(g.size).toBe(4);
    expect(g.getNodeAttribute("1", "color")).toBe(TIER_COLORS[0]);
    expect(nodeColor(ex, 4)).toBe(TIER_COLORS[3]);
  });

  it("filters by tier and owner, and identities by kind", () => {
    const ex = sample();
    const noT2 = { ...NO_FILTERS, tiers: [true, true, false, true] };
    expect([0, 1, 2, 3, 4].filter((i) => visible(ex, i, noT2))).toEqual([
      0, 1, 3, 4,
    ]);
    const teamB = { ...NO_FILTERS, owner: "team-b" };
    expect([0, 1, 2, 3, 4].filter((i) => visible(ex, i, teamB))).toEqual([
      0, 1, 2,
    ]);
    expect(visible(ex, 0, { ...NO_FILTERS, kind: "api_key" })).toBe(false);
    expect(tierCounts(ex)).toEqual([1, 1, 1, 1]);
  });

  it("reads identities first, then the most critical and nearest", () => {
    expect(readingOrder(sample())).toEqual([0, 1, 3, 2, 4]);
  });

  it("tells what one action breaks that the other does not", () => {
    const a = sample();
    const b = sample();
    b.nodes.id = ["tok", "a", "x"];
    expect([...onlyIn(a, b)].sort()).toEqual(["b", "c", "d"]);
  });

  it("exports an SVG with every node and escaped labels", () => {
    const ex = sample();
    const svg = toSvg(
      ex,
      ex.nodes.x.map((x, i) => ({ x, y: ex.nodes.y[i] })),
      () => true,
    );
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<circle/g)).toHaveLength(5);
    expect(svg.match(/<line/g)).toHaveLength(4);
    expect(svg).toContain("Bravo &lt;b&gt;");
  });

  it("routes edges that would pass through a node around it, and only those", () => {
    // One column of three services under the identity, an edge from the
    // top one to the bottom one (straight, it runs through the middle
    // one), and a back edge from a deeper node to the identity through
    // the middle one.
    const ex = sample();
    ex.nodes.id = ["tok", "pay", "fraud", "mobile", "deep"];
    ex.nodes.label = ["Token", "Payments API", "Fraud", "Mobile", "Deep"];
    ex.nodes.x = [0, 1.5, 1.5, 1.5, 3];
    ex.nodes.y = [0, 1, 0, -1, 0];
    ex.edges = [0, 1, 0, 2, 0, 3, 1, 3, 4, 0];
    const c = routeEdges(ex);
    expect(Array.from(c.slice(0, 3))).toEqual([0, 0, 0]);
    expect(c[3]).not.toBe(0);
    expect(c[4]).not.toBe(0);
    const { x, y } = ex.nodes;
    for (let e = 0; e < ex.edges.length / 2; e++) {
      const a = ex.edges[2 * e];
      const b = ex.edges[2 * e + 1];
      for (const [px, py] of edgePoints(x[a], y[a], x[b], y[b], c[e])) {
        for (let i = 0; i < 5; i++) {
          if (i === a || i === b) continue;
          expect(Math.hypot(px - x[i], py - y[i])).toBeGreaterThan(0.29);
        }
      }
    }
    // Drawn that way: curved edges carry the curvature.
    const g = toGraph(ex);
    expect(g.getEdgeAttribute("1", "3", "type")).toBe("curved");
    expect(g.getEdgeAttribute("0", "1", "type")).toBeUndefined();
    expect(g.getNodeAttribute("2", "forceLabel")).toBe(true);
  });

  it("frames a layered drawing so every label ends inside the canvas", () => {
    const ex = sample();
    const labels = ex.nodes.label.map((l) => l.length * 8);
    const width = 600;
    const box = labelBBox(ex, labels, width)!;
    const scale = width / (box.x[1] - box.x[0]);
    ex.nodes.x.forEach((xi, i) => {
      const right = (xi - box.x[0]) * scale + nodeSize(ex, i) + 3 + labels[i];
      expect(right).toBeLessThanOrEqual(width + 1e-6);
    });
    // Nothing is lost on the left or vertically.
    expect(box.x[0]).toBe(0);
    expect(box.y).toEqual([-0.5, 0.5]);
  });

  it("says how many hops a drawing of one group leaves out", () => {
    const ex = sample();
    ex.nodes.skipped = [0, 0, 0, 2, 0];
    expect(pathLabel(ex, 3)).toBe(
      "Token → Alpha → Bravo <b> → … 2 hops in other groups … → Charlie",
    );
  });

  it("draws a summary: one node per group, links weighed by paths", () => {
    const ex = sample();
    const { ex: drawn, edgeSizes } = summaryGraph({
      targets: ex.targets,
      group_by: "tier",
      contained: [{ kind: "identity", id: "tok", name: "Token" }],
      groups: [
        {
          key: "0",
          services: 10,
          per_tier: [10, 0, 0, 0],
          worst_tier: 0,
          direct: 3,
          nearest: 1,
        },
        {
          key: "2",
          services: 90,
          per_tier: [0, 0, 90, 0],
          worst_tier: 2,
          direct: 0,
          nearest: 2,
        },
      ],
      links: [
        { from: -1, to: 0, paths: 100 },
        { from: 0, to: 1, paths: 90 },
      ],
      summary: ex.summary,
    });
    expect(drawn.nodes.label).toEqual([
      "Token",
      "Tier 0 · 10 (3 direct)",
      "Tier 2 · 90",
    ]);
    expect(drawn.nodes.tier).toEqual([null, 0, 2]);
    expect(drawn.edges).toEqual([0, 1, 1, 2]);
    expect(edgeSizes[0]).toBeGreaterThan(edgeSizes[1]);
    // Nearer groups sit further left.
    expect(drawn.nodes.x[1]).toBeLessThan(drawn.nodes.x[2]);
  });

  it("folds the groups past the first twenty into one node, links summed", () => {
    const ex = sample();
    const groups = Array.from({ length: 40 }, (_, k) => ({
      key: `team-${k}`,
      services: 100 - k,
      per_tier: [0, 0, 100 - k, 0] as [number, number, number, number],
      worst_tier: 2,
      direct: k === 0 ? 1 : 0,
      nearest: 1 + (k % 2),
    }));
    const {
      ex: drawn,
      edgeSizes,
      shown,
    } = summaryGraph({
      targets: ex.targets,
      group_by: "owner",
      contained: [{ kind: "identity", id: "tok", name: "Token" }],
      groups,
      links: groups.map((g, k) => ({ from: -1, to: k, paths: g.services })),
      summary: ex.summary,
    });
    expect(shown).toBe(20);
    expect(drawn.nodes.id).toHaveLength(22);
    const others = groups.slice(20).reduce((a, g) => a + g.services, 0);
    expect(drawn.nodes.label[21]).toBe(
      `20 more groups · ${others.toLocaleString("en-US")}`,
    );
    // One edge from the identity to each drawn node, the folded one
    // weighed by all its groups' paths.
    expect(drawn.edges.length / 2).toBe(21);
    const k = drawn.edges.findIndex((v, i) => i % 2 === 1 && v === 21);
    expect(edgeSizes[(k - 1) / 2]).toBeCloseTo(
      0.5 + 1.5 * Math.log2(1 + others),
    );
    // Tall columns wrap: no column holds more than ten nodes.
    const perColumn = new Map<number, number>();
    drawn.nodes.x.forEach((x) => perColumn.set(x, (perColumn.get(x) ?? 0) + 1));
    expect(Math.max(...perColumn.values())).toBeLessThanOrEqual(10);
  });
});
