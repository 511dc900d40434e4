"""The HTTP server around the app: uvicorn with bounds on what slow or many clients may hold.

- Every request's headers must arrive within HEADER_TIMEOUT seconds of the connection being
  made (or of the previous response), else the connection is closed: a slowloris client
  trickling a header byte at a time cannot keep its socket for ever.
- Idle keep-alive connections close after KEEP_ALIVE seconds.
- At most `max_connections()` connections are kept: past it, a new connection first closes
  the oldest one that has no request in progress (an idle or half-sent one), so /healthz and
  real clients still get in while an attacker's sockets go; if every connection is busy the
  new one is closed.
- The soft limit of open files is raised to the hard limit at start-up.
- A request that is not valid HTTP gets the one JSON error shape (400), as every other error.
"""

from __future__ import annotations

import asyncio
import resource

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import error_body
from .responses import json_bytes
from .security import CSP

HEADER_TIMEOUT = 10.0
KEEP_ALIVE = 5
MAX_CONNECTIONS = 1000
ACCEPT_BURST = 64  # connections accepted per wake-up, so shedding keeps up with a flood


def raise_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (where allowed); returns the soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass
    return soft


def max_connections(soft_file_limit: int) -> int:
    """Connections to keep: MAX_CONNECTIONS, or half the descriptors the process may open
    (the rest are event files, the watcher and the loader's pipes)."""
    return max(16, min(MAX_CONNECTIONS, soft_file_limit // 2))


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers and a cap on
    connections (see the module docstring). `limit` is set by `config()`."""

    limit = MAX_CONNECTIONS

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.since = self.loop.time()
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()
        if len(self.connections) > self.limit:
            self._shed()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A request that is not HTTP at all: the one JSON error shape, then close."""
        body = json_bytes(error_body(400, f"{msg} Send an HTTP/1.1 request with well-formed "
                                          "headers."))
        headers = [(b"content-type", b"application/json"), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode()),
                   (b"content-security-policy", CSP.encode()),
                   (b"x-content-type-options", b"nosniff")]
        for event in (h11.Response(status_code=400, headers=headers), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    def busy(self) -> bool:
        """A request whose headers arrived is being answered on this connection."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(HEADER_TIMEOUT, self._expire, self.cycle)

    def _expire(self, cycle_when_armed) -> None:
        """No request began since the deadline was armed: drop the connection."""
        if self.cycle is cycle_when_armed and not self.busy():
            self.transport.close()

    def _shed(self) -> None:
        idle = [c for c in self.connections if c is not self and isinstance(c, GuardedH11)
                and not c.busy() and not c.transport.is_closing()]
        victim = min(idle, key=lambda c: c.since) if idle else self
        victim.transport.close()


def loop_factory():
    """uvloop's event loop where it is installed (its socket writes and thread wake-ups cost
    a fraction of asyncio's on a 400 kB response), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def config(app, soft_file_limit: int) -> uvicorn.Config:
    GuardedH11.limit = max_connections(soft_file_limit)
    return uvicorn.Config(app, http=GuardedH11, log_level="warning", access_log=False,
                          lifespan="on", timeout_graceful_shutdown=1, ws="none",
                          timeout_keep_alive=KEEP_ALIVE, backlog=ACCEPT_BURST)
