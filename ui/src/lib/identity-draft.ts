// The identity edit form works on a draft with every field present and
// typed as the inputs need it; these functions convert both ways and are
// unit-tested without a DOM.
import type {
  Access,
  ApprovalTier,
  ContainmentAction,
  ContainmentPlan,
  Environment,
  Identity,
  IdentityKind,
  Lifetime,
  SecretDelivery,
} from "./types";
import { splitList } from "./format";

export const ACTIONS: ContainmentAction[] = [
  "revoke_session",
  "revoke_token",
  "rotate_secret",
  "reduce_scope",
  "disable_account",
  "quarantine",
];

export interface UsageDraft {
  service: string;
  access: Access | "";
  delivery: SecretDelivery | "";
  live_sessions: boolean;
}

export interface PlanDraft {
  reversible: "" | "yes" | "no";
  rollback: string;
  rto_minutes: string;
  preauthorised: ApprovalTier | "";
}

export interface IdentityDraft {
  id: string;
  kind: IdentityKind;
  name: string;
  owner: string;
  backup_owner: string;
  environment: Environment;
  tier: number;
  description: string;
  external_ids: string;
  permissions: string;
  lifetime: Lifetime | "";
  expires_on: string;
  derived_from: string;
  used_by: UsageDraft[];
  break_glass: boolean;
  bg_justification: string;
  bg_custodians: string;
  bg_use_window: string;
  bg_dual: boolean;
  bg_veto: boolean;
  containment: Record<ContainmentAction, PlanDraft>;
  review: Identity["review"];
  /** As the issuer reported them (an import): kept, not edited here. */
  credentials: Identity["credentials"];
  admin_equivalent: Identity["admin_equivalent"];
}

const emptyPlan = (): PlanDraft => ({
  reversible: "",
  rollback: "",
  rto_minutes: "",
  preauthorised: "",
});

export function toDraft(i: Identity | null): IdentityDraft {
  const containment = Object.fromEntries(
    ACTIONS.map((a) => {
      const p = i?.containment?.[a];
      const draft: PlanDraft = p
        ? {
            reversible:
              p.reversible === undefined ? "" : p.reversible ? "yes" : "no",
            rollback: p.rollback ?? "",
            rto_minutes:
              p.rto_minutes === undefined ? "" : String(p.rto_minutes),
            preauthorised: p.preauthorised ?? "",
          }
        : emptyPlan();
      return [a, draft];
    }),
  ) as Record<ContainmentAction, PlanDraft>;
  return {
    id: i?.id ?? "",
    kind: i?.kind ?? "service_account",
    name: i?.name ?? "",
    owner: i?.owner ?? "",
    backup_owner: i?.backup_owner ?? "",
    environment: i?.environment ?? "production",
    tier: i?.tier ?? 2,
    description: i?.description ?? "",
    external_ids: (i?.external_ids ?? []).join(", "),
    permissions: (i?.permissions ?? []).join(", "),
    lifetime: i?.lifetime ?? "",
    expires_on: i?.expires_on ?? "",
    derived_from: i?.derived_from ?? "",
    used_by: (i?.used_by ?? []).map((u) => ({
      service: u.service,
      access: u.access ?? "",
      delivery: u.delivery ?? "",
      live_sessions: u.live_sessions ?? false,
    })),
    break_glass: i?.break_glass !== undefined,
    bg_justification: i?.break_glass?.justification ?? "",
    bg_custodians: (i?.break_glass?.custodians ?? []).join(", "),
    bg_use_window: i?.break_glass?.use_window ?? "",
    bg_dual: i?.break_glass?.always_dual_approval ?? true,
    bg_veto: i?.break_glass?.owner_veto ?? true,
    containment,
    review: i?.review,
    credentials: i?.credentials,
    admin_equivalent: i?.admin_equivalent,
  };
}

const text = (s: string): string | undefined => s.trim() || undefined;

/** The identity to send to the core; empty inputs become absent fields. */
export function fromDraft(d: IdentityDraft): Identity {
  const containment: Partial<Record<ContainmentAction, ContainmentPlan>> = {};
  for (const a of ACTIONS) {
    const p = d.containment[a];
    const rto = p.rto_minutes.trim();
    const plan: ContainmentPlan = {
      reversible: p.reversible === "" ? undefined : p.reversible === "yes",
      rollback: text(p.rollback),
      rto_minutes: rto === "" ? undefined : Number(rto),
      preauthorised: p.preauthorised || undefined,
    };
    if (Object.values(plan).some((v) => v !== undefined)) containment[a] = plan;
  }
  return {
    id: d.id.trim(),
    kind: d.kind,
    name: d.name.trim(),
    owner: text(d.owner),
    backup_owner: text(d.backup_owner),
    environment: d.environment,
    tier: Number(d.tier),
    description: text(d.description),
    external_ids: splitList(d.external_ids),
    permissions: splitList(d.permissions),
    lifetime: d.lifetime || undefined,
    expires_on: text(d.expires_on),
    derived_from: text(d.derived_from),
    used_by: d.used_by
      .filter((u) => u.service)
      .map((u) => ({
        service: u.service,
        access: u.access || undefined,
        delivery: u.delivery || undefined,
        live_sessions: u.live_sessions || undefined,
      })),
    break_glass: d.break_glass
      ? {
          justification: d.bg_justification.trim(),
          custodians: splitList(d.bg_custodians),
          use_window: text(d.bg_use_window),
          always_dual_approval: d.bg_dual,
          owner_veto: d.bg_veto,
        }
      : undefined,
    containment,
    review: d.review,
    credentials: d.credentials,
    admin_equivalent: d.admin_equivalent,
  };
}

/** Problems the form can point at before asking the core. */
export function draftProblems(d: IdentityDraft): string[] {
  const problems: string[] = [];
  if (!d.id.trim()) problems.push("Give the identity an id.");
  if (!d.name.trim()) problems.push("Give the identity a name.");
  if (d.break_glass && !d.bg_justification.trim())
    problems.push("A break-glass designation needs a justification.");
  for (const a of ACTIONS) {
    const rto = d.containment[a].rto_minutes.trim();
    if (rto !== "" && !/^\d+$/.test(rto))
      problems.push(`Recovery time for ${a} must be whole minutes.`);
  }
  return problems;
}
