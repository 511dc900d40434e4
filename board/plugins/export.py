"""Download everything selected at once: /api/scalars/export (docs/http_api.md).

The page's selection is runs × tags; every series of it that exists (not every run holds every
tag) goes into one zip of CSVs (`<run>/<tag>.csv`, the columns of `/api/scalars?format=csv`)
or one JSON document. Every point is included, so the request has a budget: a selection over
`MAX_EXPORT_POINTS` points is refused with a message saying how many it holds.
The archive is built from the store in memory; run and tag names only ever become names
inside the archive (made safe for unpacking), never paths on the server.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..errors import BadRequest, NotFound
from ..responses import attachment, float_list, json_response
from ..store import ScalarSnapshot, Store
from .lookup import require_run
from .scalars import csv_chunks

MAX_EXPORT_POINTS = 20_000_000
_UNSAFE_PART = re.compile(r"[^A-Za-z0-9._=+-]+")

router = APIRouter()


def select_series(store: Store, runs: list[str] | None, tags: list[str] | None
                  ) -> list[tuple[str, str, ScalarSnapshot]]:
    """(run, tag, snapshot) for every run × tag of the selection that holds data, in run then
    tag order. `runs=None`: every run; `tags=None`: every scalar tag of the chosen runs.
    An unknown run is a 404; a selection without any series is a 404 that says so."""
    names = store.run_names() if not runs else list(dict.fromkeys(runs))
    chosen = []
    for run in names:
        require_run(store, run)
        wanted = store.tags(run, "scalars") if not tags else list(dict.fromkeys(tags))
        for tag in wanted:
            snap = store.scalars(run, tag)
            if snap is not None:
                chosen.append((run, tag, snap))
    if not chosen:
        raise NotFound(f"no scalar series in the selection (runs {runs or 'all'}, tags "
                       f"{tags or 'all'}); pick runs and tags listed by /api/runs")
    return chosen


def check_budget(chosen, budget: int) -> int:
    total = sum(len(snap.step) for _, _, snap in chosen)
    if total > budget:
        raise BadRequest(f"the selection holds {total:,} points in {len(chosen)} series, more "
                         f"than the {budget:,} one download may carry; select fewer runs or "
                         "tags (or download them in parts)")
    return total


def archive_name(run: str, tag: str) -> str:
    """`<run>/<tag>.csv` with every path part made safe: no `..`, no absolute paths, no
    characters that file systems reject (a zip unpacks outside its folder otherwise)."""
    def safe(part: str) -> str:
        return _UNSAFE_PART.sub("_", part).strip(".") or "_"

    run_parts = [safe(p) for p in run.split("/") if p not in ("", ".")] or ["_root"]
    return "/".join([*run_parts, safe(tag.replace("/", "__"))]) + ".csv"


def export_zip_impl(store: Store, runs: list[str] | None, tags: list[str] | None, *,
                    budget: int = MAX_EXPORT_POINTS) -> bytes:
    """A zip holding one `step,wall_time,value` CSV per selected series."""
    chosen = select_series(store, runs, tags)
    check_budget(chosen, budget)
    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for run, tag, snap in chosen:
            name = archive_name(run, tag)
            stem, k = name[:-4], 2
            while name in seen:  # two names that differ only in unsafe characters
                name, k = f"{stem}-{k}.csv", k + 1
            seen.add(name)
            archive.writestr(name, "".join(csv_chunks(snap, "numboard")))
    return buffer.getvalue()


def export_json_impl(store: Store, runs: list[str] | None, tags: list[str] | None, *,
                     budget: int = MAX_EXPORT_POINTS) -> dict:
    """`{"total_points", "series": [{"run", "tag", "step", "wall_time", "value"}]}`."""
    chosen = select_series(store, runs, tags)
    total = check_budget(chosen, budget)
    series = [{"run": run, "tag": tag, "step": snap.step.tolist(),
               "wall_time": float_list(snap.wall_time), "value": float_list(snap.value)}
              for run, tag, snap in chosen]
    return {"total_points": total, "series": series}


@router.get("/api/scalars/export",
            summary="Every point of the selected runs × tags as one zip of CSVs or one JSON")
def export_route(
    request: Request,
    run: Annotated[list[str] | None, Query(description="runs to include (repeat); all if "
                                                       "left out")] = None,
    tag: Annotated[list[str] | None, Query(description="scalar tags to include (repeat); "
                                                       "all if left out")] = None,
    format: Literal["zip", "json"] = Query("zip"),
) -> Response:
    store: Store = request.app.state.store
    if format == "json":
        return json_response(export_json_impl(store, run, tag),
                             headers=attachment("scalars.json"))
    return Response(export_zip_impl(store, run, tag), media_type="application/zip",
                    headers=attachment("scalars.zip"))
