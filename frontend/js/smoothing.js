// TensorBoard's scalar smoothing ("classicSmoothing" in
// tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts): a debiased EMA.
//   last = last * w + (1 - w) * y      (last starts at 0)
//   smoothed = last / (1 - w^n)        (n = finite points seen so far; divisor 1 when w == 1)
// Non-finite values pass through and do not advance n; a constant series is unchanged.

/** Smooth `values` with weight `weight` (clamped to [0, 1]); returns a new array. */
export function smooth(values, weight) {
  const w = Math.min(1, Math.max(0, Number(weight) || 0));
  const out = new Array(values.length);
  const first = values[0];
  const constant = values.every((v) => v === first);
  let last = values.length ? 0 : Number.NaN;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i];
    if (constant || !Number.isFinite(y)) {
      out[i] = y;
      continue;
    }
    last = last * w + (1 - w) * y;
    n += 1;
    const debias = w === 1 ? 1 : 1 - w ** n;
    out[i] = last / debias;
  }
  return out;
}
