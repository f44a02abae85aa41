// Performance marks at the moments a person can act, read by the cold-start
// benchmark (bench/cold-start) through WebDriver: `performance.timeOrigin`
// plus a mark's `startTime` is when it happened on the system clock.

const done = new Set<string>();

/** Marks `name` the first time it is reached in this window. */
export function markOnce(name: string) {
  if (done.has(name) || typeof performance?.mark !== "function") return;
  done.add(name);
  performance.mark(`countersign:${name}`);
}
