"""Unit tests of board.series: TensorBoard's debiased EMA and spike-keeping downsampling."""

import numpy as np
import pytest
from boardkit import ema_oracle

from board.series import downsample_indices, smooth, window_indices

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("n", [1, 2, 127, 128, 129, 1000, 4099])
@pytest.mark.parametrize("weight", [0.0, 0.01, 0.6, 0.95, 0.999, 1.0])
def test_smooth_matches_the_closed_form(n, weight):
    rng = np.random.default_rng(n)
    y = rng.normal(size=n) * 10
    if n > 20:
        y[[3, 11]] = [np.nan, np.inf]
    got = smooth(y, weight)
    want = ema_oracle(y, weight)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_smooth_known_values():
    # w=0.5: last = 0.5, 1.25, 2.125 ; debias 0.5, 0.75, 0.875
    np.testing.assert_allclose(smooth([1.0, 2.0, 3.0], 0.5), [1.0, 5 / 3, 2.125 / 0.875])


def test_smooth_constant_series_unchanged_and_nonfinite_pass_through():
    assert smooth([2.0, 2.0, 2.0], 0.9).tolist() == [2.0, 2.0, 2.0]
    out = smooth([1.0, np.nan, 3.0], 0.5)
    assert np.isnan(out[1])
    # The NaN does not advance the debias count: the third point is the 2nd finite one.
    assert out[2] == pytest.approx((0.25 + 1.5) / 0.75)


def test_downsample_keeps_spikes_first_last_and_bound():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_000)
    y[31_337] = 1e6
    y[77_777] = -1e6
    idx = downsample_indices(y, 2000)
    assert len(idx) <= 2000
    assert idx[0] == 0 and idx[-1] == len(y) - 1
    assert 31_337 in idx and 77_777 in idx
    assert np.all(np.diff(idx) > 0)
    # Every bucket's extremes survive: the kept max equals the true max.
    assert y[idx].max() == y.max() and y[idx].min() == y.min()


def test_downsample_small_series_untouched_and_nan_safe():
    assert downsample_indices(np.arange(10.0), 2000).tolist() == list(range(10))
    y = np.full(5000, np.nan)
    y[100] = 5.0
    idx = downsample_indices(y, 100)
    assert 100 in idx and len(idx) <= 100


def test_downsample_nan_never_counts_as_an_extreme():
    """A NaN-heavy series: every bucket holds NaNs next to its finite values, and one bucket
    a negative spike. NaN counted as a minimum would stand in for the spike and drop it."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=20_000)
    y[rng.random(20_000) < 0.6] = np.nan
    spike, peak = 12_345, 6_789
    y[spike], y[peak] = -1e6, 1e6
    idx = downsample_indices(y, 200)
    assert spike in idx and peak in idx
    kept = y[idx]
    assert np.nanmin(kept) == -1e6 and np.nanmax(kept) == 1e6
    # Each bucket's finite extremes are kept, never a NaN in their place.
    assert np.isfinite(kept[1:-1]).all()


def test_downsample_rejects_nonsense():
    with pytest.raises(ValueError, match="max_points"):
        downsample_indices(np.arange(5.0), 0)


def test_window_indices_inclusive():
    steps = np.array([0, 5, 10, 15])
    assert window_indices(steps, 5, 10).tolist() == [1, 2]
    assert window_indices(steps, None, 4).tolist() == [0]
    assert window_indices(steps, 11, None).tolist() == [3]
