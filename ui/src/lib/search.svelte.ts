// A list that follows a search box: asks the core again when the text
// changes, after a short pause so typing does not send a query per key, and
// drops answers that arrive after a newer question. The core answers a page
// at a time (most critical first): the first page shows at once, the rest
// is asked for as the person scrolls to it.
import { toCommandError } from "./api";
import type { CommandError, ListCursor, ListPage } from "./types";

export const SEARCH_DELAY_MS = 120;

/** `refresh` is read too, so bumping it asks again after an edit. */
export function searchResults<T>(
  search: () => string,
  fetch: (text: string, after: ListCursor | null) => Promise<ListPage<T>>,
  refresh: () => number = () => 0,
) {
  let rows = $state<T[]>([]);
  let total = $state(0);
  let next = $state<ListCursor | null>(null);
  let loaded = $state(false);
  let loadingMore = $state(false);
  let error = $state<CommandError | null>(null);
  let generation = 0;
  let text = "";

  $effect(() => {
    const asked = search();
    refresh();
    const mine = ++generation;
    const timer = setTimeout(async () => {
      try {
        const page = await fetch(asked, null);
        if (mine !== generation) return;
        text = asked;
        rows = page.rows;
        total = page.total ?? page.rows.length;
        next = page.next;
        error = null;
      } catch (e) {
        if (mine === generation) error = toCommandError(e);
      } finally {
        if (mine === generation) loaded = true;
      }
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  });

  /** Appends the next page, if there is one and none is on its way. */
  async function more() {
    const after = next;
    if (!after || loadingMore) return;
    const mine = generation;
    loadingMore = true;
    try {
      const page = await fetch(text, after);
      if (mine !== generation) return;
      rows = [...rows, ...page.rows];
      next = page.next;
    } catch (e) {
      if (mine === generation) error = toCommandError(e);
    } finally {
      loadingMore = false;
    }
  }

  return {
    get rows() {
      return rows;
    },
    /** Rows matching the search in all, loaded or not. */
    get total() {
      return total;
    },
    /** Whether rows remain to be loaded. */
    get more() {
      return next !== null;
    },
    get loadingMore() {
      return loadingMore;
    },
    get loaded() {
      return loaded;
    },
    get error() {
      return error;
    },
    loadMore: more,
  };
}
