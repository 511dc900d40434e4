// Custom charts: several tags on one chart (TensorBoard's most-asked chart feature). Pick
// tags in the "New chart" form, or type a regex; each chart is one tag regex in state.chart
// (the URL), drawn above the tag groups with every visible run × matching tag: the run's
// color, one dash style per tag. Smoothing, x axis, log scale and outlier-free y range follow
// the tab's settings; new points arrive from the stream.

import { fetchScalars, fetchScalarsMulti } from "./api.js";
import { runColor } from "./colors.js";
import { byId, compileFilter, debounce, el, throttle } from "./dom.js";
import { applyOutlierRange, outliersButton } from "./outliers.js";
import { PLOT_CONFIG, baseLayout, plotText, plotlyReady, purge, whenPlotly } from "./plots.js";
import { knownRuns, visibleRuns } from "./runs.js";
import { seriesX, timeUnit } from "./scalar_axes.js";
import { state, subscribe, update } from "./state.js";
import { runsWithTag, tagsOf } from "./tags.js";

const MAX_POINTS = 1000;
const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
const charts = new Map(); // pattern -> CustomChart

/** A regex matching exactly the given tags. */
export function exactPattern(tags) {
  const escaped = tags.map((t) => t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return `^(${escaped.join("|")})$`;
}

class CustomChart {
  constructor(pattern) {
    this.pattern = pattern;
    this.series = new Map(); // tag -> [/api/scalars body per run]
    this.gen = 0;
    this.plot = el("div", { class: "plot", role: "figure", "aria-label": `Chart of ${pattern}` });
    this.tagList = el("p", { class: "card-note custom-tags" });
    const remove = el("button", {
      type: "button",
      class: "card-tool",
      "aria-label": `Remove the chart ${pattern}`,
      title: "Remove this chart",
      text: "×",
      onclick: () => update({ chart: state.chart.filter((p) => p !== pattern) }),
    });
    this.outliers = outliersButton(pattern);
    this.element = el(
      "article",
      { class: "card custom-card", dataset: { pattern, state: "loading" } },
      el(
        "div",
        { class: "card-head" },
        el("h3", { class: "card-title", text: pattern }),
        el("div", { class: "card-tools" }, this.outliers.button, remove),
      ),
      this.plot,
      this.tagList,
    );
  }

  /** The tags the chart draws: those matching its pattern and the tab's tag filter. */
  tags() {
    const filtered = new Set(tagsOf(visibleRuns(), "scalars", state.tags));
    return tagsOf(visibleRuns(), "scalars", this.pattern).filter((tag) => filtered.has(tag));
  }

  /** Whether the tag filter hides every tag the chart would draw without it. */
  filteredOut() {
    return Boolean(state.tags) && !this.tags().length &&
      tagsOf(visibleRuns(), "scalars", this.pattern).length > 0;
  }

  /** Load when the matching tags or the runs that hold them changed since the last load. */
  refresh() {
    const runs = visibleRuns();
    const tags = this.tags();
    const signature = tags.map((tag) => `${tag}\u0000${runsWithTag(runs, "scalars", tag)}`);
    if (signature.join("\n") === this.signature) return;
    this.signature = signature.join("\n");
    this.load();
  }

  async load() {
    const gen = ++this.gen;
    const runs = visibleRuns();
    const tags = this.tags();
    const opts = { maxPoints: MAX_POINTS, smoothing: state.smoothing || undefined };
    const answers = await Promise.all(
      tags.map((tag) => {
        const names = runsWithTag(runs, "scalars", tag);
        if (names.length === 1) return fetchScalars(names[0], tag, opts).then((s) => [s]);
        return fetchScalarsMulti(names, tag, opts).then((body) => body.series);
      }),
    ).catch((err) => err);
    if (gen !== this.gen) return;
    this.error = answers instanceof Error ? answers.message : "";
    if (!this.error) this.series = new Map(tags.map((tag, i) => [tag, answers[i]]));
    this.draw();
  }

  traces() {
    const spans = [...this.series.values()].flat().map((s) => {
      const w = s.wall_time;
      return w.length ? w[w.length - 1] - w[0] : 0;
    });
    const ctx = { mode: state.x, unit: timeUnit(Math.max(0, ...spans)) };
    const traces = [];
    [...this.series.keys()].forEach((tag, k) => {
      for (const s of this.series.get(tag)) {
        if (!s.step.length) continue;
        traces.push({
          type: "scatter",
          mode: s.step.length === 1 ? "markers" : "lines",
          x: seriesX(s, s.wall_time[0], ctx, false),
          y: state.smoothing > 0 && s.smoothed ? s.smoothed : s.value,
          name: plotText(`${s.run} · ${tag}`),
          line: { color: runColor(s.run), width: 1.6, dash: DASHES[k % DASHES.length] },
          hovertemplate: "%{fullData.name}: %{y:.5~g}<extra></extra>",
          meta: { run: s.run, tag, kind: "custom" },
        });
      }
    });
    return { traces, ctx };
  }

  draw() {
    if (!plotlyReady()) return void whenPlotly(() => this.draw());
    const { traces, ctx } = this.traces();
    const layout = baseLayout();
    layout.hovermode = "x unified";
    layout.uirevision = `${state.x}|${state.logy}`;
    layout.yaxis.type = state.logy ? "log" : "linear";
    layout.xaxis.type = ctx.mode === "wall" ? "date" : "linear";
    if (ctx.mode === "relative") {
      layout.xaxis.title = { text: `relative time (${ctx.unit.label})`, font: { size: 10 } };
    }
    applyOutlierRange(this.pattern, traces, layout);
    const tags = [...this.series.keys()];
    this.tagList.replaceChildren(
      this.error ? `Could not load: ${this.error}` :
        tags.length ? `${tags.length} ${tags.length === 1 ? "tag" : "tags"}: ` : `No scalar tag matches ${this.pattern}.`,
      ...tags.map((tag, k) =>
        el("span", { class: "custom-tag", dataset: { dash: DASHES[k % DASHES.length] },
          text: tag }),
      ),
    );
    Promise.resolve(window.Plotly.react(this.plot, traces, layout, PLOT_CONFIG)).then(() => {
      this.element.dataset.state = "drawn";
      this.element.dataset.traces = String(traces.length);
    });
  }

  destroy() {
    this.gen += 1;
    purge(this.plot);
    this.element.remove();
  }
}

/** Rebuild the custom charts for state.chart and the visible runs (cheap when nothing
 * changed: app.js calls it whenever the run list is fetched). */
export function renderCustomCharts() {
  const section = byId("custom-charts");
  const grid = section.querySelector(".cards");
  for (const [pattern, chart] of charts) {
    if (!state.chart.includes(pattern)) {
      chart.destroy();
      charts.delete(pattern);
    }
  }
  for (const pattern of state.chart) {
    if (!charts.has(pattern)) charts.set(pattern, new CustomChart(pattern));
    const chart = charts.get(pattern);
    grid.append(chart.element);
    chart.element.hidden = chart.filteredOut(); // as the tag filter hides the other cards
    if (!chart.element.hidden) chart.refresh();
  }
  section.hidden = ![...charts.values()].some((chart) => !chart.element.hidden);
}

const reloadAll = debounce(() => {
  for (const chart of charts.values()) chart.load();
}, 250);

const liveReload = throttle(reloadAll, 1000);

/** A stream message: reload the charts that show its tag. */
export function onCustomChartData(message) {
  for (const chart of charts.values()) {
    if (chart.series.has(message.tag)) return void liveReload();
  }
}

function fillPicker() {
  const list = byId("custom-chart-tags");
  const tags = tagsOf(knownRuns(), "scalars", "");
  list.replaceChildren(
    ...tags.map((tag) =>
      el("li", {}, el("label", {}, el("input", { type: "checkbox", value: tag }), ` ${tag}`)),
    ),
  );
}

function pickedPattern() {
  const checked = [...byId("custom-chart-tags").querySelectorAll("input:checked")];
  return checked.length ? exactPattern(checked.map((box) => box.value)) : "";
}

/** Wire the "New chart" form; call once. */
export function initCustomCharts() {
  const picker = byId("custom-chart-picker");
  const form = byId("custom-chart-form");
  const regex = byId("custom-chart-regex");
  const error = byId("custom-chart-error");
  picker.addEventListener("toggle", () => picker.open && fillPicker());
  byId("custom-chart-tags").addEventListener("change", () => {
    regex.value = pickedPattern();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const pattern = regex.value.trim();
    const { error: bad } = compileFilter(pattern);
    let message = bad;
    if (!pattern) message = "Pick tags or type a regex first.";
    else if (!bad && !tagsOf(knownRuns(), "scalars", pattern).length) {
      message = `No scalar tag matches ${JSON.stringify(pattern)}.`;
    }
    error.textContent = message;
    if (message) return;
    if (!state.chart.includes(pattern)) update({ chart: [...state.chart, pattern] });
    regex.value = "";
    picker.open = false;
  });
}

subscribe((changed) => {
  if (["chart", "runs", "hide", "tags"].some((key) => changed.has(key))) renderCustomCharts();
  else if (changed.has("smoothing")) reloadAll();
  else if (changed.has("x") || changed.has("logy") || changed.has("outliers")) {
    for (const chart of charts.values()) {
      chart.outliers.sync();
      chart.draw();
    }
  }
});

window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const chart of charts.values()) chart.draw();
});
