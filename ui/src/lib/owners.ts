// Which owner ids the pickers call unknown: one rule for the picker's
// note and for the forms' refusal to save (issue 19).
import type { KnownOwner } from "./types";

/** `value` names no known owner (blank is not unknown; nothing is unknown
 * until the known owners were read). */
export function isUnknownOwner(
  owners: KnownOwner[],
  loaded: boolean,
  value: string,
): boolean {
  const id = value.trim();
  return loaded && id !== "" && !owners.some((o) => o.id === id);
}
