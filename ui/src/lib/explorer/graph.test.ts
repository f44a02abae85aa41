import { describe, expect, it } from "vitest";
import {
  NO_FILTERS,
  TIER_COLORS,
  descendants,
  nodeColor,
  onlyIn,
  pathTo,
  readingOrder,
  tierCounts,
  toGraph,
  toSvg,
  visible,
} from "./graph";
import type { Explorer } from "../types";

// identity → a (T0) → b (T2) → c (T1); identity → d (T3)
function sample(): Explorer {
  return {
    targets: [{ identity: "tok", action: "disable_account" }],
    nodes: {
      id: ["tok", "a", "b", "c", "d"],
      label: ["Token", "Alpha", "Bravo <b>", "Charlie", "Delta"],
      identity: [true, false, false, false, false],
      tier: [null, 0, 2, 1, 3],
      depth: [0, 1, 2, 3, 1],
      parent: [-1, 0, 1, 2, 0],
      fan_out: [2, 1, 1, 0, 0],
      break_glass: [false, false, false, false, false],
      owner: [0, 1, 1, -1, 0],
      kind: ["token", null, null, null, null],
      environment: ["production", null, null, null, null],
      x: [0, 1.5, 3, 4.5, 1.5],
      y: [0, 0.5, 0, 0, -0.5],
    },
    edges: [0, 1, 1, 2, 2, 3, 0, 4],
    owners: ["team-a", "team-b"],
    summary: {
      services: 4,
      per_tier: [1, 1, 1, 1],
      highest_tier: 0,
      score: 1111,
      break_glass: [],
      fan_out: 2,
      rto_minutes: 0,
      rto_unknown: [],
      destructive_without_rollback: [],
      undocumented_consumers: 0,
    },
  };
}

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
});
