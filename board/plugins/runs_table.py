"""The Runs table: /api/runs/table (SPEC §5b, docs/http_api.md).

One row per run: its hyperparameters and, per scalar tag, last/min/max with their steps,
point count and last update. The numbers are kept current at ingest (board.runs_table), so
an answer never scans points. Rows are kept encoded, as JSON and as a deflate segment each;
when the store changes, its change log (``Store.changes_since``) names the runs to
re-encode, and the body is their join. So 1000 runs × 20 tags cost a lookup when nothing
moved and one row's encoding (plus a join and a CRC) when one run got a point.
"""

from __future__ import annotations

import struct
import threading
import zlib

from fastapi import APIRouter, Request
from starlette.responses import Response

from .. import runs_table
from ..cache import GZIP_LEVEL
from ..responses import json_bytes
from ..store import Store

router = APIRouter()

_GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # RFC 1952, no name, no mtime
_DEFLATE_END = b"\x03\x00"  # an empty final fixed-Huffman block


def deflate_segment(data: bytes) -> bytes:
    """Raw deflate of `data`, ending byte-aligned and not final (a full flush): segments
    made this way concatenate into one valid stream (RFC 1951), each compressed once."""
    # A 4 KiB window and a small memLevel: a row is a few KiB, and setting up zlib's default
    # 32 KiB window and tables costs six times more than compressing the row.
    c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -12, 4)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def gzip_of_segments(body: bytes, segments: list[bytes]) -> bytes:
    """One gzip member of `body`, given deflate segments whose inputs join into `body`."""
    return b"".join((_GZIP_HEAD, *segments, _DEFLATE_END,
                     struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)))


class TableCache:
    """Encoded rows per run and the last whole body, with the store version it is for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = -1
        self.body = b""
        self.gzipped = b""
        self.rows: dict[str, tuple[bytes, bytes]] = {}  # run -> (JSON, deflate segment)
        self.tags: set[str] = set()


def _changed_runs(store: Store, cache: TableCache) -> set[str] | None:
    """Runs whose rows changed since the cached body (a session's new hparams change the
    rows below it too), or None when every row must be rebuilt: the first time, or when the
    change log no longer reaches back to the cached version."""
    if cache.version < 0:
        return None
    changes = store.changes_since(cache.version)
    if changes and changes[0].seq > cache.version + 1:
        return None  # a gap: maybe dropped from the log (or a counter-only bump): be safe
    changed = {c.run for c in changes}
    for session in {c.run for c in changes if c.plugin == "hparams"}:
        if session == ".":
            return None
        changed.update(name for name in store.run_names() if name.startswith(session + "/"))
    return changed


def _encode(name: str, data, sessions: dict) -> tuple[bytes, bytes]:
    row = json_bytes(runs_table.run_row(name, data, sessions))
    return row, deflate_segment(row)


def refresh(store: Store, cache: TableCache, runs) -> None:
    """Bring `cache` up to the store's version; `runs` is what `store.reading()` gives.
    Caller holds the cache's lock and the store's."""
    sessions = runs_table.session_hparams(runs)
    changed = _changed_runs(store, cache)
    gone = cache.rows.keys() - runs.keys()
    for name in gone:
        del cache.rows[name]
    if changed is None or gone:
        cache.tags = {tag for d in runs.values() for tag in d.scalars}
    for name, data in runs.items():
        if changed is None or name in changed or name not in cache.rows:
            cache.rows[name] = _encode(name, data, sessions)
            cache.tags.update(data.scalars)
    experiment, inferred = runs_table.experiment(runs, sessions)
    tail = json_bytes({"metric_fields": runs_table.METRIC_FIELDS,
                       "columns": runs_table.columns(sessions, experiment, cache.tags),
                       "experiment": experiment, "experiment_inferred": inferred,
                       "version": store.version})
    ordered = [cache.rows[name] for name in sorted(runs)]
    head = b'{"runs":['
    middle = [b"," + row if i else row for i, (row, _seg) in enumerate(ordered)]
    end = b"]," + tail[1:]
    cache.body = b"".join((head, *middle, end))
    comma = deflate_segment(b",")
    segments = [deflate_segment(head)]
    for i, (_row, seg) in enumerate(ordered):
        segments += [comma, seg] if i else [seg]
    segments.append(deflate_segment(end))
    cache.gzipped = gzip_of_segments(cache.body, segments)
    cache.version = store.version


def runs_table_bytes(store: Store, cache: TableCache, gzip: bool = False) -> bytes:
    """The /api/runs/table body as JSON bytes (or their gzip)."""
    with cache.lock, store.reading() as runs:
        if cache.version != store.version:
            refresh(store, cache, runs)
        return cache.gzipped if gzip else cache.body


@router.get("/api/runs/table", summary="One row per run: hyperparameters and per-tag "
                                       "last/min/max")
def runs_table_route(request: Request) -> Response:
    cache = request.app.state.runs_table
    gzip = "gzip" in request.headers.get("accept-encoding", "")
    body = runs_table_bytes(request.app.state.store, cache, gzip)
    if not gzip:
        return Response(body, media_type="application/json")
    return Response(body, media_type="application/json",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
