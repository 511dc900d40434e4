// Session runs in the Graphs tab: the traced Session.runs of a run (FileWriter.add_run_metadata,
// /api/graph/run_metadata), a picker, node colours by compute time or memory with a legend,
// and the numbers for the details panel. Step-stats op names map to the graph's nodes as
// TensorBoard does: by name; a collapsed scope sums the time and memory of the ops inside it.

import { fetchRunMetadata } from "./api.js";
import { byId, el } from "./dom.js";
import { knownRuns } from "./runs.js";

const SCALES = {
  compute: { from: [255, 245, 240], to: [203, 24, 29], label: "Compute time", unit: formatMicros },
  memory: { from: [239, 243, 255], to: [33, 113, 181], label: "Memory", unit: formatBytes },
};

const chosen = new Map(); // run -> the session run (tag) picked for it
let current = null; // {run, tag, body, ops: Map name -> node stats}
let mode = "structure";
let loadGen = 0;
let onChange = () => {};
let totals = null; // {key, byNode: Map id -> {compute, memory, ops}, matched, unmatched}

/** "1.23 ms" from microseconds. */
export function formatMicros(us) {
  if (us === 0) return "0 µs";
  if (us >= 1e6) return `${(us / 1e6).toPrecision(3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toPrecision(3)} ms`;
  return `${us.toPrecision(3)} µs`;
}

/** "4.1 kB" from bytes. */
export function formatBytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return i ? `${n.toPrecision(3)} ${units[i]}` : `${n} B`;
}

/** Wire the session-run picker and the color select; `redraw` repaints the graph. */
export function initStatsControls(redraw) {
  onChange = redraw;
  byId("graph-session").addEventListener("change", (event) => {
    const run = byId("graph-run").value;
    chosen.set(run, event.target.value);
    load(run, event.target.value);
  });
  byId("graph-color").addEventListener("change", (event) => {
    mode = event.target.value;
    onChange();
  });
}

/** Fill the picker for `run` (hidden when it has no run metadata) and load its stats. */
export function syncStats(run) {
  const tags = knownRuns().find((r) => r.name === run)?.run_metadata ?? [];
  const select = byId("graph-session");
  byId("graph-session-field").hidden = !tags.length;
  byId("graph-color-field").hidden = !tags.length;
  const same = [...select.options].map((o) => o.value).join("\n") === tags.join("\n");
  if (!same) select.replaceChildren(...tags.map((tag) => el("option", { value: tag, text: tag })));
  if (!tags.length) {
    if (current) setCurrent(null);
    return;
  }
  const tag = tags.includes(chosen.get(run)) ? chosen.get(run) : tags[tags.length - 1];
  select.value = tag;
  if (!current || current.run !== run || current.tag !== tag) load(run, tag);
}

async function load(run, tag) {
  const gen = ++loadGen;
  try {
    const body = await fetchRunMetadata(run, tag);
    if (gen !== loadGen) return;
    const ops = new Map(body.nodes.map((n) => [n.name, n]));
    setCurrent({ run, tag, body, ops });
  } catch (err) {
    if (gen !== loadGen) return;
    setCurrent(null);
    byId("graph-session-status").textContent = `Could not load ${tag}: ${err.message}`;
  }
}

function setCurrent(value) {
  current = value;
  totals = null;
  byId("graph-session-status").textContent = "";
  onChange();
}

/** Per visible node of `graph`: the summed compute time, memory and op count. */
function totalsFor(graph) {
  const key = current && graph ? `${graph.key}|${current.run}|${current.tag}` : "";
  if (totals?.key === key) return totals;
  const byNode = new Map();
  let matched = 0;
  let unmatched = 0;
  if (key && graph.run === current.run) {
    const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    for (const op of current.body.nodes) {
      const id = visibleId(op.name, nodes);
      if (id === null) {
        unmatched += 1;
        continue;
      }
      matched += 1;
      const t = byNode.get(id) ?? { compute: 0, memory: 0, ops: 0, executions: 0 };
      t.compute += op.compute_micros;
      t.memory += op.memory_bytes;
      t.ops += 1;
      t.executions += op.executions;
      byNode.set(id, t);
    }
  }
  totals = { key, byNode, matched, unmatched };
  return totals;
}

/** The node showing op `name`: its outermost collapsed scope, or itself; null if absent. */
function visibleId(name, nodes) {
  const parts = name.split("/");
  let prefix = "";
  for (let i = 0; i < parts.length - 1; i += 1) {
    prefix = i ? `${prefix}/${parts[i]}` : parts[i]; // linear in the name, however deep
    const node = nodes.get(prefix);
    if (node?.kind === "scope") return node.id;
  }
  return nodes.has(name) ? name : null;
}

function maxOf(byNode, field) {
  let max = 0;
  for (const t of byNode.values()) max = Math.max(max, t[field]);
  return max;
}

function mix(scale, f) {
  const c = scale.from.map((a, i) => Math.round(a + (scale.to[i] - a) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** A function node -> {fill, note} (null: keep the structure look), for the current mode;
 * `note` is the node's numbers, for its hover title. */
export function nodeFill(graph) {
  if (mode === "structure" || !current) return () => null;
  const { byNode } = totalsFor(graph);
  const field = mode === "compute" ? "compute" : "memory";
  const max = maxOf(byNode, field);
  const scale = SCALES[mode];
  return (node) => {
    const t = byNode.get(node.id);
    if (!t) return null;
    const ops = node.kind === "scope" ? ` (${t.ops} ops)` : "";
    return {
      fill: mix(scale, max > 0 ? Math.sqrt(t[field] / max) : 0),
      note: `${current.tag}: ${formatMicros(t.compute)}, ${formatBytes(t.memory)}${ops}`,
    };
  };
}

/** The legend for the current color mode, or null in structure mode. */
export function statsLegend(graph) {
  if (mode === "structure" || !current) return null;
  const { byNode, matched, unmatched } = totalsFor(graph);
  const scale = SCALES[mode];
  const max = maxOf(byNode, mode === "compute" ? "compute" : "memory");
  const bar = el("span", { class: "stats-bar" });
  bar.style.background = `linear-gradient(to right, ${mix(scale, 0)}, ${mix(scale, 1)})`;
  const note = unmatched ? ` · ${unmatched} ops not in this graph` : "";
  return el(
    "div",
    { class: "stats-legend", "aria-label": `${scale.label} legend` },
    el("span", { class: "stats-title", text: `${scale.label} · ${current.tag}` }),
    el("span", { text: scale.unit(0) }),
    bar,
    el("span", { class: "stats-max", text: scale.unit(max) }),
    el("span", { class: "hint", text: `${matched} ops timed${note}` }),
  );
}

/** Facts for the details panel of `node`: [[label, text], ...] (empty without stats). */
export function statFacts(graph, node) {
  if (!current || !node || !graph) return [];
  const t = totalsFor(graph).byNode.get(node.id);
  const facts = [["Session run", `${current.tag} (step ${current.body.step})`]];
  if (!t) return [...facts, ["Compute time", "not run in this step"]];
  facts.push(["Compute time", formatMicros(t.compute)], ["Memory", formatBytes(t.memory)]);
  if (node.kind === "scope") facts.push(["Ops timed", String(t.ops)]);
  else if (t.executions > 1) facts.push(["Executions", String(t.executions)]);
  return facts;
}
