// What the core tells the window has changed, instead of the window asking
// on a timer: one channel (the `watch` command) for the whole window, each
// part subscribing to the kinds it shows.
import { Channel, invoke } from "@tauri-apps/api/core";

export type Changed =
  | { kind: "inventory"; version: string | null }
  | { kind: "inbox" }
  | { kind: "drill" };

type Listener = (change: Changed) => void;

const listeners = new Map<Changed["kind"], Set<Listener>>();
let subscribed: Promise<void> | null = null;

function subscribe(): Promise<void> {
  if (!subscribed) {
    const channel = new Channel<Changed>();
    channel.onmessage = (change) => {
      for (const listener of listeners.get(change.kind) ?? []) listener(change);
    };
    subscribed = invoke<void>("watch", { channel }).catch(() => {
      // Without the channel the window still works; it refreshes on use.
      subscribed = null;
    });
  }
  return subscribed;
}

/** Calls `listener` whenever a change of `kind` happens; returns the unsubscribe. */
export function onChange(
  kind: Changed["kind"],
  listener: Listener,
): () => void {
  if (!listeners.has(kind)) listeners.set(kind, new Set());
  listeners.get(kind)!.add(listener);
  void subscribe();
  return () => listeners.get(kind)?.delete(listener);
}

/** For tests: forget the subscription, so the next `onChange` subscribes again. */
export function resetWatch() {
  listeners.clear();
  subscribed = null;
}
