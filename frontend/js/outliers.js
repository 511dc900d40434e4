// "Ignore outliers in chart scaling" (TensorBoard's default): the y range spans the 5th to
// the 95th percentile of the values drawn, padded by a fifth of that span, instead of every
// value, so one spike does
// not flatten the curves. On by default; a card's toggle (state.outliers lists the cards that
// show every value) turns it off for that card.

import { el } from "./dom.js";
import { icon } from "./icons.js";
import { state, update } from "./state.js";

const LOW = 0.05;
const HIGH = 0.95;
const PAD = 0.2; // of the 5–95 % span, on each side

/** The q-quantile of ascending `sorted` by linear interpolation (d3.quantile's rule). */
export function quantile(sorted, q) {
  if (!sorted.length) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The y range [lo, hi] (log10 units when `log`) that leaves out values beyond the 5th/95th
 * percentiles, or null when that would hide nothing (plotly's autorange then shows all).
 */
export function outlierRange(values, log = false) {
  const ys = [];
  for (const v of values) {
    if (v === null || !Number.isFinite(v) || (log && v <= 0)) continue;
    ys.push(log ? Math.log10(v) : v);
  }
  if (ys.length < 3) return null;
  const sorted = Float64Array.from(ys).sort(); // numeric order; fast for 40k points
  const lo = quantile(sorted, LOW);
  const hi = quantile(sorted, HIGH);
  const span = hi - lo || Math.abs(hi) * 0.1 || 1;
  const range = [lo - span * PAD, hi + span * PAD];
  if (sorted[0] >= range[0] && sorted[sorted.length - 1] <= range[1]) return null;
  return range;
}

/** [min, max] of the finite `values` (log10 units when `log`), padded by 5 %; null if none. */
export function spanRange(values, log = false) {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null || !Number.isFinite(v) || (log && v <= 0)) continue;
    const y = log ? Math.log10(v) : v;
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  if (lo > hi) return null;
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.1 || 1;
  return [lo - pad, hi + pad];
}

/** Whether a card ignores outliers (the default). */
export function ignoresOutliers(tag) {
  return !state.outliers.includes(tag);
}

/**
 * Fix layout.yaxis.range from the drawn y values when the card ignores outliers: those whose
 * x lies in `xRange` ([x0, x1] in axis numbers) when the card is zoomed in x, else all.
 */
export function applyOutlierRange(tag, traces, layout, xRange = null) {
  if (!ignoresOutliers(tag)) return null;
  const values = [];
  const [x0, x1] = xRange ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (const trace of traces) {
    // the faint raw lines under smoothed ones may leave the range: the smoothed lines decide
    if (trace.meta?.kind === "raw" && traces.some((t) => t.meta?.kind === "smoothed")) continue;
    const { x, y } = trace;
    for (let i = 0; i < y.length; i++) if (!xRange || (x[i] >= x0 && x[i] <= x1)) values.push(y[i]);
  }
  const log = layout.yaxis.type === "log";
  // zoomed in x: plotly's autorange would span every value, in view or not
  const range = outlierRange(values, log) ?? (xRange ? spanRange(values, log) : null);
  if (range) {
    layout.yaxis.range = range;
    layout.yaxis.autorange = false;
  }
  return range;
}

/** The card-head toggle: pressed = outliers ignored. */
export function outliersButton(tag) {
  const button = el("button", {
    type: "button",
    class: "card-tool outliers-toggle",
    title: "Ignore outliers in the y range",
    "aria-label": `Ignore outliers in the y range of ${tag}`,
  }, icon("outliers"));
  const sync = () => button.setAttribute("aria-pressed", String(ignoresOutliers(tag)));
  button.addEventListener("click", () => {
    const others = state.outliers.filter((t) => t !== tag);
    update({ outliers: ignoresOutliers(tag) ? [...others, tag] : others });
  });
  sync();
  return { button, sync };
}
