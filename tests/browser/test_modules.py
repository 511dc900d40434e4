"""The frontend's pure modules, imported in the browser and checked against oracles:
TensorBoard's smoothing, histogram percentiles and re-binning, and the URL state."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from .conftest import PageRecord
from .helpers import tb_smooth

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def module_page(demo_board, shared_context):
    """One page for the whole module: the modules under test are pure."""
    page = shared_context.new_page()
    record = PageRecord(page, demo_board.url)
    page.goto(demo_board.url + "#tab=graphs")
    page.wait_for_selector("body[data-loaded]", timeout=15_000)
    yield page
    page.close()
    record.assert_clean()


def test_index_preloads_every_module():
    """index.html lists every module as a modulepreload, so the browser fetches them all at
    once instead of discovering the import graph level by level."""
    root = Path(__file__).resolve().parents[2] / "frontend"
    html = (root / "index.html").read_text()
    preloaded = re.findall(r'<link rel="modulepreload" href="js/([\w.]+)">', html)
    assert sorted(preloaded) == sorted(p.name for p in (root / "js").glob("*.js") if
                                       p.name != "app.js")


def call(page, module: str, expression: str, *args):
    """Import /js/<module> in the page and evaluate `expression` with it bound as `m`."""
    return page.evaluate(
        f"async ([args]) => {{ const m = await import('/js/{module}'); return ({expression}); }}",
        [list(args)],
    )


@pytest.mark.parametrize(
    ("values", "weight"),
    [
        ([1.0, 3.0, 2.0, 5.0, 4.0, 8.0], 0.6),
        ([1.0, 3.0, 2.0, 5.0], 0.0),
        ([0.5, -2.0, 7.25, 3.0, 1e6, -1e-6], 0.95),
        ([2.0, 2.0, 2.0], 0.9),  # constant: unchanged (tensorboard#786)
    ],
)
def test_smoothing_matches_tensorboards_formula(module_page, values, weight):
    got = call(module_page, "smoothing.js", "m.smooth(args[0], args[1])", values, weight)
    assert got == pytest.approx(tb_smooth(values, weight), rel=1e-12)


def test_smoothing_passes_non_finite_values_through(module_page):
    got = call(
        module_page,
        "smoothing.js",
        "m.smooth([1, NaN, 3, Infinity, 5], 0.5).map(String)",
    )
    expected = tb_smooth([1.0, math.nan, 3.0, math.inf, 5.0], 0.5)
    assert got[1] == "NaN" and got[3] == "Infinity"
    assert [float(got[i]) for i in (0, 2, 4)] == pytest.approx([expected[i] for i in (0, 2, 4)])


def test_histogram_percentiles_and_rebin(module_page):
    # buckets (0,1]: 10, (1,2]: 30, (2,4]: 60 with min 0 and max 4
    h = {"min": 0, "max": 4, "bucket_limits": [1, 2, 4], "bucket_counts": [10, 30, 60]}
    pct = call(module_page, "histogram_math.js", "m.percentiles(args[0], [0, 10, 40, 70, 100])", h)
    assert pct == pytest.approx([0, 1, 2, 3, 4])
    bins = call(module_page, "histogram_math.js", "m.rebin(args[0], 0, 4, 4)", h)
    assert bins == pytest.approx([10, 30, 30, 30])
    # TF's outer limits are ±DBL_MAX: they are clamped to [min, max]
    wide = {
        "min": -1,
        "max": 1,
        "bucket_limits": [0, 1.7976931348623157e308],
        "bucket_counts": [5, 5],
    }
    assert call(module_page, "histogram_math.js", "m.rebin(args[0], -1, 1, 2)", wide) == [5, 5]


def test_url_state_round_trips(module_page):
    state = call(
        module_page,
        "state.js",
        "m.parseHash(m.toHash({...m.parseHash(''), tab: 'images', smoothing: 0.9, x: 'wall',"
        " logy: true, tags: 'loss|acc', hide: ['a,b', 'c&d'], show: ['run990'], all: true,"
        " expand: ['x/y']}))",
    )
    assert state["show"] == ["run990"] and state["all"] is True
    assert state["tab"] == "images" and state["smoothing"] == 0.9 and state["x"] == "wall"
    assert state["logy"] is True and state["tags"] == "loss|acc"
    assert state["hide"] == ["a,b", "c&d"] and state["expand"] == ["x/y"]
    bad = call(module_page, "state.js", "m.parseHash('#tab=nope&smoothing=7&x=log')")
    assert bad["tab"] == "scalars" and bad["smoothing"] == 0.999 and bad["x"] == "step"
