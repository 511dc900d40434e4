"""A 3-second run of benchmarks/load.py (64 connections on /api/scalars) against a real board:
no request may fail. Timings are recorded as figures, never asserted (SPEC §8).

Also: the board's listening socket must give accepted connections TCP_NODELAY. asyncio sets
it only on sockets whose ``proto`` is IPPROTO_TCP; a socket made by ``socket.create_server``
has proto 0, and then every keep-alive response waits for the client's delayed ACK (~40 ms per
request instead of <1 ms).
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import statistics
import time

import httpx
import pytest
from relsupport import REPO, record_figure, scalar_file_bytes, total_points, wait_for

spec = importlib.util.spec_from_file_location("numboard_load", REPO / "benchmarks" / "load.py")
load = importlib.util.module_from_spec(spec)
spec.loader.exec_module(load)


def small_logdir(root, runs: int = 4, tags: int = 5, steps: int = 3000):
    for r in range(runs):
        d = root / f"run{r}"
        d.mkdir(parents=True)
        (d / "events.out.tfevents.1700000000.h.1.0").write_bytes(scalar_file_bytes(
            {f"tag{t}": [(s, float(s % 97 + t)) for s in range(steps)] for t in range(tags)}))
    return runs * tags * steps


@pytest.mark.server
@pytest.mark.timeout(120)
def test_sixty_four_connections_for_three_seconds_no_errors(tmp_path, start_board):
    points = small_logdir(tmp_path / "logs")
    board = start_board(tmp_path / "logs", "--reload_interval", "0.5")
    wait_for(lambda: total_points(board, "run3", "tag4") == 3000, 30, "the logdir")
    targets = load.scalar_targets(board.url)
    assert len(targets) == 20
    result = load.run_httpx(board.url, targets, connections=64, duration=3, max_points=2000)
    record_figure("load_short_httpx", points=points, **result)
    assert result["requests"] > 0
    assert result["errors"] == 0, result["error_kinds"]
    assert board.get("/healthz").json() == {"status": "ok"}


def accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY on a connection accepted through asyncio from `listener` (as uvicorn does)."""
    result: list[int] = []

    async def main() -> None:
        def on_connect(reader, writer):
            sock = writer.get_extra_info("socket")
            result.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        port = listener.getsockname()[1]
        _, w = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if result:
                break
            await asyncio.sleep(0.01)
        w.close()
        server.close()

    asyncio.run(main())
    return result[0]


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_board_listening_socket_gives_tcp_nodelay():
    from board.cli import _listen

    listener = _listen("127.0.0.1", 0, False)
    try:
        assert accepted_nodelay(listener) != 0, (
            f"connections accepted from board's socket (proto={listener.proto}) lack "
            "TCP_NODELAY: keep-alive responses stall ~40 ms on delayed ACKs; create the "
            "socket with socket.socket(family, SOCK_STREAM, IPPROTO_TCP)")
    finally:
        listener.close()


def local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


@pytest.mark.server
@pytest.mark.timeout(60)
def test_keep_alive_is_honoured_and_connection_close_too(tmp_path, start_board):
    """40 sequential requests on a keep-alive client travel on one TCP connection (a new
    connection per request costs a handshake and, without TCP_NODELAY, delayed ACKs); with
    `Connection: close` the server closes each one, so each request has its own. Median
    latencies are recorded as figures, never asserted."""
    small_logdir(tmp_path / "logs", runs=1, tags=1, steps=100)
    board = start_board(tmp_path / "logs")
    wait_for(lambda: total_points(board, "run0", "tag0") == 100, 30, "the logdir")
    figures, ports = {}, {}
    for name, headers in (("keep_alive", {}), ("connection_close", {"Connection": "close"})):
        with httpx.Client(base_url=board.url, headers=headers, timeout=10) as c:
            xs, used = [], set()
            for _ in range(40):
                t0 = time.perf_counter()
                with c.stream("GET", "/healthz") as r:
                    used.add(local_port(r))  # while the connection is open
                    r.read()
                xs.append(time.perf_counter() - t0)
                assert r.json() == {"status": "ok"}
        figures[f"{name}_median_ms"] = round(statistics.median(xs) * 1e3, 2)
        ports[name] = used
    assert len(ports["keep_alive"]) == 1, f"keep-alive used {len(ports['keep_alive'])} connections"
    assert len(ports["connection_close"]) == 40
    record_figure("sequential_request_latency", **figures)
