import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import Explorer from "./Explorer.svelte";
import { sample } from "../lib/explorer/fixture";

// jsdom has no WebGL: stand-ins for the renderer and its WebGL programs.
vi.mock("sigma", () => import("../lib/explorer/sigma-stub"));
vi.mock("sigma/rendering", () => import("../lib/explorer/sigma-stub"));
vi.mock("@sigma/edge-curve", () => import("../lib/explorer/sigma-stub"));
vi.mock("@sigma/export-image", () => ({ toBlob: vi.fn() }));

/** A radius summary: `services` services in two groups by owner. */
function radiusSummary(services: number) {
  const ex = sample();
  return {
    targets: ex.targets,
    group_by: "owner",
    contained: [{ kind: "identity", id: "tok", name: "Token" }],
    groups: [
      {
        key: "team-a",
        services: services - 1000,
        per_tier: [1, 0, services - 1001, 0],
        worst_tier: 0,
        direct: 2,
        nearest: 1,
      },
      {
        key: null,
        services: 1000,
        per_tier: [0, 0, 0, 1000],
        worst_tier: 3,
        direct: 0,
        nearest: 2,
      },
    ],
    links: [
      { from: -1, to: 0, paths: services - 1 },
      { from: 0, to: 1, paths: 1000 },
    ],
    summary: { ...ex.summary, services },
  };
}

function backend(services = 4) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, payload) => {
    calls.push({ cmd, args: (payload ?? {}) as Record<string, unknown> });
    if (cmd === "explore_summary") return radiusSummary(services);
    if (cmd === "explore") return sample();
    if (cmd === "list_identities") return { rows: [], total: 0, next: null };
    if (cmd === "save_handout") return "/tmp/handout.html";
  });
  return calls;
}

describe("Explorer", () => {
  it("draws the radius with its legend, walks it by keyboard and lists it as a table", async () => {
    const calls = backend();
    render(Explorer, { initialIdentity: "tok" });
    const summary = await screen.findByTestId("explorer-summary");
    expect(summary).toHaveTextContent("4 services break");
    expect(calls.find((c) => c.cmd === "explore")?.args).toEqual({
      identity: "tok",
      actions: ["disable_account"],
      group: null,
    });
    expect(await screen.findByText(/first drawn in/)).toBeInTheDocument();
    expect(screen.getByTestId("legend-tier-0")).toHaveTextContent("T0: 1");

    const view = screen.getByTestId("explorer");
    await fireEvent.keyDown(view, { key: "ArrowDown" });
    await fireEvent.keyDown(view, { key: "ArrowDown" });
    expect(screen.getByTestId("explorer-selected")).toHaveTextContent("Alpha");
    expect(screen.getByTestId("explorer-path")).toHaveTextContent(
      "Token → Alpha",
    );
    // After a click on the canvas (which takes no focus) the keys arrive
    // at the document body, and still work (issue 19).
    await fireEvent.click(screen.getByTestId("graph-canvas"));
    await fireEvent.keyDown(document.body, { key: "ArrowUp" });
    expect(screen.getByTestId("explorer-selected")).toHaveTextContent("Token");
    await fireEvent.keyDown(document.body, { key: "/" });
    expect(document.activeElement).toBe(screen.getByTestId("explorer-find"));
    (document.activeElement as HTMLElement).blur();
    await fireEvent.keyDown(document.body, { key: "ArrowDown" });

    // Hiding tier 0 from the legend keeps the count but presses the toggle.
    await fireEvent.click(screen.getByTestId("legend-tier-0"));
    expect(screen.getByTestId("legend-tier-0")).toHaveAttribute(
      "aria-pressed",
      "false",
    );

    await fireEvent.click(screen.getByTestId("explorer-table-toggle"));
    const rows = screen
      .getByTestId("explorer-table")
      .querySelectorAll("tbody tr");
    expect(rows).toHaveLength(5);
    expect(rows[3]).toHaveTextContent("Token → Alpha → Bravo <b>");

    await fireEvent.click(screen.getByTestId("explorer-handout"));
    expect(
      await screen.findByText("Saved /tmp/handout.html"),
    ).toBeInTheDocument();
  });

  it("compares two actions side by side", async () => {
    backend();
    render(Explorer, { initialIdentity: null });
    await fireEvent.input(screen.getByTestId("explorer-identity"), {
      target: { value: "tok" },
    });
    await fireEvent.change(screen.getByTestId("explorer-compare"), {
      target: { value: "revoke_token" },
    });
    await fireEvent.click(screen.getByTestId("explorer-go"));
    expect(await screen.findByTestId("compare-pane")).toBeInTheDocument();
    expect(screen.getByTestId("compare-summary")).toHaveTextContent(
      "4 services break",
    );
  });

  it("shows a radius of thousands by group, opens one group, and draws every node on request", async () => {
    const calls = backend(5000);
    render(Explorer, { initialIdentity: "tok" });
    const status = await screen.findByTestId("explorer-summary");
    expect(status).toHaveTextContent("5,000 services break");
    expect(status).toHaveTextContent("2 groups");
    // Not drawn node by node yet.
    expect(calls.some((c) => c.cmd === "explore")).toBe(false);
    const groups = screen.getByTestId("explorer-groups");
    expect(groups).toHaveTextContent("team-a: 4,000 services, 2 direct");
    expect(groups).toHaveTextContent("No owner: 1,000 services");

    // Regrouped by tier: asked again of the core.
    await fireEvent.change(screen.getByTestId("explorer-group-by"), {
      target: { value: "tier" },
    });
    expect(
      calls.filter((c) => c.cmd === "explore_summary").at(-1)?.args,
    ).toMatchObject({ groupBy: "tier" });
    await fireEvent.change(screen.getByTestId("explorer-group-by"), {
      target: { value: "owner" },
    });

    // One group opens into its services, and back.
    await fireEvent.click(screen.getAllByTestId("explorer-open-group")[1]);
    await screen.findByTestId("explorer-back");
    expect(calls.filter((c) => c.cmd === "explore").at(-1)?.args).toEqual({
      identity: "tok",
      actions: ["disable_account"],
      group: { by: "owner", key: null },
    });
    expect(screen.getByText(/No owner: its services/)).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("explorer-back"));
    expect(await screen.findByTestId("explorer-groups")).toBeInTheDocument();

    // Every node, one click away.
    await fireEvent.click(screen.getByTestId("explorer-draw-all"));
    await screen.findByTestId("explorer-back");
    expect(calls.filter((c) => c.cmd === "explore").at(-1)?.args).toEqual({
      identity: "tok",
      actions: ["disable_account"],
      group: null,
    });
    expect(screen.getByText("Every node")).toBeInTheDocument();
  });
});
