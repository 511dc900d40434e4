// One scalar chart card: every visible run's series for one tag, the smoothed line over
// the faint raw line, zoom that re-fetches the window at full resolution, downloads,
// and the "no global_step" note. Data comes from /api/scalars (SPEC §5), every run of the
// card in one /api/scalars/multi request when it first shows.

import { fetchScalars, fetchScalarsMulti, scalarsDownloadUrl } from "./api.js";
import { addCardTools, afterFirstDraw, beforeDraw } from "./card_tools.js";
import { runColor, withAlpha } from "./colors.js";
import { el } from "./dom.js";
import { PLOT_CONFIG, baseLayout, plotText, plotlyReady, purge, whenPlotly } from "./plots.js";
import { rangeNumber, seriesX, stepWindow, timeUnit } from "./scalar_axes.js";
import { merged, sameStep } from "./series_view.js";
import { smooth } from "./smoothing.js";
import { state } from "./state.js";

// Overview resolution: a min and a max per device pixel column of the plot (the buckets of
// board/series.py's downsampling), so nothing visible is lost and nothing invisible is sent.
const POINTS_PER_PIXEL = 2;
const OVERVIEW_POINTS = Object.freeze({ min: 200, max: 8000, step: 100, fallbackWidth: 600 });
const WINDOW_POINTS = 10000;
const MAX_ARRIVAL_POINTS = 100000;
const LIVE_INTERVAL_MS = 300;
const RAW_HOVER = "%{fullData.name}: %{y:.5~g}<extra></extra>";

/** Points to ask for a series overview drawn `cssWidth` CSS pixels wide. */
export function overviewPoints(cssWidth, ratio = window.devicePixelRatio || 1) {
  const { min, max, step, fallbackWidth } = OVERVIEW_POINTS;
  const pixels = (cssWidth || fallbackWidth) * ratio;
  return Math.min(max, Math.max(min, Math.ceil((pixels * POINTS_PER_PIXEL) / step) * step));
}

export class ScalarCard {
  constructor(tag, { onDrawn } = {}) {
    this.tag = tag;
    this.onDrawn = onDrawn ?? (() => {});
    this.runs = [];
    this.series = new Map(); // run -> {data, win, gen, stale}
    this.zoom = null; // plotly's x range when zoomed in
    this.yZoom = null; // the y range the user zoomed to (a box zoom), else null
    this.shown = false;
    this.drawQueued = false;
    this.plot = el("div", { class: "plot", role: "figure", "aria-label": `Chart of ${tag}` });
    this.note = el("p", { class: "card-note", hidden: true });
    this.menu = el("ul", { class: "download-menu" });
    this.download = el("details", { class: "download" }, el("summary", { text: "Download" }), this.menu);
    // the links are built when the menu opens: 20 runs x 10 tags of them slow the first render
    this.download.addEventListener("toggle", () => this.renderMenu());
    // a wider plot (window, card width, full screen) gets sharper overviews
    new ResizeObserver(() => this.followWidth()).observe(this.plot);
    this.element = el(
      "article",
      { class: "card scalar-card", dataset: { tag, state: "waiting" } },
      el("div", { class: "card-head" }, el("h3", { class: "card-title", text: tag })),
      this.plot,
      this.note,
      el(
        "div",
        { class: "card-foot" },
        el("span", { class: "points" }),
        el("span", { class: "spacer" }),
        this.download,
      ),
    );
    addCardTools(this);
  }

  /** The card scrolled into view for the first time: load its data. */
  show() {
    if (this.shown) return;
    this.shown = true;
    this.maxPoints = overviewPoints(this.plot.clientWidth);
    this.element.dataset.state = "loading";
    // draw once when every run has answered, not once per run
    this.batching = true;
    this.loadRuns(this.runs).then(() => {
      this.batching = false;
      this.queueDraw();
    });
  }

  /**
   * Load several runs with one request (/api/scalars/multi). If it fails (a run was
   * purged meanwhile), each run falls back to its own request and its own error.
   */
  loadRuns(runs) {
    if (runs.length < 2) return Promise.all(runs.map((run) => this.load(run)));
    const opts = { maxPoints: this.maxPoints, smoothing: state.smoothing };
    const all = fetchScalarsMulti(runs, this.tag, opts);
    return Promise.all(
      runs.map((run, i) =>
        this.load(
          run,
          all.then(
            (body) => body.series[i],
            () => fetchScalars(run, this.tag, opts),
          ),
        ),
      ),
    );
  }

  /** Set the runs to overlay (visible runs holding this tag). */
  setRuns(runs) {
    const same = runs.length === this.runs.length && runs.every((r, i) => r === this.runs[i]);
    if (same) return;
    this.runs = runs;
    for (const run of [...this.series.keys()]) if (!runs.includes(run)) this.series.delete(run);
    if (this.download.open) this.renderMenu();
    if (!this.shown) return;
    this.loadRuns(runs.filter((run) => !this.series.has(run)));
    this.queueDraw();
  }

  /** New data arrived for a run (live stream): re-fetch it if the card is on screen. */
  refresh(run) {
    if (!this.runs.includes(run) || !this.shown) return;
    const entry = this.series.get(run);
    if (entry?.loading) entry.again = true; // coalesce bursts: one more load when this ends
    else this.load(run);
  }

  /** Load one run's series; `first` is a promise of it already asked for (loadRuns). */
  async load(run, first = null) {
    const entry = this.series.get(run) ?? { data: null, win: null, gen: 0 };
    this.series.set(run, entry);
    const gen = ++entry.gen;
    const smoothing = state.smoothing;
    entry.loading = true;
    try {
      const opts = { maxPoints: this.maxPoints, smoothing };
      let data = await (first ?? fetchScalars(run, this.tag, opts));
      if (sameStep(data) && data.total_points > data.step.length) {
        const maxPoints = Math.min(data.total_points, MAX_ARRIVAL_POINTS);
        data = await fetchScalars(run, this.tag, { maxPoints, smoothing });
      }
      if (entry.gen !== gen || this.series.get(run) !== entry) return;
      data.smoothingWeight = smoothing;
      entry.data = data;
      if (entry.win) await this.loadWindow(run, entry, entry.win.lo, entry.win.hi);
    } catch (err) {
      if (entry.gen !== gen) return;
      entry.error = err.message;
    } finally {
      if (entry.gen === gen) entry.loading = false;
    }
    this.queueDraw();
    if (entry.again && entry.gen === gen) {
      entry.again = false;
      setTimeout(() => this.refresh(run), LIVE_INTERVAL_MS);
    }
  }

  async loadWindow(run, entry, lo, hi) {
    const gen = entry.gen;
    const smoothing = state.smoothing;
    const data = await fetchScalars(run, this.tag, {
      xMin: lo,
      xMax: hi,
      maxPoints: WINDOW_POINTS,
      smoothing,
    });
    if (entry.gen !== gen) return;
    data.smoothingWeight = smoothing;
    entry.win = { lo, hi, data };
  }

  /** Zoom changed (plotly relayout): fetch each run's window at full resolution. */
  async zoomTo(range) {
    this.zoom = range;
    const tasks = [];
    for (const [run, entry] of this.series) {
      if (!entry.data) continue;
      if (!range) {
        entry.win = null;
        continue;
      }
      const bounds = stepWindow(entry.data, range, this.xContext());
      const complete = entry.data.total_points <= entry.data.step.length;
      if (!bounds || complete || sameStep(entry.data)) {
        entry.win = null;
        continue;
      }
      tasks.push(this.loadWindow(run, entry, bounds[0], bounds[1]).catch(() => {}));
    }
    await Promise.all(tasks);
    this.queueDraw();
  }

  /** Smoothing weight changed: redraw now; re-fetch exact values for downsampled series. */
  smoothingChanged() {
    this.queueDraw();
  }

  /** The plot grew wider than its overviews' resolution: fetch them again, sharper. */
  followWidth() {
    if (!this.shown) return;
    const wanted = overviewPoints(this.plot.clientWidth);
    if (wanted <= this.maxPoints) return;
    this.maxPoints = wanted;
    this.refetchSmoothing();
  }

  refetchSmoothing() {
    if (!this.shown) return;
    const downsampled = ({ data, win }) => win || (data && data.total_points > data.step.length);
    this.loadRuns([...this.series].filter(([, entry]) => downsampled(entry)).map(([run]) => run));
  }

  /** The zoomed x range in axis numbers, or null when not zoomed. */
  xZoom() {
    return this.zoom ? this.zoom.map((end) => rangeNumber(end, state.x)) : null;
  }

  /** x-axis mode or log scale changed: the zoom no longer applies. */
  axesChanged() {
    this.zoom = null;
    this.yZoom = null;
    for (const entry of this.series.values()) entry.win = null;
    this.queueDraw();
  }

  xContext() {
    const spans = [];
    for (const entry of this.series.values()) {
      const wall = entry.data?.wall_time;
      if (wall?.length) spans.push(wall[wall.length - 1] - wall[0]);
    }
    return { mode: state.x, unit: timeUnit(Math.max(0, ...spans)) };
  }

  queueDraw() {
    if (this.drawQueued || !this.shown || this.batching) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  /** Smoothed values for display: exact client-side when the series is complete. */
  smoothedOf(entry, shown) {
    const weight = state.smoothing;
    const exactOnServer = (d) => d && d.smoothed && d.smoothingWeight === weight;
    const complete = entry.data.total_points <= entry.data.step.length && !entry.win;
    if (!complete && exactOnServer(entry.data) && (!entry.win || exactOnServer(entry.win.data))) {
      return shown.smoothed;
    }
    return smooth(shown.value, weight);
  }

  traces() {
    const ctx = this.xContext();
    const raw = [];
    const smoothed = [];
    const arrival = [];
    let points = 0;
    for (const run of this.runs) {
      const entry = this.series.get(run);
      if (!entry?.data || !entry.data.step.length) continue;
      const shown = merged(entry.data, entry.win);
      const byArrival = sameStep(entry.data);
      if (byArrival) arrival.push([run, entry.data.step[0]]);
      const x = seriesX(shown, entry.data.wall_time[0], ctx, byArrival);
      const color = runColor(run);
      const mode = shown.value.length === 1 ? "markers" : "lines";
      points += entry.data.total_points;
      const ys = state.smoothing > 0 ? this.smoothedOf(entry, shown) : shown.value;
      raw.push({
        type: "scatter",
        mode,
        x,
        y: shown.value,
        name: plotText(run),
        line: { color: withAlpha(color, state.smoothing > 0 ? 0.22 : 1), width: 1 },
        marker: { color, size: 6 },
        hoverinfo: state.smoothing > 0 ? "skip" : undefined,
        hovertemplate: state.smoothing > 0 ? undefined : RAW_HOVER,
        meta: { run, kind: "raw" },
      });
      if (state.smoothing > 0) {
        smoothed.push({
          type: "scatter",
          mode,
          x,
          y: ys,
          customdata: shown.value,
          name: plotText(run),
          line: { color, width: 1.6 },
          marker: { color, size: 6 },
          hovertemplate: "%{fullData.name}: %{y:.5~g} (raw %{customdata:.5~g})<extra></extra>",
          meta: { run, kind: "smoothed" },
        });
      }
    }
    return { traces: [...raw, ...smoothed], arrival, points, ctx };
  }

  layout(ctx, arrival) {
    const layout = baseLayout();
    layout.uirevision = `${state.x}|${state.logy}`;
    layout.hovermode = "x unified";
    layout.yaxis.type = state.logy ? "log" : "linear";
    layout.yaxis.exponentformat = "SI";
    if (ctx.mode === "wall") layout.xaxis.type = "date";
    else layout.xaxis.type = "linear";
    if (ctx.mode === "step") {
      layout.xaxis.exponentformat = "SI";
      layout.xaxis.tickformat = "~s";
      layout.xaxis.hoverformat = "d";
    }
    const hoverTitle = {
      step: arrival.length ? "point %{x}" : "step %{x}",
      relative: `%{x:.4~g} ${ctx.unit.label}`,
      wall: "%{x|%b %d, %H:%M:%S}",
    }[ctx.mode];
    layout.xaxis.unifiedhovertitle = { text: hoverTitle };
    const title = {
      step: arrival.length === this.runs.length && arrival.length ? "arrival order" : "",
      relative: `relative time (${ctx.unit.label})`,
      wall: "",
    }[ctx.mode];
    if (title) layout.xaxis.title = { text: title, font: { size: 10 }, standoff: 4 };
    return layout;
  }

  draw() {
    if (!plotlyReady()) return void whenPlotly(() => this.queueDraw());
    const { traces, arrival, points, ctx } = this.traces();
    this.showArrivalNote(arrival);
    const errors = [...this.series.values()].filter((e) => e.error && !e.data);
    this.element.querySelector(".points").textContent = points
      ? `${points.toLocaleString()} points`
      : errors.length
        ? `Could not load: ${errors[0].error}`
        : "";
    const layout = this.layout(ctx, arrival);
    beforeDraw(this, traces, layout);
    const done = window.Plotly.react(this.plot, traces, layout, PLOT_CONFIG);
    Promise.resolve(done).then(() => {
      if (!this.listening) this.listen();
      const pending = [...this.series.values()].some((e) => !e.data && !e.error);
      this.element.dataset.state = pending ? "loading" : "drawn";
      this.element.dataset.traces = String(traces.length);
      this.element.dataset.drawnAt = String(Math.round(performance.now())); // for timings
      this.onDrawn(this);
    });
  }

  listen() {
    this.listening = true;
    afterFirstDraw(this);
    this.plot.on("plotly_relayout", (ev) => {
      if (ev["yaxis.autorange"]) this.yZoom = null;
      if ("yaxis.range[0]" in ev) this.yZoom = [ev["yaxis.range[0]"], ev["yaxis.range[1]"]];
      if (ev["yaxis.range"]) this.yZoom = ev["yaxis.range"];
      if (ev["xaxis.autorange"]) return void this.zoomTo(null);
      let range = ev["xaxis.range"];
      if (!range && "xaxis.range[0]" in ev) range = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
      if (range) this.zoomTo(range);
    });
  }

  showArrivalNote(arrival) {
    this.note.hidden = !arrival.length || state.x !== "step";
    if (this.note.hidden) return;
    const names = arrival.map(([run]) => run).join(", ");
    this.note.replaceChildren(
      `In ${names}, every point has step ${arrival[0][1]}: global_step was never passed, `,
      "so the points are plotted in the order they arrived. Pass it to plot against steps: ",
      el("code", { text: "writer.add_summary(summary, global_step=step)" }),
      ".",
    );
  }

  renderMenu() {
    if (!this.download.open) return;
    const items = this.runs.map((run) => {
      const base = `${run}_${this.tag}`.replace(/[^\w.-]+/g, "_");
      return el(
        "li",
        {},
        el("span", { class: "run-name", text: run }),
        ...["csv", "json"].map((format) =>
          el(
            "a",
            { href: scalarsDownloadUrl(run, this.tag, format), download: `${base}.${format}` },
            format.toUpperCase(),
          ),
        ),
      );
    });
    this.menu.replaceChildren(...items);
  }

  destroy() {
    purge(this.plot);
    this.element.remove();
  }
}
