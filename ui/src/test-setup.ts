import "@testing-library/jest-dom/vitest";
import { afterEach, beforeEach, vi } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";

beforeEach(() => {
  // jsdom lays nothing out and has no scrollIntoView; tests check what was
  // asked to be scrolled to.
  Element.prototype.scrollIntoView = vi.fn();
  // The IPC mock needs a window-level crypto for callback ids.
  Object.defineProperty(window, "crypto", {
    value: globalThis.crypto,
    configurable: true,
  });
});

afterEach(() => {
  cleanup();
  clearMocks();
});
