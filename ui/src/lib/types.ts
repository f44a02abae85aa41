// Mirrors of the core's serialised model (src/model, src/store/read.rs).

export type IdentityKind =
  | "service_account"
  | "api_key"
  | "oauth_app"
  | "token"
  | "workload_identity"
  | "ai_agent"
  | "certificate"
  | "ssh_key"
  | "cicd_deploy_key"
  | "break_glass_account";

export type Environment = "production" | "staging" | "development" | "shared";
export type Lifetime = "ephemeral" | "long_lived";
export type Access = "read" | "write" | "admin";
export type SecretDelivery = "dynamic" | "static";
export type ContainmentAction =
  | "revoke_session"
  | "revoke_token"
  | "rotate_secret"
  | "reduce_scope"
  | "disable_account"
  | "quarantine";
export type ApprovalTier =
  "auto" | "notify_only" | "single_approval" | "dual_approval";

export interface Usage {
  service: string;
  access?: Access;
  delivery?: SecretDelivery;
  live_sessions?: boolean;
}

export interface BreakGlass {
  justification: string;
  custodians: string[];
  use_window?: string;
  always_dual_approval: boolean;
  owner_veto: boolean;
}

export interface ContainmentPlan {
  reversible?: boolean;
  rollback?: string;
  rto_minutes?: number;
  preauthorised?: ApprovalTier;
}

export interface Review {
  by: string;
  on: string;
}

/** An identity as the core stores it; optional fields are omitted when empty. */
export interface Identity {
  id: string;
  kind: IdentityKind;
  name: string;
  owner?: string;
  backup_owner?: string;
  environment: Environment;
  tier: number;
  description?: string;
  external_ids?: string[];
  lifetime?: Lifetime;
  expires_on?: string;
  permissions?: string[];
  derived_from?: string;
  used_by?: Usage[];
  break_glass?: BreakGlass;
  containment?: Partial<Record<ContainmentAction, ContainmentPlan>>;
  review?: Review;
}

export interface IdentitySummary {
  id: string;
  kind: IdentityKind;
  name: string;
  owner: string | null;
  environment: Environment;
  tier: number;
  break_glass: boolean;
  used_by_count: number;
}

export interface ServiceRef {
  id: string;
  name: string;
  owner: string | null;
  tier: number;
}

export interface Service {
  id: string;
  name: string;
  owner?: string;
  tier: number;
  system?: string;
  description?: string;
  depends_on?: string[];
}

export interface ServiceSummary extends Service {
  identity_count: number;
  version: number;
}

export interface ServiceDetail extends Service {
  version: number;
  identities: string[];
  dependents: string[];
}

export interface IdentityDetail extends Identity {
  version: number;
  services: ServiceRef[];
  derived: string[];
}

export interface InventoryCounts {
  owners: number;
  identities: number;
  services: number;
  usages: number;
  dependencies: number;
}

export interface AppStatus {
  db_path: string;
  startup_error: string | null;
  counts: InventoryCounts | null;
  /** Changes whenever anyone changes the inventory. */
  audit_head: string | null;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  operation: "create" | "update" | "delete";
  entity: string;
  entity_id: string;
  before: string | null;
  after: string | null;
  source: string;
}

export interface Finding {
  rule: string;
  entity: "identity" | "service";
  id: string;
  name: string;
  message: string;
}

export interface Change {
  entity: string;
  id: string;
  operation: "create" | "update" | "delete";
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export type ImportFormat = "auto" | "native" | "csv" | "backstage" | "k8s";

/** A place in an imported file and what happened there (src/import/report.rs). */
export interface ImportFinding {
  file: string;
  line?: number;
  message: string;
}

export interface ImportFindings {
  /** Documents of kinds that carry no identity, service or owner. */
  skipped: {
    format: string;
    kind: string;
    count: number;
    first: ImportFinding;
  }[];
  /** References to nothing, relations not kept, targets not read. */
  unresolved: ImportFinding[];
  /** What the import did that the files do not say outright. */
  notes: ImportFinding[];
}

export interface ImportReport {
  files: string[];
  fingerprint: string;
  changes: { changes: Change[]; unchanged: number };
  findings: ImportFindings;
  applied: { changes: number } | null;
}

/** What a failed command rejects with (src/app/error.rs): `code` is
 * stable (`AppError::code`), `message` says what happened. */
export interface CommandError {
  code: string | null;
  message: string;
  hint: string | null;
}

export type Threat =
  "stolen_session" | "leaked_secret" | "permission_misuse" | "compromised";

export interface Step {
  kind: "identity" | "service";
  id: string;
  name: string;
}

export interface ImpactedService {
  id: string;
  name: string;
  owner: string | null;
  tier: number;
  depth: number;
  path: Step[];
}

export interface Target {
  identity: string;
  action: ContainmentAction;
}

export interface BlastSummary {
  services: number;
  per_tier: [number, number, number, number];
  highest_tier: number | null;
  score: number;
  break_glass: string[];
  fan_out: number;
  rto_minutes: number;
  rto_unknown: Target[];
  destructive_without_rollback: Target[];
  undocumented_consumers: number;
}

export interface BlastResult {
  targets: Target[];
  contained: string[];
  impacted: ImpactedService[];
  spared: { identity: string; service: string; reason: string }[];
  summary: BlastSummary;
}

export interface Alternative {
  action: ContainmentAction;
  contains: boolean;
  summary: BlastSummary;
  extra_services: string[];
}

export interface Alternatives {
  identity: string;
  threat: Threat;
  recommended: ContainmentAction;
  options: Alternative[];
}

export interface RankedIdentity {
  id: string;
  name: string;
  kind: IdentityKind;
  break_glass: boolean;
  services: number;
  score: number;
  fan_out: number;
}

/** A containment request exactly as the backend sent it (OpenAPI `ContainmentRequest`). */
export interface ContainmentRequest {
  id: string;
  action: ContainmentAction;
  target: { external_id: string; display_name?: string };
  scope?: string[];
  evidence: {
    signal: string;
    summary?: string;
    confidence: number;
    source: string;
    links?: string[];
  };
  severity: "low" | "medium" | "high" | "critical";
  requested_by: { kind: "analyst" | "automation"; id: string; name?: string };
  created_at: string;
  expires_at: string;
  tier: ApprovalTier;
}

/** A decision signed here, with its delivery state (store::DecisionRow). */
export interface DecisionRow {
  jti: string;
  request_id: string;
  /** The request exactly as decided. */
  request_json?: string;
  decision: "approve" | "deny" | "approve_narrowed";
  approver: string;
  jws: string;
  created_at: string;
  destination: string | null;
  attempts: number | null;
  delivered_at: string | null;
  last_error: string | null;
  receipt: "accepted" | "awaiting_second_approval" | "rejected" | null;
  receipt_reason: string | null;
}

export interface KeyInfo {
  kid: string;
  status: "active" | "previous" | "retired";
  created_at: string;
  retired_at: string | null;
}

export interface InboxItem {
  request: ContainmentRequest;
  decision: DecisionRow | null;
}

export interface InboxView {
  backend: string | null;
  /** The drill running in the app, whose requests the inbox shows meanwhile. */
  drill: string | null;
  error: string | null;
  last_poll: string | null;
  items: InboxItem[];
  awaiting: number;
  queued: number;
  signing_key: KeyInfo | null;
  approver: string;
}

export interface TierDecision {
  tier: ApprovalTier;
  permitted_by: string[];
  lighter_tiers_forbidden_by: string[];
  approver_groups: string[];
  policy_version: string;
}

export interface RequestView {
  request: ContainmentRequest;
  request_digest: string;
  /** The inventory version (audit head) the view was built from. */
  inventory_version: string | null;
  /** Digest of the requested action's blast radius as shown. */
  blast_radius_digest: string | null;
  problem: string | null;
  identity: IdentityDetail | null;
  threat: Threat;
  policy: TierDecision | null;
  tier_mismatch: boolean;
  blast: BlastResult | null;
  alternatives: Alternatives | null;
  /** What may be approved instead, best first (judged in the core). */
  narrower: ContainmentAction[];
  freshness: {
    reviewed_on: string | null;
    reviewed_by: string | null;
    stale_after_days: number;
    findings: Finding[];
  } | null;
  decisions: DecisionRow[];
  requested_by_you: boolean;
  expired: boolean;
}

export type Verdict = "approve" | "deny" | "narrow";

export interface DeliveryReport {
  delivered: number;
  rejected: number;
  failed: number;
  last_error: string | null;
}

/** A blast radius as a graph to draw, in columns (graph/explore.rs). */
export interface Explorer {
  targets: Target[];
  nodes: {
    id: string[];
    label: string[];
    identity: boolean[];
    tier: (number | null)[];
    depth: number[];
    parent: number[];
    fan_out: number[];
    break_glass: boolean[];
    owner: number[];
    kind: (IdentityKind | null)[];
    environment: (Environment | null)[];
    x: number[];
    y: number[];
  };
  edges: number[];
  owners: string[];
  summary: BlastSummary;
}

// Drills: a shipped scenario run in the app (src-tauri/src/drills.rs).
export interface PlannedInject {
  id: string;
  at_seconds: number;
  identity: string;
  action: ContainmentAction;
}

export interface DrillExample {
  id: string;
  name: string;
  description: string;
  injects: PlannedInject[];
  has_participants: boolean;
  problem: string | null;
}

export type DrillEvent =
  | {
      kind: "started";
      run_id: string;
      scenario: string;
      backend: string;
      speed: number;
      injects: PlannedInject[];
    }
  | { kind: "issued"; inject: string; request_id: string; at_seconds: number }
  | {
      kind: "decided";
      inject: string;
      approver: string;
      decision: "approve" | "deny" | "approve_narrowed";
      receipt: "accepted" | "awaiting_second_approval" | "rejected";
      at_seconds: number;
    }
  | {
      kind: "script_failed";
      inject: string;
      by: string;
      message: string;
      at_seconds: number;
    }
  | {
      kind: "closed";
      inject: string;
      identity: string;
      status: string;
      approved_action: ContainmentAction | null;
      at_seconds: number;
    };

export interface DrillReport {
  run_id: string;
  scenario: string;
  stopped_early: boolean;
  injects: {
    id: string;
    status: string;
    approved_action?: ContainmentAction;
    services_broken?: number;
    time_to_decision_seconds?: number;
    expectation?: { expected: string; met: boolean; notes: string[] };
  }[];
  cumulative: { services: number; per_tier: number[] };
  without_rollback: { identity: string; action: ContainmentAction }[];
  ownership_gaps: { kind: string; id: string; name: string; gap: string }[];
  totals: {
    injects: number;
    approved: number;
    denied: number;
    unanswered: number;
    expectations: number;
    expectations_met: number;
    decisions: number;
    signatures_verified: number;
  };
}

export interface DrillSession {
  example: string;
  scenario: string;
  run_id: string;
  speed: number;
  scripted: boolean;
  backend: string;
  started_at: string;
  events: DrillEvent[];
  running: boolean;
  report: DrillReport | null;
  error: string | null;
}

export interface DatabaseSettings {
  location: string;
  engine: "sqlite" | "postgres" | null;
  source: "explicit" | "settings" | "default" | null;
  configured: string | null;
  settings_file: string | null;
}

/** What `backup_database` wrote and checked (`store::BackupReport`). */
export interface BackupReport {
  path: string;
  /** Size of the backup file in bytes. */
  bytes: number;
  counts: InventoryCounts;
  decisions: number;
  /** Audit entries in the copy; its chain verified up to `audit_head`. */
  audit_rows: number;
  audit_head: string | null;
}
