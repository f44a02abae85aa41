import { describe, expect, it } from "vitest";
import { draftProblems, fromDraft, toDraft } from "./identity-draft";
import type { Identity } from "./types";

const full: Identity = {
  id: "tok-kafka-shared",
  kind: "token",
  name: "Kafka shared",
  owner: "team-streaming",
  backup_owner: "amira",
  environment: "production",
  tier: 1,
  description: "shared",
  external_ids: ["vault:kafka"],
  permissions: ["produce"],
  lifetime: "long_lived",
  expires_on: "2027-01-01",
  derived_from: "sa-x",
  used_by: [
    {
      service: "search",
      access: "read",
      delivery: "static",
      live_sessions: true,
    },
    { service: "api" },
  ],
  break_glass: {
    justification: "DR",
    custodians: ["a", "b"],
    use_window: "outage",
    always_dual_approval: true,
    owner_veto: false,
  },
  containment: {
    rotate_secret: {
      reversible: true,
      rollback: "roll back",
      rto_minutes: 30,
      preauthorised: "single_approval",
    },
    revoke_token: { reversible: false, rto_minutes: 120 },
  },
  review: { by: "li", on: "2026-10-02" },
  // Imported from the issuer; the form keeps them as they are.
  admin_equivalent: true,
  credentials: [
    {
      id: "access_key_1",
      kind: "access_key",
      created_on: "2021-03-02",
      last_used_on: "2026-11-29",
    },
    { id: "access_key_2", kind: "access_key", active: false },
  ],
};

describe("identity draft", () => {
  it("round-trips every field", () => {
    const back = fromDraft(toDraft(full));
    expect(back).toEqual({
      ...full,
      used_by: [
        full.used_by![0],
        {
          service: "api",
          access: undefined,
          delivery: undefined,
          live_sessions: undefined,
        },
      ],
      containment: {
        rotate_secret: full.containment!.rotate_secret,
        revoke_token: {
          reversible: false,
          rollback: undefined,
          rto_minutes: 120,
          preauthorised: undefined,
        },
      },
    });
  });

  it("turns empty inputs into absent fields", () => {
    const d = toDraft(null);
    d.id = " new-key ";
    d.name = "New key";
    const i = fromDraft(d);
    expect(i.id).toBe("new-key");
    expect(i.owner).toBeUndefined();
    expect(i.break_glass).toBeUndefined();
    expect(i.containment).toEqual({});
    expect(i.external_ids).toEqual([]);
  });

  it("names what is missing before anything is sent", () => {
    const d = toDraft(null);
    d.break_glass = true;
    d.containment.quarantine.rto_minutes = "ten";
    expect(draftProblems(d)).toEqual([
      "Give the identity an id.",
      "Give the identity a name.",
      "A break-glass designation needs a justification.",
      "Recovery time for quarantine must be whole minutes.",
    ]);
  });
});
