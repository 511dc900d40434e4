"""Runs-table benchmark: numboard's /api/runs/table vs TensorBoard's hparams session groups
(SPEC §8 "runs table": 1000 runs × 20 tags, p99 ≤ 50 ms).

    .venv/bin/python benchmarks/runs_table.py [--runs 1000 --tags 20 --steps 20]
                                              [--requests 200] [--logdir DIR]

Builds (once, cached) a logdir of `runs` runs, each with `tags` scalar tags of `steps`
points and its hyperparameters (SummaryWriter.add_hparams: lr, batch size, optimizer; every
tag a metric, so TensorBoard reports it too), then,
one server at a time on a free 127.0.0.1 port, waits until every run is served and measures
the latency of the request that answers "every run with its hyperparameters and metrics":

- numboard: `GET /api/runs/table` (every tag's last/min/max, steps, count, last update),
  gzip accepted as a browser does;
- TensorBoard (its default loader): `POST /data/plugin/hparams/session_groups` for all
  sessions with metrics (each metric's last value only).

Both are also timed right after one run received a new point ("one run changed": numboard
re-encodes that run's row only). Prints a markdown table with the ratios. Nothing is
asserted: numbers are reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent
# This folder's board.py would shadow the board package: import from the repository root.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.append(str(HERE))  # last: benchmarks/board.py's own imports (load, tbx_logdir)

from board.loader.discover import sources_for  # noqa: E402
from board.loader.loader import Loader  # noqa: E402
from board.plugins.runs_table import TableCache, runs_table_bytes  # noqa: E402
from board.store import Store  # noqa: E402
from writer import SummaryWriter  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_board", HERE / "board.py")
bench_board = importlib.util.module_from_spec(_spec)  # benchmarks/board.py: Server, free_port
_spec.loader.exec_module(bench_board)
Server, free_port = bench_board.Server, bench_board.free_port


def build_logdir(path: Path, runs: int, tags: int, steps: int) -> Path:
    """The sweep logdir, written by numboard's SummaryWriter in one process per CPU."""
    marker = path / f".complete-{runs}x{tags}x{steps}"
    if marker.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    ncpu = max(1, os.cpu_count() or 1)
    procs = []
    for first in range(ncpu):
        code = (
            "import math\n"
            "from writer import SummaryWriter\n"
            f"for r in range({first}, {runs}, {ncpu}):\n"
            f"    w = SummaryWriter(r'{path}/run{{:04d}}'.format(r), max_queue=10000)\n"
            f"    for s in range({steps}):\n"
            f"        for t in range({tags}):\n"
            "            w.add_scalar(f'metric{t:02d}', math.sin(s / 7 + t + r), s)\n"
            "    w.add_hparams({'lr': 10 ** -(1 + r % 4), 'batch': 2 ** (4 + r % 5),\n"
            "                   'optimizer': ['adam', 'sgd', 'rmsprop'][r % 3]},\n"
            f"                  {{f'metric{{t:02d}}': math.sin(({steps} - 1) / 7 + t + r) for t in range({tags})}})\n"
            "    w.close()\n"
        )
        procs.append(subprocess.Popen([sys.executable, "-c", code], cwd=ROOT))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("building the logdir failed")
    marker.touch()
    return path


SESSION_GROUPS = json.dumps({
    "experimentName": "", "startIndex": 0, "sliceSize": 100000, "includeMetrics": True,
    "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                        "STATUS_RUNNING"]})


def ask(server: Server, client: httpx.Client) -> httpx.Response:
    if server.kind == "numboard":
        return client.get(f"{server.base}/api/runs/table",
                          headers={"accept-encoding": "gzip"})
    return client.post(f"{server.base}/data/plugin/hparams/session_groups",
                       content=SESSION_GROUPS)


def rows_served(server: Server, body: dict, tags: int) -> int:
    """Runs whose every metric is served."""
    if server.kind == "numboard":
        return sum(len(r["metrics"]) == tags for r in body["runs"])
    return sum(len(g["metricValues"]) >= tags for g in body.get("sessionGroups", []))


def wait_loaded(server: Server, client: httpx.Client, runs: int, tags: int,
                timeout: float) -> float:
    while time.perf_counter() - server.t0 < timeout:
        try:
            r = ask(server, client)
            if r.status_code == 200 and rows_served(server, r.json(), tags) >= runs:
                return time.perf_counter() - server.t0
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{server.name} did not serve {runs} runs within {timeout}s")


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return (statistics.median(samples) * 1000,
            samples[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))] * 1000)


def timed(server: Server, client: httpx.Client) -> tuple[float, int]:
    t = time.perf_counter()
    r = ask(server, client)
    r.read()
    elapsed = time.perf_counter() - t
    if r.status_code != 200:
        raise SystemExit(f"{server.name}: HTTP {r.status_code}")
    return elapsed, len(r.content)


def measure(server: Server, args) -> dict:
    server.start()
    try:
        with httpx.Client(timeout=300) as client:
            load = wait_loaded(server, client, args.runs, args.tags, args.load_timeout)
            requests = args.requests if server.kind == "numboard" else args.peer_requests
            for _ in range(min(5, requests)):
                timed(server, client)  # warm caches, as a page that is open
            steady = [timed(server, client) for _ in range(requests)]
            changed = []
            step = args.steps
            for k in range(args.changes if server.kind == "numboard" else args.peer_requests):
                with SummaryWriter(Path(args.logdir) / f"run{k:04d}") as w:
                    w.add_scalar("metric00", -5.0, step)
                time.sleep(max(args.settle, 0.0))  # let the server read it
                changed.append(timed(server, client))
    finally:
        server.stop()
    return {"load": load, "steady": percentiles([t for t, _ in steady]),
            "changed": percentiles([t for t, _ in changed]), "bytes": steady[-1][1]}


def in_process(args) -> dict:
    """numboard's body build without HTTP: from scratch (an empty cache), with nothing
    changed, and after one run received a point (read by the loader, then timed)."""
    loader = Loader(Store(), sources_for(str(args.logdir), None), watch=False, parallel=False)
    loader.cycle()
    cache = TableCache()
    cold = []
    for _ in range(5):
        t = time.perf_counter()
        runs_table_bytes(loader.store, TableCache())
        cold.append(time.perf_counter() - t)
    runs_table_bytes(loader.store, cache)
    steady, changed = [], []
    for k in range(args.changes):
        with SummaryWriter(Path(args.logdir) / f"run{k:04d}") as w:
            w.add_scalar("metric01", -5.0, args.steps + 1)
        loader.cycle()
        t = time.perf_counter()
        runs_table_bytes(loader.store, cache)
        changed.append(time.perf_counter() - t)
        t = time.perf_counter()
        runs_table_bytes(loader.store, cache)
        steady.append(time.perf_counter() - t)
    return {"cold": percentiles(cold), "steady": percentiles(steady),
            "changed": percentiles(changed)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--tags", type=int, default=20)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--changes", type=int, default=20)
    p.add_argument("--peer-requests", type=int, default=10,
                   help="requests (and changes) for TensorBoard, whose answers take seconds")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds to wait after writing a point before timing a request")
    p.add_argument("--logdir", type=Path, default=Path("/tmp/numboard-bench-runs-table"))
    p.add_argument("--only", choices=["numboard", "tensorboard"], default=None)
    p.add_argument("--load-timeout", type=float, default=900)
    args = p.parse_args()
    logdir = build_logdir(args.logdir, args.runs, args.tags, args.steps)
    print(f"logdir {logdir}: {args.runs} runs × {args.tags} tags × {args.steps} steps, "
          "with hparams", flush=True)
    servers = [
        Server("numboard", [str(VENV_BIN / "board"), "--logdir", str(logdir), "--port",
                            str(port := free_port())], port, "numboard"),
        Server("tensorboard", [str(VENV_BIN / "tensorboard"), "--logdir", str(logdir),
                               "--port", str(port2 := free_port()), "--reload_interval", "1"],
               port2, "tb"),
    ]
    results = {}
    for server in servers:
        if args.only and args.only != server.name:
            continue
        print(f"measuring {server.name} …", flush=True)
        results[server.name] = measure(server, args)
        print(f"  {results[server.name]}", flush=True)
    print()
    names = list(results)
    print("| " + " | ".join(["metric", *names, *(["ratio"] if len(names) == 2 else [])]) + " |")
    print("|---" * (len(names) + 1 + (len(names) == 2)) + "|")
    for label, get in [("p50, nothing changed (ms)", lambda r: r["steady"][0]),
                       ("p99, nothing changed (ms)", lambda r: r["steady"][1]),
                       ("p50, one run changed (ms)", lambda r: r["changed"][0]),
                       ("p99, one run changed (ms)", lambda r: r["changed"][1]),
                       ("response bytes", lambda r: r["bytes"]),
                       ("start → every run served (s)", lambda r: r["load"])]:
        cells = [f"{get(results[n]):.3g}" for n in names]
        if len(names) == 2:
            ours, theirs = (get(results[n]) for n in names)
            cells.append(f"{theirs / ours:.1f}×" if ours else "n/a")
        print("| " + " | ".join([label, *cells]) + " |")
    print("\nratio > 1: numboard is faster. Target: numboard's p99 ≤ 50 ms at 1000 × 20.")
    if args.only in (None, "numboard"):
        inner = in_process(args)
        print("\nnumboard in-process body build (no HTTP), ms p50 / p99: "
              f"from scratch {inner['cold'][0]:.3g} / {inner['cold'][1]:.3g}, "
              f"nothing changed {inner['steady'][0]:.3g} / {inner['steady'][1]:.3g}, "
              f"one run changed {inner['changed'][0]:.3g} / {inner['changed'][1]:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
