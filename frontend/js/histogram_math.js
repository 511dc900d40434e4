// Pure helpers over TensorFlow HistogramProto data as /api/histograms returns it:
// bucket i spans (bucket_limits[i-1], bucket_limits[i]] with the first starting at `min`;
// edges are clamped to [min, max] (TF's outer limits are ±DBL_MAX).

/** [{left, right, count}] buckets of one histogram step, clamped to [min, max]. */
export function buckets(h) {
  const out = [];
  const limits = h.bucket_limits ?? [];
  const counts = h.bucket_counts ?? [];
  for (let i = 0; i < limits.length; i++) {
    const count = counts[i] ?? 0;
    if (!count) continue;
    const left = Math.max(h.min, i === 0 ? h.min : limits[i - 1]);
    const right = Math.min(h.max, limits[i]);
    out.push({ left: Math.min(left, right), right: Math.max(left, right), count });
  }
  return out;
}

/**
 * Re-bin one step onto `n` equal bins over [lo, hi], spreading each bucket's count over
 * the bins it overlaps (as TensorBoard's histogram dashboard does before drawing).
 */
export function rebin(h, lo, hi, n) {
  const out = new Array(n).fill(0);
  const width = (hi - lo) / n || 1;
  for (const b of buckets(h)) {
    const span = b.right - b.left;
    if (span <= 0) {
      const k = Math.min(n - 1, Math.max(0, Math.floor((b.left - lo) / width)));
      out[k] += b.count;
      continue;
    }
    const first = Math.max(0, Math.floor((b.left - lo) / width));
    const last = Math.min(n - 1, Math.floor((b.right - lo) / width));
    for (let k = first; k <= last; k++) {
      const a = Math.max(b.left, lo + k * width);
      const z = Math.min(b.right, lo + (k + 1) * width);
      if (z > a) out[k] += (b.count * (z - a)) / span;
    }
  }
  return out;
}

/** Value at each percentile (0..100) of one step, interpolating inside buckets. */
export function percentiles(h, qs) {
  const bs = buckets(h);
  const total = bs.reduce((sum, b) => sum + b.count, 0);
  if (!total) return qs.map(() => Number.NaN);
  return qs.map((q) => {
    if (q <= 0) return h.min;
    if (q >= 100) return h.max;
    const target = (q / 100) * total;
    let cum = 0;
    for (const b of bs) {
      if (cum + b.count >= target) return b.left + ((b.right - b.left) * (target - cum)) / b.count;
      cum += b.count;
    }
    return h.max;
  });
}

/** Up to `n` items spread evenly over `items`, always keeping the last. */
export function sampleEvenly(items, n) {
  if (items.length <= n) return items;
  const out = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / (n - 1))]);
  return out;
}
