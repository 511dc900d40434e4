"""Requests that once took the whole board down (one request, one graph): each is now bounded
and answered with a clear 400 in the one JSON error shape (docs/http_api.md).

In-process (the app over TestClient, its loader run by hand); the real-process variants with
RSS and /healthz figures are in benchmarks/abuse.py. Work is bounded by measuring Python's
own allocations (tracemalloc), never by timing.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from fastapi.testclient import TestClient

from board.app import create_app
from board.plugins import graphs, histograms, scalars
from writer import SummaryWriter
from writer.proto import graph_pb2

pytestmark = pytest.mark.integration
DEEP = 3000  # name scopes in one op name: quadratic prefix building would allocate ~50 MB
FLAT = 5001  # ops in a graph without scopes: more than one layout may take
HISTOGRAM_STEPS = 510  # more than one response carries


def deep_graph(depth: int = DEEP) -> graph_pb2.GraphDef:
    g = graph_pb2.GraphDef()
    name = "/".join(f"scope{i}" for i in range(depth))
    g.node.add(name=name + "/op", op="Relu")
    g.node.add(name="x", op="Placeholder", input=[name + "/op"])
    return g


def flat_graph(n: int) -> graph_pb2.GraphDef:
    g = graph_pb2.GraphDef()
    for i in range(n):
        g.node.add(name=f"n{i}", op="Add", input=[f"n{i - 1}"] if i else [])
    return g


@pytest.fixture
def client(tmp_path):
    rng = np.random.default_rng(0)
    with SummaryWriter(tmp_path / "big") as w:
        for s in range(5000):
            w.add_scalar("loss", float(rng.normal()), s)
    with SummaryWriter(tmp_path / "graphs") as w:
        w.add_graph(deep_graph())
    with SummaryWriter(tmp_path / "flat") as w:
        w.add_graph(flat_graph(FLAT))
    with SummaryWriter(tmp_path / "hist") as w:
        for s in range(HISTOGRAM_STEPS):
            w.add_histogram("w", rng.normal(size=50), s)
    app = create_app(tmp_path, watch=False)
    app.state.loader.cycle()
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def error(resp, code: int) -> str:
    assert resp.status_code == code, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]["message"]


# -- item 1: /api/scalars/multi ------------------------------------------------------------


def test_multi_repeats_cost_one_series_and_the_budget_covers_all_series(client, monkeypatch):
    body = client.get("/api/scalars/multi", params={"tag": "loss", "run": ["big"] * 1000,
                                                    "max_points": 5000}).json()
    assert len(body["series"]) == 1 and body["series"][0]["returned_points"] == 5000
    monkeypatch.setattr(scalars, "MAX_RESPONSE_POINTS", 4999)
    says = error(client.get("/api/scalars/multi", params={"tag": "loss", "run": ["big"],
                                                          "max_points": 5000}), 400)
    assert "1 series hold 5000 points" in says and "(4999)" in says


# -- item 15: non-finite window bounds ------------------------------------------------------


@pytest.mark.parametrize("bound", ["nan", "inf", "-inf", "NaN"])
def test_non_finite_window_bounds_are_400(client, bound):
    for name in ("x_min", "x_max"):
        says = error(client.get("/api/scalars", params={"run": "big", "tag": "loss",
                                                        name: bound}), 400)
        assert name in says and "finite" in says


# -- item 2: /api/graph?expand= -------------------------------------------------------------


def test_expand_is_bounded_in_scopes_and_length(client):
    many = ",".join(f"s{i}" for i in range(graphs.MAX_EXPAND_SCOPES + 1))
    says = error(client.get("/api/graph", params={"run": "graphs", "expand": many}), 400)
    assert f"at most {graphs.MAX_EXPAND_SCOPES}" in says
    long = "/".join(["scope0"] * (graphs.MAX_SCOPE_CHARS // 7 + 1))
    says = error(client.get("/api/graph", params={"run": "graphs", "expand": long}), 400)
    assert f"at most {graphs.MAX_SCOPE_CHARS}" in says
    r = client.get("/api/graph", params={"run": "graphs", "expand": "x" * 40_000})
    assert error(r, 422)
    # Repeats are one scope: 3000 copies of one name are not 20,000 scopes.
    r = client.get("/api/graph", params={"run": "graphs", "expand": ",".join(["scope0"] * 3000)})
    assert r.status_code == 200 and r.json()["expanded"] == ["scope0"]


def test_expand_parsing_is_linear(client):
    """A deep expand value opens each of its prefixes once; building them is linear in the
    value, not quadratic (60 KB once took 23 s and left 0.9 GB behind)."""
    scope = "/".join(f"scope{i}" for i in range(120))  # < MAX_SCOPE_CHARS
    body = client.get("/api/graph", params={"run": "graphs", "expand": scope}).json()
    assert len(body["expanded"]) == 120 and body["expanded"][-1] == scope
    inner = next(n for n in body["nodes"] if n["kind"] == "scope")
    assert inner["id"] == scope + "/scope120"


def test_layout_cache_is_bounded_in_bytes(client, monkeypatch):
    cache = client.app.state.layout_cache
    monkeypatch.setattr(cache, "max_bytes", 400_000)
    sizes = []
    for k in range(1, 120):
        scope = "/".join(f"scope{i}" for i in range(k))
        r = client.get("/api/graph", params={"run": "graphs", "expand": scope})
        assert r.status_code == 200
        sizes.append(len(r.content))
        assert cache.size <= 400_000
    assert sum(sizes) > 2 * 400_000 and cache.size > 0


# -- item 7: deep and wide graphs ------------------------------------------------------------


def test_grouping_a_deep_graph_is_linear():
    """An op DEEP scopes deep: building its scopes allocates about the name's size, not one
    prefix string per scope (20,000 scopes once took 23.7 s and 2.3 GB)."""
    g = deep_graph()
    name_bytes = len(g.node[0].name)
    tracemalloc.start()
    try:
        body = graphs.graph_view(g, ())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [n["id"] for n in body["nodes"]] == ["scope0", "x"]
    assert body["nodes"][0]["child_count"] == 1
    assert peak < 40 * name_bytes, f"{peak} bytes allocated for a {name_bytes}-byte name"


def test_a_graph_too_large_to_lay_out_is_a_clear_400(client):
    assert graphs.MAX_LAYOUT_NODES < FLAT
    says = error(client.get("/api/graph", params={"run": "flat"}), 400)
    assert "graph too large to lay out" in says and "expand" in says
    assert client.get("/healthz").status_code == 200


# -- item 6: /api/histograms -----------------------------------------------------------------


def test_histogram_response_is_bounded(client):
    body = client.get("/api/histograms", params={"run": "hist", "tag": "w"}).json()
    steps = [h["step"] for h in body["steps"]]
    assert len(steps) == histograms.MAX_STEPS < HISTOGRAM_STEPS
    assert body["total_steps"] == HISTOGRAM_STEPS
    assert steps[0] == 0 and steps[-1] == HISTOGRAM_STEPS - 1 and steps == sorted(steps)


def test_histogram_buckets_are_merged_past_the_bound():
    n = histograms.MAX_BUCKETS * 5 + 3
    limits, counts = np.arange(1.0, n + 1), np.ones(n)
    merged_limits, merged_counts = histograms.merge_buckets(limits, counts, histograms.MAX_BUCKETS)
    assert len(merged_limits) == len(merged_counts) <= histograms.MAX_BUCKETS
    assert merged_counts.sum() == n and merged_limits[-1] == limits[-1]
    assert np.all(np.diff(merged_limits) > 0)
