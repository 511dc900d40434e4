"""Pure numpy functions over a scalar series: smoothing and downsampling (SPEC §5).

- `smooth`: TensorBoard's debiased EMA (webapp line_chart_v2 `classicSmoothing`):
  `last = last*w + (1-w)*y`, starting at 0; output `last / (1 - w**n)` with n the number of
  finite points so far (divisor 1 when w == 1). Non-finite values pass through and do not
  advance n; a constant series comes back unchanged; w is clamped to [0, 1].
  Computed in blocks (a B×B lower-triangular matrix of powers of w, then a short carry
  recurrence between blocks) so a million points take milliseconds, not a Python loop.
- `downsample_indices`: at most `max_points` indices chosen per bucket so that each bucket's
  minimum and maximum survive (spikes are never dropped); the first and last point are
  always kept. TensorBoard samples uniformly instead and loses spikes
  (reference/tensorboard.md §2.3).
"""

from __future__ import annotations

import functools

import numpy as np

_BLOCK = 128


@functools.lru_cache(maxsize=16)
def _ema_matrices(w: float) -> tuple[np.ndarray, np.ndarray]:
    """``powers[k] = w**k`` (k ≤ B) and ``tri[j, i] = w**(j-i)`` for i ≤ j, else 0 (read-only,
    cached: building them costs more than smoothing a few thousand points)."""
    powers = w ** np.arange(_BLOCK + 1, dtype=np.float64)
    j = np.arange(_BLOCK)
    diff = j[:, None] - j[None, :]
    tri = np.where(diff >= 0, powers[np.clip(diff, 0, _BLOCK)], 0.0)
    powers.setflags(write=False)
    tri.setflags(write=False)
    return powers, tri


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average of `values` (float64 result)."""
    y = np.asarray(values, dtype=np.float64)
    w = min(max(float(weight), 0.0), 1.0)
    out = y.copy()
    if len(y) == 0:
        return out
    finite = np.isfinite(y)
    if np.all(y == y[0]):
        return out
    yf = y[finite]
    m = len(yf)
    if m == 0:
        return out
    nblocks = -(-m // _BLOCK)
    padded = np.zeros(nblocks * _BLOCK)
    padded[:m] = yf
    blocks = padded.reshape(nblocks, _BLOCK)
    powers, tri = _ema_matrices(w)
    inner = (1.0 - w) * (blocks @ tri.T)  # EMA within each block, starting from 0
    carry = np.empty(nblocks)  # EMA value at the end of the previous block
    last = 0.0
    w_block = powers[_BLOCK]
    ends = inner[:, -1]
    for k in range(nblocks):
        carry[k] = last
        last = w_block * last + ends[k]
    ema = inner + carry[:, None] * powers[1:][None, :]
    ema = ema.reshape(-1)[:m]
    if w == 1.0:
        debiased = ema
    else:
        debiased = ema / (1.0 - w ** np.arange(1, m + 1, dtype=np.float64))
    out[finite] = debiased
    return out


def downsample_indices(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices (ascending) of at most `max_points` points keeping each bucket's min and max.

    The interior (all but the first and last point) is cut into (max_points - 2) // 2
    buckets of near-equal length; from each the index of its minimum and of its maximum are
    kept (NaN counts as neither unless a bucket holds nothing else).
    """
    n = len(values)
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    if n <= max_points:
        return np.arange(n)
    if max_points < 4:
        return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
    interior = np.asarray(values[1 : n - 1], dtype=np.float64)
    nbuckets = (max_points - 2) // 2
    starts = (np.arange(nbuckets) * len(interior)) // nbuckets
    lo = np.where(np.isnan(interior), np.inf, interior)
    hi = np.where(np.isnan(interior), -np.inf, interior)
    picks = [_first_match(lo, np.minimum.reduceat(lo, starts), starts),
             _first_match(hi, np.maximum.reduceat(hi, starts), starts)]
    chosen = np.unique(np.concatenate(picks)) + 1
    return np.concatenate(([0], chosen, [n - 1]))


def _first_match(values: np.ndarray, extremes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per bucket, the first index where `values` equals that bucket's extreme."""
    sizes = np.diff(np.append(starts, len(values)))
    hits = np.flatnonzero(values == np.repeat(extremes, sizes))
    # First hit at or after each bucket start (every bucket holds its own extreme).
    return hits[np.searchsorted(hits, starts)]


def window_indices(steps: np.ndarray, x_min: float | None, x_max: float | None) -> np.ndarray:
    """Indices of points with x_min <= step <= x_max (either bound may be None)."""
    mask = np.ones(len(steps), dtype=bool)
    if x_min is not None:
        mask &= steps >= x_min
    if x_max is not None:
        mask &= steps <= x_max
    return np.flatnonzero(mask)
