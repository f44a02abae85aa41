import { describe, expect, it } from "vitest";
import { approvedKey, drillNow, planned, timeline } from "./drill";
import { drillClock } from "./format";
import type { DrillEvent, DrillSession } from "./types";

const started: DrillEvent = {
  kind: "started",
  run_id: "r",
  scenario: "s",
  backend: "http://127.0.0.1:1",
  speed: 60,
  injects: [
    { id: "b", at_seconds: 300, identity: "agent", action: "disable_account" },
    { id: "a", at_seconds: 0, identity: "key", action: "rotate_secret" },
  ],
};

function session(events: DrillEvent[]): DrillSession {
  return {
    example: "x",
    scenario: "s",
    run_id: "r",
    speed: 60,
    scripted: false,
    backend: "http://127.0.0.1:1",
    started_at: "2026-11-24T10:00:00Z",
    events,
    running: true,
    report: null,
    error: null,
  };
}

describe("drill timeline", () => {
  it("folds events into one row per inject, in time order", () => {
    const events: DrillEvent[] = [
      started,
      { kind: "issued", inject: "a", request_id: "r-a", at_seconds: 0 },
      {
        kind: "decided",
        inject: "a",
        approver: "amira",
        decision: "approve",
        receipt: "accepted",
        at_seconds: 90,
      },
      {
        kind: "closed",
        inject: "a",
        identity: "key",
        status: "approved",
        approved_action: "rotate_secret",
        at_seconds: 90,
      },
      { kind: "issued", inject: "b", request_id: "r-b", at_seconds: 300 },
      {
        kind: "script_failed",
        inject: "b",
        by: "jonas",
        message: "expired",
        at_seconds: 400,
      },
    ];
    const rows = timeline(planned(session(events)), events);
    expect(rows.map((r) => r.id)).toEqual(["a", "b"]);
    expect(rows[0].state).toBe("closed");
    expect(rows[0].approved_action).toBe("rotate_secret");
    expect(rows[0].decisions[0].approver).toBe("amira");
    expect(rows[1].state).toBe("open");
    expect(rows[1].request_id).toBe("r-b");
    expect(rows[1].failures[0].message).toBe("expired");
    expect(approvedKey(events)).toBe("key:rotate_secret");
  });

  it("upcoming injects stay upcoming until issued", () => {
    const rows = timeline(started.kind === "started" ? started.injects : [], [
      started,
    ]);
    expect(rows.every((r) => r.state === "upcoming")).toBe(true);
    expect(approvedKey([started])).toBe("");
  });

  it("drill time runs at the session's speed", () => {
    const s = session([started]);
    expect(drillNow(s, Date.parse("2026-11-24T10:00:05Z"))).toBe(300);
    expect(drillNow(s, Date.parse("2026-11-24T09:00:00Z"))).toBe(0);
    expect(drillClock(0)).toBe("T+0s");
    expect(drillClock(300)).toBe("T+5m");
    expect(drillClock(3725)).toBe("T+1h 2m 5s");
  });
});
