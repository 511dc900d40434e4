// The auxiliary block of the Graphs tab: /api/graph lays gradients, optimizer, save/restore,
// init and summary nodes out to the right of the model (board/auxiliary.py). Here they get a
// labelled frame, and an edge between the model and that block (`bridge`) is drawn as two
// short stubs, one at each end, instead of a line across the picture.

import { svg } from "./dom.js";

const STUB = 26;
const PAD = 16;

/** The frame around the auxiliary nodes, or null when there are none. */
export function auxiliaryFrame(nodes) {
  const aux = nodes.filter((node) => node.auxiliary);
  if (!aux.length) return null;
  const x0 = Math.min(...aux.map((n) => n.x - n.width / 2)) - PAD;
  const y0 = Math.min(...aux.map((n) => n.y - n.height / 2)) - PAD - 14;
  const x1 = Math.max(...aux.map((n) => n.x + n.width / 2)) + PAD;
  const y1 = Math.max(...aux.map((n) => n.y + n.height / 2)) + PAD;
  return svg(
    "g",
    { class: "aux-frame" },
    svg("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0, rx: 12 }),
    svg("text", { x: x0 + 10, y: y0 + 14 }, "Auxiliary nodes"),
  );
}

function stub(x, y, dx, label, control) {
  const group = svg(
    "g",
    { class: control ? "edge stub control" : "edge stub" },
    svg("path", { d: `M${x},${y} h${dx}`, "marker-end": dx > 0 ? "url(#arrow)" : undefined }),
    svg("title", {}, label),
  );
  return group;
}

/**
 * A bridge edge as two stubs: one leaving the source to the right, one entering the target
 * from the left; each names the node at the other end (as text, never markup).
 */
export function drawBridge(edge, a, b) {
  const out = stub(a.x + a.width / 2, a.y, STUB, `to ${b.name}`, edge.control);
  const into = svg(
    "g",
    { class: edge.control ? "edge stub control" : "edge stub" },
    svg("path", {
      d: `M${b.x - b.width / 2 - STUB},${b.y} h${STUB - 2}`,
      "marker-end": "url(#arrow)",
    }),
    svg("title", {}, `from ${a.name}`),
  );
  const group = svg("g", { class: "bridge", dataset: { source: edge.source, target: edge.target } });
  group.append(out, into);
  return group;
}
