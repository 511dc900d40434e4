"""Unit tests of board.layout: layered positions that respect edges and never overlap."""

import random

import pytest

from board.layout import _acyclic, _layers, _order, _with_dummies, layout, total_crossings

pytestmark = pytest.mark.unit


def _random_dag(n, m, seed):
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(n)]
    edges = set()
    while len(edges) < m:
        a, b = sorted(rng.sample(range(n), 2))
        edges.add((names[a], names[b]))
    return names, sorted(edges)


def test_edges_point_down_and_nodes_do_not_overlap():
    names, edges = _random_dag(60, 120, 1)
    sizes = {n: (40.0 + 3 * (i % 7), 28.0) for i, n in enumerate(names)}
    pos = layout(sizes, edges)
    assert set(pos) == set(names)
    for u, v in edges:
        assert pos[u][1] < pos[v][1], (u, v)
    rows = {}
    for n, (x, y) in pos.items():
        rows.setdefault(y, []).append((x - sizes[n][0] / 2, x + sizes[n][0] / 2))
    for spans in rows.values():
        spans.sort()
        for (_a0, a1), (b0, _b1) in zip(spans, spans[1:], strict=False):
            assert a1 <= b0 + 1e-6


def test_cycles_are_laid_out():
    pos = layout({"a": (10, 10), "b": (10, 10), "c": (10, 10)},
                 [("a", "b"), ("b", "c"), ("c", "a"), ("a", "a")])
    assert len({y for _, y in pos.values()}) == 3


def test_barycenter_ordering_reduces_crossings():
    names, edges = _random_dag(80, 160, 7)
    succ, _pred = _acyclic(names, edges)
    rank = _layers(names, succ, _pred)
    layers, up, down = _with_dummies(names, rank, succ)
    before = total_crossings(layers, down)
    _order(layers, up, down)
    after = total_crossings(layers, down)
    assert after < before


def test_empty_and_single():
    assert layout({}, []) == {}
    assert layout({"x": (50, 20)}, [("x", "missing")]) == {"x": (25.0, 10.0)}
