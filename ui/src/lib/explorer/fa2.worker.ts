// ForceAtlas2 off the main thread: the window stays responsive while a
// large radius settles. Posts positions and progress after each batch of
// iterations; stops when told to or after `iterations`.
import Graph from "graphology";
import forceAtlas2 from "graphology-layout-forceatlas2";

interface Start {
  type: "start";
  x: Float32Array;
  y: Float32Array;
  edges: Uint32Array;
  iterations: number;
}

let stopped = false;

self.onmessage = (e: MessageEvent<Start | { type: "stop" }>) => {
  if (e.data.type === "stop") {
    stopped = true;
    return;
  }
  stopped = false;
  const { x, y, edges, iterations } = e.data;
  const g = new Graph({ type: "directed", multi: false });
  for (let i = 0; i < x.length; i++) g.addNode(i, { x: x[i], y: y[i] });
  for (let k = 0; k + 1 < edges.length; k += 2)
    if (edges[k] !== edges[k + 1] && !g.hasEdge(edges[k], edges[k + 1]))
      g.addEdge(edges[k], edges[k + 1]);
  const settings = forceAtlas2.inferSettings(g);
  settings.barnesHutOptimize = x.length > 2000;
  const batch = x.length > 20000 ? 2 : x.length > 2000 ? 5 : 25;
  let done = 0;
  const step = () => {
    if (stopped) return;
    forceAtlas2.assign(g, { iterations: batch, settings });
    done += batch;
    const nx = new Float32Array(x.length);
    const ny = new Float32Array(x.length);
    g.forEachNode((node, attrs) => {
      nx[Number(node)] = attrs.x;
      ny[Number(node)] = attrs.y;
    });
    self.postMessage(
      { type: "progress", done, total: iterations, x: nx, y: ny },
      {
        transfer: [nx.buffer, ny.buffer],
      },
    );
    if (done < iterations) setTimeout(step, 0);
  };
  step();
};
