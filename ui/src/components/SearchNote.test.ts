import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";
import SearchNote from "./SearchNote.svelte";

describe("SearchNote", () => {
  it("says a list is filtered, and how to see it all when nothing matches", () => {
    const { rerender } = render(SearchNote, { search: " kafka ", count: 0 });
    expect(screen.getByTestId("search-note")).toHaveTextContent(
      "Showing only those matching “kafka”: clear the search to see them all.",
    );
    rerender({ search: "kafka", count: 2 });
    expect(screen.getByTestId("search-note")).toHaveTextContent(
      "Showing only those matching “kafka”.",
    );
  });

  it("says nothing without a search", () => {
    render(SearchNote, { search: "  ", count: 41 });
    expect(screen.queryByTestId("search-note")).toBeNull();
  });
});
