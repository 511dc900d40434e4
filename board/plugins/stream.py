"""Server-sent events: /api/stream (SPEC §5).

Each new piece of data is announced as `data: {"run", "plugin", "tag", "step"}` with an
`id:` line (the store's change sequence number, so a reconnecting EventSource resumes with
Last-Event-ID). A comment line is sent as a heartbeat when nothing happened for a while, so
proxies keep the connection and a gone client is noticed. The loader runs in a thread; the
stream polls the store's version counter (a few microseconds) every POLL seconds. At most
MAX_STREAMS streams are open at once; past it the answer is a 503.
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from ..errors import Unavailable
from ..store import Store

router = APIRouter()

POLL = 0.1
MAX_STREAMS = 100  # open at once; past it a new one is a 503 (JSON error, Retry-After)


def _message(change) -> str:
    data = {"run": change.run, "plugin": change.plugin, "tag": change.tag, "step": change.step}
    return f"id: {change.seq}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class _CountedStream(StreamingResponse):
    """A stream that holds one of the app's MAX_STREAMS places until it ends, however it
    ends (the place is taken in the route, before any await, so a burst cannot overshoot)."""

    def __init__(self, state, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state = state

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.state.open_streams -= 1


async def _events(request: Request, store: Store, since: int, heartbeat: float):
    yield f"retry: 2000\n: connected at {store.version}\n\n"
    async for chunk in _changes(request, store, since, heartbeat):
        yield chunk


async def _changes(request: Request, store: Store, since: int, heartbeat: float):
    idle = 0.0
    while True:
        if await request.is_disconnected():
            return
        changes = store.changes_since(since) if store.version > since else []
        if changes:
            since = changes[-1].seq
            yield "".join(_message(c) for c in changes)
            idle = 0.0
        elif store.version > since:
            since = store.version  # changes that leave no message (e.g. counters)
        await asyncio.sleep(POLL)
        idle += POLL
        if idle >= heartbeat:
            idle = 0.0
            yield ": heartbeat\n\n"


@router.get("/api/stream", summary="Server-sent events announcing new data",
            response_class=StreamingResponse)
async def stream_route(request: Request) -> StreamingResponse:
    state = request.app.state
    if state.open_streams >= MAX_STREAMS:
        raise Unavailable(f"{state.open_streams} event streams are open, the most this board "
                          "serves; close a tab or retry later")
    store: Store = state.store
    since = store.version
    last = request.headers.get("last-event-id", "")
    if 0 < len(last) <= 18 and last.isascii() and last.isdigit():  # else: ignore it
        since = min(int(last), store.version)
    state.open_streams += 1
    return _CountedStream(
        state, _events(request, store, since, state.heartbeat),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
