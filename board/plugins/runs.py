"""Runs: /api/runs, /healthz and TensorBoard's /data/runs (SPEC §5)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from writer.storage import redact_url

from ..responses import json_response
from ..store import Store

router = APIRouter()


def runs_impl(store: Store, sources=()) -> dict:
    """Every run (sorted by name) with its tags per plugin, graph flag and health; plus the
    watched logdir(s) as given on the command line (`logdir`, or `logdirs` for a spec)."""
    with store.lock:
        runs = [{
            "name": name,
            "tags": {"scalars": sorted(d.scalars),
                     "images": sorted(t for t, s in d.images.items() if s),
                     "histograms": sorted(t for t, s in d.histograms.items() if s)},
            "has_graph": d.graph is not None,
            "corrupt_records": d.corrupt_records,
            "errors": list(d.errors),
            "last_wall_time": d.last_wall_time,
        } for name, d in sorted(store.runs.items())]
        body = {"runs": runs, "loading": store.loading, "version": store.version,
                "errors": sorted(store.logdir_errors.values())}
    shown = [redact_url(str(s.path)) for s in sources]  # never a user:secret@ part
    if len(sources) == 1 and sources[0].name is None:
        body["logdir"] = shown[0]
    elif sources:
        body["logdirs"] = [f"{s.name}:{p}" if s.name else p for s, p in zip(sources, shown,
                                                                          strict=True)]
    return body


@router.get("/healthz", summary="Liveness check")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/api/runs", summary="Runs with their tags, graph flag and corrupt-record count")
def runs_route(request: Request) -> Response:
    return json_response(runs_impl(request.app.state.store, request.app.state.sources))


@router.get("/data/runs", summary="TensorBoard-compatible run list")
def tb_runs_route(request: Request) -> Response:
    return json_response(request.app.state.store.run_names())
