// Drill time and the approved set, from the session the core keeps (its
// timeline is folded in Rust, src/drill/timeline.rs).
import type { DrillSession, TimelineRow } from "./types";

/** Drill seconds since the start, at `now`. */
export function drillNow(session: DrillSession, now: number): number {
  const started = Date.parse(session.started_at);
  return Number.isNaN(started)
    ? 0
    : (Math.max(0, now - started) / 1000) * session.speed;
}

/** A stable key for the set of approved actions (the graph reloads when it changes). */
export function approvedKey(timeline: TimelineRow[]): string {
  return timeline
    .filter((r) => r.approved_action)
    .map((r) => `${r.identity}:${r.approved_action}`)
    .join(",");
}
