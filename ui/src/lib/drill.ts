// The drill view's timeline, folded from the runner's events.
import type {
  ContainmentAction,
  DrillEvent,
  DrillSession,
  PlannedInject,
} from "./types";

export interface TimelineRow {
  id: string;
  at_seconds: number;
  identity: string;
  action: ContainmentAction;
  /** upcoming: not issued yet; open: awaiting decisions; closed: settled. */
  state: "upcoming" | "open" | "closed";
  request_id: string | null;
  decisions: Extract<DrillEvent, { kind: "decided" }>[];
  failures: Extract<DrillEvent, { kind: "script_failed" }>[];
  status: string | null;
  approved_action: ContainmentAction | null;
}

export function planned(session: DrillSession): PlannedInject[] {
  const started = session.events.find((e) => e.kind === "started");
  return started && started.kind === "started" ? started.injects : [];
}

export function timeline(
  injects: PlannedInject[],
  events: DrillEvent[],
): TimelineRow[] {
  const rows = new Map<string, TimelineRow>(
    injects.map((i) => [
      i.id,
      {
        ...i,
        state: "upcoming",
        request_id: null,
        decisions: [],
        failures: [],
        status: null,
        approved_action: null,
      },
    ]),
  );
  for (const e of events) {
    if (e.kind === "started") continue;
    const row = rows.get(e.inject);
    if (!row) continue;
    switch (e.kind) {
      case "issued":
        row.state = "open";
        row.request_id = e.request_id;
        break;
      case "decided":
        row.decisions.push(e);
        break;
      case "script_failed":
        row.failures.push(e);
        break;
      case "closed":
        row.state = "closed";
        row.status = e.status;
        row.approved_action = e.approved_action;
        break;
    }
  }
  return [...rows.values()].sort((a, b) => a.at_seconds - b.at_seconds);
}

/** Drill seconds since the start, at `now`. */
export function drillNow(session: DrillSession, now: number): number {
  const started = Date.parse(session.started_at);
  return Number.isNaN(started)
    ? 0
    : (Math.max(0, now - started) / 1000) * session.speed;
}

/** A stable key for the set of approved actions (the graph reloads when it changes). */
export function approvedKey(events: DrillEvent[]): string {
  return events
    .filter((e) => e.kind === "closed" && e.approved_action)
    .map((e) =>
      e.kind === "closed" ? `${e.identity}:${e.approved_action}` : "",
    )
    .join(",");
}
