"""Runs: /api/runs, /healthz and TensorBoard's /data/runs (SPEC §5)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

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
        body = {"runs": runs, "loading": store.loading, "version": store.version}
    if len(sources) == 1 and sources[0].name is None:
        body["logdir"] = str(sources[0].path)
    elif sources:
        body["logdirs"] = [f"{s.name}:{s.path}" if s.name else str(s.path) for s in sources]
    return body


def compact_listing(body: dict) -> dict:
    """The `?compact=1` form of a runs body: per run only what the page uses (name, graph flag,
    corrupt-record count and the index of its tags in `tag_sets`, each distinct set listed
    once). A thousand runs logging the same tags then cost a thousand short lines."""
    index: dict[tuple, int] = {}
    tag_sets, runs = [], []
    for run in body["runs"]:
        tags = run["tags"]
        key = tuple(tuple(tags[kind]) for kind in sorted(tags))
        if key not in index:
            index[key] = len(tag_sets)
            tag_sets.append(tags)
        runs.append({"name": run["name"], "tag_set": index[key], "has_graph": run["has_graph"],
                     "corrupt_records": run["corrupt_records"]})
    return {**body, "runs": runs, "tag_sets": tag_sets}


@router.get("/healthz", summary="Liveness check")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/api/runs", summary="Runs with their tags, graph flag and corrupt-record count")
def runs_route(request: Request, compact: bool = Query(
        False, description="per run only name, tag_set, has_graph, corrupt_records")) -> Response:
    body = runs_impl(request.app.state.store, request.app.state.sources)
    return json_response(compact_listing(body) if compact else body)


@router.get("/data/runs", summary="TensorBoard-compatible run list")
def tb_runs_route(request: Request) -> Response:
    return json_response(request.app.state.store.run_names())
