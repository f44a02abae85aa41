import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import IdentityForm from "./IdentityForm.svelte";
import Attention from "./Attention.svelte";
import type { AttentionReport, Finding, KnownOwner } from "../lib/types";

const owners: KnownOwner[] = [
  { id: "team-data", kind: "team", name: "Data", listed: true },
  { id: "ana", kind: "person", name: "Ana", listed: true },
  // Named by an identity, not listed: known all the same.
  { id: "team-web", kind: null, name: "", listed: false },
];

function backend() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, payload) => {
    calls.push({ cmd, args: (payload ?? {}) as Record<string, unknown> });
    switch (cmd) {
      case "list_services":
        return { rows: [], total: 0, next: null };
      case "list_owners":
        return owners;
      case "save_identity":
        return null;
    }
  });
  return calls;
}

async function fill(id: string, owner: string, backup: string) {
  await fireEvent.input(screen.getByTestId("field-id"), {
    target: { value: id },
  });
  await fireEvent.input(screen.getByTestId("field-name"), {
    target: { value: "Deploy key" },
  });
  await fireEvent.input(screen.getByTestId("field-owner"), {
    target: { value: owner },
  });
  await fireEvent.input(screen.getByTestId("field-backup-owner"), {
    target: { value: backup },
  });
}

describe("IdentityForm owners", () => {
  it("takes known owners, and a new one only when asked to create it", async () => {
    const calls = backend();
    const saved: string[] = [];
    render(IdentityForm, {
      identity: null,
      version: null,
      onSaved: (id: string) => saved.push(id),
      onCancel: () => {},
    });
    await waitFor(() =>
      expect(calls.some((c) => c.cmd === "list_owners")).toBe(true),
    );
    await fill("key-1", "team-web", "jon");
    expect(screen.queryByTestId("unknown-owner")).toBeNull();
    expect(screen.getByTestId("unknown-backup-owner")).toHaveTextContent(
      '"jon" is not a known owner',
    );
    // A made-up person is not accepted without a word.
    await fireEvent.click(screen.getByTestId("save-identity"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent('Backup owner: "jon" is not a known owner');
    // Shown where the person is looking, however far down they pressed Save.
    await waitFor(() =>
      expect(
        vi.mocked(Element.prototype.scrollIntoView).mock.contexts,
      ).toContain(alert),
    );
    expect(document.activeElement).toBe(alert);
    expect(calls.some((c) => c.cmd === "save_identity")).toBe(false);
    // Created explicitly, it is sent with the identity.
    await fireEvent.change(screen.getByTestId("create-backup-owner"), {
      target: { value: "person" },
    });
    await fireEvent.click(screen.getByTestId("save-identity"));
    await waitFor(() => expect(saved).toEqual(["key-1"]));
    const save = calls.find((c) => c.cmd === "save_identity")!;
    expect(save.args.newOwners).toEqual([
      { id: "jon", kind: "person", name: "", email: null, parent: null },
    ]);
  });
});

describe("OwnerPicker", () => {
  it("suggests known owners by id or name, picked by keyboard", async () => {
    backend();
    render(IdentityForm, {
      identity: null,
      version: null,
      onSaved: () => {},
      onCancel: () => {},
    });
    const owner = screen.getByTestId("field-owner");
    await fireEvent.focus(owner);
    await fireEvent.input(owner, { target: { value: "dat" } });
    const options = await screen.findByTestId("owner-options-owner");
    expect(options).toHaveTextContent("team-data");
    expect(options).not.toHaveTextContent("ana");
    await fireEvent.keyDown(owner, { key: "ArrowDown" });
    await fireEvent.keyDown(owner, { key: "Enter" });
    expect(owner).toHaveValue("team-data");
    expect(screen.queryByTestId("owner-options-owner")).toBeNull();
    expect(screen.queryByTestId("unknown-owner")).toBeNull();
  });
});

describe("Attention", () => {
  it("groups findings by severity, most urgent first, with counts", async () => {
    const findings: Finding[] = [
      {
        rule: "stale_review",
        severity: "low",
        entity: "identity",
        id: "a",
        name: "A",
        message: "reviewed 200 days ago",
        controls: ["OWASP NHI1:2025", "CIS 5.5"],
      },
      {
        rule: "no_owner",
        severity: "high",
        entity: "identity",
        id: "b",
        name: "B",
        message: "nobody to ask",
        controls: ["OWASP NHI1:2025"],
      },
      {
        rule: "never_reviewed",
        severity: "medium",
        entity: "identity",
        id: "c",
        name: "C",
        message: "never reviewed",
        controls: [],
      },
    ];
    const report: AttentionReport = {
      total: 3,
      counts: [
        {
          rule: "no_owner",
          severity: "high",
          count: 1,
          controls: [
            {
              key: "OWASP NHI1:2025",
              framework: "OWASP Non-Human Identities Top 10 2025",
              id: "NHI1:2025",
              title: "Improper Offboarding",
            },
          ],
        },
        { rule: "never_reviewed", severity: "medium", count: 1, controls: [] },
        { rule: "stale_review", severity: "low", count: 1, controls: [] },
      ],
      findings,
    };
    mockIPC((cmd) => (cmd === "attention" ? report : null));
    render(Attention, { onOpen: () => {} });
    const groups = await screen.findAllByTestId("attention-group");
    expect(groups.map((g) => g.dataset.severity)).toEqual([
      "high",
      "medium",
      "low",
    ]);
    expect(groups[0]).toHaveTextContent("(1)");
    // Each finding names the controls it is evidence against, with the
    // framework and title a rule's count carries as the tooltip.
    const chips = screen.getAllByTestId("attention-controls");
    expect(chips[0]).toHaveTextContent("OWASP NHI1:2025");
    expect(chips[0].querySelector("abbr")?.title).toBe(
      "OWASP Non-Human Identities Top 10 2025: Improper Offboarding",
    );
  });
});
