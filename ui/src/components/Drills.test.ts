import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import { resetWatch, type Changed } from "../lib/watch";
import Drills from "./Drills.svelte";
import { sample } from "../lib/explorer/fixture";
import type { DrillEvent, DrillSession, TimelineRow } from "../lib/types";

// jsdom has no WebGL: stand-ins for the renderer and its WebGL programs.
vi.mock("sigma", () => import("../lib/explorer/sigma-stub"));
vi.mock("sigma/rendering", () => import("../lib/explorer/sigma-stub"));
vi.mock("@sigma/edge-curve", () => import("../lib/explorer/sigma-stub"));

const example = {
  id: "shared-kafka-credential",
  name: "Shared Kafka credential leaked",
  description: "One credential, six consumers.",
  injects: [
    {
      id: "kafka-leak",
      at_seconds: 0,
      identity: "tok-kafka-shared",
      action: "disable_account",
    },
  ],
  has_participants: false,
  problem: null,
};

/** The core's timeline row for the example's one inject. */
function timelineRow(extra: Partial<TimelineRow> = {}): TimelineRow {
  return {
    id: "kafka-leak",
    at_seconds: 0,
    identity: "tok-kafka-shared",
    action: "disable_account",
    state: "upcoming",
    request_id: null,
    decisions: [],
    failures: [],
    status: null,
    approved_action: null,
    ...extra,
  };
}

function running(
  events: DrillEvent[],
  timeline: TimelineRow[] = [timelineRow()],
): DrillSession {
  return {
    example: example.id,
    scenario: example.name,
    run_id: "drill-1",
    speed: 10,
    scripted: false,
    backend: "http://127.0.0.1:4000",
    started_at: new Date().toISOString(),
    events: [
      {
        kind: "started",
        run_id: "drill-1",
        scenario: example.name,
        backend: "http://127.0.0.1:4000",
        speed: 10,
        injects: example.injects as never,
      },
      ...events,
    ],
    timeline,
    running: true,
    report: null,
    error: null,
  };
}

describe("Drills", () => {
  it("starts a shipped scenario and follows its timeline to the graph of what breaks", async () => {
    let session: DrillSession | null = null;
    const calls: { cmd: string; args: unknown }[] = [];
    // The core tells the tab when the drill moves on.
    resetWatch();
    let channel: { onmessage: (c: Changed) => void } | undefined;
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "watch") {
        channel = (args as { channel: typeof channel }).channel;
        return null;
      }
      if (cmd === "drill_examples") return [example];
      if (cmd === "drill_status") return session;
      if (cmd === "start_drill") {
        session = running(
          [
            {
              kind: "issued",
              inject: "kafka-leak",
              request_id: "drill-1-kafka-leak",
              at_seconds: 0,
            },
          ],
          [timelineRow({ state: "open", request_id: "drill-1-kafka-leak" })],
        );
        return session;
      }
      if (cmd === "drill_explore") return sample();
    });
    const onAnswer = vi.fn();
    render(Drills, { onAnswer });
    const start = await screen.findByTestId("drill-start");
    await waitFor(() => expect(start).toBeEnabled());
    expect(
      screen.getByText(/Disable account on tok-kafka-shared/),
    ).toBeInTheDocument();
    await fireEvent.click(start);
    expect(calls.find((c) => c.cmd === "start_drill")?.args).toEqual({
      example: "shared-kafka-credential",
      speed: 10,
      scripted: false,
    });
    const row = await screen.findByTestId("drill-row");
    expect(row).toHaveAttribute("data-state", "open");
    await fireEvent.click(screen.getByText("Answer in Approvals"));
    expect(onAnswer).toHaveBeenCalledWith("drill-1-kafka-leak");
    expect(screen.getByTestId("drill-broken")).toHaveTextContent(
      "nothing approved yet",
    );

    // The owner approves in Approvals; the runner reports it closed.
    session = running(
      [
        {
          kind: "issued",
          inject: "kafka-leak",
          request_id: "drill-1-kafka-leak",
          at_seconds: 0,
        },
        {
          kind: "decided",
          inject: "kafka-leak",
          approver: "tester",
          decision: "approve_narrowed",
          receipt: "accepted",
          at_seconds: 40,
        },
        {
          kind: "closed",
          inject: "kafka-leak",
          identity: "tok-kafka-shared",
          status: "approved",
          approved_action: "rotate_secret",
          at_seconds: 40,
        },
      ],
      [
        timelineRow({
          state: "closed",
          request_id: "drill-1-kafka-leak",
          decisions: [
            {
              approver: "tester",
              decision: "approve_narrowed",
              receipt: "accepted",
              at_seconds: 40,
            },
          ],
          status: "approved",
          approved_action: "rotate_secret",
        }),
      ],
    );
    channel!.onmessage({ kind: "drill" });
    await waitFor(
      () =>
        expect(screen.getByTestId("drill-outcome")).toHaveTextContent(
          "approved: rotate secret",
        ),
      { timeout: 3000 },
    );
    expect(screen.getByTestId("drill-decision")).toHaveTextContent(
      "T+40s tester: Approved narrowed → accepted",
    );
    await waitFor(() =>
      expect(screen.getByTestId("drill-broken")).toHaveTextContent(
        "What would be broken now: 4 services",
      ),
    );
  });

  it("shows the report of a finished drill", async () => {
    const done = running([]);
    done.running = false;
    done.report = {
      run_id: "drill-1",
      scenario: example.name,
      description: "",
      backend: "http://127.0.0.1:4000",
      speed: 10,
      started_at: "2026-11-24T10:00:00Z",
      finished_at: "2026-11-24T10:06:00Z",
      stopped_early: true,
      participants: [],
      injects: [],
      script_failures: [],
      cumulative: {
        targets: [],
        services: 3,
        per_tier: [1, 1, 1, 0],
        broken: [],
      },
      without_rollback: [
        {
          identity: "bg-db-admin",
          action: "disable_account",
          reversible: null,
          services: [],
        },
      ],
      ownership_gaps: [],
      keys: {},
      controls: [],
      totals: {
        injects: 1,
        approved: 1,
        denied: 0,
        unanswered: 0,
        not_issued: 0,
        expectations: 1,
        expectations_met: 1,
        decisions: 2,
        signatures_verified: 2,
      },
    };
    let polls = 0;
    resetWatch();
    let channel: { onmessage: (c: Changed) => void } | undefined;
    mockIPC((cmd, args) => {
      if (cmd === "watch") {
        channel = (args as { channel: typeof channel }).channel;
        return null;
      }
      if (cmd === "drill_examples") return [example];
      if (cmd === "drill_status") {
        polls += 1;
        return done;
      }
      if (cmd === "drill_explore") return null;
    });
    render(Drills, { onAnswer: () => {} });
    expect(await screen.findByTestId("drill-signatures")).toHaveTextContent(
      "Signatures verified: 2 of 2 decisions",
    );
    expect(screen.getByTestId("drill-report")).toHaveTextContent(
      "Ended before every request was settled.",
    );
    expect(screen.getByTestId("drill-report")).toHaveTextContent(
      "Disable account on bg-db-admin",
    );

    // "New drill" puts the finished run away for good, though the app
    // still reports it on every poll.
    await fireEvent.click(screen.getByTestId("drill-again"));
    expect(await screen.findByTestId("drill-start")).toBeInTheDocument();
    // The core says the drill moved on; once that read has answered,
    // the report stays away.
    const seen = polls;
    channel!.onmessage({ kind: "drill" });
    await waitFor(() => expect(polls).toBeGreaterThan(seen));
    expect(screen.queryByTestId("drill-report")).not.toBeInTheDocument();
  });
});
