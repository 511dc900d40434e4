"""Attacks on a running board: the server's peak RSS and worst /healthz latency during each.

    .venv/bin/python benchmarks/abuse.py [--only multi_repeats,graph_expand,…] [--runs 20000]
                                         [--code DIR] [--label NAME]

One fresh `board` per attack, on a free 127.0.0.1 port, serving a logdir built for it; while
the attack runs, one thread samples the RSS of the board's process tree (psutil, every 50 ms)
and another times GET /healthz on a new connection every 250 ms (5 s timeout: a probe that
times out or is refused counts as 5 s). A board whose tree passes RSS_CAP is killed and shown
as "killed". The outcome column says what the attacker got (status codes, points served,
seconds until a live run's new point was served, processes left behind).

`--code DIR` runs the board from another source tree (e.g. `git archive main | tar -x -C DIR`)
to print the "before" table; the attacks and the harness stay this file's. Targets: peak RSS
under 1 GB for every attack, /healthz within 1 s. Nothing here is asserted: figures are
printed, never test pass/fail criteria.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from writer.crc import masked_crc32c
from writer.proto import event_pb2, graph_pb2, histogram_pb2, summary_pb2, tensor_pb2

BOARD = Path(sys.executable).with_name("board")
RSS_CAP = 4 << 30
HEALTH_TIMEOUT = 5.0
EV = "events.out.tfevents.1700000000.bench.1.0"


# -- event files -------------------------------------------------------------------------------


def frame(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def header_claiming(length: int) -> bytes:
    header = struct.pack("<Q", length)
    return header + struct.pack("<I", masked_crc32c(header))


def version_record() -> bytes:
    return frame(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString())


def scalars(tag: str, steps, value=lambda s: float(s), wall0: float = 1.7e9) -> bytes:
    out = []
    for s in steps:
        ev = event_pb2.Event(wall_time=wall0 + s, step=s)
        ev.summary.value.add(tag=tag, simple_value=value(s))
        out.append(frame(ev.SerializeToString()))
    return b"".join(out)


def write(path: Path, data: bytes, version: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((version_record() if version else b"") + data)
    return path


def summary_event(step: int, value: summary_pb2.Summary.Value) -> bytes:
    ev = event_pb2.Event(wall_time=1.7e9 + step, step=step)
    ev.summary.value.append(value)
    return frame(ev.SerializeToString())


def graph_event(g: graph_pb2.GraphDef) -> bytes:
    return frame(event_pb2.Event(wall_time=1.7e9, graph_def=g.SerializeToString())
                 .SerializeToString())


# -- the board and the watchers --------------------------------------------------------------


RUN_FROM = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path if not "
            "str(getattr(f, '__module__', '')).startswith('__editable__')]; "
            "sys.path.insert(0, {code!r}); from board.cli import main; sys.exit(main())")


class Board:
    """`board --logdir D --port 0 ARGS` (from --code DIR when given) as a child process."""

    code: str | None = None

    def __init__(self, logdir: Path, *args: str, prefix=(), env=None, wait: bool = True):
        cmd = [*prefix, str(BOARD), "--logdir", str(logdir), "--port", "0", *args]
        environ = {**os.environ, **(env or {})}
        if self.code:  # that tree first on sys.path, and not this tree's editable install
            cmd = [*prefix, sys.executable, "-c", RUN_FROM.format(code=self.code),
                   "--logdir", str(logdir), "--port", "0", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, env=environ)
        self.url = ""
        if wait:
            line = self.proc.stdout.readline()
            m = re.search(r"(http://127\.0\.0\.1:(\d+))/", line)
            if not m:
                self.stop()
                raise RuntimeError(f"board did not start: {line!r} {self.proc.stderr.read()[-500:]}")
            self.url, self.port = m.group(1), int(m.group(2))
            threading.Thread(target=self.proc.stdout.read, daemon=True).start()
            threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def get(self, path: str, timeout: float = 120.0, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=timeout, **kw)

    def wait_for(self, predicate, timeout: float = 300.0, interval: float = 0.2) -> float:
        """Seconds until predicate(self) is true (or the timeout)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            try:
                if predicate(self):
                    return time.monotonic() - t0
            except (httpx.HTTPError, KeyError, ValueError, OSError):
                pass
            time.sleep(interval)
        return float("inf")

    def points(self, run: str, tag: str) -> int | None:
        r = self.get("/api/scalars", params={"run": run, "tag": tag, "max_points": 4})
        return r.json()["total_points"] if r.status_code == 200 else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                for p in tree(self.proc.pid):
                    p.kill()
                self.proc.wait(10)


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class Watch:
    """Peak tree RSS and worst /healthz latency of `board` until stopped."""

    def __init__(self, board: Board) -> None:
        self.board, self.rss, self.worst, self.killed = board, 0, 0.0, False
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._rss, daemon=True),
                        threading.Thread(target=self._health, daemon=True)]
        for t in self.threads:
            t.start()

    def _rss(self) -> None:
        while not self.done.is_set():
            total = 0
            for p in tree(self.board.proc.pid):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.rss = max(self.rss, total)
            if total > RSS_CAP:
                self.killed = True
                for p in tree(self.board.proc.pid):
                    p.kill()
                return
            time.sleep(0.05)

    def _health(self) -> None:
        while not self.done.is_set() and self.board.proc.poll() is None:
            t0 = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.board.port,
                                               timeout=HEALTH_TIMEOUT)
                c.request("GET", "/healthz", headers={"Connection": "close"})
                ok = c.getresponse().status > 0  # answered (a 401 with --auth_token too)
                c.close()
            except OSError:
                ok = False
            if not ok and self.board.proc.poll() is not None:
                return  # the board exited (an attack may stop it): no latency to count
            took = time.perf_counter() - t0 if ok else HEALTH_TIMEOUT
            self.worst = max(self.worst, took)
            self.done.wait(0.25)

    def stop(self) -> None:
        self.done.set()
        for t in self.threads:
            t.join(HEALTH_TIMEOUT + 1)


# -- the attacks (each returns the outcome) ---------------------------------------------------
# Each gets a work dir and `serve(logdir, *args)`, which starts the watched board.


def multi_repeats(work, serve):
    """1: /api/scalars/multi with 100 × run=big (200k points), max_points=200000."""
    write(work / "big" / EV, scalars("loss", range(200_000)))
    b = serve(work)
    b.wait_for(lambda b: b.points("big", "loss") == 200_000)
    t0 = time.monotonic()
    r = b.get("/api/scalars/multi", params={"tag": "loss", "run": ["big"] * 100,
                                            "max_points": 200_000})
    return f"{r.status_code}, {len(r.content) / 1e6:.0f} MB in {time.monotonic() - t0:.1f} s"


def graph_expand(work, serve):
    """2: /api/graph?expand= with a 60 KB value (one scope 30,000 levels deep)."""
    g = graph_pb2.GraphDef()
    g.node.add(name="a/b", op="Relu")
    write(work / "g" / EV, graph_event(g))
    b = serve(work)
    b.wait_for(lambda b: b.get("/api/graph", params={"run": "g"}).status_code == 200)
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=300)
    c.request("GET", "/api/graph?run=g&expand=" + "a/" * 30_000)  # slashes need no escape
    status = c.getresponse().status
    c.close()
    return f"{status} in {time.monotonic() - t0:.1f} s"


def live_delay(b: Board, work: Path, n: int) -> float:
    """Seconds until a point written now into the live run is served."""
    with open(work / "live" / EV, "ab") as f:
        f.write(scalars("x", [n]))
    return b.wait_for(lambda b: b.points("live", "x") == n + 1, timeout=120, interval=0.05)


def image_empty_strings(work, serve):
    """3: an image summary whose tensor holds 80,000 empty strings (a ~160 KB record)."""
    write(work / "live" / EV, scalars("x", [0]))
    b = serve(work, "--reload_interval", "0.2")
    b.wait_for(lambda b: b.points("live", "x") == 1)
    value = summary_pb2.Summary.Value(tag="img", tensor=tensor_pb2.TensorProto(
        dtype=7, string_val=[b"2", b"2"] + [b""] * 80_000))
    value.metadata.plugin_data.plugin_name = "images"
    write(work / "evil" / EV, summary_event(1, value))
    return f"live run updated after {live_delay(b, work, 1):.1f} s"


def replaced_files(work, serve):
    """4: a file replaced by rename (rsync), after an rsync temp file held the new bytes."""
    run = work / "r"
    write(run / EV, scalars("x", range(100)))
    b = serve(work, "--reload_interval", "0.2")
    b.wait_for(lambda b: b.points("r", "x") == 100)
    tmp = write(run / f".{EV}.Xy12Ab", scalars("x", range(200)))
    time.sleep(1.5)
    os.replace(tmp, run / EV)
    time.sleep(3)
    return f"{b.points('r', 'x')} points served (200 written, each step once)"


def huge_claimed_record(work, serve):
    """5: a sparse file whose header claims a 1 GiB record (12 KB of real bytes)."""
    path = write(work / "sparse" / EV, header_claiming(1 << 30) + b"\0" * 12_000)
    with open(path, "r+b") as f:
        f.truncate(len(version_record()) + 12 + (1 << 30) + 4)
    write(work / "live" / EV, scalars("x", [0]))
    b = serve(work, "--reload_interval", "0.2")
    b.wait_for(lambda b: b.points("live", "x") == 1)
    time.sleep(3)
    run = next(r for r in b.get("/api/runs").json()["runs"] if r["name"] == "sparse")
    return f"corrupt_records={run['corrupt_records']}, errors={len(run['errors'])}"


def big_histogram(work, serve):
    """6: one histogram of 5M buckets, then /api/histograms."""
    n = 5_000_000
    histo = histogram_pb2.HistogramProto(min=0, max=n, num=n, sum=n, sum_squares=n)
    histo.bucket_limit.extend(np.arange(1, n + 1, dtype=np.float64).tolist())
    histo.bucket.extend(np.ones(n).tolist())
    write(work / "h" / EV, summary_event(1, summary_pb2.Summary.Value(tag="w", histo=histo)))
    b = serve(work)
    b.wait_for(lambda b: b.get("/api/runs").json()["runs"][0]["tags"]["histograms"])
    r = b.get("/api/histograms", params={"run": "h", "tag": "w"})
    return f"{r.status_code}, {len(r.content) / 1e6:.1f} MB answered"


def deep_graph(work, serve):
    """7a: a graph whose op is 20,000 scopes deep, then /api/graph."""
    g = graph_pb2.GraphDef()
    name = "/".join(f"s{i}" for i in range(20_000))
    g.node.add(name=name + "/op", op="Relu")
    g.node.add(name="x", op="Placeholder", input=[name + "/op"])
    write(work / "g" / EV, graph_event(g))
    b = serve(work)
    b.wait_for(lambda b: b.get("/api/runs").json()["runs"][0]["has_graph"])
    t0 = time.monotonic()
    r = b.get("/api/graph", params={"run": "g"})
    return f"{r.status_code} in {time.monotonic() - t0:.1f} s"


def flat_graph(work, serve):
    """7b: a flat graph of 20,000 ops, then /api/graph."""
    g = graph_pb2.GraphDef()
    for i in range(20_000):
        g.node.add(name=f"n{i}", op="Add", input=[f"n{i - 1}", f"n{i // 2}"] if i else [])
    write(work / "g" / EV, graph_event(g))
    b = serve(work)
    b.wait_for(lambda b: b.get("/api/runs").json()["runs"][0]["has_graph"])
    t0 = time.monotonic()
    r = b.get("/api/graph", params={"run": "g"})
    return f"{r.status_code} in {time.monotonic() - t0:.1f} s"


def dns_rebinding(work, serve):
    """8: a page on rebind.example (resolving to 127.0.0.1) reads /api/runs, no token."""
    write(work / "secret_run" / EV, scalars("x", [0]))
    b = serve(work)
    b.wait_for(lambda b: b.points("secret_run", "x") == 1)
    r = b.get("/api/runs", headers={"Host": "rebind.example:6006"})
    return f"{r.status_code}, run names leaked: {'secret_run' in r.text}"


def slowloris(work, serve, connections: int = 300, seconds: float = 20.0):
    """9a: 300 connections trickling a header byte per second (board under nofile=256)."""
    write(work / "r" / EV, scalars("x", [0]))
    b = serve(work, prefix=("prlimit", "--nofile=256:256"))
    socks = []
    for _ in range(connections):
        try:
            s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
            s.sendall(b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(s)
        except OSError:
            pass
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        for s in list(socks):
            try:
                s.sendall(b"X")
            except OSError:
                socks.remove(s)
                s.close()
        time.sleep(1)
    for s in socks:
        s.close()
    return f"{len(socks)} of {connections} slow connections still open after {seconds:.0f} s"


def sse_flood(work, serve, streams: int = 300):
    """9b: 300 clients open /api/stream and keep it."""
    write(work / "r" / EV, scalars("x", [0]))
    b = serve(work)
    codes: dict[int, int] = {}
    socks = []
    for _ in range(streams):
        s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status = int(s.recv(64).split(b" ")[1])
        codes[status] = codes.get(status, 0) + 1
        socks.append(s)
    time.sleep(3)
    for s in socks:
        s.close()
    return ", ".join(f"{n}× {code}" for code, n in sorted(codes.items()))


def empty_token(work, serve):
    """10: `board --auth_token ""`."""
    (work / "logs").mkdir()
    b = Board(work / "logs", "--auth_token", "", wait=False)
    try:
        b.proc.wait(10)
        return f"exit {b.proc.returncode}: {b.proc.stderr.read().strip()[:60]}…"
    except subprocess.TimeoutExpired:
        return "serves with no auth"
    finally:
        b.stop()


def non_utf8_names(work, serve):
    """11: folders b'r\\xff' (a byte) and 'r\\\\xff' (the literal text)."""
    root = bytes(work)
    write(Path(os.fsdecode(root + b"/r\xff")) / EV, scalars("x", range(10)))
    write(work / "r\\xff" / EV, scalars("x", range(20)))
    b = serve(work)
    b.wait_for(lambda b: not b.get("/api/runs").json()["loading"])
    time.sleep(2)
    runs = b.get("/api/runs").json()["runs"]
    return f"{len(runs)} runs listed (2 written), points: " + ", ".join(
        str(b.points(r["name"], "x")) for r in runs)


def error_paths(work, serve):
    """12: a run folder holding a symlink to another file with bad bytes."""
    secret = work / "outside.bin"
    secret.write_bytes(version_record() + b"SECRETBYTES-and-more" * 4)
    (work / "logs" / "r").mkdir(parents=True)
    (work / "logs" / "r" / EV).symlink_to(secret)
    b = serve(work / "logs")
    b.wait_for(lambda b: not b.get("/api/runs").json()["loading"])
    time.sleep(2)
    body = b.get("/api/runs").json()  # its "logdir" is the path given on the command line
    text = repr([r["errors"] for r in body["runs"]] + body.get("errors", []))
    return f"absolute path in errors: {str(work) in text}, file bytes echoed: {'SECR' in text}"


def token_non_ascii(work, serve):
    """13: `--auth_token pässwörd`, sent in Authorization as UTF-8."""
    write(work / "r" / EV, scalars("x", [0]))
    b = serve(work, "--auth_token", "pässwörd")
    header = {"Authorization": "Bearer pässwörd".encode()}
    return f"{b.get('/api/runs', headers=header).status_code} via Authorization"


def length_2_63(work, serve):
    """14: a record header claiming 2^63 bytes."""
    write(work / "r" / EV, scalars("x", range(5)) + header_claiming(1 << 63) + b"\0" * 64)
    b = serve(work)
    b.wait_for(lambda b: b.points("r", "x") == 5)
    time.sleep(2)
    run = b.get("/api/runs").json()["runs"][0]
    return f"errors reported: {len(run['errors'])}"


def x_min_nan(work, serve):
    """15: /api/scalars?x_min=nan."""
    write(work / "r" / EV, scalars("x", range(5)))
    b = serve(work)
    b.wait_for(lambda b: b.points("r", "x") == 5)
    r = b.get("/api/scalars", params={"run": "r", "tag": "x", "x_min": "nan"})
    return f"{r.status_code}, {r.headers['content-type'].split(';')[0]}"


def many_runs(work, serve, runs: int = 20_000):
    """16: many tiny run folders (--runs), then /api/runs."""
    data = version_record() + scalars("x", [0])
    for i in range(runs):
        d = work / f"run{i:06d}"
        d.mkdir()
        (d / EV).write_bytes(data)
    b = serve(work)
    took = b.wait_for(lambda b: len(b.get("/api/runs").json()["runs"]) == runs, timeout=600,
                      interval=1.0)
    t0 = time.monotonic()
    r = b.get("/api/runs")
    return (f"{runs} runs listed after {took:.0f} s; /api/runs {len(r.content) / 1e6:.1f} MB "
            f"in {time.monotonic() - t0:.2f} s")


def restart_without_start(work, serve):
    """17: file 1 steps 0..100, a newer file steps 50..150 (tensorboardX, no SessionLog)."""
    write(work / "r" / EV, scalars("x", range(101)))
    write(work / "r" / EV.replace("1700000000", "1700000100"),
          scalars("x", range(50, 151), value=lambda s: -float(s)))
    b = serve(work)
    b.wait_for(lambda b: not b.get("/api/runs").json()["loading"])
    time.sleep(2)
    return f"{b.points('r', 'x')} points served (151 expected)"


def deleted_and_restarted(work, serve):
    """18: a program deletes its log folder and starts again (mnist_with_summaries)."""
    write(work / "r" / EV, scalars("x", range(0, 91, 10)))
    b = serve(work, "--reload_interval", "0.2")
    b.wait_for(lambda b: b.points("r", "x") == 10)
    shutil.rmtree(work / "r")
    write(work / "r" / EV.replace("1700000000", "1700000100"), scalars("x", range(0, 241, 10)))
    time.sleep(4)
    return f"{b.points('r', 'x')} points served (25 expected)"


def sigterm_mid_load(work, serve):
    """19: SIGTERM during the initial load of a 1M-point logdir."""
    for r in range(4):
        write(work / f"run{r}" / EV, scalars("x", range(250_000)))
    b = serve(work)
    time.sleep(0.3)
    family = tree(b.proc.pid)
    t0 = time.monotonic()
    b.proc.send_signal(signal.SIGTERM)
    try:
        b.proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    took = time.monotonic() - t0
    time.sleep(2)
    left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in left:
        p.kill()
    return f"exited after {took:.1f} s, {len(left)} of its processes left"


ATTACKS = [multi_repeats, graph_expand, image_empty_strings, replaced_files,
           huge_claimed_record, big_histogram, deep_graph, flat_graph, dns_rebinding,
           slowloris, sse_flood, empty_token, non_utf8_names, error_paths, token_non_ascii,
           length_2_63, x_min_nan, many_runs, restart_without_start, deleted_and_restarted,
           sigterm_mid_load]


def run(attack, runs: int) -> tuple[str, str, str]:
    boards: list[Board] = []
    watches: list[Watch] = []

    def serve(logdir, *args, **kw) -> Board:
        b = Board(logdir, *args, **kw)
        boards.append(b)
        watches.append(Watch(b))
        return b

    with tempfile.TemporaryDirectory(prefix="numboard-abuse-") as tmp:
        try:
            kwargs = {"runs": runs} if attack is many_runs else {}
            outcome = attack(Path(tmp), serve, **kwargs)
        except Exception as exc:  # the attack broke the board (or the board refused to start)
            outcome = f"{type(exc).__name__}: {str(exc)[:80]}"
        finally:
            for w in watches:
                w.stop()
            for b in boards:
                b.stop()
    if not watches:
        return "—", "—", outcome
    w = watches[0]
    rss = "killed (> 4 GB)" if w.killed else f"{w.rss / 2**20:.0f} MB"
    health = f"≥ {HEALTH_TIMEOUT:.0f} s (timed out)" if w.worst >= HEALTH_TIMEOUT \
        else f"{w.worst:.2f} s"
    return rss, health, outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated attack names")
    ap.add_argument("--runs", type=int, default=20_000, help="run folders for many_runs")
    ap.add_argument("--code", default=None, help="run the board from this source tree")
    ap.add_argument("--label", default=None, help="the table's title")
    args = ap.parse_args()
    Board.code = str(Path(args.code).resolve()) if args.code else None
    chosen = [a for a in ATTACKS if not args.only or a.__name__ in args.only.split(",")]
    print(f"### {args.label or ('board from ' + (Board.code or 'this tree'))}\n")
    print("| attack | peak RSS | worst /healthz | outcome |\n|---|---|---|---|")
    for attack in chosen:
        rss, health, outcome = run(attack, args.runs)
        what = attack.__doc__.split(":", 1)
        print(f"| {what[0]}: {attack.__name__} | {rss} | {health} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
