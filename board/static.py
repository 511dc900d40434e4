"""The frontend's files, served from a whitelist built once at start-up (SPEC §6, §9).

Every regular file under the repo's `frontend/` folder is served at `/<its relative path>`
(`/` is `index.html`), and plotly.js from the installed `plotly` package at
`/static/plotly.min.js`. A request path is only a key into that dictionary: nothing from a
request ever reaches the file system, so `..` or symlink tricks have nothing to escape.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from .errors import NotFound

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
PLOTLY_URL = "static/plotly.min.js"
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
          ".html": "text/html", ".svg": "image/svg+xml", ".json": "application/json",
          ".map": "application/json", ".ico": "image/x-icon", ".png": "image/png",
          ".woff2": "font/woff2", ".txt": "text/plain"}

FALLBACK_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>numboard</title>
</head><body><h1>numboard</h1><p>The frontend folder is not installed next to this board
package. The HTTP API works: <a href="/api/runs">/api/runs</a>, <a href="/docs">/docs</a>.</p>
</body></html>"""


def plotly_path() -> Path | None:
    """plotly.min.js shipped inside the plotly Python package (no CDN, works offline)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("plotly")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def build_whitelist(frontend: Path | None = None) -> dict[str, Path]:
    """URL path (no leading slash) -> absolute file, for every file served statically."""
    root = Path(frontend or FRONTEND_DIR)
    files: dict[str, Path] = {}
    if root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                rel = path.relative_to(root).as_posix()
                files[rel] = path.resolve()
    plotly = plotly_path()
    if plotly is not None:
        files[PLOTLY_URL] = plotly
    return files


def media_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or \
        "application/octet-stream"


def router(whitelist: dict[str, Path]) -> APIRouter:
    """Routes for `/` and every whitelisted file; registered last (a catch-all)."""
    api = APIRouter()

    @api.get("/", include_in_schema=False)
    def index() -> Response:
        page = whitelist.get("index.html")
        if page is None:
            return HTMLResponse(FALLBACK_PAGE)
        return FileResponse(page, media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    @api.get("/{path:path}", include_in_schema=False)
    def static_file(path: str, request: Request) -> Response:
        file = whitelist.get(path)
        if file is None:
            raise NotFound(f"no route or file at /{path[:200]}; the API is listed at /docs")
        kind = media_type(file)
        if kind.startswith("text/") and "charset" not in kind:
            kind += "; charset=utf-8"
        return FileResponse(file, media_type=kind, headers={"Cache-Control": "no-cache"})

    return api
