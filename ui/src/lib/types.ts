// Mirrors of the core's serialised model (src/model, src/store/queries.rs).

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

export interface Identity {
  id: string;
  kind: IdentityKind;
  name: string;
  owner: string;
  environment: Environment;
  tier: number;
  break_glass: boolean;
  description?: string;
}

export interface IdentitySummary extends Identity {
  used_by_count: number;
}

export interface ServiceRef {
  id: string;
  name: string;
  owner: string;
  tier: number;
}

export interface ServiceSummary extends ServiceRef {
  identity_count: number;
  depends_on: string[];
}

export interface IdentityDetail extends Identity {
  used_by: ServiceRef[];
}

export interface InventoryCounts {
  identities: number;
  services: number;
  usages: number;
  dependencies: number;
}

export interface AppStatus {
  db_path: string;
  startup_error: string | null;
  counts: InventoryCounts | null;
}

/** What a failed command rejects with (src-tauri/src/error.rs). */
export interface CommandError {
  message: string;
  hint: string | null;
}
