"""The FastAPI application factory (SPEC §5).

`create_app(logdir)` wires the store, the background loader (started on app start-up,
stopped on shutdown), the plugin routers, the security middleware, the one JSON error shape
and the frontend. Routes are thin: parse, call an *_impl, respond.
"""

from __future__ import annotations

import html
import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, Response

from . import __version__, static
from .cache import GZIP_LEVEL, EncodedCache
from .errors import ApiError, error_body
from .loader.discover import sources_for
from .loader.loader import Loader
from .plugins import export, graphs, histograms, images, runs, runs_table, scalars, stream, text
from .responses import json_response
from .security import LOOPBACK_NAMES, HostCheck, SecurityHeaders, TokenAuth, check_token
from .store import Store

log = logging.getLogger("board")

DEFAULT_RELOAD_INTERVAL = 2.0
HEARTBEAT = 15.0


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "query")
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request parameters — " + "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        headers = {"Retry-After": "5"} if exc.code == 503 else None
        return json_response(error_body(exc.code, exc.message), status_code=exc.code,
                             headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        return json_response(error_body(422, _validation_message(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return json_response(error_body(exc.status_code, str(exc.detail)),
                             status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return json_response(error_body(500, f"internal error ({type(exc).__name__}); "
                                             "the server log has details"), status_code=500)


def _docs_page(app: FastAPI) -> str:
    """A script-free /docs page listing every route from the OpenAPI schema."""
    schema = app.openapi()
    rows = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            params = ", ".join(p["name"] + ("" if p.get("required") else "?")
                               for p in op.get("parameters", []))
            rows.append(f"<tr><td>{html.escape(method.upper())}</td><td><code>"
                        f"{html.escape(path)}</code></td><td>{html.escape(params)}</td>"
                        f"<td>{html.escape(op.get('summary', ''))}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>numboard API</title>"
            "</head><body><h1>numboard HTTP API</h1><p>Machine-readable: "
            "<a href='/openapi.json'>/openapi.json</a>. Shapes and examples: "
            "docs/http_api.md.</p><table><tr><th>method</th><th>path</th><th>parameters"
            "</th><th>what</th></tr>" + "".join(rows) + "</table></body></html>")


def create_app(logdir: str | os.PathLike | None = None, *, logdir_spec: str | None = None,
               reload_interval: float = DEFAULT_RELOAD_INTERVAL,
               auth_token: str | None = None, allowed_hosts=(), watch: bool = True,
               frontend_dir: str | os.PathLike | None = None,
               heartbeat: float = HEARTBEAT, loader: Loader | None = None) -> FastAPI:
    """Build the board app. The loader thread starts with the app's lifespan; tests that
    want determinism can skip the lifespan and call `app.state.loader.cycle()` directly.
    The CLI passes a `loader` it already started (loading overlaps the web imports).
    Requests are answered for loopback names, IP addresses and `allowed_hosts` ("*": any).
    An `auth_token` that is empty or whitespace is a ValueError."""
    if auth_token is not None:
        auth_token = check_token(auth_token)
    if loader is None:
        loader = Loader(Store(), sources_for(logdir, logdir_spec),
                        reload_interval=reload_interval, watch=watch)
    store, sources = loader.store, loader.sources

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        loader.start()
        try:
            yield
        finally:
            loader.stop()

    app = FastAPI(title="numboard", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/openapi.json",
                  description="A TensorBoard in pure Python. See docs/http_api.md.")
    app.state.store = store
    app.state.loader = loader
    app.state.sources = sources
    app.state.heartbeat = heartbeat
    app.state.open_streams = 0  # live /api/stream connections
    app.state.cache = EncodedCache()
    app.state.layout_cache = graphs.new_layout_cache()
    app.state.runs_table = runs_table.TableCache()
    _install_error_handlers(app)
    for module in (runs, runs_table, scalars, export, images, histograms, graphs, stream, text):
        app.include_router(module.router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_docs_page(app))

    app.include_router(static.router(static.build_whitelist(frontend_dir)))
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL)
    if auth_token is not None:
        app.add_middleware(TokenAuth, token=auth_token)
    app.add_middleware(HostCheck, allowed=(*LOOPBACK_NAMES, *allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app


def route_paths(app: FastAPI) -> list[str]:
    """Every path the app answers (including routers and non-schema routes), sorted."""
    paths: set[str] = set()

    def walk(routes) -> None:
        for route in routes:
            if getattr(route, "path", None) is not None:
                paths.add(route.path)
            inner = getattr(route, "original_router", None) or getattr(route, "router", None)
            if inner is not None and inner is not app.router:
                walk(inner.routes)

    walk(app.routes)
    return sorted(paths)
