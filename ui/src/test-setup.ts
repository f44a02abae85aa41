import "@testing-library/jest-dom/vitest";
import { afterEach, beforeEach } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";

beforeEach(() => {
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
