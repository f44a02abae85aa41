// Changes made elsewhere: another owner's app or the CLI on the same
// (shared) database. The app polls the audit head; when it moves, lists
// ask again, and a detail being viewed (not edited) is read again.
export const live = $state({ revision: 0 });

let lastHead: string | null | undefined;

/** Called with each status read; bumps the revision when the head moved. */
export function noteAuditHead(head: string | null) {
  if (lastHead !== undefined && head !== lastHead) live.revision++;
  lastHead = head;
}

/** For tests. */
export function resetLive() {
  lastHead = undefined;
  live.revision = 0;
}
