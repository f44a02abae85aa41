import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import Reviews from "./Reviews.svelte";
import type {
  CampaignItem,
  CampaignStarted,
  IdentityDetail,
  ReviewRecord,
  ReviewsView,
} from "../lib/types";

const campaign = {
  id: "q4-prod",
  name: "Q4 production review",
  scope: { environment: "production" },
  due_on: "2026-11-15",
  started_by: "governance",
  started_at: "2026-10-01T09:00:00Z",
  closed: null,
};

function view(queue: boolean): ReviewsView {
  return {
    acting_as: "li.wei",
    today: "2026-12-02",
    queue: queue
      ? [
          {
            campaign: "q4-prod",
            campaign_name: "Q4 production review",
            due_on: "2026-11-15",
            overdue: true,
            identity: "sa-ledger-writer",
            name: "Ledger writer",
            kind: "service_account",
            tier: 0,
            reviewer: "team-data-platform",
            role: "team_member",
          },
        ]
      : [],
    campaigns: [
      {
        campaign,
        total: 12,
        confirmed: 3,
        changes_needed: 1,
        pending: queue ? 8 : 7,
        removed: 0,
        overdue: true,
        by_team: [
          { reviewer: "team-payments", total: 6, attested: 1 },
          { reviewer: "team-data-platform", total: 6, attested: 3 },
        ],
      },
    ],
  };
}

const detail = {
  id: "sa-ledger-writer",
  kind: "service_account",
  name: "Ledger writer",
  owner: "team-data-platform",
  backup_owner: "li.wei",
  environment: "production",
  tier: 0,
  version: 3,
  services: [{ id: "ledger", name: "Ledger", tier: 0 }],
  derived: [],
  containment: {
    disable: { reversible: true, rto_minutes: 5, rollback: "re-enable" },
  },
} as unknown as IdentityDetail;

describe("Reviews", () => {
  it("shows the queue, overdue first, and signs an attestation only once every question is answered", async () => {
    let attested = false;
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "reviews") return view(!attested);
      if (cmd === "review_record")
        return { detail, record_digest: "digest-1" } satisfies ReviewRecord;
      if (cmd === "attest_identity") {
        attested = true;
        return {
          identity: "sa-ledger-writer",
          reviewer: "team-data-platform",
          attested_by: "li.wei",
          attested_at: "2026-12-02T10:00:00Z",
          verdict: "changes_needed",
          jws: "x.y.z",
          record: "{}",
          answers: null,
          comment: "missing the reconciliation job",
          removed: false,
        } satisfies CampaignItem;
      }
    });
    render(Reviews, { onOpen: () => {} });
    expect(await screen.findByTestId("reviews-acting-as")).toHaveTextContent(
      "Attesting as li.wei",
    );
    const row = await screen.findByTestId("queue-row");
    expect(row).toHaveTextContent("Ledger writer");
    expect(row).toHaveTextContent("your team owns it");
    expect(within(row).getByTestId("queue-overdue")).toBeInTheDocument();
    expect(screen.getByTestId("queue-count")).toHaveTextContent(
      "1 attestation to make, 1 overdue",
    );
    // Progress per team, and the campaign's overdue mark.
    const teams = screen.getAllByTestId("team-progress");
    expect(teams[0]).toHaveTextContent("team-payments 1/6 (17%)");
    expect(screen.getByTestId("campaign-overdue")).toBeInTheDocument();
    expect(screen.getByTestId("campaign-progress")).toHaveTextContent(
      "4 of 12 (3 confirmed)",
    );

    await fireEvent.click(screen.getByTestId("attest-open"));
    const record = await screen.findByTestId("attest-record");
    expect(record).toHaveTextContent("Backup owner li.wei");
    expect(record).toHaveTextContent("Consumers Ledger");
    expect(record).toHaveTextContent("reversible; back in 5 min");
    expect(record).toHaveTextContent("Tier 0");
    const sign = screen.getByTestId("attest-sign");
    expect(sign).toBeDisabled();
    await fireEvent.click(screen.getByTestId("answer-still_needed-yes"));
    await fireEvent.click(screen.getByTestId("answer-owners_right-yes"));
    await fireEvent.click(screen.getByTestId("answer-consumers_complete-no"));
    await fireEvent.click(screen.getByTestId("answer-containment_right-yes"));
    // A no needs a word of what is wrong.
    expect(sign).toBeDisabled();
    await fireEvent.input(screen.getByTestId("attest-comment"), {
      target: { value: "  missing the reconciliation job " },
    });
    expect(sign).toBeEnabled();
    await fireEvent.click(sign);
    expect(await screen.findByTestId("attest-signed")).toHaveTextContent(
      "Ledger writer: changes needed, signed by li.wei",
    );
    expect(calls.find((c) => c.cmd === "attest_identity")?.args).toEqual({
      attestation: {
        campaign: "q4-prod",
        identity: "sa-ledger-writer",
        answers: {
          still_needed: true,
          owners_right: true,
          consumers_complete: false,
          containment_right: true,
        },
        comment: "missing the reconciliation job",
        record_digest: "digest-1",
      },
    });
    expect(await screen.findByTestId("queue-empty")).toHaveTextContent(
      "Nothing waits for your attestation",
    );
    expect(screen.queryByTestId("attest-form")).not.toBeInTheDocument();
  });

  it("shows a refusal with what to do, and starts a campaign with empty criteria left out", async () => {
    let campaigns = false;
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "reviews")
        return campaigns
          ? view(true)
          : { ...view(false), campaigns: [] as ReviewsView["campaigns"] };
      if (cmd === "review_record")
        return { detail, record_digest: "digest-1" } satisfies ReviewRecord;
      if (cmd === "attest_identity")
        throw {
          code: "no_signing_key",
          message: "no active signing key",
          hint: "Create your signing key in Approvals first.",
        };
      if (cmd === "start_campaign") {
        campaigns = true;
        return {
          campaign,
          items: 12,
          unowned: ["ssh-finance-sftp"],
        } satisfies CampaignStarted;
      }
    });
    render(Reviews, { onOpen: () => {} });
    expect(await screen.findByTestId("queue-empty")).toHaveTextContent(
      "No review campaign has started",
    );
    await fireEvent.click(screen.getByTestId("campaign-new"));
    await fireEvent.input(screen.getByTestId("campaign-id"), {
      target: { value: " q4-prod " },
    });
    await fireEvent.input(screen.getByTestId("campaign-due"), {
      target: { value: "2026-12-31" },
    });
    await fireEvent.change(screen.getByTestId("campaign-environment"), {
      target: { value: "production" },
    });
    await fireEvent.click(screen.getByTestId("campaign-start"));
    expect(await screen.findByTestId("campaign-started")).toHaveTextContent(
      "12 identities to attest by 2026-11-15. Left out, with nobody to review them: ssh-finance-sftp.",
    );
    expect(calls.find((c) => c.cmd === "start_campaign")?.args).toEqual({
      campaign: {
        id: "q4-prod",
        name: "",
        due_on: "2026-12-31",
        scope: {
          owner: null,
          tier: null,
          kind: null,
          environment: "production",
        },
      },
    });

    await fireEvent.click(await screen.findByTestId("attest-open"));
    for (const q of [
      "still_needed",
      "owners_right",
      "consumers_complete",
      "containment_right",
    ])
      await fireEvent.click(screen.getByTestId(`answer-${q}-yes`));
    await fireEvent.click(screen.getByTestId("attest-sign"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("no active signing key");
    expect(alert).toHaveTextContent("Create your signing key in Approvals");
    expect(screen.getByTestId("attest-form")).toBeInTheDocument();
  });

  it("refuses to sign a record that changed since it was shown, and shows it again", async () => {
    let digest = "digest-1";
    mockIPC((cmd) => {
      if (cmd === "reviews") return view(true);
      if (cmd === "review_record")
        return {
          detail: {
            ...detail,
            owner:
              digest === "digest-1" ? "team-data-platform" : "team-payments",
          },
          record_digest: digest,
        } as ReviewRecord;
      if (cmd === "attest_identity") {
        throw {
          code: "record_changed",
          message: "sa-ledger-writer's record changed since it was shown",
          hint: "Nothing was signed. Someone changed it while you read it: read the record again, then answer and sign.",
        };
      }
    });
    render(Reviews, { onOpen: () => {} });
    await fireEvent.click(await screen.findByTestId("attest-open"));
    expect(await screen.findByTestId("attest-record")).toHaveTextContent(
      "Owner team-data-platform",
    );
    for (const q of [
      "still_needed",
      "owners_right",
      "consumers_complete",
      "containment_right",
    ])
      await fireEvent.click(screen.getByTestId(`answer-${q}-yes`));
    digest = "digest-2";
    await fireEvent.click(screen.getByTestId("attest-sign"));
    expect(
      await screen.findByTestId("attest-record-changed"),
    ).toBeInTheDocument();
    expect(screen.getByTestId("attest-record")).toHaveTextContent(
      "Owner team-payments",
    );
    expect(screen.getByRole("alert")).toHaveTextContent("Nothing was signed.");
    // The answers were cleared: they were about the old record.
    expect(screen.getByTestId("attest-sign")).toBeDisabled();
  });

  it("closes a campaign with a reason, and marks it closed", async () => {
    let closed = false;
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "reviews") {
        const v = view(false);
        if (closed)
          v.campaigns[0].campaign = {
            ...campaign,
            closed: {
              at: "2026-12-02T11:00:00Z",
              by: "governance",
              reason: "superseded",
            },
          };
        return v;
      }
      if (cmd === "close_campaign") {
        closed = true;
        return {
          at: "2026-12-02T11:00:00Z",
          by: "governance",
          reason: "superseded",
        };
      }
    });
    render(Reviews, { onOpen: () => {} });
    await fireEvent.click(await screen.findByTestId("campaign-close"));
    const confirm = screen.getByTestId("campaign-close-confirm");
    expect(confirm).toBeDisabled();
    await fireEvent.input(screen.getByTestId("campaign-close-reason"), {
      target: { value: " superseded " },
    });
    await fireEvent.click(confirm);
    expect(await screen.findByTestId("campaign-closed")).toHaveAttribute(
      "title",
      "Closed 2026-12-02 by governance: superseded",
    );
    expect(calls.find((c) => c.cmd === "close_campaign")?.args).toEqual({
      id: "q4-prod",
      reason: "superseded",
    });
    expect(screen.queryByTestId("campaign-close")).not.toBeInTheDocument();
  });
});
