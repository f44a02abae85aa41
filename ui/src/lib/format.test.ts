import { describe, expect, it } from "vitest";
import {
  deliveryState,
  envLabel,
  fieldChanges,
  kindLabel,
  plural,
  relative,
  tierLabel,
} from "./format";
import type { DecisionRow } from "./types";
import { toCommandError } from "./api";

describe("format", () => {
  it("labels kinds, tiers and environments", () => {
    expect(kindLabel("cicd_deploy_key")).toBe("CI/CD deploy key");
    expect(tierLabel(0)).toBe("Tier 0 · mission-critical");
    expect(tierLabel(9)).toBe("Tier 9");
    expect(envLabel("production")).toBe("Production");
  });

  it("pluralises counts", () => {
    expect(plural(1, "service")).toBe("1 service");
    expect(plural(6, "service")).toBe("6 services");
    expect(plural(2, "identity", "identities")).toBe("2 identities");
  });
});

describe("toCommandError", () => {
  it("keeps message and hint from a command error", () => {
    expect(toCommandError({ message: "boom", hint: "try again" })).toEqual({
      code: null,
      message: "boom",
      hint: "try again",
    });
    expect(
      toCommandError({ code: "inventory_changed", message: "m", hint: null }),
    ).toEqual({ code: "inventory_changed", message: "m", hint: null });
  });

  it("wraps plain strings and other values", () => {
    expect(toCommandError("denied")).toEqual({
      code: null,
      message: "denied",
      hint: null,
    });
    expect(toCommandError(42)).toEqual({
      code: null,
      message: "42",
      hint: null,
    });
  });
});

describe("deliveryState", () => {
  const base: DecisionRow = {
    jti: "j",
    request_id: "r",
    decision: "approve",
    approver: "alice",
    jws: "a.b.c",
    created_at: "2026-11-24T10:00:00Z",
    drill_run: null,
    destination: "http://127.0.0.1:8787",
    attempts: 0,
    delivered_at: null,
    last_error: null,
    receipt: null,
    receipt_reason: null,
  };
  it("tells queued, retrying, delivered and refused apart", () => {
    expect(deliveryState(base).state).toBe("queued");
    const retrying = deliveryState({
      ...base,
      attempts: 3,
      last_error: "the backend cannot be reached",
    });
    expect(retrying.state).toBe("retrying");
    expect(retrying.text).toContain("3 attempts");
    expect(
      deliveryState({
        ...base,
        delivered_at: "2026-11-24T10:00:01Z",
        receipt: "accepted",
      }).text,
    ).toBe("Delivered and accepted");
    const refused = deliveryState({
      ...base,
      delivered_at: "2026-11-24T10:00:01Z",
      receipt: "rejected",
      receipt_reason: "same_approver_twice",
    });
    expect(refused.state).toBe("rejected");
    expect(refused.text).toContain("same approver twice");
    expect(deliveryState({ ...base, destination: null }).state).toBe("local");
  });
});

describe("relative", () => {
  const now = new Date("2026-11-24T10:00:00Z");
  it("says how long until or since", () => {
    expect(relative("2026-11-24T10:25:00Z", now)).toBe("in 25 min");
    expect(relative("2026-11-24T09:57:00Z", now)).toBe("3 min ago");
    expect(relative("2026-11-24T15:00:00Z", now)).toBe("in 5 h");
    expect(relative("2026-11-24T10:00:10Z", now)).toBe("just now");
  });
});

describe("fieldChanges", () => {
  it("says each changed field's value before and after, and what a list gained or lost", () => {
    const before = JSON.stringify({
      name: "Kafka client",
      owner: "team-data",
      used_by: [{ service: "billing" }, { service: "ledger" }],
      notes: null,
    });
    const after = JSON.stringify({
      name: "Kafka shared client",
      owner: "team-data",
      used_by: [{ service: "ledger" }, { service: "mobile" }],
      notes: "x".repeat(400),
    });
    const changes = fieldChanges(before, after);
    expect(changes.map((c) => c.field)).toEqual(["name", "notes", "used_by"]);
    expect(changes[0]).toMatchObject({
      before: "Kafka client",
      after: "Kafka shared client",
    });
    expect(changes[1].before).toBe("—");
    expect(changes[1].after).toHaveLength(160);
    expect(changes[2].added).toEqual(["mobile"]);
    expect(changes[2].removed).toEqual(["billing"]);
  });
});
