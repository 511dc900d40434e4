// Entry point: wires the settings controls, tabs, run list, live stream and empty and
// loading states to the per-tab views. View state lives in the URL (state.js).

import { fetchRuns, onInFlight, openStream } from "./api.js";
import { initCardTools } from "./card_tools.js";
import { initCustomCharts, onCustomChartData, renderCustomCharts } from "./custom_chart.js";
import { initDownloadAll } from "./download_all.js";
import { byId, compileFilter, debounce, throttle } from "./dom.js";
import { initGraphControls, renderGraph } from "./graph.js";
import { forgetNames } from "./graph_search.js";
import {
  onHistogramData,
  redrawHistograms,
  reloadHistograms,
  renderHistograms,
} from "./histograms.js";
import { applyActualSize, onImageData, reloadImages, renderImages } from "./images.js";
import { initRunControls, knownRuns, onRunStateChange, setRuns, visibleRuns } from "./runs.js";
import {
  initRunsTab,
  onRunsTableMessage,
  onRunsTableState,
  reloadRunsTable,
  renderRunsTab,
} from "./runs_tab.js";
import {
  onScalarData,
  onScalarSettings,
  redrawScalars,
  reloadScalars,
  renderScalars,
} from "./scalars.js";
import { loadPlotly } from "./plots.js";
import { initSettings, syncSettings } from "./settings.js";
import { registerStaticCache } from "./static_cache.js";
import { state, subscribe, update } from "./state.js";
import { showEmpty } from "./empty.js";
import { onTextData, reloadText, renderText } from "./text_view.js";

const TABS = ["scalars", "images", "histograms", "text", "graphs", "runs"];
const RENDER = {
  scalars: renderScalars,
  images: renderImages,
  histograms: renderHistograms,
  graphs: renderGraph,
  text: renderText,
  runs: renderRunsTab,
};
const KIND = { scalars: "scalars", images: "images", histograms: "histograms", text: "text" };

let runsBody = null; // last /api/runs body
let loadedOnce = false;
let requestsInFlight = 0;
let streamStatus = "Connecting…";

let progressTimer = null;

/**
 * The top progress bar: the board still reading event files, or requests in flight for
 * more than a moment (quick live refreshes do not flash it).
 */
function updateProgress() {
  const busy = requestsInFlight > 0 || Boolean(runsBody?.loading);
  document.body.setAttribute("aria-busy", String(busy));
  if (!busy) {
    clearTimeout(progressTimer);
    progressTimer = null;
    byId("progress").hidden = true;
  } else if (runsBody?.loading || !loadedOnce) {
    byId("progress").hidden = false;
  } else if (!progressTimer) {
    progressTimer = setTimeout(() => {
      progressTimer = null;
      byId("progress").hidden = !(requestsInFlight > 0 || runsBody?.loading);
    }, 300);
  }
}

function setStatus(text) {
  const status = byId("status");
  status.textContent = text;
  status.dataset.live = String(text === "Live");
}

function hasHistograms() {
  return knownRuns().some((run) => run.tags?.histograms?.length);
}

function hasText() {
  return knownRuns().some((run) => run.tags?.text?.length);
}

/** Show the selected tab, its settings panel, and render it. */
function renderTab() {
  let tab = state.tab === "histograms" && !hasHistograms() && loadedOnce ? "scalars" : state.tab;
  if (tab === "text" && !hasText() && loadedOnce) tab = "scalars";
  byId("tab-histograms").hidden = !hasHistograms();
  byId("tab-text").hidden = !hasText();
  for (const name of TABS) {
    const button = byId(`tab-${name}`);
    const selected = name === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    byId(`view-${name}`).hidden = !selected;
    const settings = document.getElementById(`settings-${name}`);
    if (settings) settings.hidden = !selected;
  }
  byId("tag-toolbar").hidden = tab === "graphs";
  byId("runs-panel").hidden = tab === "graphs"; // the graph has its own run selector
  if (!loadedOnce) return;
  const count = RENDER[tab](byId(`view-${tab}`));
  Promise.resolve(count).then((n) => explainEmpty(tab, n));
}

// While a run filter is typed, the run list answers each keystroke (runs.js) and the charts
// follow once typing pauses, instead of fetching for every prefix of the pattern.
const FILTER_PAUSE_MS = 150;
const renderTabSoon = debounce(renderTab, FILTER_PAUSE_MS);

/** The empty state: no event files at all, or nothing matching in this tab. */
function explainEmpty(tab, count) {
  const runs = knownRuns();
  if (!runs.length) {
    showEmpty(runsBody, { loading: Boolean(runsBody?.loading) });
    return;
  }
  if (count || !KIND[tab]) return showEmpty(null);
  const kind = KIND[tab];
  const { error } = compileFilter(state.tags);
  const anyInRuns = visibleRuns().some((run) => run.tags?.[kind]?.length);
  let title = `No ${kind} in the selected runs.`;
  let body = "Check more runs in the run list, or clear the run filter.";
  if (error) {
    title = "The tag filter is not a valid regex.";
    body = error;
  } else if (anyInRuns && state.tags) {
    title = `No ${kind} tag matches ${JSON.stringify(state.tags)}.`;
    body = "Change or clear the tag filter.";
  } else if (!runs.some((run) => run.tags?.[kind]?.length)) {
    body = `No run has ${kind} yet; they appear here as soon as they are written.`;
  }
  showEmpty({ title, body });
}

async function loadRuns() {
  try {
    runsBody = await fetchRuns();
  } catch (err) {
    setStatus(`Board unreachable: ${err.message}`);
    setTimeout(loadRuns, 2000);
    loadPlotly();
    return;
  }
  loadedOnce = true;
  setStatus(streamStatus);
  updateProgress();
  setRuns(runsBody.runs ?? []);
  document.body.dataset.loaded = "1";
  renderTab(); // asks for the data of the cards on screen
  renderCustomCharts();
  loadPlotly(); // after that: plotly's start-up runs while the data travels
  if (runsBody.loading) setTimeout(loadRuns, 500);
}

const refreshRuns = throttle(loadRuns, 1000);

function onStreamMessage(message) {
  onRunsTableMessage(message);
  const run = knownRuns().find((r) => r.name === message.run);
  const kind = KIND[message.plugin];
  if (!run || message.plugin === "runs" || (kind && !run.tags?.[kind]?.includes(message.tag))) {
    refreshRuns();
  }
  if (message.plugin === "scalars") {
    onScalarData(message);
    onCustomChartData(message);
  } else if (message.plugin === "images") onImageData(message);
  else if (message.plugin === "histograms") onHistogramData(message);
  else if (message.plugin === "text") onTextData(message);
  else if (message.plugin === "graphs") {
    forgetNames(message.run);
    if (!run?.has_graph || message.tag) refreshRuns(); // a tag: a new traced Session.run
    if (state.tab === "graphs" && byId("graph-run").value === message.run) {
      renderGraph(byId("view-graphs"), { force: true });
    }
  }
}

function initTabs() {
  const buttons = TABS.map((name) => byId(`tab-${name}`));
  for (const button of buttons) {
    button.addEventListener("click", () => update({ tab: button.dataset.tab }));
    button.addEventListener("keydown", (event) => {
      const shown = buttons.filter((b) => !b.hidden);
      const i = shown.indexOf(button);
      const keys = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: shown.length - 1 };
      const next = keys[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = shown[(next + shown.length) % shown.length];
      target.focus();
      update({ tab: target.dataset.tab });
    });
  }
}

function onStateChange(changed) {
  onRunsTableState(changed);
  onRunStateChange(changed);
  syncSettings(changed);
  onScalarSettings(changed);
  if (changed.has("actual")) applyActualSize(byId("view-images"));
  if (changed.has("hist")) redrawHistograms();
  if (changed.size === 1 && changed.has("runs")) return void renderTabSoon(); // typing a filter
  const rerender = ["tab", "runs", "hide", "show", "all", "tags", "grun", "expand", "range"];
  if (rerender.some((key) => changed.has(key))) renderTab();
}

function main() {
  initSettings();
  initRunControls();
  initGraphControls();
  initCardTools();
  initCustomCharts();
  initDownloadAll();
  initRunsTab({ onFilter: renderTab });
  initTabs();
  subscribe(onStateChange);
  onInFlight((n) => {
    requestsInFlight = n;
    updateProgress();
  });
  byId("reload").addEventListener("click", () => {
    loadRuns();
    reloadScalars();
    reloadImages();
    reloadHistograms();
    reloadText();
    reloadRunsTable();
    if (state.tab === "graphs") renderGraph(byId("view-graphs"), { force: true });
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    redrawScalars();
    redrawHistograms();
  });
  renderTab();
  setStatus(streamStatus);
  loadRuns();
  registerStaticCache();
  let streamLost = false; // the first connect follows loadRuns(); a reconnect asks again
  openStream(onStreamMessage, (status) => {
    streamStatus = status === "live" ? "Live" : "Reconnecting…";
    setStatus(streamStatus);
    if (status === "live" && streamLost && loadedOnce) refreshRuns();
    streamLost = status !== "live";
  });
}

main();
