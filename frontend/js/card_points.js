// The points a scalar card shows, per run, for the hover tooltip and the data table: x as
// drawn, step, wall time, raw and smoothed value, recomputed only when the chart is redrawn.

import { seriesX } from "./scalar_axes.js";
import { merged, sameStep } from "./series_view.js";
import { state } from "./state.js";

const cache = new WeakMap(); // card -> {data: plot.data it was computed for, series}

/** [{run, x, step, wall, value, smoothed}] (arrays per run) for the runs drawn on `card`. */
export function cardSeries(card) {
  const hit = cache.get(card);
  if (hit && hit.data === card.plot.data && hit.data) return hit.series;
  const ctx = card.xContext();
  const series = [];
  for (const run of card.runs) {
    const entry = card.series.get(run);
    if (!entry?.data || !entry.data.step.length) continue;
    const shown = merged(entry.data, entry.win);
    const wall0 = entry.data.wall_time[0];
    series.push({
      run,
      x: seriesX(shown, wall0, ctx, sameStep(entry.data)),
      step: shown.step,
      wall: shown.wall_time,
      wall0,
      value: shown.value,
      smoothed: state.smoothing > 0 ? card.smoothedOf(entry, shown) : shown.value,
    });
  }
  cache.set(card, { data: card.plot.data, series });
  return series;
}

/** Index of the x nearest to `x` in ascending `xs` (binary search). */
export function nearestIndex(xs, x) {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[hi] - x) < Math.abs(xs[lo] - x) ? hi : lo;
}

/** One row per run at the point nearest to `x`: {run, step, value, smoothed, relative}. */
export function rowsAt(card, x) {
  return cardSeries(card).map((s) => {
    const i = nearestIndex(s.x, x);
    return {
      run: s.run,
      step: s.step[i],
      value: s.value[i],
      smoothed: s.smoothed[i],
      relative: s.wall[i] - s.wall0,
      wall: s.wall[i],
    };
  });
}

/** Per run, what the points with x in [x0, x1] did: the data table's range view. */
export function rangeStats(card, x0, x1) {
  const rows = [];
  for (const s of cardSeries(card)) {
    let first = -1;
    let last = -1;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < s.x.length; i++) {
      if (s.x[i] < x0 || s.x[i] > x1) continue;
      if (first < 0) first = i;
      last = i;
      const v = s.value[i];
      if (v === null || !Number.isFinite(v)) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
      n += 1;
    }
    if (first < 0) continue;
    rows.push({
      run: s.run,
      startStep: s.step[first],
      endStep: s.step[last],
      start: s.value[first],
      end: s.value[last],
      change: s.value[last] - s.value[first],
      min: n ? min : Number.NaN,
      max: n ? max : Number.NaN,
      mean: n ? sum / n : Number.NaN,
      points: last - first + 1,
    });
  }
  return rows;
}

/** A value for the tooltip and the table: 5 significant digits. */
export function formatValue(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return v.toExponential(4);
  return String(Number(v.toPrecision(5)));
}

/** Seconds since the run's first point, as TensorBoard's "Relative" column: 1h 2m 3s. */
export function formatRelative(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  if (seconds < 60) return `${Number(seconds.toFixed(seconds < 10 ? 2 : 1))} s`;
  const s = Math.round(seconds);
  const parts = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s % 60) parts.push(`${s % 60}s`);
  return parts.join(" ");
}
