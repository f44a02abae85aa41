import { describe, expect, it } from "vitest";
import { envLabel, kindLabel, plural, tierLabel } from "./format";
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
      message: "boom",
      hint: "try again",
    });
  });

  it("wraps plain strings and other values", () => {
    expect(toCommandError("denied")).toEqual({ message: "denied", hint: null });
    expect(toCommandError(42)).toEqual({ message: "42", hint: null });
  });
});
