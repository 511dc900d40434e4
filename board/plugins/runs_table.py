"""The Runs table: /api/runs/table (SPEC §5b, docs/http_api.md).

One row per run: its hyperparameters and, per scalar tag, last/min/max with their steps,
point count and last update. The numbers are kept current at ingest (board.runs_table); a
request joins rows that are already encoded. A row is re-encoded only when its run changed,
and the whole body only when the store did, so 1000 runs × 20 tags cost a dictionary lookup
when nothing moved and a few re-encoded rows while runs train.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from starlette.responses import Response

from .. import runs_table
from ..cache import GZIP_MIN, gzip_bytes
from ..responses import json_bytes
from ..store import Store

router = APIRouter()


class TableCache:
    """Encoded rows per run and the last whole body, with the store version it is for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = -1
        self.body = b""
        self.gzipped: tuple[bytes, bytes] | None = None  # (body, its gzip) for the last body
        self.rows: dict[str, tuple[tuple, bytes]] = {}


def runs_table_bytes(store: Store, cache: TableCache) -> bytes:
    """The /api/runs/table body as JSON bytes."""
    with cache.lock, store.lock:
        if cache.version == store.version:
            return cache.body
        runs = store.runs
        sessions = runs_table.session_hparams(runs)
        parts = []
        for name in sorted(runs):
            data = runs[name]
            key = runs_table.row_key(name, data, sessions, runs)
            hit = cache.rows.get(name)
            if hit is None or hit[0] != key:
                hit = cache.rows[name] = (key, json_bytes(runs_table.run_row(name, data, sessions)))
            parts.append(hit[1])
        for gone in cache.rows.keys() - runs.keys():
            del cache.rows[gone]
        experiment, inferred = runs_table.experiment(runs, sessions)
        tail = json_bytes({"columns": runs_table.columns(runs, sessions, experiment),
                           "experiment": experiment, "experiment_inferred": inferred,
                           "version": store.version})
        cache.body = b'{"runs":[' + b",".join(parts) + b"]," + tail[1:]
        cache.version = store.version
        return cache.body


@router.get("/api/runs/table", summary="One row per run: hyperparameters and per-tag "
                                       "last/min/max")
def runs_table_route(request: Request) -> Response:
    cache = request.app.state.runs_table
    body = runs_table_bytes(request.app.state.store, cache)
    if "gzip" not in request.headers.get("accept-encoding", "") or len(body) < GZIP_MIN:
        return Response(body, media_type="application/json")
    zipped = cache.gzipped
    if zipped is None or zipped[0] is not body:  # a megabyte compresses in ~10 ms: once
        zipped = cache.gzipped = (body, gzip_bytes(body))
    return Response(zipped[1], media_type="application/json",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
