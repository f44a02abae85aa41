// A small radius for tests: identity → a (T0) → b (T2) → c (T1); identity → d (T3).
import type { Explorer } from "../types";

export function sample(): Explorer {
  return {
    targets: [{ identity: "tok", action: "disable_account" }],
    nodes: {
      id: ["tok", "a", "b", "c", "d"],
      label: ["Token", "Alpha", "Bravo <b>", "Charlie", "Delta"],
      identity: [true, false, false, false, false],
      tier: [null, 0, 2, 1, 3],
      depth: [0, 1, 2, 3, 1],
      parent: [-1, 0, 1, 2, 0],
      skipped: [0, 0, 0, 0, 0],
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
