// jsdom has no WebGL: a stand-in for sigma (and the modules that load
// WebGL programs) for component tests, reporting one frame drawn.
// Used as `vi.mock("sigma", () => import("../lib/explorer/sigma-stub"))`.
export default class SigmaStub {
  handlers: Record<string, () => void> = {};
  on(event: string, f: () => void) {
    this.handlers[event] = f;
  }
  once(event: string, f: () => void) {
    if (event === "afterRender") setTimeout(f, 0);
  }
  refresh() {}
  kill() {}
  getCamera() {
    return { animate() {}, getState: () => ({}), setState() {} };
  }
  getNodeDisplayData() {
    return { x: 0, y: 0, size: 1 };
  }
  getSettings() {
    return {
      labelWeight: "normal",
      labelSize: 14,
      labelFont: "Arial",
      stagePadding: 30,
    };
  }
  setCustomBBox() {}
  setSetting() {}
  framedGraphToViewport(p: { x: number; y: number }) {
    return p;
  }
  scaleSize(s: number) {
    return s;
  }
}

export function drawDiscNodeLabel() {}
