"""board.responses: the JSON bytes every data route answers with."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from board.responses import float_list, json_bytes

pytestmark = pytest.mark.unit


def strict_loads(data: bytes):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(data, parse_constant=refuse)


EDGES = [0.0, -0.0, 1e-7, 1e16, 5e-324, 1.7976931348623157e308, -2.5, 1764200000.123456,
         float(np.float32(0.1))]


def test_floats_read_back_exactly_and_non_finite_values_become_null():
    values = np.array([*EDGES, math.nan, math.inf, -math.inf])
    body = strict_loads(json_bytes({"value": float_list(values), "step": [1, 2]}))
    assert body["value"][:len(EDGES)] == EDGES
    assert [math.copysign(1, v) for v in body["value"][:2]] == [1, -1]
    assert body["value"][len(EDGES):] == [None, None, None]


def test_output_is_compact_utf8_like_the_standard_library():
    data = {"run": "café/<b>", "tags": ["a", "ü"], "n": 3, "ok": True, "none": None}
    assert json_bytes(data) == json.dumps(data, ensure_ascii=False,
                                          separators=(",", ":")).encode("utf-8")


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=50))
def test_any_finite_float_list_round_trips(values):
    assert strict_loads(json_bytes(float_list(np.array(values, dtype=np.float64)))) == values
