// The Graphs tab: an SVG of /api/graph's layout (scopes as rounded boxes with child
// counts, ops as ellipses, edges with counts, control edges dashed), click a scope to
// open it (re-requested with expand=…), close open scopes from their chips (nodes inside
// an open scope sit on a tint of that scope's color),
// drag to pan, wheel to zoom, a details panel, and find-by-name. A run with traced
// Session.runs can colour its nodes by compute time or memory (graph_stats.js).

import { fetchGraph } from "./api.js";
import { byId, clear, el, svg } from "./dom.js";
import { auxiliaryFrame, drawBridge } from "./graph_aux.js";
import { renderPanel } from "./graph_panel.js";
import { allNames, findNode } from "./graph_search.js";
import { initStatsControls, nodeFill, statFacts, statsLegend, syncStats } from "./graph_stats.js";
import { knownRuns } from "./runs.js";
import { state, update } from "./state.js";
import { PanZoom } from "./panzoom.js";

const HALOS = 6;

let view = null; // {root, svg, layer, panel, panzoom}
let graph = null; // last /api/graph body
let selectedId = null;
let loadGen = 0;

function buildView(root) {
  const layer = svg("g", { class: "graph-layer" });
  const canvas = svg(
    "svg",
    { class: "graph-svg", "aria-label": "Graph", role: "group", tabindex: "0" },
    svg(
      "defs",
      {},
      svg(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: "9",
          refY: "5",
          markerWidth: "7",
          markerHeight: "7",
          orient: "auto-start-reverse",
        },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }),
      ),
    ),
    layer,
  );
  const panzoom = new PanZoom(canvas, layer);
  const controls = el(
    "div",
    { class: "graph-controls" },
    el("button", { type: "button", class: "icon-button", "aria-label": "Zoom in", title: "Zoom in",
      onclick: () => panzoom.zoomBy(1.25) }, "+"),
    el("button", { type: "button", class: "icon-button", "aria-label": "Zoom out",
      title: "Zoom out", onclick: () => panzoom.zoomBy(0.8) }, "−"),
    el("button", { type: "button", class: "icon-button", "aria-label": "Fit to screen",
      title: "Fit to screen", onclick: () => panzoom.fit() }, "⤢"),
  );
  const legend = el(
    "div",
    { class: "graph-legend", "aria-hidden": "true" },
    el("span", {}, legendIcon("scope"), " scope"),
    el("span", {}, legendIcon("op"), " op"),
    el("span", {}, legendIcon("data"), " data"),
    el("span", {}, legendIcon("control"), " control"),
  );
  const status = el("p", { class: "hint graph-status", role: "status" });
  const stats = el("div", { class: "graph-stats" });
  const chips = el("div", { class: "scope-chips", "aria-label": "Open scopes" });
  const panel = el("aside", { class: "graph-panel", "aria-label": "Node details" });
  root.append(
    el("div", { class: "graph-canvas" }, canvas, chips, controls, legend, stats, status),
    panel,
  );
  view = { root, svg: canvas, layer, panel, panzoom, status, chips, stats };
  showPanel(null);
}

function legendIcon(kind) {
  const icon = svg("svg", { viewBox: "0 0 22 12" });
  if (kind === "scope") {
    icon.append(svg("rect", { x: 1, y: 1, width: 20, height: 10, rx: 3, class: "legend-scope" }));
  }
  if (kind === "op") {
    icon.append(svg("ellipse", { cx: 11, cy: 6, rx: 10, ry: 5, class: "legend-op" }));
  }
  if (kind === "data" || kind === "control") {
    const line = svg("line", { x1: 1, y1: 6, x2: 21, y2: 6, class: `legend-${kind}` });
    icon.append(line);
  }
  return icon;
}

/** Runs that have a graph. */
function graphRuns() {
  return knownRuns().filter((run) => run.has_graph).map((run) => run.name);
}

/** Fill the run selector; returns the run to show (or "" when no run has a graph). */
function syncRunSelect() {
  const select = byId("graph-run");
  const runs = graphRuns();
  const current = runs.includes(state.grun) ? state.grun : runs[0] ?? "";
  const same = [...select.options].map((o) => o.value).join("\n") === runs.join("\n");
  if (!same) {
    select.replaceChildren(...runs.map((name) => el("option", { value: name, text: name })));
  }
  select.value = current;
  select.disabled = !runs.length;
  return current;
}

/** Show the Graphs tab (called on tab switch, run list changes and state changes). */
export async function renderGraph(root, { force = false } = {}) {
  if (!view || view.root !== root) {
    clear(root);
    buildView(root);
  }
  const run = syncRunSelect();
  syncStats(run);
  if (!run) {
    clear(view.layer);
    graph = null;
    view.status.textContent = "No run has a graph yet. Write one with add_graph(graph_def).";
    showPanel(null);
    return 0;
  }
  const key = `${run}|${state.expand.join(",")}`;
  if (!force && graph && graph.key === key) return 1;
  const gen = ++loadGen;
  view.status.textContent = "Laying out…";
  try {
    const body = await fetchGraph(run, state.expand);
    if (gen !== loadGen) return 1;
    const firstOfRun = !graph || graph.run !== run;
    const anchor = firstOfRun ? null : view.anchor;
    graph = { ...body, key };
    draw(anchor, firstOfRun);
    view.status.textContent = "";
  } catch (err) {
    if (gen !== loadGen) return 1;
    view.status.textContent = `Could not load the graph of ${run}: ${err.message}`;
  }
  return 1;
}

/** The details panel for `node` (null: the placeholder), with its session-run numbers. */
function showPanel(node) {
  renderPanel(view.panel, node, graph?.edges ?? [], pick, statFacts(graph, node));
}

function nodeById(id) {
  return graph?.nodes.find((node) => node.id === id) ?? null;
}

function draw(anchor, fit) {
  const { layer } = view;
  clear(layer);
  const halos = svg("g", { class: "halos" });
  const edges = svg("g", { class: "edges" });
  const nodes = svg("g", { class: "nodes" });
  layer.append(halos, edges, nodes);
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const scopes = [...(graph.expanded ?? [])].sort();
  for (const node of graph.nodes) {
    const index = scopeIndex(node.id, scopes);
    if (index >= 0) halos.append(drawHalo(node, index));
  }
  renderScopeChips(scopes);
  const frame = auxiliaryFrame(graph.nodes);
  if (frame) halos.append(frame);
  for (const edge of graph.edges) {
    const a = byId.get(edge.source);
    const b = byId.get(edge.target);
    if (a && b) edges.append(edge.bridge ? drawBridge(edge, a, b) : drawEdge(edge, a, b));
  }
  const fill = nodeFill(graph);
  for (const node of graph.nodes) nodes.append(drawNode(node, fill(node)));
  view.stats.replaceChildren(...[statsLegend(graph)].filter(Boolean));
  showPanel(nodeById(selectedId));
  view.root.dataset.nodes = String(graph.nodes.length);
  if (fit) view.panzoom.fit();
  else if (anchor) {
    const node = nodeById(anchor.id);
    const box = node ? { x: node.x, y: node.y } : clusterCenter(anchor.id);
    if (box) view.panzoom.keepAt(box, anchor.screen);
  }
}

function bounds(nodes) {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const n of nodes) {
    x0 = Math.min(x0, n.x - n.width / 2);
    y0 = Math.min(y0, n.y - n.height / 2);
    x1 = Math.max(x1, n.x + n.width / 2);
    y1 = Math.max(y1, n.y + n.height / 2);
  }
  return { x0, y0, x1, y1 };
}

function clusterCenter(scope) {
  const inside = graph.nodes.filter((n) => n.id.startsWith(`${scope}/`));
  if (!inside.length) return null;
  const b = bounds(inside);
  return { x: (b.x0 + b.x1) / 2, y: b.y0 };
}

/** Index of the innermost open scope holding `id` (for its tint), or -1. */
function scopeIndex(id, scopes) {
  let best = -1;
  scopes.forEach((scope, i) => {
    if (id.startsWith(`${scope}/`) && (best < 0 || scope.length > scopes[best].length)) best = i;
  });
  return best;
}

/** A tinted pad behind a node that sits inside an open scope (one tint per scope). */
function drawHalo(node, index) {
  const pad = 5;
  return svg("rect", {
    class: `halo halo-${index % HALOS}`,
    x: node.x - node.width / 2 - pad,
    y: node.y - node.height / 2 - pad,
    width: node.width + 2 * pad,
    height: node.height + 2 * pad,
    rx: 12,
  });
}

/** The open scopes as chips over the canvas; each closes its scope. */
function renderScopeChips(scopes) {
  const chips = scopes.map((scope, i) => {
    const swatch = el("span", { class: `chip-swatch halo-${i % HALOS}`, "aria-hidden": "true" });
    return el(
      "button",
      {
        type: "button",
        class: "scope-chip",
        dataset: { scope },
        title: `Close scope ${scope}`,
        "aria-label": `Close scope ${scope}`,
        onclick: () => collapse(scope, clusterCenter(scope) ?? { x: 0, y: 0 }),
      },
      swatch,
      el("span", { text: scope }),
      el("span", { class: "chip-x", "aria-hidden": "true", text: "×" }),
    );
  });
  view.chips.replaceChildren(
    ...(chips.length ? [el("span", { class: "chips-label", text: "Open scopes" }), ...chips] : []),
  );
}

function drawEdge(edge, a, b) {
  const down = b.y >= a.y;
  const sx = a.x;
  const sy = down ? a.y + a.height / 2 : a.y - a.height / 2;
  const tx = b.x;
  const ty = down ? b.y - b.height / 2 : b.y + b.height / 2;
  const bend = (ty - sy) / 2;
  const d = `M${sx},${sy} C${sx},${sy + bend} ${tx},${ty - bend} ${tx},${ty}`;
  const group = svg(
    "g",
    { class: edge.control ? "edge control" : "edge" },
    svg("path", { d, "marker-end": "url(#arrow)" }),
  );
  if (edge.count > 1) {
    group.append(svg("text", { x: (sx + tx) / 2 + 4, y: (sy + ty) / 2 }, `×${edge.count}`));
  }
  return group;
}

function drawNode(node, stat) {
  const isScope = node.kind === "scope";
  const label = node.label ?? node.name.split("/").pop();
  const group = svg("g", {
    class: `node ${isScope ? "node-scope" : "node-op"}${node.id === selectedId ? " selected" : ""}${
      node.auxiliary ? " auxiliary" : ""}`,
    transform: `translate(${node.x},${node.y})`,
    tabindex: "0",
    role: "button",
    "aria-label": isScope ? `Scope ${node.name}, ${node.child_count} ops; open` : `Op ${node.name}`,
    dataset: { id: node.id, kind: node.kind },
  });
  const w = node.width;
  const h = node.height;
  if (isScope) {
    group.append(
      svg("rect", { x: -w / 2, y: -h / 2, width: w, height: h, rx: 9 }),
      svg("text", { x: 0, y: -2, "text-anchor": "middle" }, label),
      svg("text", { class: "sub", x: 0, y: 12, "text-anchor": "middle" },
        `${node.child_count} ops`),
      svg("text", { class: "toggle", x: w / 2 - 11, y: -h / 2 + 14, "text-anchor": "middle" }, "+"),
    );
  } else {
    group.append(
      svg("ellipse", { cx: 0, cy: 0, rx: w / 2, ry: h / 2 }),
      svg("text", { x: 0, y: 4, "text-anchor": "middle" }, label),
    );
  }
  const what = isScope ? `${node.child_count} ops` : node.op;
  group.append(svg("title", {}, `${node.name} (${what})${stat ? `\n${stat.note}` : ""}`));
  if (stat) {
    group.classList.add("stat-filled");
    group.firstChild.style.fill = stat.fill;
  }
  const activate = () => {
    select(node.id);
    if (isScope) expand(node.id, { x: node.x, y: node.y });
  };
  group.addEventListener("click", (event) => {
    if (view.panzoom.dragged) return;
    event.stopPropagation();
    activate();
  });
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      activate();
    }
  });
  return group;
}

function select(id) {
  selectedId = id;
  for (const node of view.layer.querySelectorAll(".node")) {
    node.classList.toggle("selected", node.dataset.id === id);
  }
  showPanel(nodeById(id));
}

function expand(scope, at) {
  view.anchor = { id: `${scope}`, screen: view.panzoom.toScreen(at) };
  const expanded = [...new Set([...state.expand, scope])];
  update({ expand: expanded });
}

function collapse(scope, at) {
  view.anchor = { id: scope, screen: view.panzoom.toScreen(at) };
  const expanded = state.expand.filter((s) => s !== scope && !s.startsWith(`${scope}/`));
  // expand=a/b opens a too: drop the parents of what stays open only if they are `scope`.
  update({ expand: expanded });
}

/** Jump to a node by name: open its scopes, select it, and center it. */
async function pick(name) {
  const id = name.replace(/^\^/, "").split(":")[0];
  const parents = id.split("/").slice(0, -1);
  const scope = parents.join("/");
  if (!nodeById(id) && scope && !state.expand.includes(scope)) {
    update({ expand: [...new Set([...state.expand, scope])] });
    await renderGraph(view.root);
  }
  const node = nodeById(id);
  if (!node) return false;
  select(id);
  view.panzoom.centerOn(node);
  const element = view.layer.querySelector(`.node[data-id="${CSS.escape(id)}"]`);
  element?.classList.add("found");
  element?.focus({ preventScroll: true });
  setTimeout(() => element?.classList.remove("found"), 1600);
  return true;
}

/** Wire the run selector and the find box; call once. */
export function initGraphControls() {
  initStatsControls(() => {
    if (graph && view) draw(null, false);
  });
  byId("graph-run").addEventListener("change", (event) => {
    selectedId = null;
    update({ grun: event.target.value, expand: [] });
  });
  byId("graph-search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = byId("graph-search").value.trim();
    const result = byId("graph-search-result");
    if (!query || !graph) return;
    try {
      const name = await findNode(graph, query, state.expand);
      result.textContent = name ? `Found ${name}` : `No node matches ${JSON.stringify(query)}.`;
      if (name) await pick(name);
    } catch (err) {
      result.textContent = `Search failed: ${err.message}`;
    }
  });
  byId("graph-search").addEventListener("focus", () => {
    if (!graph) return;
    allNames(graph.run, state.expand)
      .then((names) => {
        const options = names.slice(0, 2000).map((n) => el("option", { value: n }));
        byId("graph-names").replaceChildren(...options);
      })
      .catch(() => {}); // suggestions are optional; the search itself reports errors
  });
}
