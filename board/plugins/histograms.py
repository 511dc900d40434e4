"""Histograms: /api/histograms (SPEC §5): every stored step of one tag, ascending."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..responses import float_list, json_response
from ..store import Store
from .lookup import require_run, tag_not_found

router = APIRouter()


def _num(x: float):
    return float_list([x])[0]


def histograms_impl(store: Store, run: str, tag: str) -> dict:
    require_run(store, run)
    steps = store.histograms(run, tag)
    if not steps:
        raise tag_not_found(store, run, tag, "histograms")
    return {"run": run, "tag": tag, "steps": [
        {"step": h.step, "wall_time": h.wall_time, "min": _num(h.min), "max": _num(h.max),
         "num": _num(h.num), "sum": _num(h.sum), "sum_squares": _num(h.sum_squares),
         "bucket_limits": float_list(h.bucket_limits),
         "bucket_counts": float_list(h.bucket_counts)}
        for h in steps]}


@router.get("/api/histograms", summary="Every step of one histogram tag")
def histograms_route(request: Request, run: str = Query(...),
                     tag: str = Query(...)) -> Response:
    return json_response(histograms_impl(request.app.state.store, run, tag))
