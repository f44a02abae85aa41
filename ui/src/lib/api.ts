// Typed wrappers over the Tauri commands; the only place the UI talks IPC.
import { Channel, invoke } from "@tauri-apps/api/core";
import { isColumns, readColumns } from "./explorer/columns";
import type {
  Alternatives,
  AppStatus,
  BlastResult,
  ContainmentAction,
  RankedIdentity,
  Threat,
  AuditEntry,
  Change,
  CommandError,
  AttentionQuery,
  AttentionReport,
  ListCursor,
  ListPage,
  Identity,
  IdentityDetail,
  IdentitySummary,
  ImportFormat,
  ImportReport,
  InventoryCounts,
  Service,
  ServiceDetail,
  ServiceSummary,
  DecisionRow,
  DeliveryReport,
  Explorer,
  GroupBy,
  RadiusSummary,
  InboxView,
  RequestView,
  Verdict,
  DrillExample,
  DrillSession,
  BackupReport,
  DatabaseSettings,
  SignInProgress,
  WhoAmI,
  Owner,
  KnownOwner,
  SignCheck,
  GroupsSaved,
  ReviewsView,
  CampaignStatus,
  AttestInput,
  CampaignItem,
  StartInput,
  CampaignStarted,
  ReviewRecord,
  Closed,
} from "./types";

export const appStatus = () => invoke<AppStatus>("app_status");

/** Rows a list asks for at a time: a few screens, never the whole table. */
export const PAGE_SIZE = 200;

/** One page of the identity list; `after` is the page before's `next`. */
export const listIdentities = (
  search: string,
  after: ListCursor | null = null,
  limit = PAGE_SIZE,
) =>
  invoke<ListPage<IdentitySummary>>("list_identities", {
    search: search || null,
    after,
    limit,
  });

export const identityDetail = (id: string) =>
  invoke<IdentityDetail>("identity_detail", { id });

/** One page of the service list; `after` is the page before's `next`. */
export const listServices = (
  search: string,
  after: ListCursor | null = null,
  limit = PAGE_SIZE,
) =>
  invoke<ListPage<ServiceSummary>>("list_services", {
    search: search || null,
    after,
    limit,
  });

/** Every service, a page at a time (the forms' service choices). */
export async function allServices(): Promise<ServiceSummary[]> {
  const rows: ServiceSummary[] = [];
  let after: ListCursor | null = null;
  for (;;) {
    const page: ListPage<ServiceSummary> = await listServices("", after, 1000);
    rows.push(...page.rows);
    if (!page.next) return rows;
    after = page.next;
  }
}

export const serviceDetail = (id: string) =>
  invoke<ServiceDetail>("service_detail", { id });

/** `version` is the one the form was opened at; omit it when creating. */
/** Saves an identity; `newOwners` are owners created with it, explicitly. */
export const saveIdentity = (
  identity: Identity,
  version: number | null,
  newOwners: Owner[] = [],
) => invoke<Change | null>("save_identity", { identity, version, newOwners });

/** The owners the inventory knows, for the owner pickers. */
export const listOwners = () => invoke<KnownOwner[]>("list_owners");

export const deleteIdentity = (id: string, version: number | null) =>
  invoke<Change | null>("delete_identity", { id, version });

/** Saves a service; `newOwner` is its owner, created with it, explicitly. */
export const saveService = (
  service: Service,
  version: number | null,
  newOwner: Owner | null = null,
) => invoke<Change | null>("save_service", { service, version, newOwner });

export const deleteService = (id: string, version: number | null) =>
  invoke<Change | null>("delete_service", { id, version });

export const markReviewed = (id: string, version: number | null) =>
  invoke<Change | null>("mark_reviewed", { id, version });

export const history = (entity: "identity" | "service", id: string) =>
  invoke<AuditEntry[]>("history", { entity, id });

/** Every rule's count and the findings `query` asks for (`limit: 0` for
 * the counts alone). */
export const attention = (query: AttentionQuery) =>
  invoke<AttentionReport>("attention", { query });

/** Opens the native picker; resolves to null if the user cancelled. */
export const chooseImport = (folder: boolean, format: ImportFormat) =>
  invoke<ImportReport | null>("choose_import", { folder, format });

export const applyImport = (fingerprint: string) =>
  invoke<ImportReport>("apply_import", { fingerprint });

export const blastRadius = (
  identity: string,
  actions: readonly ContainmentAction[],
) => invoke<BlastResult>("blast_radius", { identity, actions });

export const alternatives = (identity: string, threat: Threat) =>
  invoke<Alternatives>("alternatives", { identity, threat });

export const rank = (top: number) => invoke<RankedIdentity[]>("rank", { top });

export const loadDemo = () => invoke<InventoryCounts>("load_demo");

/** Who acts in this window: the signed-in person, or the local mode. */
export const whoAmI = () => invoke<WhoAmI>("who_am_i");

/**
 * Signs in through the system browser; `onProgress` gets the sign-in
 * address (to show in case the browser did not open). Resolves once the
 * person has signed in and their keys are enrolled with the backend.
 */
export function signIn(
  issuer: string | null,
  onProgress: (p: SignInProgress) => void,
): Promise<WhoAmI> {
  const progress = new Channel<SignInProgress>();
  progress.onmessage = onProgress;
  return invoke<WhoAmI>("sign_in", { issuer, progress });
}

export const signOut = () => invoke<boolean>("sign_out");

/** Turns whatever a command rejected with into something to show a person. */
export function toCommandError(error: unknown): CommandError {
  if (
    typeof error === "object" &&
    error !== null &&
    "message" in error &&
    typeof (error as { message: unknown }).message === "string"
  ) {
    const e = error as { message: string; hint?: unknown; code?: unknown };
    return {
      code: typeof e.code === "string" ? e.code : null,
      message: e.message,
      hint: typeof e.hint === "string" ? e.hint : null,
    };
  }
  return {
    code: null,
    message: typeof error === "string" ? error : String(error),
    hint: null,
  };
}

// The Approvals inbox. Requests are named by id; the Rust side holds what
// the backend sent, and signs exactly that.
export const inbox = () => invoke<InboxView>("inbox");

export const refreshInbox = () => invoke<InboxView>("refresh_inbox");

export const requestView = (id: string) =>
  invoke<RequestView>("request_view", { id });

// `inventoryVersion` is the version the owner was shown
// (RequestView.inventory_version): the decision is refused if the
// inventory changed since, so what is signed is what was shown.
export const decideRequest = (
  id: string,
  verdict: Verdict,
  reason: string,
  action: ContainmentAction | null = null,
  until: string | null = null,
  inventoryVersion: string | null = null,
) =>
  invoke<DecisionRow>("decide_request", {
    decision: { id, verdict, action, until, reason, inventoryVersion },
  });

export const myDecisions = () => invoke<DecisionRow[]>("my_decisions");

export const retryDeliveries = () => invoke<DeliveryReport>("retry_deliveries");

export const connectBackend = (url: string, token: string) =>
  invoke<InboxView>("connect_backend", { url, token });

export const disconnectBackend = () => invoke<InboxView>("disconnect_backend");

export const createSigningKey = () => invoke<InboxView>("create_signing_key");

/** Whether you may sign request `id` now, as its backend judges it. */
export const signCheck = (id: string) =>
  invoke<SignCheck>("sign_check", { id });

/** Enrolls your signing keys and groups with the connected backend again. */
export const enrollKeys = () => invoke<InboxView>("enroll_keys");

/** Sets your approver groups (local mode) and enrolls them. */
export const setApproverGroups = (groups: string[]) =>
  invoke<GroupsSaved>("set_approver_groups", { groups });

/** An explorer response: binary columns, JSON bytes (`null`), or what a
 * test's IPC mock returned as it is. */
function fromRaw(raw: ArrayBuffer | Explorer | null): Explorer | null {
  if (!(raw instanceof ArrayBuffer)) return raw;
  return isColumns(raw)
    ? readColumns(raw)
    : (JSON.parse(new TextDecoder().decode(raw)) as Explorer | null);
}

/** The radius arrives as binary columns (it can be megabytes; see
 * lib/explorer/columns.ts). With `group`, only that group of the
 * radius's summary is drawn. */
export async function explore(
  identity: string,
  actions: readonly ContainmentAction[],
  group: { by: GroupBy; key: string | null } | null = null,
): Promise<Explorer> {
  const raw = await invoke<ArrayBuffer | Explorer>("explore", {
    identity,
    actions,
    group,
  });
  return fromRaw(raw) as Explorer;
}

/** The radius grouped by owning team, system or tier. */
export const exploreSummary = (
  identity: string,
  actions: readonly ContainmentAction[],
  groupBy: GroupBy,
) => invoke<RadiusSummary>("explore_summary", { identity, actions, groupBy });

/** Saves an export through the native dialog; resolves to the path or null. */
export const saveExport = (
  name: string,
  format: "png" | "svg",
  contents: string,
) => invoke<string | null>("save_export", { name, format, contents });

export const saveHandout = (
  identity: string,
  actions: readonly ContainmentAction[],
) => invoke<string | null>("save_handout", { identity, actions });

// Drills run in the app: the Rust side starts the backend and the runner;
// the view polls the session.
export const drillExamples = () => invoke<DrillExample[]>("drill_examples");

export const startDrill = (example: string, speed: number, scripted: boolean) =>
  invoke<DrillSession>("start_drill", { example, speed, scripted });

export const drillStatus = () => invoke<DrillSession | null>("drill_status");

export const stopDrill = () => invoke<DrillSession | null>("stop_drill");

/** Everything approved so far, contained together; null when nothing is. */
export async function drillExplore(): Promise<Explorer | null> {
  const raw = await invoke<ArrayBuffer | Explorer | null>("drill_explore");
  return fromRaw(raw);
}

export const saveDrillReport = (format: "html" | "md") =>
  invoke<string | null>("save_drill_report", { format });

// Which database opens: the local file or a team PostgreSQL (next start).
export const databaseSettings = () =>
  invoke<DatabaseSettings>("database_settings");

export const useDatabase = (url: string | null, password: string | null) =>
  invoke<DatabaseSettings>("use_database", { url, password });

// A checked copy of the local database, to a file picked in the save
// dialog; null if the user cancelled.
export const backupDatabase = () =>
  invoke<BackupReport | null>("backup_database");

// Reviews: review campaigns as the person at the keyboard works them.
export const reviews = () => invoke<ReviewsView>("reviews");

export const campaignStatus = (id: string) =>
  invoke<CampaignStatus>("campaign_status", { id });

/** The record to show before attesting, and the digest a signature binds. */
export const reviewRecord = (identity: string) =>
  invoke<ReviewRecord>("review_record", { identity });

/** Signs (with the keyring's key) and records an attestation. */
export const attestIdentity = (attestation: AttestInput) =>
  invoke<CampaignItem>("attest_identity", { attestation });

export const startCampaign = (campaign: StartInput) =>
  invoke<CampaignStarted>("start_campaign", { campaign });

/** Closes a campaign, saying why; who closed it, when and why. */
export const closeCampaign = (id: string, reason: string) =>
  invoke<Closed>("close_campaign", { id, reason });

/** Saves a campaign's export where the person picks; the path, or null. */
export const saveCampaignExport = (id: string) =>
  invoke<string | null>("save_campaign_export", { id });
