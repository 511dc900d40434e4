"""Integration tests of /api/scalars/multi: one tag for several runs in one request, each
series exactly what /api/scalars answers for it (docs/http_api.md)."""

from __future__ import annotations

import pytest
from boardkit import scalar_event, write_events

from board.plugins import scalars
from board.plugins.scalars import MAX_MULTI_RUNS

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"
N = 3000


@pytest.fixture
def board(board_factory, tmp_path):
    for k, run in enumerate(["a", "b", "c/d"]):
        values = [((i * 7919 + k) % 1000) / 1000.0 for i in range(N)]
        write_events(tmp_path / run / EV, *(scalar_event("loss", v, i) for i, v in
                                            enumerate(values)))
    write_events(tmp_path / "other" / EV, scalar_event("acc", 1.0, 0))
    return board_factory(tmp_path).load()


@pytest.mark.parametrize("view", [{}, {"max_points": 50, "smoothing": 0.6},
                                  {"x_min": 100, "x_max": 180}, {"smoothing": 0.9}])
def test_each_series_is_what_the_single_route_answers(board, view):
    runs = ["c/d", "a", "b"]  # the order asked is the order answered
    body = board.json("/api/scalars/multi", params={"tag": "loss", "run": runs, **view})
    assert body["tag"] == "loss"
    assert [s["run"] for s in body["series"]] == runs
    for series in body["series"]:
        one = board.json("/api/scalars", params={"run": series["run"], "tag": "loss", **view})
        assert series == one


def test_one_run(board):
    body = board.json("/api/scalars/multi", params={"tag": "loss", "run": "a"})
    assert len(body["series"]) == 1 and body["series"][0]["total_points"] == N
    assert body["series"][0]["downsampled"] is True and len(body["series"][0]["step"]) <= 2000


def test_repeated_request_is_cached_until_a_run_changes(board, tmp_path):
    params = {"tag": "loss", "run": ["a", "b"]}
    first = board.json("/api/scalars/multi", params=params)
    assert board.json("/api/scalars/multi", params=params) == first
    assert board.json("/api/scalars/multi", params=params) == first  # from the cache
    write_events(tmp_path / "b" / "events.out.tfevents.1700000001.host",
                 scalar_event("loss", -5.0, N))
    after = board.load().json("/api/scalars/multi", params=params)
    assert after["series"][0] == first["series"][0]
    assert after["series"][1]["total_points"] == N + 1
    assert after["series"][1]["value"][-1] == -5.0


def error(resp, code):
    assert resp.status_code == code, resp.text
    assert set(resp.json()) == {"error"} and resp.json()["error"]["code"] == code
    return resp.json()["error"]["message"]


@pytest.mark.parametrize("params,code,says", [
    ({"tag": "loss", "run": ["a", "nope"]}, 404, "unknown run 'nope'"),
    ({"tag": "loss", "run": ["a", "other"]}, 404, "run 'other' has no scalar tag 'loss'"),
    ({"tag": "loss", "run": ["../../etc"]}, 404, "unknown run"),
    ({"tag": "loss"}, 422, "run"),
    ({"run": ["a"]}, 422, "tag"),
    ({"tag": "loss", "run": ["a"], "max_points": 1}, 422, "max_points"),
    ({"tag": "loss", "run": ["a"], "smoothing": 2}, 422, "smoothing"),
    ({"tag": "loss", "run": ["a"], "x_min": 9, "x_max": 1}, 400, "swap them"),
    ({"tag": "loss", "run": [f"r{i}" for i in range(MAX_MULTI_RUNS + 1)]}, 400,
     f"at most {MAX_MULTI_RUNS}"),
    ({"tag": "loss", "run": ["a"], "x_min": "nan"}, 400, "x_min must be a finite step"),
    ({"tag": "loss", "run": ["a"], "x_max": "inf"}, 400, "x_max must be a finite step"),
])
def test_errors_have_the_one_shape(board, params, code, says):
    assert says in error(board.get("/api/scalars/multi", params=params), code)


def test_repeated_runs_are_answered_once(board):
    """1000 × the same run is one series, not 1000 bodies (each a full copy)."""
    body = board.json("/api/scalars/multi", params={"tag": "loss",
                                                    "run": ["b", "a"] * 500 + ["b"]})
    assert [s["run"] for s in body["series"]] == ["b", "a"]


def test_one_budget_on_the_points_of_a_response(board, monkeypatch):
    monkeypatch.setattr(scalars, "MAX_RESPONSE_POINTS", 2 * 2000 + 1000)
    ok = board.json("/api/scalars/multi", params={"tag": "loss", "run": ["a", "b"]})
    assert sum(s["returned_points"] for s in ok["series"]) == 4000
    says = error(board.get("/api/scalars/multi", params={"tag": "loss",
                                                          "run": ["a", "b", "c/d"]}), 400)
    assert "3 series hold 6000 points" in says and "fewer runs" in says
    # The same budget bounds one series: a window without max_points, and a json download.
    monkeypatch.setattr(scalars, "MAX_RESPONSE_POINTS", 2500)
    assert board.json("/api/scalars", params={"run": "a", "tag": "loss"})["returned_points"] \
        == 2000
    says = error(board.get("/api/scalars", params={"run": "a", "tag": "loss", "x_min": 0}), 400)
    assert "holds 3000 points" in says and "max_points" in says
    says = error(board.get("/api/scalars", params={"run": "a", "tag": "loss",
                                                   "format": "json"}), 400)
    assert "format=csv" in says
    csv = board.get("/api/scalars", params={"run": "a", "tag": "loss", "format": "csv"})
    assert csv.status_code == 200 and len(csv.text.splitlines()) == N + 1
