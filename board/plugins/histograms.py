"""Histograms: /api/histograms (SPEC §5): the steps of one tag, ascending.

One response is bounded whatever was written: at most MAX_STEPS steps (evenly spaced, the
first and the last kept; `total_steps` says how many are stored) and at most MAX_BUCKETS
buckets per step (neighbouring buckets merged: counts summed, the right edge kept).
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..responses import float_list, json_response
from ..store import Store
from .lookup import require_run, tag_not_found

MAX_STEPS = 500
MAX_BUCKETS = 1000

router = APIRouter()


def _num(x: float):
    return float_list([x])[0]


def spread(n: int, k: int) -> list[int]:
    """At most `k` indices of range(n), evenly spaced, first and last included."""
    if n <= k:
        return list(range(n))
    return np.linspace(0, n - 1, k).round().astype(np.int64).tolist()


def merge_buckets(limits, counts, k: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `k` buckets: each run of ceil(n / k) neighbours becomes one (counts summed,
    its right edge kept), so the total count and the outer edges stay exact."""
    limits = np.asarray(limits, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    n = min(len(limits), len(counts))
    if n <= k:
        return limits[:n], counts[:n]
    group = -(-n // k)
    starts = np.arange(0, n, group)
    ends = np.minimum(starts + group, n) - 1
    return limits[ends], np.add.reduceat(counts[:n], starts)


def histograms_impl(store: Store, run: str, tag: str) -> dict:
    require_run(store, run)
    steps = store.histograms(run, tag)
    if not steps:
        raise tag_not_found(store, run, tag, "histograms")
    body = []
    for i in spread(len(steps), MAX_STEPS):
        h = steps[i]
        limits, counts = merge_buckets(h.bucket_limits, h.bucket_counts, MAX_BUCKETS)
        body.append({"step": h.step, "wall_time": h.wall_time, "min": _num(h.min),
                     "max": _num(h.max), "num": _num(h.num), "sum": _num(h.sum),
                     "sum_squares": _num(h.sum_squares), "bucket_limits": float_list(limits),
                     "bucket_counts": float_list(counts)})
    return {"run": run, "tag": tag, "total_steps": len(steps), "steps": body}


@router.get("/api/histograms", summary="The steps of one histogram tag (at most 500)")
def histograms_route(request: Request, run: str = Query(...),
                     tag: str = Query(...)) -> Response:
    return json_response(histograms_impl(request.app.state.store, run, tag))
