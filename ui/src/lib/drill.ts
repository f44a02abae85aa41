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

/**
 * Wall-clock seconds until drill second `at` (0 once due): what a
 * countdown shows, since a person waits in real time, not drill time.
 */
export function realSecondsUntil(
  session: DrillSession,
  at: number,
  now: number,
): number {
  const speed = session.speed > 0 ? session.speed : 1;
  return Math.max(0, (at - drillNow(session, now)) / speed);
}

/** A real-time span as a countdown says it: `45s`, `2m 05s`, `1h 02m`. */
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

/** A stable key for the set of approved actions (the graph reloads when it changes). */
export function approvedKey(timeline: TimelineRow[]): string {
  return timeline
    .filter((r) => r.approved_action)
    .map((r) => `${r.identity}:${r.approved_action}`)
    .join(",");
}
