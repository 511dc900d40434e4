// Shared plotly settings: theme colors from the CSS tokens, config, and escaping of
// text that plotly renders (it understands a few HTML-like tags in names and
// hover templates, so names from event files are escaped first).

import { cssVar } from "./dom.js";

/** Escape text for plotly's pseudo-HTML (trace names, hover templates). */
export function plotText(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

/** Base layout in the page's current theme. */
export function baseLayout() {
  const text = cssVar("--muted");
  const grid = cssVar("--grid");
  const axis = {
    gridcolor: grid,
    zerolinecolor: grid,
    linecolor: cssVar("--border"),
    tickfont: { size: 10, color: text },
    automargin: true,
    ticklabeloverflow: "allow", // labels fit the margins: skip plotly's per-label overflow measuring
  };
  return {
    margin: { l: 48, r: 12, t: 8, b: 32 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: cssVar("--font") || "system-ui", size: 11, color: cssVar("--text") },
    showlegend: false,
    xaxis: { ...axis, spikecolor: text, spikethickness: 1, spikedash: "dot" },
    yaxis: { ...axis, showspikes: false },
    modebar: { bgcolor: "rgba(0,0,0,0)", color: text, activecolor: cssVar("--text") },
    hoverlabel: {
      bgcolor: cssVar("--surface"),
      bordercolor: cssVar("--border"),
      font: { color: cssVar("--text"), size: 11 },
    },
  };
}

/** Plotly config shared by every chart (no external links, quiet mode bar). */
export const PLOT_CONFIG = Object.freeze({
  displaylogo: false,
  responsive: true,
  displayModeBar: "hover",
  showLink: false,
  showSendToCloud: false,
  showEditInChartStudio: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
});

let plotlyScript = null;

/** Whether plotly.min.js has run. */
export function plotlyReady() {
  return typeof window.Plotly !== "undefined";
}

/** plotly's URL: the one index.html preloads (content-hashed by the board), else the plain one. */
function plotlyUrl() {
  const link = document.querySelector('link[rel="preload"][as="script"][href*="plotly"]');
  return link?.getAttribute("href") ?? "static/plotly.min.js";
}

/**
 * Run plotly.min.js (index.html preloads it). Its start-up holds the page for most of a
 * second, so app.js calls this once the first data requests are out: they travel meanwhile.
 */
export function loadPlotly() {
  if (plotlyScript || plotlyReady()) return;
  plotlyScript = document.createElement("script");
  plotlyScript.src = plotlyUrl();
  document.head.append(plotlyScript);
}

/** Run fn now if plotly is ready, else once it has run. */
export function whenPlotly(fn) {
  if (plotlyReady()) return void fn();
  loadPlotly();
  plotlyScript.addEventListener("load", () => fn(), { once: true });
}

/** Remove a plot and its listeners. */
export function purge(div) {
  if (plotlyReady() && div?.data) window.Plotly.purge(div);
}
