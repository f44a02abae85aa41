import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import ImportPanel from "./ImportPanel.svelte";
import type { ImportReport } from "../lib/types";

const report: ImportReport = {
  files: ["/tmp/catalog.yaml"],
  fingerprint: "abc123",
  changes: {
    changes: [
      {
        entity: "service",
        id: "shipment-api",
        operation: "create",
        before: null,
        after: { id: "shipment-api" },
      },
      {
        entity: "service",
        id: "billing-db",
        operation: "update",
        before: { id: "billing-db", owner: "a", tier: 2 },
        after: { id: "billing-db", owner: "b", tier: 2 },
      },
    ],
    unchanged: 4,
  },
  findings: {
    skipped: [
      {
        format: "Backstage",
        kind: "Template",
        count: 2,
        first: { file: "/tmp/catalog.yaml", line: 12, message: "" },
      },
    ],
    unresolved: [
      {
        file: "/tmp/catalog.yaml",
        line: 11,
        message:
          "spec.providesApis: unknown API api:default/tracking-api: it is neither in this import nor in the inventory, so the relation is not kept",
      },
    ],
    notes: [],
  },
  applied: null,
};

describe("ImportPanel", () => {
  it("previews the diff and applies exactly what was previewed", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      if (cmd === "choose_import") return report;
      if (cmd === "apply_import") return { ...report, applied: { changes: 2 } };
      throw new Error(cmd);
    });
    let changed = 0;
    render(ImportPanel, { onChanged: () => changed++ });
    await fireEvent.change(screen.getByTestId("import-format"), {
      target: { value: "backstage" },
    });
    await fireEvent.click(screen.getByText("Choose a file…"));
    expect(await screen.findByTestId("import-summary")).toHaveTextContent(
      "1 file: 1 to create, 1 to update, 4 unchanged.",
    );
    expect(screen.getByTestId("import-changes")).toHaveTextContent(
      "billing-dbowner",
    );
    expect(screen.getByTestId("import-skipped")).toHaveTextContent(
      "2 Backstage Template",
    );
    expect(screen.getByTestId("import-unresolved")).toHaveTextContent(
      "1 reference not resolved",
    );
    expect(screen.getByTestId("import-unresolved")).toHaveTextContent(
      "catalog.yaml:11 spec.providesApis: unknown API api:default/tracking-api",
    );
    expect(screen.queryByTestId("import-notes")).toBeNull();
    expect(calls[0]).toEqual({
      cmd: "choose_import",
      args: { folder: false, format: "backstage" },
    });

    await fireEvent.click(screen.getByTestId("apply-import"));
    expect(await screen.findByTestId("import-result")).toHaveTextContent(
      "2 changes written and audited",
    );
    expect(calls[1]).toEqual({
      cmd: "apply_import",
      args: { fingerprint: "abc123" },
    });
    expect(changed).toBe(1);
  });

  it("shows the file and line of a broken file", async () => {
    mockIPC(() => {
      throw {
        message: 'c.yaml:7: services (id "a").depends_on: unknown service "x"',
        hint: "Fix the file",
      };
    });
    render(ImportPanel, { onChanged: () => {} });
    await fireEvent.click(screen.getByText("Choose a folder…"));
    expect(await screen.findByRole("alert")).toHaveTextContent("c.yaml:7:");
  });

  it("keeps a source excerpt's lines and columns apart from the message", async () => {
    const excerpt = "  5 |   bad: [unclosed\n    |        ^";
    mockIPC(() => {
      throw {
        message: `c.yaml:5:8: unclosed bracket '['\n${excerpt}`,
        hint: "Fix the file",
      };
    });
    render(ImportPanel, { onChanged: () => {} });
    await fireEvent.click(screen.getByText("Choose a folder…"));
    const shown = await screen.findByTestId("error-excerpt");
    expect(shown.tagName).toBe("PRE");
    expect(shown.textContent).toBe(excerpt);
    expect(
      screen.getByRole("alert").querySelector(".error-message"),
    ).toHaveTextContent("c.yaml:5:8: unclosed bracket '['");
  });
});
