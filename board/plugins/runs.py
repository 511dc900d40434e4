"""Runs: /api/runs, /healthz and TensorBoard's /data/runs (SPEC §5)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from writer.storage import redact_url

from ..responses import json_response
from ..store import Store

router = APIRouter()
MAX_RUNS = 1 << 31  # bound of the paging parameters (integers past it are a 422)


def runs_impl(store: Store, sources=(), offset: int = 0, limit: int | None = None) -> dict:
    """Every run (sorted by name) with its tags per plugin, graph flag and health; plus the
    watched logdir(s) as given on the command line (`logdir`, or `logdirs` for a spec).
    `offset`/`limit` page through the runs; `total` counts them all."""
    version, loading = store.version, store.loading  # read first: never newer than the runs
    runs, total = store.listing(offset, limit)
    body = {"runs": runs, "total": total, "offset": offset, "loading": loading,
            "version": version, "errors": store.logdir_errors()}
    shown = [redact_url(str(s.path)) for s in sources]  # never a user:secret@ part
    if len(sources) == 1 and sources[0].name is None:
        body["logdir"] = shown[0]
    elif sources:
        body["logdirs"] = [f"{s.name}:{p}" if s.name else p for s, p in zip(sources, shown,
                                                                          strict=True)]
    return body


def compact_listing(body: dict) -> dict:
    """The `?compact=1` form of a runs body: per run only what the page uses (name, graph flag,
    run metadata tags when it has any, corrupt-record count and the index of its tags in `tag_sets`, each distinct set listed
    once). A thousand runs logging the same tags then cost a thousand short lines."""
    index: dict[tuple, int] = {}
    tag_sets, runs = [], []
    for run in body["runs"]:
        tags = run["tags"]
        key = tuple(tuple(tags[kind]) for kind in sorted(tags))
        if key not in index:
            index[key] = len(tag_sets)
            tag_sets.append(tags)
        short = {"name": run["name"], "tag_set": index[key], "has_graph": run["has_graph"],
                 "corrupt_records": run["corrupt_records"]}
        if run["run_metadata"]:  # most runs have none: no key then
            short["run_metadata"] = run["run_metadata"]
        runs.append(short)
    return {**body, "runs": runs, "tag_sets": tag_sets}


@router.get("/healthz", summary="Liveness check")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/api/runs", summary="Runs with their tags, graph flag and corrupt-record count")
def runs_route(
    request: Request,
    offset: int = Query(0, ge=0, le=MAX_RUNS, description="first run listed (by name)"),
    limit: int | None = Query(None, ge=1, le=MAX_RUNS, description="most runs listed"),
    compact: bool = Query(False, description="per run only name, tag_set, has_graph, "
                          "corrupt_records"),
) -> Response:
    body = runs_impl(request.app.state.store, request.app.state.sources, offset, limit)
    return json_response(compact_listing(body) if compact else body)


@router.get("/data/runs", summary="TensorBoard-compatible run list")
def tb_runs_route(request: Request) -> Response:
    return json_response(request.app.state.store.run_names())
