import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import DatabasePanel from "./DatabasePanel.svelte";
import type { DatabaseSettings } from "../lib/types";

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
});
