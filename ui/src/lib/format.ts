// Wording for the model's values, kept in one place so every view agrees.
// The named enums' labels are the core's own (`label()` in src/model),
// generated into ./generated/labels.ts.
import type { DecisionRow, Environment, IdentityKind } from "./types";
import type { Rule } from "./generated/Rule";
import { ENV_LABELS, KIND_LABELS } from "./generated/labels";

export {
  ACCESS_LABELS,
  ACTION_LABELS,
  APPROVAL_LABELS,
  CREDENTIAL_KIND_LABELS,
  DELIVERY_LABELS,
  ENV_LABELS,
  KIND_LABELS,
  LIFETIME_LABELS,
  OWNER_KIND_LABELS,
} from "./generated/labels";

export const RULE_LABELS: Record<Rule, string> = {
  no_owner: "No owner",
  orphaned: "Owner left",
  break_glass_without_custodians: "Break-glass without custodians",
  destructive_without_rollback: "Destructive action without rollback",
  shared_undocumented: "Shared, consumers undocumented",
  stale_review: "Stale review",
  never_reviewed: "Never reviewed",
  expiring: "Expiring credential",
  admin_without_break_glass: "Admin-equivalent, not break-glass",
  credential_unused: "Unused credential",
  credential_rotation_due: "Credential due for rotation",
  observed_undocumented: "Observed, not documented",
  documented_unobserved: "Documented, not observed lately",
  review_overdue: "Attestation overdue",
  attested_changes_needed: "Attested as wrong, not fixed",
};

const TIER_LABELS = [
  "mission-critical",
  "business-critical",
  "important",
  "low",
];

export const kindLabel = (kind: IdentityKind): string =>
  KIND_LABELS[kind] ?? kind;

export const envLabel = (env: Environment): string => ENV_LABELS[env] ?? env;

/** "Tier 0 · mission-critical"; unknown tiers are shown as they are. */
export function tierLabel(tier: number): string {
  const words = TIER_LABELS[tier];
  return words ? `Tier ${tier} · ${words}` : `Tier ${tier}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  // Thousands grouped: "51,270 nodes" reads at a glance.
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** Splits "a, b,,c" into ["a", "b", "c"]: how list fields are typed in forms. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

type Snapshot = string | Record<string, unknown> | null | undefined;

/** A snapshot's fields: JSON text parsed, an object as it is, none for null. */
function parseSnapshot(s: Snapshot): Record<string, unknown> {
  return typeof s === "string"
    ? (JSON.parse(s) as Record<string, unknown>)
    : (s ?? {});
}

/** Top-level fields that differ between two snapshots of an entity (JSON
 * text from the audit trail, or objects from an import preview). */
export function changedFields(before: Snapshot, after: Snapshot): string[] {
  const b = parseSnapshot(before);
  const a = parseSnapshot(after);
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  return keys.filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]));
}

/** One field's change, as History shows it: before and after in words;
 * for lists, what was added and removed. */
export interface FieldChange {
  field: string;
  before: string;
  after: string;
  added: string[];
  removed: string[];
}

const MAX_SHOWN = 160;

/** A stored value in a line of text: `—` for nothing, strings as they
 * are, a reference (a usage, an owner) by what it names, anything else as
 * compact JSON; cut at 160 characters. */
export function showValue(v: unknown): string {
  if (v === undefined || v === null || v === "") return "—";
  let text: string;
  if (typeof v === "string") text = v;
  else if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const named = o.service ?? o.id ?? o.name;
    text = typeof named === "string" ? named : JSON.stringify(v);
  } else text = JSON.stringify(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** What changed between two snapshots, field by field (sorted by name). */
export function fieldChanges(before: Snapshot, after: Snapshot): FieldChange[] {
  const b = parseSnapshot(before);
  const a = parseSnapshot(after);
  return changedFields(before, after).map((field) => {
    const was = b[field];
    const now = a[field];
    let added: string[] = [];
    let removed: string[] = [];
    if (Array.isArray(was) || Array.isArray(now)) {
      const key = (x: unknown) => JSON.stringify(x);
      const wasKeys = new Set(((was as unknown[]) ?? []).map(key));
      const nowKeys = new Set(((now as unknown[]) ?? []).map(key));
      added = ((now as unknown[]) ?? [])
        .filter((x) => !wasKeys.has(key(x)))
        .map(showValue);
      removed = ((was as unknown[]) ?? [])
        .filter((x) => !nowKeys.has(key(x)))
        .map(showValue);
    }
    return {
      field,
      before: showValue(was),
      after: showValue(now),
      added,
      removed,
    };
  });
}

export const THREAT_LABELS: Record<string, string> = {
  stolen_session: "Stolen session",
  leaked_secret: "Leaked secret",
  permission_misuse: "Permission misuse",
  compromised: "Fully compromised",
};

export const DECISION_LABELS: Record<DecisionRow["decision"], string> = {
  approve: "Approved",
  deny: "Denied",
  approve_narrowed: "Approved narrowed",
};

/** Where a signed decision is on its way to the backend, in words. */
export function deliveryState(d: DecisionRow): {
  state: "delivered" | "rejected" | "queued" | "retrying" | "local";
  text: string;
} {
  if (!d.destination) return { state: "local", text: "Signed, not sent" };
  if (d.delivered_at) {
    if (d.receipt === "rejected")
      return {
        state: "rejected",
        text: `Refused by the backend: ${(d.receipt_reason ?? "no reason given").replaceAll("_", " ")}`,
      };
    if (d.receipt === "awaiting_second_approval")
      return {
        state: "delivered",
        text: "Delivered; waiting for a second approver",
      };
    return { state: "delivered", text: "Delivered and accepted" };
  }
  if (d.last_error)
    return {
      state: "retrying",
      text: `Queued; ${plural(d.attempts ?? 0, "attempt")} so far (${d.last_error})`,
    };
  return { state: "queued", text: "Queued for delivery" };
}

/** "in 25 min", "3 min ago": how long until (or since) a time. */
export function relative(iso: string, now: Date = new Date()): string {
  const minutes = Math.round((Date.parse(iso) - now.getTime()) / 60000);
  if (minutes === 0) return "just now";
  const span =
    Math.abs(minutes) >= 120
      ? `${Math.round(Math.abs(minutes) / 60)} h`
      : `${Math.abs(minutes)} min`;
  return minutes >= 0 ? `in ${span}` : `${span} ago`;
}

/** Drill time as the timeline shows it: `T+0s`, `T+5m`, `T+1h 2m 5s`. */
export function drillClock(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  if (s === 0) return "T+0s";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return `T+${parts.join(" ")}`;
}
