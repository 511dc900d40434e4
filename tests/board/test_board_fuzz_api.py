"""Integration: the API under arbitrary query input never answers 500, never echoes HTML,
and always uses the one error shape (SPEC §9)."""

from __future__ import annotations

import pytest
from boardkit import scalar_event, write_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

ROUTES = ["/api/scalars", "/api/images", "/api/image", "/api/histograms", "/api/graph",
          "/data/plugin/scalars/scalars", "/api/runs", "/healthz"]
PARAMS = ["run", "tag", "max_points", "x_min", "x_max", "smoothing", "format", "step", "index",
          "expand"]
values = st.one_of(st.sampled_from(["r", "x", "../../etc/passwd", "<script>", "-1", "nan",
                                    "1e309", "0", "csv", "json", "", "a/b,c"]),
                   st.text(max_size=30), st.integers().map(str))


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    from boardkit import Board

    logdir = tmp_path_factory.mktemp("fuzz")
    write_events(logdir / "r" / "events.out.tfevents.1.h",
                 *(scalar_event("x", float(i), i) for i in range(50)))
    return Board(logdir, watch=False).load()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES),
       params=st.dictionaries(st.sampled_from(PARAMS), values, max_size=6))
def test_no_500_and_one_error_shape(board, route, params):
    r = board.get(route, params=params)
    assert r.status_code < 500, (route, params, r.text)
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"error"} and body["error"]["code"] == r.status_code
    assert "text/html" not in r.headers.get("content-type", "")
