// Typed wrappers over the Tauri commands; the only place the UI talks IPC.
import { invoke } from "@tauri-apps/api/core";
import type {
  AppStatus,
  CommandError,
  IdentityDetail,
  IdentitySummary,
  InventoryCounts,
  ServiceSummary,
} from "./types";

export const appStatus = () => invoke<AppStatus>("app_status");

export const listIdentities = (search: string) =>
  invoke<IdentitySummary[]>("list_identities", { search: search || null });

export const identityDetail = (id: string) =>
  invoke<IdentityDetail>("identity_detail", { id });

export const listServices = (search: string) =>
  invoke<ServiceSummary[]>("list_services", { search: search || null });

export const loadDemo = () => invoke<InventoryCounts>("load_demo");

/** Turns whatever a command rejected with into something to show a person. */
export function toCommandError(error: unknown): CommandError {
  if (
    typeof error === "object" &&
    error !== null &&
    "message" in error &&
    typeof (error as { message: unknown }).message === "string"
  ) {
    const e = error as { message: string; hint?: unknown };
    return {
      message: e.message,
      hint: typeof e.hint === "string" ? e.hint : null,
    };
  }
  return {
    message: typeof error === "string" ? error : String(error),
    hint: null,
  };
}
