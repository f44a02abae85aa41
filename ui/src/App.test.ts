import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import App from "./App.svelte";
import { noteAuditHead, resetLive } from "./lib/live.svelte";
import { resetWatch, type Changed } from "./lib/watch";
import type {
  AppStatus,
  Identity,
  IdentityDetail,
  IdentitySummary,
} from "./lib/types";

const kafka: IdentitySummary = {
  id: "tok-kafka-shared",
  kind: "token",
  name: "Kafka shared client credential",
  owner: "team-streaming",
  environment: "production",
  tier: 1,
  break_glass: false,
  used_by_count: 2,
};
const root: IdentitySummary = {
  id: "bg-cloud-root",
  kind: "break_glass_account",
  name: "Cloud root",
  owner: "team-security",
  environment: "production",
  tier: 0,
  break_glass: true,
  used_by_count: 0,
};

interface Backend {
  status: AppStatus;
  identities: IdentitySummary[];
  detail: IdentityDetail;
  calls: { cmd: string; args: Record<string, unknown> }[];
  /** The channel the window opened with `watch`. */
  channel?: { onmessage: (change: Changed) => void };
}

function fakeBackend(status: AppStatus): Backend {
  const { used_by_count, break_glass, owner, ...rest } = kafka;
  void used_by_count;
  void break_glass;
  const detail: IdentityDetail = {
    ...rest,
    owner: owner ?? undefined,
    used_by: [
      { service: "payments-api", access: "write", delivery: "dynamic" },
      { service: "search" },
    ],
    services: [
      {
        id: "payments-api",
        name: "Payments API",
        owner: "team-payments",
        tier: 0,
      },
      { id: "search", name: "Search", owner: "team-web", tier: 2 },
    ],
    version: 3,
    derived: [],
  };
  const backend: Backend = {
    status,
    identities: [root, kafka],
    detail,
    calls: [],
  };
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    backend.calls.push({ cmd, args });
    switch (cmd) {
      case "watch":
        backend.channel = args.channel as Backend["channel"];
        return null;
      case "app_status":
        return backend.status;
      case "list_identities": {
        // Pages as the core does: in list order, `limit` rows after the
        // cursor, the total on the first page.
        const q = ((args.search as string | null) ?? "").toLowerCase();
        const all = backend.identities.filter((i) =>
          `${i.id} ${i.name} ${i.owner}`.toLowerCase().includes(q),
        );
        const after = args.after as { id: string } | null;
        const from = after ? all.findIndex((i) => i.id === after.id) + 1 : 0;
        const rows = all.slice(from, from + (args.limit as number));
        const last = rows[rows.length - 1];
        return {
          rows,
          total: after ? null : all.length,
          next:
            last && from + rows.length < all.length
              ? { tier: last.tier, name: last.name, id: last.id }
              : null,
        };
      }
      case "identity_detail": {
        if (args.id !== kafka.id)
          throw { message: `no identity with id "${args.id}"`, hint: null };
        return backend.detail;
      }
      case "list_services":
        return { rows: [], total: 0, next: null };
      case "blast_radius": {
        const summary = {
          services: 2,
          per_tier: [1, 0, 1, 0],
          highest_tier: 0,
          score: 1010,
          break_glass: [],
          fan_out: 2,
          rto_minutes: 20,
          rto_unknown: [],
          destructive_without_rollback: [],
          undocumented_consumers: 1,
        };
        const step = (kind: string, id: string) => ({ kind, id, name: id });
        return {
          targets: [
            { identity: kafka.id, action: (args.actions as string[])[0] },
          ],
          contained: [kafka.id],
          impacted: [
            {
              id: "payments-api",
              name: "Payments API",
              owner: "team-payments",
              tier: 0,
              depth: 1,
              path: [
                step("identity", kafka.id),
                step("service", "payments-api"),
              ],
            },
            {
              id: "search",
              name: "Search",
              owner: "team-web",
              tier: 2,
              depth: 1,
              path: [step("identity", kafka.id), step("service", "search")],
            },
          ],
          spared: [],
          summary,
        };
      }
      case "alternatives":
        return {
          identity: kafka.id,
          threat: args.threat,
          recommended: "rotate_secret",
          options: [],
        };
      case "history":
        return [
          {
            seq: 7,
            at: "2026-11-24T10:00:00Z",
            actor: "alice",
            operation: "update",
            entity: "identity",
            entity_id: kafka.id,
            before: '{"owner":"a"}',
            after: '{"owner":"b"}',
            source: "app",
          },
        ];
      case "save_identity": {
        const saved = args.identity as Identity;
        backend.detail = {
          ...backend.detail,
          ...saved,
          version: backend.detail.version + 1,
        };
        return { entity: "identity", id: saved.id, operation: "update" };
      }
      case "load_demo":
        backend.status = {
          ...backend.status,
          counts: {
            owners: 1,
            identities: 2,
            services: 2,
            usages: 2,
            dependencies: 0,
          },
        };
        return backend.status.counts;
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return backend;
}

const loaded: AppStatus = {
  db_path: "/data/countersign.db",
  startup_error: null,
  counts: { owners: 1, identities: 2, services: 2, usages: 2, dependencies: 0 },
  audit_head: "12:abc",
};

describe("App", () => {
  it("is told when the inventory changes, instead of asking on a timer", async () => {
    resetWatch();
    const backend = fakeBackend(loaded);
    render(App);
    await screen.findByText("Kafka shared client credential");
    await expect.poll(() => backend.channel).toBeDefined();
    const statuses = () =>
      backend.calls.filter((c) => c.cmd === "app_status").length;
    const before = statuses();
    backend.channel!.onmessage({ kind: "inventory", version: "14:abc" });
    await expect.poll(statuses).toBe(before + 1);
  });

  it("shows changes other owners make to the shared inventory", async () => {
    resetLive();
    const backend = fakeBackend(loaded);
    render(App);
    await fireEvent.click(
      (await screen.findByText("Kafka shared client credential")).closest(
        "button",
      )!,
    );
    await screen.findByTestId("identity-detail");
    const asked = (cmd: string) =>
      backend.calls.filter((c) => c.cmd === cmd).length;
    const lists = asked("list_identities");
    const details = asked("identity_detail");
    // Another owner's change moves the audit head; the next status read
    // sees it and the list and the open detail are read again.
    noteAuditHead("13:def");
    await expect.poll(() => asked("list_identities")).toBe(lists + 1);
    await expect.poll(() => asked("identity_detail")).toBe(details + 1);
  });

  it("opens on the first page of a large list and loads the rest on demand", async () => {
    const backend = fakeBackend(loaded);
    backend.identities = Array.from({ length: 450 }, (_, n) => ({
      ...kafka,
      id: `tok-${String(n).padStart(3, "0")}`,
      name: `Token ${n}`,
    }));
    render(App);
    await expect
      .poll(() => screen.queryByTestId("identity-count")?.textContent)
      .toContain("450 identities");
    expect(await screen.findAllByTestId("identity-row")).toHaveLength(200);
    expect(screen.getByTestId("list-more")).toHaveTextContent(
      "Showing 200 of 450 identities",
    );
    await fireEvent.click(screen.getByTestId("load-more"));
    await expect
      .poll(() => screen.getAllByTestId("identity-row").length)
      .toBe(400);
    await fireEvent.click(screen.getByTestId("load-more"));
    await expect
      .poll(() => screen.getAllByTestId("identity-row").length)
      .toBe(450);
    expect(screen.queryByTestId("load-more")).toBeNull();
    const pages = backend.calls.filter((c) => c.cmd === "list_identities");
    expect(
      pages.map((c) => (c.args.after as { id: string } | null)?.id ?? null),
    ).toEqual([null, "tok-199", "tok-399"]);
  });

  it("lists identities from the core and shows one in detail", async () => {
    fakeBackend(loaded);
    render(App);
    expect(
      await screen.findByText("Kafka shared client credential"),
    ).toBeInTheDocument();
    expect(screen.getByTestId("inventory-summary")).toHaveTextContent(
      "2 identities · 2 services",
    );
    expect(screen.getByText("break-glass")).toBeInTheDocument();

    await fireEvent.click(
      screen.getByText("Kafka shared client credential").closest("button")!,
    );
    const detail = await screen.findByTestId("identity-detail");
    expect(detail).toHaveTextContent("team-streaming");
    expect(detail).toHaveTextContent("Used by 2 services");
    expect(detail).toHaveTextContent("Payments API");
    expect(detail).toHaveTextContent("Write · Fetched dynamically");
    expect(await screen.findByTestId("history-entry")).toHaveTextContent(
      "update by alice",
    );
    expect(await screen.findByTestId("blast-summary")).toHaveTextContent(
      "2 services break",
    );
    expect(screen.getAllByTestId("blast-row")[0]).toHaveTextContent(
      "tok-kafka-shared→ payments-api",
    );
    expect(screen.getByTestId("recommended")).toHaveTextContent(
      "Rotate secret",
    );
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("edits an identity with the version it was opened at", async () => {
    const backend = fakeBackend(loaded);
    render(App);
    await fireEvent.click(
      (await screen.findByText("Kafka shared client credential")).closest(
        "button",
      )!,
    );
    await fireEvent.click(await screen.findByTestId("edit-identity"));
    const owner = await screen.findByTestId("field-owner");
    await fireEvent.input(owner, { target: { value: "team-platform" } });
    await fireEvent.click(screen.getByTestId("save-identity"));
    await expect
      .poll(() => screen.queryByTestId("detail-owner")?.textContent)
      .toBe("team-platform");
    const save = backend.calls.find((c) => c.cmd === "save_identity")!;
    expect(save.args.version).toBe(3);
    const sent = save.args.identity as Identity;
    expect(sent.owner).toBe("team-platform");
    expect(sent.used_by).toEqual([
      {
        service: "payments-api",
        access: "write",
        delivery: "dynamic",
        live_sessions: undefined,
      },
      {
        service: "search",
        access: undefined,
        delivery: undefined,
        live_sessions: undefined,
      },
    ]);
  });

  it("sends the search text to the core", async () => {
    const backend = fakeBackend(loaded);
    render(App);
    await screen.findByText("Cloud root");
    await fireEvent.input(screen.getByTestId("search"), {
      target: { value: "kafka" },
    });
    await expect
      .poll(() => screen.getByTestId("identity-count").textContent)
      .toContain("1 identity");
    expect(
      backend.calls.some(
        (c) => c.cmd === "list_identities" && c.args.search === "kafka",
      ),
    ).toBe(true);
    expect(screen.queryByText("Cloud root")).not.toBeInTheDocument();
  });

  it("offers the demo on an empty database and shows it once loaded", async () => {
    const backend = fakeBackend({
      ...loaded,
      counts: {
        owners: 0,
        identities: 0,
        services: 0,
        usages: 0,
        dependencies: 0,
      },
    });
    render(App);
    await fireEvent.click(await screen.findByTestId("load-demo"));
    expect(
      await screen.findByText("Kafka shared client credential"),
    ).toBeInTheDocument();
    expect(backend.calls.map((c) => c.cmd)).toContain("load_demo");
  });

  it("explains a database that could not be opened", async () => {
    fakeBackend({
      db_path: "/nope/x.db",
      startup_error:
        "cannot open database /nope/x.db: directory /nope does not exist",
      counts: null,
      audit_head: null,
    });
    render(App);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("directory /nope does not exist");
    expect(alert).toHaveTextContent("COUNTERSIGN_DB");
  });
});
