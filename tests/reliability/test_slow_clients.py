"""The HTTP server under slow, many or broken clients (SPEC §9): slowloris headers, too many
connections, too many event streams, requests that are not HTTP. The app runs under uvicorn
with the board's own protocol (board.server) on a free 127.0.0.1 port, with the bounds
lowered so a few sockets reach them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from relsupport import wait_for

from board import server as http
from board.app import create_app
from board.plugins import stream
from writer import SummaryWriter


@pytest.fixture
def logdir(tmp_path):
    with SummaryWriter(tmp_path / "logs" / "train") as w:
        w.add_scalar("loss", 1.0, 0)
    return tmp_path / "logs"


def json_error(r, code: int) -> str:
    assert r.status_code == code, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    assert set(r.json()) == {"error"} and r.json()["error"]["code"] == code
    return r.json()["error"]["message"]


@pytest.fixture
def served(logdir, monkeypatch):
    """The app under uvicorn with the board's protocol; bounds lowered for the test."""
    monkeypatch.setattr(http, "HEADER_TIMEOUT", 0.5)
    monkeypatch.setattr(stream, "MAX_STREAMS", 3)
    app = create_app(logdir, watch=False, reload_interval=0.2)
    sock = socket.create_server(("127.0.0.1", 0))
    srv = uvicorn.Server(http.config(app, soft_file_limit=40))  # at most 20 connections
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: srv.started, 30, "uvicorn to start")
    yield app, sock.getsockname()[1]
    srv.should_exit = True
    thread.join(30)


def partial_request(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return s


def closed_by_server(s: socket.socket) -> bool:
    try:
        return s.recv(100) == b""
    except (ConnectionResetError, TimeoutError):
        return True


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_slow_headers_are_dropped_and_healthz_stays_answered(served):
    _app, port = served
    slow = [partial_request(port) for _ in range(3 * http.max_connections(40))]
    try:
        with httpx.Client(timeout=10) as c:  # new connections evict idle half-sent ones
            for _ in range(5):
                assert c.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        # Every half-sent request is closed: shed for newcomers, or past HEADER_TIMEOUT.
        for s in slow:
            assert closed_by_server(s)
    finally:
        for s in slow:
            s.close()


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_a_header_sent_in_time_is_served(served):
    _app, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.1)  # part of the request, well inside the deadline
        s.sendall(b"\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_open_event_streams_are_capped_with_503(served):
    app, port = served
    url = f"http://127.0.0.1:{port}/api/stream"
    with httpx.Client(timeout=10) as c, contextlib.ExitStack() as held:
        streams = [held.enter_context(c.stream("GET", url)) for _ in range(stream.MAX_STREAMS)]
        assert all(r.status_code == 200 for r in streams)
        assert app.state.open_streams == stream.MAX_STREAMS
        with httpx.Client(timeout=10) as other:
            r = other.get(url)
            assert json_error(r, 503) and r.headers["retry-after"]
            assert other.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            streams[0].close()
            wait_for(lambda: app.state.open_streams < stream.MAX_STREAMS, 30, "a free place")
            with other.stream("GET", url) as again:
                assert again.status_code == 200


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_malformed_http_gets_the_json_error_shape(served):
    _app, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head.lower()
    assert body.startswith(b'{"error":{"code":400,"message":')


@pytest.mark.server
@pytest.mark.timeout(120)
def test_a_slow_flood_past_the_file_limit_leaves_healthz_answered(logdir, start_board):
    """The real board with 256 descriptors and 300 half-sent requests: shedding keeps
    descriptors free (a flood once filled them and /healthz stopped answering)."""
    b = start_board(logdir, prefix=("prlimit", "--nofile=256:256"))
    port = int(b.url.rstrip("/").rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(300):
            slow.append(partial_request(port))
        for _ in range(5):
            assert b.get("/healthz", timeout=30).json() == {"status": "ok"}
        assert sum(closed_by_server(s) for s in slow) >= 300 - http.max_connections(256)
    finally:
        for s in slow:
            s.close()
