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
});
