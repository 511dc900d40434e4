"""Integration tests of /api/stream over a real HTTP connection (uvicorn in a thread, the
app's own loader thread and file watcher running): events, heartbeats, disconnects."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest
import uvicorn
from boardkit import WAIT, scalar_event, wait_until, write_events

from board.app import create_app

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"


@pytest.fixture
def served(tmp_path):
    write_events(tmp_path / "r" / EV, scalar_event("x", 1.0, 1))
    app = create_app(tmp_path, heartbeat=0.2, reload_interval=0.5)
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "uvicorn to start")
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    yield app, base, tmp_path
    server.should_exit = True
    thread.join(WAIT)


def test_events_heartbeats_and_resume(served):
    app, base, logdir = served
    wait_until(lambda: httpx.get(base + "data/runs").json() == ["r"], "the run")
    lines = []
    with httpx.stream("GET", base + "api/stream", timeout=WAIT) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        it = r.iter_lines()
        for line in it:
            lines.append(line)
            if line == ": heartbeat":
                break
        write_events(logdir / "r" / EV, scalar_event("x", 2.0, 2), scalar_event("y", 3.0, 9))
        seen = set()
        last_id = None
        for line in it:
            if line.startswith("id: "):
                last_id = int(line[4:])
            if line.startswith("data: "):
                msg = json.loads(line[6:])
                seen.add((msg["run"], msg["plugin"], msg["tag"], msg["step"]))
                if {("r", "scalars", "x", 2), ("r", "scalars", "y", 9)} <= seen:
                    break
    assert lines[0] == "retry: 2000" and lines[1].startswith(": connected")
    # Resuming with Last-Event-ID replays what came after it.
    write_events(logdir / "r" / EV, scalar_event("x", 4.0, 4))
    with httpx.stream("GET", base + "api/stream", timeout=WAIT,
                      headers={"Last-Event-ID": str(last_id)}) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:])["step"] == 4:
                break


def test_clients_disconnect_cleanly(served):
    app, base, _ = served
    clients = []
    for _ in range(3):
        c = httpx.Client(timeout=WAIT)
        s = c.stream("GET", base + "api/stream")
        lines = s.__enter__().iter_lines()
        assert next(lines) == "retry: 2000"
        clients.append((c, s, lines))
    wait_until(lambda: app.state.open_streams == 3, "three open streams")
    for c, s, _lines in clients:
        s.__exit__(None, None, None)
        c.close()
    wait_until(lambda: app.state.open_streams == 0, "the streams to close")
    assert httpx.get(base + "healthz").status_code == 200


@pytest.mark.parametrize("value", ["9" * 5000, "\u00b2", "-1", "12abc", ""])
def test_forged_last_event_id_is_ignored(served, value):
    _app, base, _ = served
    with httpx.stream("GET", base + "api/stream", timeout=WAIT,
                      headers={"Last-Event-ID": value.encode("latin-1")}) as r:
        assert r.status_code == 200
        assert next(r.iter_lines()) == "retry: 2000"
