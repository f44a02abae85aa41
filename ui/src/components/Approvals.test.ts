import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import Approvals from "./Approvals.svelte";
import type {
  ContainmentRequest,
  DecisionRow,
  InboxView,
  RequestView,
  SignCheck,
} from "../lib/types";

const request: ContainmentRequest = {
  id: "req-1",
  action: "disable_account",
  target: {
    external_id: "vault:secret/kafka/shared-client",
    display_name: "Kafka shared client credential",
  },
  evidence: {
    signal: "secret_in_public_repository",
    summary: "Committed to a public fork.",
    confidence: 0.92,
    source: "secret-scanner",
  },
  severity: "high",
  requested_by: { kind: "automation", id: "soar-playbook" },
  created_at: "2026-11-24T10:00:00Z",
  expires_at: "2999-01-01T00:00:00Z",
  tier: "single_approval",
};

function inboxWith(decision: DecisionRow | null): InboxView {
  return {
    backend: "http://127.0.0.1:8787",
    drill: null,
    error: null,
    last_poll: "2026-11-24T10:00:05Z",
    items: [{ request, decision }],
    awaiting: decision ? 0 : 1,
    queued: 0,
    signing_key: {
      kid: "kid-0123456789abcdef",
      status: "active",
      created_at: "2026-11-24T09:00:00Z",
      retired_at: null,
      public_jwk: {
        kty: "OKP",
        crv: "Ed25519",
        x: "x",
        kid: "kid-0123456789abcdef",
      },
    },
    approver: "alice",
  };
}

const summary = {
  services: 6,
  per_tier: [1, 3, 2, 0] as [number, number, number, number],
  highest_tier: 0,
  score: 3210,
  break_glass: [],
  fan_out: 6,
  rto_minutes: 30,
  rto_unknown: [],
  destructive_without_rollback: [],
  undocumented_consumers: 0,
};

function viewFor(requestedByYou: boolean): RequestView {
  return {
    request,
    request_digest: "digest-abcdefghijklmnop",
    inventory_version: "head-42",
    blast_radius_digest: "blast-digest",
    problem: null,
    identity: null,
    threat: "leaked_secret",
    policy: {
      tier: "dual_approval",
      permitted_by: ["dual-approval-always-possible"],
      lighter_tiers_forbidden_by: ["disabling-and-quarantine-dual"],
      approver_groups: ["identity-governance", "incident-response"],
      policy_version: "sha256:abc",
      controls: [
        {
          key: "NIST CSF RS.MI-01",
          framework: "NIST Cybersecurity Framework 2.0",
          id: "RS.MI-01",
          title: "Incidents are contained",
        },
      ],
    },
    tier_mismatch: true,
    observed: {
      observed_undocumented: [
        {
          kind: "uses",
          consumer: "support-portal",
          consumer_known: true,
          target: "tok-kafka-shared",
          last_seen: "2026-12-01T00:00:00Z",
          age_days: 1,
          calls: 1302,
          message:
            "support-portal was observed using tok-kafka-shared (1302 calls, last seen 1 day ago), but nobody documented it",
        },
      ],
      documented_unobserved: [],
      stale_days: 30,
    },
    blast: {
      targets: [{ identity: "tok-kafka-shared", action: "disable_account" }],
      contained: ["tok-kafka-shared"],
      impacted: [],
      spared: [],
      summary,
    },
    alternatives: {
      identity: "tok-kafka-shared",
      threat: "leaked_secret",
      recommended: "rotate_secret",
      options: [
        {
          action: "rotate_secret",
          contains: true,
          applies: true,
          summary: { ...summary, services: 2, score: 20 },
          extra_services: [],
        },
      ],
    },
    narrower: ["rotate_secret"],
    freshness: {
      reviewed_on: null,
      reviewed_by: null,
      stale_after_days: 90,
      findings: [],
    },
    decisions: [],
    requested_by_you: requestedByYou,
    expired: false,
  };
}

let calls: { cmd: string; args: Record<string, unknown> }[] = [];

const mayApprove: SignCheck = {
  approve_refused: null,
  deny_refused: null,
  standing: "first_of_two",
  required_groups: ["identity-governance", "incident-response"],
  your_groups: ["identity-governance"],
  approvals: [],
  unchecked: null,
};

function mock(view: RequestView, checks: SignCheck[] = [mayApprove]) {
  calls = [];
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    switch (cmd) {
      case "request_view":
        return view;
      case "sign_check":
        // The next judgement after each fix; the last one stays.
        return checks.length > 1 ? checks.shift() : checks[0];
      case "enroll_keys":
        return inboxWith(null);
      case "decide_request":
        return null;
      case "refresh_inbox":
        return inboxWith(null);
    }
  });
}

describe("Approvals", () => {
  it("shows the evidence, the policy rule and the blast radius, and signs only after confirmation", async () => {
    mock(viewFor(false));
    render(Approvals, { view: inboxWith(null), onUpdate: () => {} });
    await fireEvent.click(await screen.findByTestId("inbox-item"));
    expect(await screen.findByTestId("evidence")).toHaveTextContent(
      "secret in public repository",
    );
    const policy = screen.getByTestId("policy");
    expect(policy).toHaveTextContent("Dual approval");
    expect(policy).toHaveTextContent("disabling-and-quarantine-dual");
    expect(screen.getByTestId("observed-undocumented")).toHaveTextContent(
      "support-portal was observed using tok-kafka-shared",
    );
    expect(screen.getByTestId("policy-controls")).toHaveTextContent(
      "Controls served: NIST CSF RS.MI-01",
    );
    expect(screen.getByTestId("tier-mismatch")).toBeInTheDocument();
    expect(screen.getByTestId("dual-groups")).toHaveTextContent(
      "identity-governance, incident-response",
    );
    expect(screen.getByTestId("freshness")).toHaveTextContent("never reviewed");
    expect(screen.getByTestId("request-blast")).toHaveTextContent("6 services");

    const sign = screen.getByTestId("sign");
    expect(sign).toBeDisabled();
    await fireEvent.input(screen.getByTestId("reason"), {
      target: { value: "rotate instead" },
    });
    await fireEvent.click(screen.getByTestId("verdict-narrow"));
    expect(screen.getByTestId("sign")).toBeEnabled();
    await fireEvent.click(screen.getByTestId("sign"));
    expect(screen.getByTestId("confirm-text")).toHaveTextContent(
      "Approve Rotate secret instead of Disable account",
    );
    expect(calls.some((c) => c.cmd === "decide_request")).toBe(false);
    await fireEvent.click(screen.getByTestId("confirm-sign"));
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === "decide_request")?.args).toEqual({
        decision: {
          id: "req-1",
          verdict: "narrow",
          action: "rotate_secret",
          until: null,
          reason: "rotate instead",
          // The version shown goes back with the decision.
          inventoryVersion: "head-42",
        },
      }),
    );
  });

  it("shows the request afresh when the inventory changed while it was open", async () => {
    let views = 0;
    calls = [];
    mockIPC((cmd, payload) => {
      calls.push({ cmd, args: (payload ?? {}) as Record<string, unknown> });
      switch (cmd) {
        case "request_view":
          views += 1;
          return { ...viewFor(false), inventory_version: `head-${41 + views}` };
        case "decide_request":
          throw {
            code: "inventory_changed",
            message:
              "the inventory changed since you opened this request; review it again",
            hint: "Open the request again.",
          };
      }
    });
    render(Approvals, { view: inboxWith(null), onUpdate: () => {} });
    await fireEvent.click(await screen.findByTestId("inbox-item"));
    await fireEvent.input(await screen.findByTestId("reason"), {
      target: { value: "deny it" },
    });
    await fireEvent.click(screen.getByTestId("verdict-deny"));
    await fireEvent.click(screen.getByTestId("sign"));
    await fireEvent.click(screen.getByTestId("confirm-sign"));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "the inventory changed since you opened this request",
    );
    // Reloaded: the next decision carries the version now shown.
    const before = views;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(screen.getByTestId("reason")).toHaveValue("deny it");
    await fireEvent.click(screen.getByTestId("sign"));
    await fireEvent.click(screen.getByTestId("confirm-sign"));
    await waitFor(() =>
      expect(
        calls.filter((c) => c.cmd === "decide_request").at(-1)?.args,
      ).toMatchObject({
        decision: { inventoryVersion: `head-${41 + before}` },
      }),
    );
  });

  it("says before signing that an approval would not count, and offers the fix", async () => {
    const notEnrolled: SignCheck = {
      ...mayApprove,
      standing: null,
      approve_refused: {
        code: "approver_mismatch",
        message:
          "your decision would claim group incident-response, but the backend has you enrolled with no groups: enroll again",
        fix: "enroll",
      },
      your_groups: [],
    };
    mock(viewFor(false), [notEnrolled, notEnrolled, mayApprove]);
    render(Approvals, { view: inboxWith(null), onUpdate: () => {} });
    await fireEvent.click(await screen.findByTestId("inbox-item"));
    const refused = await screen.findByTestId("sign-refused");
    expect(refused).toHaveTextContent("You cannot approve this");
    expect(refused).toHaveTextContent("enrolled with no groups");
    expect(screen.getByTestId("verdict-approve")).toBeDisabled();
    expect(screen.getByTestId("verdict-narrow")).toBeDisabled();
    // Deny is still open; nothing is chosen for you.
    expect(screen.getByTestId("verdict-deny")).toBeEnabled();
    expect(screen.getByTestId("verdict-deny")).not.toBeChecked();
    expect(screen.getByTestId("verdict-approve")).not.toBeChecked();
    expect(screen.getByTestId("sign")).toBeDisabled();
    expect(screen.getByTestId("dual-groups")).toHaveTextContent(
      "would not count",
    );
    await fireEvent.click(screen.getByTestId("sign-fix"));
    await waitFor(() =>
      expect(calls.some((c) => c.cmd === "enroll_keys")).toBe(true),
    );
    await waitFor(() =>
      expect(screen.queryByTestId("sign-refused")).not.toBeInTheDocument(),
    );
    expect(screen.getByTestId("verdict-approve")).toBeEnabled();
    expect(screen.getByTestId("dual-groups")).toHaveTextContent(
      "Yours would be the first of the two signatures",
    );
  });

  it("never lets the requester approve", async () => {
    mock(viewFor(true));
    render(Approvals, { view: inboxWith(null), onUpdate: () => {} });
    await fireEvent.click(await screen.findByTestId("inbox-item"));
    await screen.findByTestId("decide");
    expect(screen.getByTestId("verdict-approve")).toBeDisabled();
    expect(screen.getByTestId("verdict-narrow")).toBeDisabled();
    expect(screen.getByTestId("verdict-deny")).toBeEnabled();
  });

  it("asks to connect when no backend is configured", () => {
    mock(viewFor(false));
    render(Approvals, {
      view: { ...inboxWith(null), backend: null, items: [] },
      onUpdate: () => {},
    });
    expect(screen.getByTestId("connect-form")).toBeInTheDocument();
  });

  it("changes the backend only once the new one is checked, and disconnects after a confirmation", async () => {
    let connected = "http://127.0.0.1:8787";
    const asked: string[] = [];
    mockIPC((cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      asked.push(cmd);
      if (cmd === "connect_backend") {
        if (args.url !== "http://good.example") {
          throw {
            code: "backend_unreachable",
            message: `the backend at ${String(args.url)} cannot be reached (could not connect: Connection refused)`,
            hint: "Check the backend's URL and that it is running (Approvals, Change).",
          };
        }
        connected = args.url as string;
        return { ...inboxWith(null), backend: connected };
      }
      if (cmd === "disconnect_backend") {
        return { ...inboxWith(null), backend: null, items: [], awaiting: 0 };
      }
    });
    let shown: InboxView = inboxWith(null);
    const { rerender } = render(Approvals, {
      view: shown,
      onUpdate: (v: InboxView) => (shown = v),
    });
    await fireEvent.click(screen.getByTestId("change-backend"));
    const form = screen.getByTestId("connect-form");
    expect(form).toHaveTextContent(
      "you stay connected to http://127.0.0.1:8787",
    );
    const [address, secret] = form.querySelectorAll("input");
    await fireEvent.input(address, { target: { value: "http://wrong:1" } });
    await fireEvent.input(secret, { target: { value: "t0ken" } });
    await fireEvent.click(screen.getByTestId("connect"));
    // Refused: said plainly, the form stays, the old backend is kept.
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "could not connect: Connection refused",
    );
    expect(screen.getByTestId("connect-form")).toBeInTheDocument();
    expect(shown.backend).toBe("http://127.0.0.1:8787");
    await fireEvent.input(address, {
      target: { value: "http://good.example" },
    });
    await fireEvent.input(secret, { target: { value: "t0ken" } });
    await fireEvent.click(screen.getByTestId("connect"));
    await waitFor(() => expect(shown.backend).toBe("http://good.example"));
    await rerender({ view: shown, onUpdate: (v: InboxView) => (shown = v) });
    expect(screen.queryByTestId("connect-form")).toBeNull();

    await fireEvent.click(screen.getByTestId("disconnect-backend"));
    expect(asked).not.toContain("disconnect_backend");
    expect(screen.getByTestId("confirm-disconnect")).toHaveTextContent(
      "stay queued",
    );
    await fireEvent.click(screen.getByTestId("confirm-disconnect-yes"));
    await waitFor(() => expect(asked).toContain("disconnect_backend"));
    await waitFor(() => expect(shown.backend).toBeNull());
  });

  it("marks a denial in red, from the choice to the record", async () => {
    mock(viewFor(false));
    render(Approvals, { view: inboxWith(null), onUpdate: () => {} });
    await fireEvent.click(await screen.findByTestId("inbox-item"));
    await fireEvent.click(await screen.findByTestId("verdict-deny"));
    expect(screen.getByTestId("decide")).toHaveClass("deny");
    await fireEvent.input(screen.getByTestId("reason"), {
      target: { value: "breaks checkout" },
    });
    const sign = screen.getByTestId("sign");
    expect(sign).toHaveClass("danger-solid");
    expect(sign).toHaveTextContent("Sign denial");
  });

  it("shows a denial as a denial once signed, apart from its delivery", async () => {
    const denied: DecisionRow = {
      jti: "jti-1",
      request_id: "req-1",
      decision: "deny",
      approver: "alice",
      jws: "a.b.c",
      created_at: "2026-11-24T10:01:00Z",
      drill_run: null,
      destination: "http://127.0.0.1:8787",
      attempts: 1,
      delivered_at: "2026-11-24T10:01:01Z",
      last_error: null,
      receipt: "accepted",
      receipt_reason: null,
    };
    mock({ ...viewFor(false), decisions: [denied] });
    render(Approvals, { view: inboxWith(denied), onUpdate: () => {} });
    const row = await screen.findByTestId("inbox-item");
    expect(row.querySelector(".decision-deny")).toHaveTextContent("Denied");
    await fireEvent.click(row);
    const verdict = await screen.findByTestId("decision-verdict");
    expect(verdict).toHaveClass("decision-deny");
    expect(verdict).not.toHaveClass("delivered");
  });

  it("opens the request it is sent to (a drill's Answer in Approvals)", async () => {
    mock(viewFor(false));
    render(Approvals, {
      view: inboxWith(null),
      onUpdate: () => {},
      initialSelected: "req-1",
    });
    expect(await screen.findByTestId("request-view")).toBeInTheDocument();
    expect(screen.getByTestId("inbox-item")).toHaveAttribute(
      "aria-current",
      "true",
    );
  });

  it("says when a drill's requests take the inbox's place", () => {
    mock(viewFor(false));
    render(Approvals, {
      view: { ...inboxWith(null), drill: "Shared Kafka credential leaked" },
      onUpdate: () => {},
    });
    expect(screen.getByTestId("inbox-drill")).toHaveTextContent(
      "Drill running: Shared Kafka credential leaked",
    );
    expect(screen.getByTestId("drill-mark")).toHaveTextContent("DRILL");
  });
});
