"""Board benchmark: numboard vs TensorBoard's Rust and Python loaders (SPEC §8).

    .venv/bin/python benchmarks/board.py [--skip-python-loader] [--runs 20 --tags 10
                                          --steps 5000] [--logdir DIR]

Builds (once, cached) a logdir of runs × tags × steps scalars written with tensorboardX, then
for each server, one at a time, on 127.0.0.1 free ports:
- load: seconds from process start until every point is served (polls the run listing
  and one series per run until each has `steps` points);
- rss: resident memory of the server process tree after the load (psutil);
- query: p50/p99 latency of a 5000-point scalar request at 1 and 16 concurrent clients
  (numboard /api/scalars?max_points=5000, TensorBoard /data/plugin/scalars/scalars);
- live: seconds from a writer's flush() to the new point being served (median of 10);
- startup: process start to the first HTTP 200.
Prints a markdown table with numboard/peer ratios. Nothing here is asserted: numbers are
reported, never used as test pass/fail criteria.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
from tbx_logdir import build_logdir, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
POINTS = 1_000_000


class Server:
    """One server process under test, with the URLs it answers on."""

    def __init__(self, name: str, argv: list[str], port: int, kind: str) -> None:
        self.name, self.argv, self.port, self.kind = name, argv, port, kind
        self.logdir = argv[argv.index("--logdir") + 1]
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.t0 = 0.0

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=ROOT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                child.kill()
            self.proc.kill()
            self.proc.wait()

    def rss_mb(self) -> float:
        p = psutil.Process(self.proc.pid)
        procs = [p, *p.children(recursive=True)]
        return sum(x.memory_info().rss for x in procs if x.is_running()) / 2**20

    def runs_url(self) -> str:
        return f"{self.base}/data/runs"

    def series_url(self, run: str, tag: str) -> str:
        if self.kind == "numboard":
            return f"{self.base}/api/scalars?run={run}&tag={tag}&max_points=5000"
        return f"{self.base}/data/plugin/scalars/scalars?run={run}&tag={tag}"

    def count(self, body) -> int:
        return body["total_points"] if self.kind == "numboard" else len(body)

    def last_step(self, body) -> int:
        return body["step"][-1] if self.kind == "numboard" else body[-1][1]


def wait_first_200(server: Server, client: httpx.Client, timeout: float = 120) -> float:
    while time.perf_counter() - server.t0 < timeout:
        try:
            if client.get(server.runs_url()).status_code == 200:
                return time.perf_counter() - server.t0
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{server.name} did not answer within {timeout}s")


def wait_loaded(server: Server, client: httpx.Client, runs: int, tags: int, steps: int,
                timeout: float) -> float:
    """Seconds from start until every run and tag serves `steps` points.

    Each run is one file with its tags interleaved, so a run's last tag completes last:
    poll that one per run (keeps the polling cost off slow servers), then verify every
    series and keep polling any that is short.
    """
    def complete(run: str, tag: str) -> bool:
        try:
            resp = client.get(server.series_url(run, tag))
        except httpx.HTTPError:
            return False
        return resp.status_code == 200 and server.count(resp.json()) >= steps

    def poll(pending: set) -> bool:
        while pending and time.perf_counter() - server.t0 < timeout:
            pending = {key for key in sorted(pending) if not complete(*key)}
            if pending:
                time.sleep(0.02)
        return not pending

    if not poll({(f"run{r:02d}", f"tag{tags - 1:02d}") for r in range(runs)}):
        return float("nan")
    loaded = time.perf_counter() - server.t0
    every = {(f"run{r:02d}", f"tag{t:02d}") for r in range(runs) for t in range(tags)}
    short = {key for key in every if not complete(*key)}
    if short:
        if not poll(short):
            return float("nan")
        loaded = time.perf_counter() - server.t0
    return loaded


def latency(server: Server, clients: int, requests: int, runs: int, tags: int
            ) -> tuple[float, float, float]:
    """p50 and p99 in ms, and throughput in req/s, of 5000-point series requests."""
    samples: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(timeout=60) as c:
            for i in range(requests // clients):
                url = server.series_url(f"run{(k + i) % runs:02d}", f"tag{i % tags:02d}")
                t = time.perf_counter()
                c.get(url).raise_for_status()
                with lock:
                    samples.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples) * 1e3, p99 * 1e3, len(samples) / wall


def live_latency(server: Server, client: httpx.Client, logdir: Path, trials: int = 10
                 ) -> float:
    """Median seconds from a flush() to the point being served (writer.SummaryWriter, whose
    flush() drains everything; tensorboardX's may leave events queued)."""
    sys.path.insert(0, str(ROOT))
    from writer import SummaryWriter

    run = "live"
    shutil.rmtree(logdir / run, ignore_errors=True)
    writer = SummaryWriter(logdir / run, flush_secs=3600)
    delays = []
    try:
        for i in range(trials):
            step = 1_000_000 + i
            writer.add_scalar("x", float(i), step)
            writer.flush()
            t = time.perf_counter()
            while time.perf_counter() - t < 30:
                try:
                    r = client.get(server.series_url(run, "x"))
                    if r.status_code == 200 and server.last_step(r.json()) == step:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.005)
            delays.append(time.perf_counter() - t)
    finally:
        writer.close()
        shutil.rmtree(logdir / run, ignore_errors=True)
    return statistics.median(delays)


def empty_rss(server: Server, tmp: Path) -> float:
    """RSS (MB) of the same server over an empty logdir, after its first 200."""
    tmp.mkdir(parents=True, exist_ok=True)
    argv = [str(tmp) if a == str(server.logdir) else a for a in server.argv]
    empty = Server(server.name, argv, server.port, server.kind)
    empty.start()
    try:
        with httpx.Client(timeout=60) as client:
            wait_first_200(empty, client)
            time.sleep(1.0)
            return empty.rss_mb()
    finally:
        empty.stop()


def measure(server: Server, logdir: Path, args) -> dict:
    out = {"rss_empty": empty_rss(server, Path("/tmp/numboard-bench-empty"))}
    server.start()
    try:
        with httpx.Client(timeout=120) as client:
            out["startup"] = wait_first_200(server, client)
            out["load"] = wait_loaded(server, client, args.runs, args.tags, args.steps,
                                      args.load_timeout)
            print(f"  loaded in {out['load']:.2f}s", flush=True)
            time.sleep(1.0)
            out["rss"] = server.rss_mb()
            out["q1"] = latency(server, 1, 200, args.runs, args.tags)
            out["q16"] = latency(server, 16, 800, args.runs, args.tags)
            print(f"  queries done: {out['q1']}, {out['q16']}", flush=True)
            out["live"] = live_latency(server, client, logdir)
    finally:
        server.stop()
    return out


def servers(logdir: Path, skip_python: bool) -> list[Server]:
    tb = str(VENV_BIN / "tensorboard")
    out = []
    port = free_port()
    out.append(Server("numboard", [str(VENV_BIN / "board"), "--logdir", str(logdir),
                                   "--port", str(port)], port, "numboard"))
    port = free_port()
    out.append(Server("TB rust (load_fast=true)",
                      [tb, "--logdir", str(logdir), "--port", str(port), "--load_fast=true",
                       "--samples_per_plugin", "scalars=10000", "--reload_interval", "1"],
                      port, "tb"))
    if not skip_python:
        port = free_port()
        out.append(Server("TB python (load_fast=false)",
                          [tb, "--logdir", str(logdir), "--port", str(port),
                           "--load_fast=false", "--samples_per_plugin", "scalars=10000",
                           "--reload_interval", "1"], port, "tb"))
    return out


def table(results: dict[str, dict]) -> str:
    base = results["numboard"]
    rows = [("load: start → every point served (s)", "load", lambda r: r["load"], False),
            ("RSS after load (MB)", "rss", lambda r: r["rss"], False),
            ("RSS above an empty server, bytes/point", "rss",
             lambda r: (r["rss"] - r["rss_empty"]) * 2**20 / POINTS, False),
            ("query p50, 1 client (ms)", "q1", lambda r: r["q1"][0], False),
            ("query p99, 1 client (ms)", "q1", lambda r: r["q1"][1], False),
            ("query p50, 16 clients (ms)", "q16", lambda r: r["q16"][0], False),
            ("query p99, 16 clients (ms)", "q16", lambda r: r["q16"][1], False),
            ("throughput, 16 clients (req/s)", "q16", lambda r: r["q16"][2], True),
            ("live: flush() → visible, median (s)", "live", lambda r: r["live"], False),
            ("startup: start → first 200 (s)", "startup", lambda r: r["startup"], False)]
    peers = [k for k in results if k != "numboard"]
    head = "| metric | numboard | " + " | ".join(f"{p} | ratio" for p in peers) + " |"
    sep = "|---" * (2 + 2 * len(peers)) + "|"
    lines = [head, sep]
    for label, _key, get, higher_better in rows:
        ours = get(base)
        cells = [label, f"{ours:.3g}"]
        for p in peers:
            theirs = get(results[p])
            ratio = (ours / theirs if higher_better else theirs / ours) if ours and theirs \
                else float("nan")
            cells += [f"{theirs:.3g}", f"{ratio:.2f}×"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("ratio > 1 means numboard is better (faster, smaller, or more req/s).")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--tags", type=int, default=10)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--logdir", type=Path, default=Path("/tmp/numboard-bench-logdir"))
    p.add_argument("--skip-python-loader", action="store_true",
                   help="skip TensorBoard's Python loader (it takes minutes on 1M points)")
    p.add_argument("--only", choices=["numboard", "rust", "python"], default=None)
    p.add_argument("--load-timeout", type=float, default=900)
    args = p.parse_args()
    global POINTS
    POINTS = args.runs * args.tags * args.steps
    t = time.perf_counter()
    logdir = build_logdir(args.logdir, args.runs, args.tags, args.steps)
    print(f"logdir {logdir}: {args.runs}×{args.tags}×{args.steps} = "
          f"{args.runs * args.tags * args.steps:,} points (ready in {time.perf_counter() - t:.1f}s)",
          flush=True)
    results = {}
    for server in servers(logdir, args.skip_python_loader):
        if args.only and args.only not in server.name.lower():
            continue
        print(f"measuring {server.name} …", flush=True)
        results[server.name] = measure(server, logdir, args)
        print(f"  {results[server.name]}", flush=True)
    if "numboard" in results and len(results) > 1:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
