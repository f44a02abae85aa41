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

function backend() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, payload) => {
    calls.push({ cmd, args: (payload ?? {}) as Record<string, unknown> });
    if (cmd === "explore") return sample();
    if (cmd === "list_identities") return [];
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
});
