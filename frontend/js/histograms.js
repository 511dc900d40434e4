// The Histograms tab (shown only when some run has histograms): per (run, tag) either
// TensorBoard's offset view — one ridge per step, oldest at the back, newest in front —
// or the distribution view — bands between percentiles over steps (min…max outermost,
// then ±1.5σ, ±1σ, ±0.5σ equivalents, and the median line).

import { fetchHistograms } from "./api.js";
import { runColor, withAlpha } from "./colors.js";
import { cssVar, el } from "./dom.js";
import { percentiles, rebin, sampleEvenly } from "./histogram_math.js";
import { CardSet, LiveCard } from "./live_card.js";
import { PLOT_CONFIG, baseLayout, plotlyReady, whenPlotly } from "./plots.js";
import { state } from "./state.js";

const RIDGES = 40;
const BINS = 40;
// TensorBoard's distribution basis points: 0, 6.68, 15.87, 30.85, 50, … 100 percent.
const BANDS = [
  [0, 100],
  [6.68, 93.32],
  [15.87, 84.13],
  [30.85, 69.15],
];

function offsetTraces(steps, color) {
  const shown = sampleEvenly(steps, RIDGES);
  const lo = Math.min(...shown.map((h) => h.min));
  const hi = Math.max(...shown.map((h) => h.max));
  const width = (hi - lo) / BINS || 1;
  const centers = Array.from({ length: BINS }, (_, k) => lo + (k + 0.5) * width);
  const rows = shown.map((h) => rebin(h, lo, hi, BINS));
  const amp = shown.length > 1 ? 1.8 : 0.9; // ridges overlap like TensorBoard's
  const fill = cssVar("--surface");
  return shown.map((h, k) => {
    const peak = Math.max(...rows[k], 1e-12); // each ridge at its own scale: shapes stay legible
    const ys = rows[k].map((c) => k - (amp * c) / peak);
    const age = shown.length > 1 ? k / (shown.length - 1) : 1;
    return {
      type: "scatter",
      mode: "lines",
      x: [lo, ...centers, hi, lo],
      y: [k, ...ys, k, k],
      customdata: [0, ...rows[k], 0, 0],
      fill: "toself",
      fillcolor: fill,
      line: { color: withAlpha(color, 0.3 + 0.7 * age), width: 1.2 },
      hovertemplate: `step ${h.step}<br>%{x:.4~g}: %{customdata:.4~g}<extra></extra>`,
    };
  });
}

function offsetLayout(steps) {
  const shown = sampleEvenly(steps, RIDGES);
  const layout = baseLayout();
  const ticks = sampleEvenly(shown.map((_, k) => k), 6);
  layout.yaxis = {
    ...layout.yaxis,
    autorange: "reversed",
    side: "right",
    tickvals: ticks,
    ticktext: ticks.map((k) => String(shown[k].step)),
    showgrid: false,
    zeroline: false,
  };
  layout.margin = { l: 16, r: 48, t: 8, b: 28 };
  layout.hovermode = "closest";
  return layout;
}

function distributionTraces(steps, color) {
  const qs = BANDS.flat();
  const rows = steps.map((h) => percentiles(h, qs));
  const x = steps.map((h) => h.step);
  const traces = [];
  for (const [qLo, qHi] of BANDS) {
    const lowIndex = qs.indexOf(qLo);
    const highIndex = qs.indexOf(qHi);
    traces.push({
      type: "scatter",
      mode: "lines",
      x,
      y: rows.map((r) => r[lowIndex]),
      line: { width: 0, color },
      hoverinfo: "skip",
    });
    traces.push({
      type: "scatter",
      mode: "lines",
      x,
      y: rows.map((r) => r[highIndex]),
      fill: "tonexty",
      fillcolor: withAlpha(color, 0.16),
      line: { width: 0, color },
      hoverinfo: "skip",
      name: `p${qLo}–p${qHi}`,
    });
  }
  traces.push({
    type: "scatter",
    mode: "lines",
    x,
    y: steps.map((h) => percentiles(h, [50])[0]),
    line: { color, width: 1.5 },
    hovertemplate: "step %{x}<br>median %{y:.4~g}<extra></extra>",
  });
  return traces;
}

class HistogramCard extends LiveCard {
  constructor(run, tag) {
    super(run, tag);
    const swatch = this.swatch();
    this.plot = el("div", {
      class: "plot tall",
      role: "figure",
      "aria-label": `Histogram of ${tag}`,
    });
    this.meta = el("span");
    this.element = el(
      "article",
      { class: "card histogram-card", dataset: { run, tag, state: "waiting" } },
      el("div", { class: "card-head" }, el("h3", { class: "card-title", text: tag })),
      el("div", { class: "card-sub" }, swatch, el("span", { text: run })),
      this.plot,
      el("div", { class: "card-foot" }, this.meta),
    );
  }

  async fetchAndRender() {
    const gen = ++this.gen;
    try {
      const data = await fetchHistograms(this.run, this.tag);
      if (gen !== this.gen) return;
      this.steps = data.steps ?? [];
      this.draw();
    } catch (err) {
      this.meta.textContent = `Could not load histograms: ${err.message}`;
      this.element.dataset.state = "error";
    }
  }

  draw() {
    if (!this.shown) return;
    if (!plotlyReady()) return void whenPlotly(() => this.draw());
    const color = runColor(this.run);
    const steps = this.steps.filter((h) => Number.isFinite(h.min) && Number.isFinite(h.max));
    const offset = state.hist === "offset";
    let traces = [];
    let layout = baseLayout();
    if (steps.length) {
      traces = offset ? offsetTraces(steps, color) : distributionTraces(steps, color);
      layout = offset ? offsetLayout(steps) : layout;
    }
    layout.uirevision = state.hist;
    if (!offset) layout.hovermode = "x";
    const n = this.steps.length;
    const sampled = offset && n > RIDGES ? ` (${RIDGES} shown)` : "";
    this.meta.textContent = `${n} step${n === 1 ? "" : "s"}${sampled}`;
    Promise.resolve(window.Plotly.react(this.plot, traces, layout, PLOT_CONFIG)).then(() => {
      this.element.dataset.state = "drawn";
    });
  }
}

const cards = new CardSet("histograms", (run, tag) => new HistogramCard(run, tag), (card) => {
  if (plotlyReady()) window.Plotly.purge(card.plot);
});

/** (Re)build the histogram cards for the current runs and tag filter. */
export function renderHistograms(root) {
  return cards.render(root);
}

/** Redraw every histogram (view mode or theme changed). */
export function redrawHistograms() {
  for (const card of cards.values()) card.draw();
}

/** A stream message for a histogram tag. */
export function onHistogramData(message) {
  cards.get(message.run, message.tag)?.refresh();
}

/** Re-fetch every card on screen (the reload button; the stream normally does this). */
export function reloadHistograms() {
  for (const card of cards.values()) card.refresh();
}
