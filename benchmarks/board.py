"""Board benchmark: numboard vs TensorBoard's Rust and Python loaders (SPEC §8).

    .venv/bin/python benchmarks/board.py [--preset default|big|many] [--skip-python-loader]
                                         [--runs 20 --tags 10 --steps 5000] [--logdir DIR]

Presets (logdirs cached under ~/.cache/numboard-bench, one event file per run):
- default: 20 runs × 10 tags × 5000 steps = 1M points, written by tensorboardX;
- big:     50 runs × 20 tags × 10,000 steps = 10M points, written with TensorBoard's protos;
- many:    1000 runs × 10 tags × 1000 steps = 10M points in many small files, same writer.

For each server, one after the other in one run, on 127.0.0.1 free ports:
- load: seconds from process start until the last tag of the first and of the last run serve
  all their points (then the last tag of every run is checked complete), and the CPU time
  the server's processes used until then (steadier than seconds on a shared machine);
- peak RSS while loading (sampled every 20 ms) and RSS after the load, of the process tree
  (psutil), also as bytes per point above the same server on an empty logdir;
- query: p50/p99 of a whole-series request (up to 10,000 points: numboard
  /api/scalars?max_points=10000, TensorBoard /data/plugin/scalars/scalars with
  samples_per_plugin scalars=10000) at 1 and at 16 clients with wrk when installed
  (apt-get install -y wrk; a C client, so its own cost stays off the shared CPU), else
  client threads; and at 1 client with Python's httpx (gzip accepted), whose own work on the
  same cores (about 3 ms a request: gunzip, h11 parsing) is in that figure;
- live during the load: a run written to while the server loads cold; seconds from flush()
  to the point being served, for points flushed after the run's first appearance;
- live after the load: the same once loaded (median of 10); startup: to the first HTTP 200.
Prints a markdown table with numboard/peer ratios and the machine's load average before and
after. Nothing here is asserted: numbers are reported, never used as test pass/fail criteria.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psutil
from load import _WRK_SCRIPT, _wrk_ms  # benchmarks/load.py: the same wrk script and parsing
from tbx_logdir import WRITERS, build_logdir, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CACHE = Path.home() / ".cache" / "numboard-bench"
PRESETS = {"default": (20, 10, 5000, "tbx"), "big": (50, 20, 10_000, "protos"),
           "many": (1000, 10, 1000, "protos")}
QUERY_POINTS = 10_000
POINTS = 1_000_000
LIVE_RUN = "live"

def run_name(r: int, runs: int) -> str:
    return f"run{r:0{max(2, len(str(runs - 1)))}d}"


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
        try:
            p = psutil.Process(self.proc.pid)
            procs = [p, *p.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for x in procs:
            try:
                total += x.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process tree so far (children that ended included)."""
        try:
            p = psutil.Process(self.proc.pid)
            procs = [p, *p.children(recursive=True)]
        except psutil.Error:
            return float("nan")
        total = 0.0
        for x in procs:
            try:
                t = x.cpu_times()
                total += t.user + t.system + (t.children_user + t.children_system
                                              if x is p else 0.0)
            except psutil.Error:
                pass
        return total

    def runs_url(self) -> str:
        return f"{self.base}/data/runs"

    def series_path(self, run: str, tag: str) -> str:
        if self.kind == "numboard":
            return "/api/scalars?" + urlencode({"run": run, "tag": tag,
                                                 "max_points": QUERY_POINTS})
        return "/data/plugin/scalars/scalars?" + urlencode({"run": run, "tag": tag})

    def series_url(self, run: str, tag: str) -> str:
        return self.base + self.series_path(run, tag)

    def count_url(self, run: str, tag: str) -> str:
        """A cheap request that tells how many points (run, tag) has."""
        if self.kind == "numboard":
            return self.base + "/api/scalars?" + urlencode({"run": run, "tag": tag,
                                                            "max_points": 4})
        return self.series_url(run, tag)

    def count(self, body) -> int:
        return body["total_points"] if self.kind == "numboard" else len(body)

    def last_step(self, body) -> int:
        return body["step"][-1] if self.kind == "numboard" else body[-1][1]


class PeakRss:
    """Samples the server's RSS every 20 ms on a thread until stopped."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak = server, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.server.rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


class LiveWriter:
    """Writes a point to run `live` every 0.2 s from before the server starts, and measures
    flush() → served for points flushed after the run first appeared (its first read)."""

    def __init__(self, server: Server, logdir: Path) -> None:
        sys.path.insert(0, str(ROOT))
        from writer import SummaryWriter

        shutil.rmtree(logdir / LIVE_RUN, ignore_errors=True)
        self.server, self.logdir = server, logdir
        self.writer = SummaryWriter(logdir / LIVE_RUN, flush_secs=3600)
        self.writer.add_scalar("x", 0.0, 0)
        self.writer.flush()
        self.delays: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        seen_run = False
        step = 0
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                step += 1
                self.writer.add_scalar("x", float(step), step)
                self.writer.flush()
                t = time.perf_counter()
                counted = seen_run
                while not self._stop.is_set() and time.perf_counter() - t < 30:
                    try:
                        r = client.get(self.server.series_url(LIVE_RUN, "x"))
                        if r.status_code == 200:
                            seen_run = True
                            if self.server.last_step(r.json()) >= step:
                                break
                    except (httpx.HTTPError, ValueError, KeyError, IndexError):
                        pass
                    time.sleep(0.05)  # polling costs the server CPU: keep it light
                if counted and not self._stop.is_set():
                    self.delays.append(time.perf_counter() - t)
                self._stop.wait(0.2)

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        return self.delays

    def close(self) -> None:
        self.writer.close()
        shutil.rmtree(self.logdir / LIVE_RUN, ignore_errors=True)


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
    """Seconds from start until the last tag of the first and of the last run serve every
    point (each run is one file with its tags interleaved, so its last tag completes last);
    then the last tag of every run and every tag of the first and last runs are checked, and
    any short one polled until complete."""
    def complete(run: str, tag: str) -> bool:
        try:
            resp = client.get(server.count_url(run, tag))
        except httpx.HTTPError:
            return False
        return resp.status_code == 200 and server.count(resp.json()) >= steps

    def poll(pending: set) -> bool:
        while pending and time.perf_counter() - server.t0 < timeout:
            pending = {key for key in sorted(pending) if not complete(*key)}
            if pending:
                time.sleep(0.05)
        return not pending

    last = f"tag{tags - 1:02d}"
    if not poll({(run_name(0, runs), last), (run_name(runs - 1, runs), last)}):
        return float("nan")
    loaded = time.perf_counter() - server.t0
    check = {(run_name(r, runs), last) for r in range(runs)}
    check |= {(run_name(r, runs), f"tag{t:02d}") for r in (0, runs - 1) for t in range(tags)}
    short = {key for key in check if not complete(*key)}
    if short:
        print(f"  {len(short)} series were not complete yet", flush=True)
        if not poll(short):
            return float("nan")
        loaded = time.perf_counter() - server.t0
    return loaded


def latency_threads(server: Server, clients: int, requests: int, targets: list
                    ) -> tuple[float, float, float]:
    """p50 and p99 in ms, and req/s, of whole-series requests from `clients` threads."""
    samples: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(timeout=60) as c:
            for i in range(requests // clients):
                run, tag = targets[(k * 7919 + i) % len(targets)]
                t = time.perf_counter()
                c.get(server.series_url(run, tag)).raise_for_status()
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


def latency_wrk(server: Server, clients: int, seconds: int, targets: list
                ) -> tuple[float, float, float]:
    """The same with wrk (a C client: the client's own cost stays off the shared CPU)."""
    paths = ", ".join(json.dumps(server.series_path(r, t)) for r, t in targets)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_WRK_SCRIPT % paths)
        script = f.name
    try:
        out = subprocess.run([shutil.which("wrk"), f"-t{min(2, clients)}", f"-c{clients}",
                              f"-d{seconds}s",
                              "--latency", "-s", script, server.base], capture_output=True,
                             text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    if "Non-2xx" in out:
        print(f"  wrk saw errors: {out}", flush=True)
    return _wrk_ms(lat.get("50", "")), _wrk_ms(lat.get("99", "")), rps


def live_latency(server: Server, client: httpx.Client, logdir: Path, trials: int = 10
                 ) -> float:
    """Median seconds from a flush() to the point being served, once loaded."""
    sys.path.insert(0, str(ROOT))
    from writer import SummaryWriter

    run = LIVE_RUN + "_after"
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
    out = {"rss_empty": empty_rss(server, Path(tempfile.gettempdir()) / "numboard-bench-empty")}
    live = LiveWriter(server, logdir)
    server.start()
    peak = PeakRss(server)
    try:
        with httpx.Client(timeout=120) as client:
            out["startup"] = wait_first_200(server, client)
            live.start()
            out["load"] = wait_loaded(server, client, args.runs, args.tags, args.steps,
                                      args.load_timeout)
            out["load_cpu"] = server.cpu_seconds()
            delays = live.stop()
            out["live_load"] = (statistics.median(delays), max(delays)) if delays \
                else (float("nan"), float("nan"))
            out["rss_peak"] = peak.stop()
            print(f"  loaded in {out['load']:.2f}s, peak {out['rss_peak']:.0f} MB, live "
                  f"during load {out['live_load']} ({len(delays)} points)", flush=True)
            time.sleep(1.0)
            out["rss"] = server.rss_mb()
            out["rss_peak"] = max(out["rss_peak"], out["rss"])
            targets = [(run_name(r, args.runs), f"tag{t:02d}") for r in range(args.runs)
                       for t in range(args.tags)]
            out["q1_httpx"] = latency_threads(server, 1, 200, targets)
            out["q1"] = latency_wrk(server, 1, 5, targets) if shutil.which("wrk") \
                else out["q1_httpx"]
            out["q16"] = latency_wrk(server, 16, 10, targets) if shutil.which("wrk") \
                else latency_threads(server, 16, 800, targets)
            print(f"  queries done: {out['q1']}, {out['q16']}", flush=True)
            out["live"] = live_latency(server, client, logdir)
    finally:
        live.close()
        peak.stop()
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

    def per_point(mb: float, r: dict) -> float:
        return (mb - r["rss_empty"]) * 2**20 / POINTS

    rows = [("load: start → every point served (s)", lambda r: r["load"], False),
            ("CPU time used by then, all processes (s)", lambda r: r["load_cpu"], False),
            ("peak RSS while loading (MB)", lambda r: r["rss_peak"], False),
            ("RSS after load (MB)", lambda r: r["rss"], False),
            ("peak RSS above an empty server, bytes/point",
             lambda r: per_point(r["rss_peak"], r), False),
            ("RSS after load above an empty server, bytes/point",
             lambda r: per_point(r["rss"], r), False),
            ("peak RSS / RSS after load", lambda r: r["rss_peak"] / r["rss"], False),
            ("query p50, 1 client (ms)", lambda r: r["q1"][0], False),
            ("query p99, 1 client (ms)", lambda r: r["q1"][1], False),
            ("query p50, 1 Python httpx client, gzip (ms; its own work included)",
             lambda r: r["q1_httpx"][0], False),
            ("query p99, 1 Python httpx client, gzip (ms; its own work included)",
             lambda r: r["q1_httpx"][1], False),
            ("query p50, 16 clients (ms)", lambda r: r["q16"][0], False),
            ("query p99, 16 clients (ms)", lambda r: r["q16"][1], False),
            ("throughput, 16 clients (req/s)", lambda r: r["q16"][2], True),
            ("live during the load: flush() → served, median (s)",
             lambda r: r["live_load"][0], False),
            ("live during the load: flush() → served, max (s)",
             lambda r: r["live_load"][1], False),
            ("live after the load: flush() → served, median (s)", lambda r: r["live"], False),
            ("startup: start → first 200 (s)", lambda r: r["startup"], False)]
    peers = [k for k in results if k != "numboard"]
    head = "| metric | numboard | " + " | ".join(f"{p} | ratio" for p in peers) + " |"
    sep = "|---" * (2 + 2 * len(peers)) + "|"
    lines = [head, sep]
    for label, get, higher_better in rows:
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
    p.add_argument("--preset", choices=sorted(PRESETS), default="default")
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--tags", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--writer", choices=sorted(WRITERS), default=None)
    p.add_argument("--logdir", type=Path, default=None,
                   help=f"default: {CACHE}/<writer>-<runs>x<tags>x<steps>")
    p.add_argument("--skip-python-loader", action="store_true",
                   help="skip TensorBoard's Python loader (it takes minutes on 1M points)")
    p.add_argument("--only", choices=["numboard", "rust", "python"], default=None)
    p.add_argument("--load-timeout", type=float, default=900)
    args = p.parse_args()
    runs, tags, steps, writer = PRESETS[args.preset]
    args.runs, args.tags, args.steps = args.runs or runs, args.tags or tags, args.steps or steps
    args.writer = args.writer or writer
    global POINTS
    POINTS = args.runs * args.tags * args.steps
    logdir = args.logdir or CACHE / f"{args.writer}-{args.runs}x{args.tags}x{args.steps}"
    t = time.perf_counter()
    logdir = build_logdir(logdir, args.runs, args.tags, args.steps, args.writer)
    print(f"logdir {logdir}: {args.runs}×{args.tags}×{args.steps} = {POINTS:,} points by "
          f"{args.writer} (ready in {time.perf_counter() - t:.1f}s)", flush=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()}", flush=True)
    results = {}
    for server in servers(logdir, args.skip_python_loader):
        if args.only and args.only not in server.name.lower():
            continue
        print(f"measuring {server.name} … (load average {os.getloadavg()})", flush=True)
        results[server.name] = measure(server, logdir, args)
        print(f"  {results[server.name]}", flush=True)
    print(f"load average at the end: {os.getloadavg()}")
    if "numboard" in results and len(results) > 1:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
