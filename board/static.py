"""The frontend's files, served from a whitelist built once at start-up (SPEC §6, §9).

Every regular file under the `frontend/` folder is served at `/<its relative path>`
(`/` is `index.html`), and plotly.js from the installed `plotly` package at
`/static/plotly.min.js`. The folder is `board/frontend` in an installed package (the wheel
copies the repository's top-level `frontend/` there, see setup.py), else the repository's
`frontend/` next to `board/` (a source checkout or an editable install). A request path is
only a key into that dictionary: nothing from a request ever reaches the file system, so
`..` or symlink tricks have nothing to escape.

Every file is read and gzip-compressed once, in a background thread at start-up (again
only if it changed on disk), and answered from memory: plotly.min.js is 4.8 MB, and
compressing it on every request made it the slowest part of opening the page.

The page itself loads every file under a content-hashed URL, `/h/<digest>/<path>`, answered
with `Cache-Control: immutable`: a repeat visit takes them from the browser's cache without
asking, and with them the code V8 compiled last time. The digest of a frontend file is that
of the whole frontend (modules import each other by relative URLs, which then stay in the
same hashed folder); plotly's is its own, so editing the frontend keeps plotly cached.
frontend/sw.js, a service worker the page registers, keeps the hashed files in CacheStorage
(and nothing else). `/` rewrites index.html's `href`/`src` attributes to those URLs on each request (it is
`no-cache`), so an edited file gets a new URL at once. A hashed URL whose digest is not the
current one still answers the current file, but `no-cache`. The plain paths stay served with
an ETag and `Cache-Control: no-cache` (revalidated with `If-None-Match`: a 304, no body).
"""

from __future__ import annotations

import hashlib
import importlib.util
import mimetypes
import os
import re
import threading
import zlib
from pathlib import Path
from typing import NamedTuple

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from .errors import NotFound

PACKAGE_DIR = Path(__file__).resolve().parent
FRONTEND_DIRS = (PACKAGE_DIR / "frontend", PACKAGE_DIR.parent / "frontend")  # installed, checkout
PLOTLY_URL = "static/plotly.min.js"
HASHED = "h/"  # h/<digest>/<path>
IMMUTABLE = "public, max-age=31536000, immutable"
_REFERENCE = re.compile(r'\b(href|src)="([^"#?:]+)"')
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
        spec = importlib.util.find_spec("plotly")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def frontend_dir() -> Path | None:
    """The installed package's frontend, else the source checkout's; None when neither."""
    return next((d for d in FRONTEND_DIRS if (d / "index.html").is_file()), None)


def build_whitelist(frontend: Path | None = None) -> dict[str, Path]:
    """URL path (no leading slash) -> absolute file, for every file served statically."""
    root = Path(frontend or frontend_dir() or FRONTEND_DIRS[0])
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


class Encoded(NamedTuple):
    """A static file in memory: its bytes, their gzip member (None when not smaller), ETag."""

    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str


def encode_file(file: Path) -> Encoded:
    """Read `file` once; gzip it (level 6) when that makes it smaller."""
    kind = media_type(file)
    if kind.startswith("text/") and "charset" not in kind:
        kind += "; charset=utf-8"
    return encode_bytes(file.read_bytes(), kind)


def encode_bytes(body: bytes, kind: str) -> Encoded:
    """`body` with its gzip member (level 6, when smaller) and ETag."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    gzipped = compressor.compress(body) + compressor.flush()
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    return Encoded(body, gzipped if len(gzipped) < len(body) else None, etag, kind)


def file_response(entry: Encoded, request: Request, cache: str = "no-cache") -> Response:
    """200 with the (gzipped if accepted) bytes, or 304 when the client's ETag matches."""
    headers = {"Cache-Control": cache, "ETag": entry.etag, "Vary": "Accept-Encoding"}
    match = request.headers.get("if-none-match", "")
    if entry.etag in (tag.strip().removeprefix("W/") for tag in match.split(",")):
        return Response(status_code=304, headers=headers)
    if entry.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(entry.gzipped, media_type=entry.media_type, headers=headers)
    return Response(entry.body, media_type=entry.media_type, headers=headers)


_encoded: dict[Path, tuple[tuple[int, int], Encoded]] = {}
_encoded_lock = threading.Lock()


def encoded(file: Path) -> Encoded:
    """`file` in memory, shared by every app of the process; read again only when its size or
    mtime changed (editing the frontend while the board runs)."""
    stat = file.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    with _encoded_lock:  # one read and compression per file, even under concurrent requests
        hit = _encoded.get(file)
        if hit is None or hit[0] != version:
            hit = _encoded[file] = (version, encode_file(file))
        return hit[1]


def warm(files) -> None:
    """Read and compress `files` ahead of their first request."""
    for file in files:
        try:
            encoded(file)
        except OSError:  # gone since start-up: its request answers the error
            pass


def digests(whitelist: dict[str, Path]) -> dict[str, str]:
    """URL path -> the digest of its hashed URL: plotly's own content, or every frontend
    file's together (changes when any of them changes on disk)."""
    tree = hashlib.blake2b(digest_size=8)
    for path, file in sorted(whitelist.items()):
        if path != PLOTLY_URL:
            tree.update(f"{path}\0{encoded(file).etag}\0".encode())
    out = dict.fromkeys(whitelist, tree.hexdigest())
    if PLOTLY_URL in whitelist:
        out[PLOTLY_URL] = encoded(whitelist[PLOTLY_URL]).etag.strip('"')[:16]
    return out


def hashed_index(page: bytes, digest_of: dict[str, str]) -> bytes:
    """index.html with every href/src naming a served file pointed at its hashed URL."""
    def point(match: re.Match) -> str:
        attr, path = match.groups()
        if path not in digest_of:
            return match.group(0)
        return f'{attr}="{HASHED}{digest_of[path]}/{path}"'

    return _REFERENCE.sub(point, page.decode()).encode()


def router(whitelist: dict[str, Path]) -> APIRouter:
    """Routes for `/`, the hashed URLs and every whitelisted file; registered last (a
    catch-all)."""
    api = APIRouter()
    # zlib releases the GIL: compressing plotly.min.js here costs the server nothing, and
    # the first page load no compression either.
    threading.Thread(target=warm, args=(list(whitelist.values()),), name="static-warm",
                     daemon=True).start()
    pages: dict[tuple, Encoded] = {}  # the rewritten index.html per set of digests

    def index_entry() -> Encoded:
        digest_of = digests(whitelist)
        key = tuple(sorted(set(digest_of.values())))
        entry = pages.get(key)
        if entry is None:
            body = hashed_index(encoded(whitelist["index.html"]).body, digest_of)
            entry = encode_bytes(body, "text/html; charset=utf-8")
            pages.clear()
            pages[key] = entry
        return entry

    @api.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        if "index.html" not in whitelist:
            return HTMLResponse(FALLBACK_PAGE)
        return file_response(index_entry(), request)

    @api.get("/h/{digest}/{path:path}", include_in_schema=False)
    def hashed_file(digest: str, path: str, request: Request) -> Response:
        if path not in whitelist:
            raise NotFound(f"no file at /{path[:200]}; the API is listed at /docs")
        current = digests(whitelist)[path] == digest
        return file_response(encoded(whitelist[path]), request,
                             IMMUTABLE if current else "no-cache")

    @api.get("/{path:path}", include_in_schema=False)
    def static_file(path: str, request: Request) -> Response:
        if path not in whitelist:
            raise NotFound(f"no route or file at /{path[:200]}; the API is listed at /docs")
        return file_response(encoded(whitelist[path]), request)

    return api
