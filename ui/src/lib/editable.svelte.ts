// The list-and-detail flow the Identities and Services views share: a
// searchable list, one selected entity shown in detail, a form to create or
// edit, and delete with confirmation. Each change refreshes the list and
// tells the app, whose header counts depend on it.
import { toCommandError } from "./api";
import { untrack } from "svelte";
import { live } from "./live.svelte";
import { searchResults } from "./search.svelte";
import type { CommandError, ListCursor, ListPage } from "./types";

export type Mode = "view" | "edit" | "create";

interface Entity {
  id: string;
  name: string;
  version: number;
}

export function editableList<
  Row extends { id: string },
  Detail extends Entity,
>(opts: {
  search: () => string;
  list: (text: string, after: ListCursor | null) => Promise<ListPage<Row>>;
  detail: (id: string) => Promise<Detail>;
  remove: (id: string, version: number) => Promise<unknown>;
  /** The question asked before deleting. */
  confirmDelete: (d: Detail) => string;
  onChanged: () => void;
}) {
  let refresh = $state(0);
  const results = searchResults(
    opts.search,
    opts.list,
    () => refresh + live.revision,
  );
  let selected = $state<Detail | null>(null);
  let mode = $state<Mode>("view");
  let actionError = $state<CommandError | null>(null);
  // What the last change did, said once where it was made ("Saved …").
  let notice = $state<string | null>(null);

  async function select(id: string) {
    try {
      selected = await opts.detail(id);
      mode = "view";
      actionError = null;
      notice = null;
    } catch (e) {
      actionError = toCommandError(e);
    }
  }

  // Someone else changed the inventory: show the entity as it is now,
  // unless a form is open (its save is checked against the version it
  // was opened at, and refused if that is stale).
  $effect(() => {
    if (live.revision === 0) return;
    // Only the revision is a dependency: reading the selection tracked
    // would make this effect's own update run it again.
    const current = untrack(() => selected);
    const viewing = untrack(() => mode === "view");
    if (current && viewing) {
      opts.detail(current.id).then(
        (d) => {
          if (selected?.id === d.id && mode === "view") selected = d;
        },
        () => {
          if (selected?.id === current.id && mode === "view") selected = null;
        },
      );
    }
  });

  // The selected entity is not among the rows the search shows: the
  // detail says so, rather than reading as a search result. (While pages
  // remain to be loaded it may be further down, so nothing is said.)
  const hidden = $derived(
    !!selected &&
      results.loaded &&
      !results.more &&
      !results.rows.some((r) => r.id === selected?.id),
  );

  async function saved(id: string, what = "Saved") {
    refresh++;
    opts.onChanged();
    await select(id);
    if (selected?.id === id)
      notice = `${what} ${selected.name}; the change is in its history.`;
  }

  async function remove() {
    const current = selected;
    if (!current || !window.confirm(opts.confirmDelete(current))) return;
    try {
      await opts.remove(current.id, current.version);
      selected = null;
      refresh++;
      opts.onChanged();
      notice = `Deleted ${current.name}; its record stays in the audit trail.`;
    } catch (e) {
      actionError = toCommandError(e);
    }
  }

  /** Runs another action on the selection, then shows the result and
   * says `what` was done. */
  async function act(action: (d: Detail) => Promise<unknown>, what = "Saved") {
    const current = selected;
    if (!current) return;
    try {
      await action(current);
      await saved(current.id, what);
    } catch (e) {
      actionError = toCommandError(e);
    }
  }

  return {
    get results() {
      return results;
    },
    get selected() {
      return selected;
    },
    /** The selection is not in the list as searched. */
    get hiddenBySearch() {
      return hidden;
    },
    get mode() {
      return mode;
    },
    set mode(m: Mode) {
      mode = m;
      notice = null;
    },
    /** What the last change did, until the next selection or form. */
    get notice() {
      return notice;
    },
    get error() {
      return actionError ?? results.error;
    },
    select,
    saved,
    remove,
    act,
  };
}
