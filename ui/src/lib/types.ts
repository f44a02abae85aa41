// The core's serialised types. Most are generated from the Rust types
// (ui/src/lib/generated, by tests/ts_types.rs); the rest are written here
// until they are generated too.

import type { ReviewsView } from "./generated/ReviewsView";
import type { CampaignProgress } from "./generated/CampaignProgress";
import type { QueueItem } from "./generated/QueueItem";
import type { ReviewRole } from "./generated/ReviewRole";
import type { ReviewerProgress } from "./generated/ReviewerProgress";
import type { AttestInput } from "./generated/AttestInput";
import type { StartInput } from "./generated/StartInput";
import type { ReviewRecord } from "./generated/ReviewRecord";
import type { Closed } from "./generated/Closed";
import type { Answers } from "./generated/Answers";
import type { Campaign } from "./generated/Campaign";
import type { CampaignItem } from "./generated/CampaignItem";
import type { CampaignScope } from "./generated/CampaignScope";
import type { Status as CampaignStatus } from "./generated/Status";
import type { Started as CampaignStarted } from "./generated/Started";
import type { Access } from "./generated/Access";
import type { Person } from "./generated/Person";
import type { SignInProgress } from "./generated/SignInProgress";
import type { WhoAmI } from "./generated/WhoAmI";
import type { Alternative } from "./generated/Alternative";
import type { Alternatives } from "./generated/Alternatives";
import type { ApprovalTier } from "./generated/ApprovalTier";
import type { AuditEntry } from "./generated/AuditEntry";
import type { BlastResult } from "./generated/BlastResult";
import type { Summary as BlastSummary } from "./generated/Summary";
import type { BreakGlass } from "./generated/BreakGlass";
import type { ContainmentAction } from "./generated/ContainmentAction";
import type { ContainmentPlan } from "./generated/ContainmentPlan";
import type { ContainmentRequest } from "./generated/ContainmentRequest";
import type { DecisionRow } from "./generated/DecisionRow";
import type { DeliveryReport } from "./generated/DeliveryReport";
import type { Environment } from "./generated/Environment";
import type { Finding } from "./generated/Finding";
import type { Identity } from "./generated/Identity";
import type { IdentityDetail } from "./generated/IdentityDetail";
import type { IdentityKind } from "./generated/IdentityKind";
import type { IdentitySummary } from "./generated/IdentitySummary";
import type { ImpactedService } from "./generated/ImpactedService";
import type { InboxItem } from "./generated/InboxItem";
import type { InboxView } from "./generated/InboxView";
import type { InventoryCounts } from "./generated/InventoryCounts";
import type { KeyInfo } from "./generated/KeyInfo";
import type { Lifetime } from "./generated/Lifetime";
import type { RankedIdentity } from "./generated/RankedIdentity";
import type { RequestView } from "./generated/RequestView";
import type { Review } from "./generated/Review";
import type { SecretDelivery } from "./generated/SecretDelivery";
import type { Service } from "./generated/Service";
import type { ServiceDetail } from "./generated/ServiceDetail";
import type { ServiceRef } from "./generated/ServiceRef";
import type { ServiceSummary } from "./generated/ServiceSummary";
import type { Step } from "./generated/Step";
import type { Target } from "./generated/Target";
import type { Threat } from "./generated/Threat";
import type { TierDecision } from "./generated/TierDecision";
import type { Usage } from "./generated/Usage";
import type { Verdict } from "./generated/Verdict";
import type { SignCheck } from "./generated/SignCheck";
import type { Owner } from "./generated/Owner";
import type { KnownOwner } from "./generated/KnownOwner";
import type { OwnerKind } from "./generated/OwnerKind";
import type { Refusal } from "./generated/Refusal";
import type { GroupsSaved } from "./generated/GroupsSaved";
import type { Signer } from "./generated/Signer";
import type { Standing } from "./generated/Standing";
import type { DrillEvent } from "./generated/DrillEvent";
import type { DrillExample } from "./generated/DrillExample";
import type { DrillReport } from "./generated/DrillReport";
import type { DrillSession } from "./generated/DrillSession";
import type { PlannedInject } from "./generated/PlannedInject";
import type { TimelineRow } from "./generated/TimelineRow";
import type { GroupBy } from "./generated/GroupBy";
import type { GroupLink } from "./generated/GroupLink";
import type { RadiusSummary } from "./generated/RadiusSummary";
import type { ServiceGroup } from "./generated/ServiceGroup";
import type { ListCursor } from "./generated/ListCursor";
import type { ListPage } from "./generated/ListPage";
import type { AttentionQuery } from "./generated/AttentionQuery";
import type { AttentionReport } from "./generated/AttentionReport";
import type { FindingKey } from "./generated/FindingKey";
import type { RuleCount } from "./generated/RuleCount";

export type {
  ReviewsView,
  CampaignProgress,
  QueueItem,
  ReviewRole,
  ReviewerProgress,
  AttestInput,
  StartInput,
  ReviewRecord,
  Closed,
  Answers,
  Campaign,
  CampaignItem,
  CampaignScope,
  CampaignStatus,
  CampaignStarted,
  ListCursor,
  ListPage,
  AttentionQuery,
  AttentionReport,
  FindingKey,
  RuleCount,
  GroupBy,
  GroupLink,
  RadiusSummary,
  ServiceGroup,
  Owner,
  KnownOwner,
  OwnerKind,
  SignCheck,
  Refusal,
  GroupsSaved,
  Signer,
  Standing,
  Person,
  SignInProgress,
  WhoAmI,
  DrillEvent,
  DrillExample,
  DrillReport,
  DrillSession,
  PlannedInject,
  TimelineRow,
  Access,
  Alternative,
  Alternatives,
  ApprovalTier,
  AuditEntry,
  BlastResult,
  BlastSummary,
  BreakGlass,
  ContainmentAction,
  ContainmentPlan,
  ContainmentRequest,
  DecisionRow,
  DeliveryReport,
  Environment,
  Finding,
  Identity,
  IdentityDetail,
  IdentityKind,
  IdentitySummary,
  ImpactedService,
  InboxItem,
  InboxView,
  InventoryCounts,
  KeyInfo,
  Lifetime,
  RankedIdentity,
  RequestView,
  Review,
  SecretDelivery,
  Service,
  ServiceDetail,
  ServiceRef,
  ServiceSummary,
  Step,
  Target,
  Threat,
  TierDecision,
  Usage,
  Verdict,
};

export interface AppStatus {
  db_path: string;
  startup_error: string | null;
  counts: InventoryCounts | null;
  /** Changes whenever anyone changes the inventory. */
  audit_head: string | null;
}

export interface Change {
  entity: string;
  id: string;
  operation: "create" | "update" | "delete";
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export type ImportFormat =
  | "auto"
  | "native"
  | "csv"
  | "backstage"
  | "k8s"
  | "aws"
  | "entra"
  | "gcp"
  | "cyclonedx";

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
    /** Hops between the parent and this node the drawing leaves out. */
    skipped: number[];
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
