// Horizontal axis modes of the scalar charts (TensorBoard's step / relative / wall):
// x values for a series, the time unit of the relative axis, and the mapping of a zoom
// range back to the step window that /api/scalars takes as x_min/x_max.

const UNITS = [
  { label: "s", div: 1, upTo: 120 },
  { label: "min", div: 60, upTo: 7200 },
  { label: "h", div: 3600, upTo: 172800 },
  { label: "days", div: 86400, upTo: Number.POSITIVE_INFINITY },
];

/** Unit for relative time given the longest run span in seconds. */
export function timeUnit(spanSeconds) {
  return UNITS.find((unit) => spanSeconds <= unit.upTo);
}

/** Plotly shows date axes in UTC; shift by the local offset so wall time reads local. */
function localMs(seconds) {
  const ms = seconds * 1000;
  return ms - new Date(ms).getTimezoneOffset() * 60000;
}

/**
 * x values of a series: steps (or arrival index when every step is the same), seconds
 * since the run's first point in `ctx.unit`, or wall time.
 */
export function seriesX(series, wall0, ctx, byArrival) {
  if (ctx.mode === "relative") return series.wall_time.map((w) => (w - wall0) / ctx.unit.div);
  if (ctx.mode === "wall") return series.wall_time.map(localMs);
  return byArrival ? series.step.map((_, i) => i) : series.step;
}

/** A plotly axis range end as a number (date axes report "YYYY-MM-DD hh:mm:ss.sss"). */
export function rangeNumber(value, mode) {
  if (mode !== "wall" || typeof value !== "string") return Number(value);
  const [day, time = "00:00:00"] = value.split(" ");
  return Date.parse(`${day}T${time.slice(0, 12)}Z`);
}

/**
 * Steps [lo, hi] that cover the zoomed x range of a series: the last point before the
 * range and the first point after it, so the lines still leave the plot at the edges.
 * Returns null when the range holds none of the series.
 */
export function stepWindow(series, range, ctx) {
  const xs = seriesX(series, series.wall_time[0], ctx, false);
  const x0 = rangeNumber(range[0], ctx.mode);
  const x1 = rangeNumber(range[1], ctx.mode);
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) return null;
  const n = xs.length;
  let lo = 0;
  while (lo + 1 < n && xs[lo + 1] < x0) lo++;
  let hi = n - 1;
  while (hi - 1 >= 0 && xs[hi - 1] > x1) hi--;
  if (lo > hi || xs[lo] > x1 || xs[hi] < x0) return null;
  return [series.step[lo], series.step[hi]];
}
