"""The hardening attacks at full size against the real `board` (stress tier, `make stress`):
the board's process tree stays under 1 GB of RSS throughout and /healthz stays answered.
RSS is sampled by a thread (psutil); nothing is timed. Fast variants of each are in
test_request_bounds.py, test_server_guards.py and test_slow_clients.py."""

from __future__ import annotations

import http.client
import socket
import threading

import numpy as np
import psutil
import pytest
from relsupport import event_file_name, frame, scalar_file_bytes, total_points, wait_for

from writer.proto import event_pb2, graph_pb2, histogram_pb2

pytestmark = [pytest.mark.server, pytest.mark.stress]
GB = 1 << 30


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        root = psutil.Process(self.pid)
        while not self.done.wait(0.05):
            try:
                procs = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                return

    def stop(self) -> int:
        self.done.set()
        self.thread.join(5)
        return self.peak


def healthz(board) -> dict:
    return board.get("/healthz", timeout=30).json()


def graph_bytes(g: graph_pb2.GraphDef) -> bytes:
    return frame(event_pb2.Event(wall_time=1.0, graph_def=g.SerializeToString())
                 .SerializeToString())


@pytest.mark.timeout(600)
def test_multi_with_100_repeats_of_a_200k_point_run(tmp_path, start_board):
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / event_file_name()).write_bytes(scalar_file_bytes(
        {"loss": [(s, float(s % 1000)) for s in range(200_000)]}))
    b = start_board(tmp_path)
    wait_for(lambda: total_points(b, "big", "loss") == 200_000, 120, "the big run")
    rss = PeakRss(b.pid)
    r = b.get("/api/scalars/multi", {"tag": "loss", "run": ["big"] * 100,
                                     "max_points": 200_000}, timeout=120)
    assert r.status_code == 200 and len(r.json()["series"]) == 1
    r = b.get("/api/scalars/multi", {"tag": "loss", "run": [f"r{i}" for i in range(6)] + ["big"]},
              timeout=120)
    assert r.status_code == 404
    assert healthz(b) == {"status": "ok"}
    assert rss.stop() < GB


@pytest.mark.timeout(600)
def test_graph_attacks(tmp_path, start_board):
    deep, flat = graph_pb2.GraphDef(), graph_pb2.GraphDef()
    name = "/".join(f"s{i}" for i in range(20_000))
    deep.node.add(name=name + "/op", op="Relu")
    deep.node.add(name="x", op="Placeholder", input=[name + "/op"])
    for i in range(20_000):
        flat.node.add(name=f"n{i}", op="Add", input=[f"n{i - 1}", f"n{i // 2}"] if i else [])
    for run, g in (("deep", deep), ("flat", flat)):
        (tmp_path / run).mkdir()
        (tmp_path / run / event_file_name()).write_bytes(graph_bytes(g))
    b = start_board(tmp_path)
    wait_for(lambda: all(r["has_graph"] for r in b.get("/api/runs").json()["runs"]), 60,
             "both graphs")
    rss = PeakRss(b.pid)
    assert b.get("/api/graph", {"run": "deep"}, timeout=120).status_code == 200
    r = b.get("/api/graph", {"run": "flat"}, timeout=120)
    assert r.status_code == 400 and "too large to lay out" in r.json()["error"]["message"]
    host, port = b.url.split("//")[1].rstrip("/").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    c.request("GET", "/api/graph?run=deep&expand=" + "a/" * 30_000)  # 60 KB
    assert c.getresponse().status in (400, 422)
    c.close()
    assert healthz(b) == {"status": "ok"}
    assert rss.stop() < GB


@pytest.mark.timeout(600)
def test_a_five_million_bucket_histogram_answers_a_bounded_body(tmp_path, start_board):
    n = 5_000_000
    histo = histogram_pb2.HistogramProto(min=0, max=n, num=n, sum=n, sum_squares=n)
    histo.bucket_limit.extend(np.arange(1, n + 1, dtype=np.float64).tolist())
    histo.bucket.extend(np.ones(n).tolist())
    ev = event_pb2.Event(wall_time=1.0, step=1)
    ev.summary.value.add(tag="w", histo=histo)
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / event_file_name()).write_bytes(frame(ev.SerializeToString()))
    b = start_board(tmp_path)
    wait_for(lambda: b.get("/api/runs").json()["runs"][0]["tags"]["histograms"], 120,
             "the histogram")
    body = b.get("/api/histograms", {"run": "h", "tag": "w"}, timeout=120).json()
    step = body["steps"][0]
    assert len(step["bucket_counts"]) <= 1000 and sum(step["bucket_counts"]) == n
    assert healthz(b) == {"status": "ok"}


@pytest.mark.timeout(600)
def test_slowloris_and_stream_flood_under_a_low_file_limit(tmp_path, start_board):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / event_file_name()).write_bytes(scalar_file_bytes({"x": [(0, 1.0)]}))
    b = start_board(tmp_path, prefix=("prlimit", "--nofile=256:256"))
    host, port = b.url.split("//")[1].rstrip("/").split(":")
    slow, streams = [], []
    try:
        for _ in range(300):
            try:
                s = socket.create_connection((host, int(port)), timeout=10)
                s.sendall(b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                slow.append(s)
            except OSError:
                pass
        for _ in range(5):
            assert healthz(b) == {"status": "ok"}
        codes = []
        for _ in range(150):
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            codes.append(int(s.recv(64).split(b" ")[1]))
            streams.append(s)
        assert set(codes) <= {200, 503} and 503 in codes
        assert healthz(b) == {"status": "ok"}
    finally:
        for s in slow + streams:
            s.close()
