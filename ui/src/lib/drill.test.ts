import { describe, expect, it } from "vitest";
import { approvedKey, countdown, drillNow, realSecondsUntil } from "./drill";
import { drillClock } from "./format";
import type { DrillSession, TimelineRow } from "./types";

function row(
  id: string,
  approved: TimelineRow["approved_action"],
): TimelineRow {
  return {
    id,
    at_seconds: 0,
    identity: `id-${id}`,
    action: "rotate_secret",
    state: approved ? "closed" : "open",
    request_id: null,
    decisions: [],
    failures: [],
    status: approved ? "approved" : null,
    approved_action: approved,
  };
}

const session: DrillSession = {
  example: "x",
  scenario: "s",
  run_id: "r",
  speed: 60,
  scripted: false,
  backend: "http://127.0.0.1:1",
  started_at: "2026-11-24T10:00:00Z",
  events: [],
  timeline: [],
  running: true,
  report: null,
  error: null,
};

describe("drill view", () => {
  it("counts down in real time, not drill time", () => {
    // At 60×, drill minute 5 is due 5 real seconds after the start.
    const start = Date.parse(session.started_at);
    expect(realSecondsUntil(session, 300, start)).toBe(5);
    expect(realSecondsUntil(session, 300, start + 2000)).toBe(3);
    expect(realSecondsUntil(session, 300, start + 9000)).toBe(0);
    expect(countdown(3)).toBe("3s");
    expect(countdown(125.2)).toBe("2m 06s");
    expect(countdown(3725)).toBe("1h 02m");
  });

  it("keys the approved set by identity and action", () => {
    expect(approvedKey([row("a", "rotate_secret"), row("b", null)])).toBe(
      "id-a:rotate_secret",
    );
    expect(approvedKey([row("b", null)])).toBe("");
  });

  it("drill time runs at the session's speed", () => {
    expect(drillNow(session, Date.parse("2026-11-24T10:00:05Z"))).toBe(300);
    expect(drillNow(session, Date.parse("2026-11-24T09:00:00Z"))).toBe(0);
    expect(drillClock(0)).toBe("T+0s");
    expect(drillClock(300)).toBe("T+5m");
    expect(drillClock(3725)).toBe("T+1h 2m 5s");
  });
});
