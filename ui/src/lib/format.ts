// Wording for the model's values, kept in one place so every view agrees.
import type { Environment, IdentityKind } from "./types";

const KIND_LABELS: Record<IdentityKind, string> = {
  service_account: "Service account",
  api_key: "API key",
  oauth_app: "OAuth app",
  token: "Token",
  workload_identity: "Workload identity",
  ai_agent: "AI agent",
  certificate: "Certificate",
  ssh_key: "SSH key",
  cicd_deploy_key: "CI/CD deploy key",
  break_glass_account: "Break-glass account",
};

const TIER_LABELS = [
  "mission-critical",
  "business-critical",
  "important",
  "low",
];

const ENV_LABELS: Record<Environment, string> = {
  production: "Production",
  staging: "Staging",
  development: "Development",
  shared: "Shared",
};

export const kindLabel = (kind: IdentityKind): string =>
  KIND_LABELS[kind] ?? kind;

export const envLabel = (env: Environment): string => ENV_LABELS[env] ?? env;

/** "Tier 0 · mission-critical"; unknown tiers are shown as they are. */
export function tierLabel(tier: number): string {
  const words = TIER_LABELS[tier];
  return words ? `Tier ${tier} · ${words}` : `Tier ${tier}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
