// A list that follows a search box: asks the core again when the text
// changes, after a short pause so typing does not send a query per key, and
// drops answers that arrive after a newer question.
import { toCommandError } from "./api";
import type { CommandError } from "./types";

export const SEARCH_DELAY_MS = 120;

/** `refresh` is read too, so bumping it asks again after an edit. */
export function searchResults<T>(
  search: () => string,
  fetch: (text: string) => Promise<T[]>,
  refresh: () => number = () => 0,
) {
  let rows = $state<T[]>([]);
  let loaded = $state(false);
  let error = $state<CommandError | null>(null);
  let generation = 0;

  $effect(() => {
    const text = search();
    refresh();
    const mine = ++generation;
    const timer = setTimeout(async () => {
      try {
        const result = await fetch(text);
        if (mine !== generation) return;
        rows = result;
        error = null;
      } catch (e) {
        if (mine === generation) error = toCommandError(e);
      } finally {
        if (mine === generation) loaded = true;
      }
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  });

  return {
    get rows() {
      return rows;
    },
    get loaded() {
      return loaded;
    },
    get error() {
      return error;
    },
  };
}
