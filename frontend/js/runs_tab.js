// The Runs tab: one row per run (hyperparameters, last/min/max of each scalar tag, points,
// last update) from /api/runs/table, a parallel-coordinates plot, and CSV export.
//
// The table is another face of the global run selection: its checkboxes are the run list's
// (runs.js, state.hide/show/all), its regex is the run filter (state.runs), and its range
// filters (state.range, typed or brushed on the plot) narrow the runs every view draws.
// The table is fetched when the tab renders after a change, and refreshed (throttled) as
// the live stream reports new points; a refresh re-renders only the rows in view.

import { fetchRunsTable } from "./api.js";
import { compileFilter, el, throttle } from "./dom.js";
import { drawAll, drawNone, runChecked, setRangeFilter, toggleRun } from "./runs.js";
import { columnLabel, metricId, parseColumnId, prepare, tableColumns } from "./runs_columns.js";
import { parseRanges, passes, sortRows, toCsv, withRange } from "./runs_filter.js";
import { createGrid } from "./runs_grid.js";
import { clearParcoords, drawParcoords } from "./runs_parcoords.js";
import { state, update } from "./state.js";

const REFRESH_MS = 1000;
const PLOT_LIVE_MS = 10000;
const STREAM_PLUGINS = new Set(["scalars", "hparams", "runs"]);

let data = null; // prepare(/api/runs/table body)
let stale = true; // the stream reported changes since `data` was fetched
let loading = null;
let loadError = "";
const modes = new Map(); // tag -> "last" | "min" | "max" shown in its column
let sort = { id: "name", dir: 1 };
let plotTag = ""; // the metric on the plot's last axis
let ui = null;
let shown = { specs: [], rows: [] }; // what the table shows now (for the CSV)
let filterKey = "";
let notifyFilter = () => {};

function load() {
  if (loading) return loading;
  stale = false; // a change reported while this request travels marks it stale again
  loading = fetchRunsTable()
    .then((body) => {
      data = prepare(body);
      loadError = "";
    })
    .catch((err) => {
      stale = true;
      loadError = `Could not load the runs table: ${err.message}`;
    })
    .finally(() => {
      loading = null;
    });
  return loading;
}

/** Hand runs.js the runs that pass the ranges; true when that set changed. */
function syncRangeFilter() {
  const ranges = parseRanges(state.range);
  if (!ranges.length || !data) {
    if (filterKey === "") return false;
    filterKey = "";
    setRangeFilter(null);
    return true;
  }
  const pass = new Set(data.rows.filter((row) => passes(row, ranges, data)).map((r) => r.name));
  const key = `ranges\n${[...pass].join("\n")}`;
  if (key === filterKey) return false;
  filterKey = key;
  setRangeFilter((name) => pass.has(name));
  return true;
}

function onSort(id) {
  sort = sort.id === id ? { id, dir: -sort.dir } : { id, dir: 1 };
  renderTable();
}

function onMode(tag, mode) {
  const old = metricId(tag, modes.get(tag) ?? "last");
  modes.set(tag, mode);
  if (sort.id === old) sort = { ...sort, id: metricId(tag, mode) };
  renderTable();
}

const onRange = (id, min, max) => update({ range: withRange(state.range, id, min, max) });

function buildUi(view) {
  const count = el("p", { class: "runs-count", role: "status" });
  const metric = el("select", { id: "runs-plot-metric" });
  metric.addEventListener("change", () => {
    plotTag = metric.value;
    renderTable();
  });
  const csv = el("a", { class: "button", id: "runs-csv", href: "#", download: "runs.csv",
    text: "Export CSV" });
  csv.addEventListener("click", () => {
    if (csv.href.startsWith("blob:")) URL.revokeObjectURL(csv.href);
    const text = toCsv(shown.specs, shown.rows, data);
    csv.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  });
  const chips = el("div", { class: "range-chips", "aria-label": "Range filters" });
  const bar = el(
    "div",
    { class: "runs-bar" },
    count,
    el("label", { class: "inline", for: "runs-plot-metric" }, "Plot metric ", metric),
    csv,
    chips,
  );
  const note = el("p", { class: "hint runs-note" });
  const plot = el("div", { class: "runs-plot", id: "runs-parcoords" });
  const box = el("div", { class: "runs-table-box", tabindex: "-1" });
  view.replaceChildren(bar, note, plot, box);
  const grid = createGrid(box, {
    sort: onSort,
    mode: onMode,
    range: onRange,
    check: toggleRun,
    checkAll: (on) => (on ? drawAll() : drawNone()),
  });
  return { view, count, metric, csv, chips, note, plot, box, grid };
}

/** The table's rows: the regex and every range hold, in the chosen order. */
function tableRows(ranges) {
  const { re } = compileFilter(state.runs);
  const rows = data.rows.filter((row) => (!re || re.test(row.name)) && passes(row, ranges, data));
  return sortRows(rows, parseColumnId(sort.id), sort.dir, data);
}

function renderChips(ranges) {
  const chip = (r) => {
    const label = r.spec.kind === "metric" ? `${r.spec.tag} (${r.spec.mode})` : columnLabel(r.spec);
    const text = `${label}: ${r.min ?? "…"} – ${r.max ?? "…"}`;
    return el("button", {
      type: "button",
      class: "chip",
      title: "Remove this filter",
      "aria-label": `Remove the filter ${text}`,
      text: `${text} ×`,
      onclick: () => onRange(r.id, null, null),
    });
  };
  const clearAll = el("button", { type: "button", class: "link-button", text: "Clear filters",
    onclick: () => update({ range: [] }) });
  ui.chips.replaceChildren(...ranges.map(chip), ...(ranges.length > 1 ? [clearAll] : []));
}

function renderPlot(ranges) {
  const tags = data.tags;
  if (!tags.includes(plotTag)) plotTag = data.preferred[0] ?? tags[0] ?? "";
  if (ui.metric.dataset.tags !== tags.join("\n")) {
    ui.metric.dataset.tags = tags.join("\n");
    ui.metric.replaceChildren(...tags.map((t) => el("option", { value: t, text: t })));
  }
  ui.metric.value = plotTag;
  ui.metric.disabled = !tags.length;
  const specs = data.hparams.map((name) => parseColumnId(`hparam:${name}`));
  if (plotTag) specs.push(parseColumnId(metricId(plotTag, modes.get(plotTag) ?? "last")));
  if (!data.hparams.length) {
    clearParcoords(ui.plot);
    ui.plot.hidden = true;
    ui.note.textContent = "No hyperparameters in these runs: SummaryWriter.add_hparams (or " +
      "torch's, or TF2's hparams API) logs them, and a plot across them appears here.";
    return;
  }
  ui.plot.hidden = false;
  const axes = new Set(specs.map((s) => s.id));
  const { re } = compileFilter(state.runs);
  const others = ranges.filter((r) => !axes.has(r.id));
  const rows = data.rows.filter((row) => (!re || re.test(row.name)) && passes(row, others, data));
  const rangeById = new Map(ranges.map((r) => [r.id, r]));
  const onBrush = (id, range) => onRange(id, range?.[0] ?? null, range?.[1] ?? null);
  const lines = drawParcoords(ui.plot, { rows, specs, data, ranges: rangeById, onBrush });
  const missing = rows.length - lines;
  ui.note.textContent = missing
    ? `${missing.toLocaleString()} of ${rows.length.toLocaleString()} runs have no value on some ` +
      "axis and are not on the plot."
    : "";
}

/** Render the table (rows in view only) and, unless `plot` is false, the plot. */
function renderTable({ plot = true } = {}) {
  if (!ui || !data) return 0;
  const { re: tagRe } = compileFilter(state.tags);
  const specs = tableColumns(data, modes, tagRe);
  if (!specs.some((s) => s.id === sort.id)) sort = { id: "name", dir: 1 };
  const ranges = parseRanges(state.range);
  const rows = tableRows(ranges);
  shown = { specs, rows };
  ui.grid.setColumns(specs, data, sort);
  ui.grid.setRanges(ranges);
  const checked = ui.grid.setRows(rows, runChecked);
  const of = data.rows.length.toLocaleString();
  ui.count.textContent =
    `${rows.length.toLocaleString()} of ${of} runs · ${checked.toLocaleString()} selected`;
  renderChips(ranges);
  if (plot) renderPlot(ranges);
  return rows.length;
}

/** Render the tab into its view; resolves to the number of rows shown. */
export async function renderRunsTab(view) {
  const t0 = performance.now();
  if (!ui) ui = buildUi(view);
  if (!data || stale) await load();
  if (!data) {
    ui.count.textContent = loadError;
    return 0;
  }
  syncRangeFilter(); // the tab is rendering anyway: nothing else to tell
  const n = renderTable();
  view.dataset.renderMs = String(Math.round(performance.now() - t0));
  view.dataset.ready = "1";
  return n;
}

// Live points move the plot's metric axis, but redrawing a plot of many lines holds the page
// for a moment: while training runs, the plot follows at most every PLOT_LIVE_MS.
const redrawPlotLive = throttle(() => {
  if (state.tab === "runs" && ui && data) renderPlot(parseRanges(state.range));
}, PLOT_LIVE_MS);

const refreshSoon = throttle(async () => {
  await load();
  const changed = syncRangeFilter();
  if (state.tab === "runs") {
    renderTable({ plot: false });
    redrawPlotLive();
  }
  if (changed) notifyFilter();
}, REFRESH_MS);

/** A live-stream message: new points or hparams make the table stale. */
export function onRunsTableMessage(message) {
  if (!STREAM_PLUGINS.has(message.plugin)) return;
  stale = true;
  if (state.tab === "runs" || state.range.length) refreshSoon();
}

/** The reload button: fetch the table again on the next render. */
export function reloadRunsTable() {
  stale = true;
}

/** React to state changes: the ranges change which runs every view draws. */
export function onRunsTableState(changed) {
  if (!changed.has("range")) return;
  if (data) syncRangeFilter();
  else if (state.range.length) load().then(() => syncRangeFilter() && notifyFilter());
}

/**
 * Call once. onFilter() is called when the ranges' runs changed outside a render of this
 * tab (the table loaded or refreshed), so the current tab redraws its runs.
 */
export function initRunsTab({ onFilter }) {
  notifyFilter = onFilter;
  if (state.range.length) load().then(() => syncRangeFilter() && notifyFilter());
}
