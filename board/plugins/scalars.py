"""Scalars: /api/scalars and TensorBoard's /data/plugin/scalars/* (SPEC §5, docs/http_api.md).

Every point is stored; a request gets at most `max_points` (default 2000) chosen by
min/max-per-bucket downsampling, or every point inside an x_min/x_max window. Smoothing is
computed server-side on the full series before any point is dropped.
`/api/scalars/multi` answers the same view of one tag for several runs in one request (a
chart card overlays every run: one request per card instead of one per run).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..errors import BadRequest
from ..responses import attachment, float_list, json_bytes, json_response
from ..series import downsample_indices, smooth, window_indices
from ..store import ScalarSnapshot, Store
from .lookup import require_run, tag_not_found

DEFAULT_MAX_POINTS = 2000
MAX_SMOOTHING = 0.999
MAX_MULTI_RUNS = 1000

router = APIRouter()


def series_or_404(store: Store, run: str, tag: str) -> ScalarSnapshot:
    require_run(store, run)
    snap = store.scalars(run, tag)
    if snap is None:
        raise tag_not_found(store, run, tag, "scalars")
    return snap


def scalars_impl(store: Store, run: str, tag: str, *, max_points: int | None = None,
                 x_min: float | None = None, x_max: float | None = None,
                 smoothing: float | None = None) -> dict:
    """The /api/scalars body: a downsampled or windowed view of one series."""
    if x_min is not None and x_max is not None and x_min > x_max:
        raise BadRequest(f"x_min ({x_min}) is greater than x_max ({x_max}); swap them")
    if smoothing is not None and not 0.0 <= smoothing <= 1.0:
        raise BadRequest(f"smoothing must be between 0 and 1, got {smoothing}")
    snap = series_or_404(store, run, tag)
    n = len(snap.step)
    smoothed = None if smoothing is None else smooth(snap.value, min(smoothing, MAX_SMOOTHING))
    if x_min is not None or x_max is not None:
        idx = window_indices(snap.step, x_min, x_max)
        if max_points is not None and len(idx) > max_points:
            idx = idx[downsample_indices(snap.value[idx], max_points)]
    else:
        idx = downsample_indices(snap.value, max_points or DEFAULT_MAX_POINTS)
    full = len(idx) == n
    body = {
        "run": run,
        "tag": tag,
        "total_points": n,
        "returned_points": int(len(idx)),
        "downsampled": not full and x_min is None and x_max is None,
        "step": (snap.step if full else snap.step[idx]).tolist(),
        "wall_time": float_list(snap.wall_time if full else snap.wall_time[idx]),
        "value": float_list(snap.value if full else snap.value[idx]),
    }
    if smoothed is not None:
        body["smoothed"] = float_list(smoothed if full else smoothed[idx])
    return body


def scalars_multi_impl(store: Store, runs: list[str], tag: str, **view) -> dict:
    """The /api/scalars/multi body: `{"tag", "series": [/api/scalars body per run]}`, in the
    order asked. Any unknown run, or a run without `tag`, fails the request (404)."""
    if len(runs) > MAX_MULTI_RUNS:
        raise BadRequest(f"{len(runs)} runs asked for; ask for at most {MAX_MULTI_RUNS} "
                         "per request")
    return {"tag": tag, "series": [scalars_impl(store, run, tag, **view) for run in runs]}


def scalars_csv_impl(store: Store, run: str, tag: str) -> str:
    """Every point as CSV: a `step,wall_time,value` header, then one row per point."""
    snap = series_or_404(store, run, tag)
    rows = zip(snap.step.tolist(), snap.wall_time.tolist(), snap.value.tolist(), strict=True)
    lines = ["step,wall_time,value"]
    lines.extend(f"{s},{w!r},{v!r}" for s, w, v in rows)
    return "\n".join(lines) + "\n"


def tb_scalars_impl(store: Store, run: str, tag: str) -> list:
    """TensorBoard's /data/plugin/scalars/scalars body: [[wall_time, step, value], …]."""
    snap = series_or_404(store, run, tag)
    return [list(row) for row in zip(float_list(snap.wall_time), snap.step.tolist(),
                                     float_list(snap.value), strict=True)]


def tb_tags_impl(store: Store) -> dict:
    """TensorBoard's /data/plugin/scalars/tags body: {run: {tag: {displayName, description}}}."""
    return {name: {tag: {"displayName": tag, "description": ""} for tag in tags}
            for name, tags in store.tag_listing("scalars").items()}


@router.get("/api/scalars", summary="One scalar series, downsampled, windowed or smoothed")
def scalars_route(
    request: Request,
    run: str = Query(..., description="run name from /api/runs"),
    tag: str = Query(..., description="scalar tag of that run"),
    max_points: int | None = Query(None, ge=4, le=1_000_000),
    x_min: float | None = Query(None, description="lowest step of the zoom window"),
    x_max: float | None = Query(None, description="highest step of the zoom window"),
    smoothing: float | None = Query(None, ge=0.0, le=1.0),
    format: Literal["json", "csv"] | None = Query(
        None, description="download every point as csv or json (Content-Disposition)"),
) -> Response:
    store: Store = request.app.state.store
    if format == "csv":
        text = scalars_csv_impl(store, run, tag)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers=attachment(f"{run}_{tag}.csv"))
    if format == "json":
        body = scalars_impl(store, run, tag, max_points=1_000_000_000, smoothing=smoothing)
        return json_response(body, headers=attachment(f"{run}_{tag}.json"))
    generation = store.scalar_generation(run, tag)
    if generation is None:  # unknown run or tag: the impl raises the 404
        scalars_impl(store, run, tag)
    key = ("scalars", run, tag, generation, max_points, x_min, x_max, smoothing)
    return request.app.state.cache.respond(request, key, lambda: json_bytes(scalars_impl(
        store, run, tag, max_points=max_points, x_min=x_min, x_max=x_max, smoothing=smoothing)))


@router.get("/api/scalars/multi",
            summary="One tag's series for several runs (each as /api/scalars), one request")
def scalars_multi_route(
    request: Request,
    run: Annotated[list[str], Query(description="run names from /api/runs; repeat it")],
    tag: str = Query(..., description="scalar tag"),
    max_points: int | None = Query(None, ge=4, le=1_000_000),
    x_min: float | None = Query(None, description="lowest step of the zoom window"),
    x_max: float | None = Query(None, description="highest step of the zoom window"),
    smoothing: float | None = Query(None, ge=0.0, le=1.0),
) -> Response:
    store: Store = request.app.state.store
    view = {"max_points": max_points, "x_min": x_min, "x_max": x_max, "smoothing": smoothing}
    generations = tuple(store.scalar_generation(r, tag) for r in run)
    if None in generations or len(run) > MAX_MULTI_RUNS:  # the impl raises the 404 or 400
        scalars_multi_impl(store, run, tag, **view)
    key = ("scalars-multi", tuple(run), tag, generations, max_points, x_min, x_max, smoothing)
    return request.app.state.cache.respond(
        request, key, lambda: json_bytes(scalars_multi_impl(store, run, tag, **view)))


@router.get("/data/plugin/scalars/tags", summary="TensorBoard-compatible scalar tag listing")
def tb_tags_route(request: Request) -> Response:
    return json_response(tb_tags_impl(request.app.state.store))


@router.get("/data/plugin/scalars/scalars",
            summary="TensorBoard-compatible series: [[wall_time, step, value], …]")
def tb_scalars_route(request: Request, run: str = Query(...), tag: str = Query(...),
                     format: Literal["json", "csv"] | None = Query(None)) -> Response:
    store: Store = request.app.state.store
    if format == "csv":
        snap = series_or_404(store, run, tag)
        rows = zip(snap.wall_time.tolist(), snap.step.tolist(), snap.value.tolist(),
                   strict=True)
        text = "Wall time,Step,Value\n" + "".join(f"{w!r},{s},{v!r}\n" for w, s, v in rows)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers=attachment(f"{run}_{tag}.csv"))
    generation = store.scalar_generation(run, tag)
    if generation is None:
        series_or_404(store, run, tag)
    key = ("tb-scalars", run, tag, generation)
    return request.app.state.cache.respond(
        request, key, lambda: json_bytes(tb_scalars_impl(store, run, tag)))

