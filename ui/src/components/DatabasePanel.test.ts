import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import DatabasePanel from "./DatabasePanel.svelte";
import type { BackupReport, DatabaseSettings } from "../lib/types";

describe("DatabasePanel", () => {
  it("checks a team database and saves it for the next start", async () => {
    let current: DatabaseSettings = {
      location: "/home/amira/.local/share/countersign/countersign.db",
      engine: "sqlite",
      source: "default",
      configured: null,
      settings_file: "/home/amira/.config/countersign/config.json",
    };
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "database_settings") return current;
      if (cmd === "use_database") {
        current = {
          ...current,
          configured: "postgres://amira@db.test/countersign",
        };
        return current;
      }
    });
    render(DatabasePanel, { onClose: () => {} });
    expect(await screen.findByTestId("database-now")).toHaveTextContent(
      "SQLite, this computer's default",
    );
    await fireEvent.input(screen.getByTestId("database-url"), {
      target: { value: "postgres://amira@db.test/countersign" },
    });
    await fireEvent.input(screen.getByLabelText("Password"), {
      target: { value: "s3cret" },
    });
    await fireEvent.click(screen.getByTestId("database-use"));
    expect(await screen.findByTestId("database-saved")).toHaveTextContent(
      "Restart Countersign to open it.",
    );
    expect(calls.find((c) => c.cmd === "use_database")?.args).toEqual({
      url: "postgres://amira@db.test/countersign",
      password: "s3cret",
    });
    expect(screen.getByTestId("database-next")).toHaveTextContent(
      "postgres://amira@db.test/countersign",
    );
  });

  it("warns against copying the file and backs it up through the core", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "database_settings")
        return {
          location: "/home/amira/.local/share/countersign/countersign.db",
          engine: "sqlite",
          source: "default",
          configured: null,
          settings_file: null,
        } satisfies DatabaseSettings;
      if (cmd === "backup_database")
        return {
          path: "/home/amira/countersign-backup.db",
          bytes: 81920,
          counts: {
            owners: 4,
            identities: 12,
            services: 9,
            usages: 20,
            dependencies: 7,
          },
          decisions: 3,
          audit_rows: 57,
          audit_head: "abc",
        } satisfies BackupReport;
    });
    render(DatabasePanel, { onClose: () => {} });
    expect(
      await screen.findByTestId("database-file-warning"),
    ).toHaveTextContent("do not copy this file");
    await fireEvent.click(screen.getByTestId("database-backup"));
    expect(await screen.findByTestId("database-backup-done")).toHaveTextContent(
      "Backed up to /home/amira/countersign-backup.db: 12 identities, 3 decisions; its audit trail of 57 entries verified.",
    );
    expect(calls).toContain("backup_database");
  });

  it("shows no file warning for a team database", async () => {
    mockIPC((cmd) => {
      if (cmd === "database_settings")
        return {
          location: "postgres://amira@db.test/countersign",
          engine: "postgres",
          source: "settings",
          configured: "postgres://amira@db.test/countersign",
          settings_file: null,
        } satisfies DatabaseSettings;
    });
    render(DatabasePanel, { onClose: () => {} });
    await screen.findByTestId("database-now");
    expect(screen.queryByTestId("database-file-warning")).toBeNull();
  });
});
