"""Scalars: /api/scalars and TensorBoard's /data/plugin/scalars/* (SPEC §5, docs/http_api.md).

Every point is stored; a request gets at most `max_points` (default 2000) chosen by
min/max-per-bucket downsampling, or every point inside an x_min/x_max window. Smoothing is
computed server-side on the full series before any point is dropped.
`/api/scalars/multi` answers the same view of one tag for several runs in one request (a
chart card overlays every run: one request per card instead of one per run); repeated runs
are answered once. One JSON response carries at most MAX_RESPONSE_POINTS points, all series
together (a 400 past it); CSV downloads stream, so any length fits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

import anyio.lowlevel
import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from ..errors import BadRequest
from ..responses import attachment, float_list, json_bytes, json_response
from ..series import downsample_indices, smooth, window_indices
from ..store import ScalarSnapshot, Store
from .lookup import require_run, tag_not_found

DEFAULT_MAX_POINTS = 2000
MAX_SMOOTHING = 0.999
MAX_MULTI_RUNS = 1000
MAX_RESPONSE_POINTS = 1_000_000  # every series of one JSON response together
CSV_ROWS_PER_CHUNK = 20_000
CSV_COLUMNS = {"numboard": ("step,wall_time,value", ("step", "wall_time", "value")),
               "tensorboard": ("Wall time,Step,Value", ("wall_time", "step", "value"))}

SERIES_THREADS = 2  # worker threads answering series requests (see `on_series_threads`)

router = APIRouter()
_series_limiter: anyio.lowlevel.RunVar = anyio.lowlevel.RunVar("series_limiter")


async def on_series_threads(answer: Callable[[], Response]) -> Response:
    """`answer()` on one of SERIES_THREADS worker threads of their own, in arrival order.
    Encoding a series is CPU work under the GIL: more threads than cores only contend, and
    the requests that lose wait longest (16 clients of a 10,000-point series: p99 2.6x the
    median on anyio's 40 shared threads, 1.3x on these). Other sync routes (graph layouts,
    image reads) keep anyio's threads, so a slow one never holds a chart up."""
    try:
        limiter = _series_limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(SERIES_THREADS)
        _series_limiter.set(limiter)
    return await anyio.to_thread.run_sync(answer, limiter=limiter)


def series_or_404(store: Store, run: str, tag: str) -> ScalarSnapshot:
    require_run(store, run)
    snap = store.scalars(run, tag)
    if snap is None:
        raise tag_not_found(store, run, tag, "scalars")
    return snap


def check_view(*, max_points: int | None = None, x_min: float | None = None,
               x_max: float | None = None, smoothing: float | None = None) -> dict:
    """The view parameters of /api/scalars(/multi), checked; returned as a dict."""
    for name, x in (("x_min", x_min), ("x_max", x_max)):
        if x is not None and not math.isfinite(x):
            raise BadRequest(f"{name} must be a finite step, got {x}; omit it for no bound")
    if x_min is not None and x_max is not None and x_min > x_max:
        raise BadRequest(f"x_min ({x_min}) is greater than x_max ({x_max}); swap them")
    if smoothing is not None and not 0.0 <= smoothing <= 1.0:
        raise BadRequest(f"smoothing must be between 0 and 1, got {smoothing}")
    return {"max_points": max_points, "x_min": x_min, "x_max": x_max, "smoothing": smoothing}


def _windowed(view: dict) -> bool:
    return view["x_min"] is not None or view["x_max"] is not None


def planned_points(snap: ScalarSnapshot, view: dict) -> int:
    """An upper bound of the points `scalars_view` returns for `snap` (cheap: no body)."""
    if not _windowed(view):
        return min(len(snap.step), view["max_points"] or DEFAULT_MAX_POINTS)
    inside = len(window_indices(snap.step, view["x_min"], view["x_max"]))
    return inside if view["max_points"] is None else min(inside, view["max_points"])


def check_budget(points: int, what: str, fix: str) -> None:
    if points > MAX_RESPONSE_POINTS:
        raise BadRequest(f"{what} {points} points, more than one response may carry "
                         f"({MAX_RESPONSE_POINTS}); {fix}")


def scalars_view(run: str, tag: str, snap: ScalarSnapshot, view: dict) -> dict:
    """The /api/scalars body: a downsampled or windowed view of one series. Columns are
    numpy arrays (orjson writes them directly; NaN and ±inf become null)."""
    n = len(snap.step)
    smoothing = view["smoothing"]
    smoothed = None if smoothing is None else smooth(snap.value, min(smoothing, MAX_SMOOTHING))
    if _windowed(view):
        idx = window_indices(snap.step, view["x_min"], view["x_max"])
        if view["max_points"] is not None and len(idx) > view["max_points"]:
            idx = idx[downsample_indices(snap.value[idx], view["max_points"])]
    else:
        idx = downsample_indices(snap.value, view["max_points"] or DEFAULT_MAX_POINTS)
    full = len(idx) == n

    def column(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(values if full else values[idx])

    body = {
        "run": run,
        "tag": tag,
        "total_points": n,
        "returned_points": int(len(idx)),
        "downsampled": not full and not _windowed(view),
        "step": column(snap.step),
        "wall_time": column(snap.wall_time),
        "value": column(snap.value),
    }
    if smoothed is not None:
        body["smoothed"] = column(smoothed)
    return body


def unique_runs(runs: list[str]) -> list[str]:
    """`runs` without repeats, in the order first asked (at most MAX_MULTI_RUNS)."""
    unique = list(dict.fromkeys(runs))
    if len(unique) > MAX_MULTI_RUNS:
        raise BadRequest(f"{len(unique)} runs asked for; ask for at most {MAX_MULTI_RUNS} "
                         "per request")
    return unique


def multi_snapshots(store: Store, runs: list[str], tag: str, view: dict
                    ) -> list[tuple[str, ScalarSnapshot]]:
    """(run, snapshot) per distinct run in the order first asked: /api/scalars/multi answers
    one series for each. Any unknown run, or a run without `tag`, fails the request (404);
    more than MAX_RESPONSE_POINTS points together fail it (400)."""
    snaps = [(run, series_or_404(store, run, tag)) for run in unique_runs(runs)]
    total = sum(planned_points(snap, view) for _, snap in snaps)
    check_budget(total, f"these {len(snaps)} series hold", "ask for fewer runs or a smaller "
                 "max_points (the frontend falls back to one request per run)")
    return snaps


def csv_chunks(snap: ScalarSnapshot, dialect: str):
    """Every point as CSV (header row, then one row per point), a few thousand rows at a
    time so a series of any length streams in bounded memory."""
    header, order = CSV_COLUMNS[dialect]
    row = ",".join("{}" if name == "step" else "{!r}" for name in order) + "\n"
    yield header + "\n"
    for lo in range(0, len(snap.step), CSV_ROWS_PER_CHUNK):
        cols = [getattr(snap, name)[lo:lo + CSV_ROWS_PER_CHUNK].tolist() for name in order]
        yield "".join(row.format(*values) for values in zip(*cols, strict=True))


def csv_response(snap: ScalarSnapshot, dialect: str, run: str, tag: str) -> Response:
    return StreamingResponse(csv_chunks(snap, dialect), media_type="text/csv; charset=utf-8",
                             headers=attachment(f"{run}_{tag}.csv"))


def tb_rows(snap: ScalarSnapshot) -> list:
    """TensorBoard's /data/plugin/scalars/scalars body: [[wall_time, step, value], …]."""
    return [list(row) for row in zip(float_list(snap.wall_time), snap.step.tolist(),
                                     float_list(snap.value), strict=True)]


def tb_tags_impl(store: Store) -> dict:
    """TensorBoard's /data/plugin/scalars/tags body: {run: {tag: {displayName, description}}}."""
    return {name: {tag: {"displayName": tag, "description": ""} for tag in tags}
            for name, tags in store.tag_listing("scalars").items()}


@router.get("/api/scalars", summary="One scalar series, downsampled, windowed or smoothed")
async def scalars_route(
    request: Request,
    run: str = Query(..., description="run name from /api/runs"),
    tag: str = Query(..., description="scalar tag of that run"),
    max_points: int | None = Query(None, ge=4, le=MAX_RESPONSE_POINTS),
    x_min: float | None = Query(None, description="lowest step of the zoom window"),
    x_max: float | None = Query(None, description="highest step of the zoom window"),
    smoothing: float | None = Query(None, ge=0.0, le=1.0),
    format: Literal["json", "csv"] | None = Query(
        None, description="download every point as csv or json (Content-Disposition)"),
) -> Response:
    return await on_series_threads(lambda: scalars_answer(
        request, run, tag, max_points, x_min, x_max, smoothing, format))


def scalars_answer(request: Request, run: str, tag: str, max_points: int | None,
                   x_min: float | None, x_max: float | None, smoothing: float | None,
                   format: str | None) -> Response:
    store: Store = request.app.state.store
    view = check_view(max_points=max_points, x_min=x_min, x_max=x_max, smoothing=smoothing)
    snap = series_or_404(store, run, tag)
    if format == "csv":
        return csv_response(snap, "numboard", run, tag)
    if format == "json":
        check_budget(len(snap.step), f"run {run!r} tag {tag!r} has",
                     "download it with format=csv (streamed)")
        every = {**view, "max_points": max(len(snap.step), 4), "x_min": None, "x_max": None}
        body = scalars_view(run, tag, snap, every)
        return json_response(body, headers=attachment(f"{run}_{tag}.json"))
    check_budget(planned_points(snap, view), "this view holds",
                 "pass max_points or a narrower x_min/x_max window")
    key = ("scalars", run, tag, snap.generation, max_points, x_min, x_max, smoothing)
    return request.app.state.cache.respond(
        request, key, lambda: json_bytes(scalars_view(run, tag, snap, view)))


@router.get("/api/scalars/multi",
            summary="One tag's series for several runs (each as /api/scalars), one request")
async def scalars_multi_route(
    request: Request,
    run: Annotated[list[str], Query(description="run names from /api/runs; repeat it")],
    tag: str = Query(..., description="scalar tag"),
    max_points: int | None = Query(None, ge=4, le=MAX_RESPONSE_POINTS),
    x_min: float | None = Query(None, description="lowest step of the zoom window"),
    x_max: float | None = Query(None, description="highest step of the zoom window"),
    smoothing: float | None = Query(None, ge=0.0, le=1.0),
) -> Response:
    return await on_series_threads(lambda: scalars_multi_answer(
        request, run, tag, max_points, x_min, x_max, smoothing))


def scalars_multi_answer(request: Request, run: list[str], tag: str, max_points: int | None,
                         x_min: float | None, x_max: float | None,
                         smoothing: float | None) -> Response:
    store: Store = request.app.state.store
    view = check_view(max_points=max_points, x_min=x_min, x_max=x_max, smoothing=smoothing)
    snaps = multi_snapshots(store, run, tag, view)
    key = ("scalars-multi", tuple((r, s.generation) for r, s in snaps), tag, max_points,
           x_min, x_max, smoothing)
    return request.app.state.cache.respond(request, key, lambda: json_bytes(
        {"tag": tag, "series": [scalars_view(r, tag, s, view) for r, s in snaps]}))


@router.get("/data/plugin/scalars/tags", summary="TensorBoard-compatible scalar tag listing")
def tb_tags_route(request: Request) -> Response:
    return json_response(tb_tags_impl(request.app.state.store))


@router.get("/data/plugin/scalars/scalars",
            summary="TensorBoard-compatible series: [[wall_time, step, value], …]")
def tb_scalars_route(request: Request, run: str = Query(...), tag: str = Query(...),
                     format: Literal["json", "csv"] | None = Query(None)) -> Response:
    store: Store = request.app.state.store
    snap = series_or_404(store, run, tag)
    if format == "csv":
        return csv_response(snap, "tensorboard", run, tag)
    check_budget(len(snap.step), f"run {run!r} tag {tag!r} has",
                 "download it with format=csv (streamed), or use /api/scalars?max_points=")
    key = ("tb-scalars", run, tag, snap.generation)
    return request.app.state.cache.respond(request, key, lambda: json_bytes(tb_rows(snap)))
