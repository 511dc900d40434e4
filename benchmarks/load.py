"""Load test of /api/scalars: many concurrent connections for a fixed time (SPEC §8 query, §9).

    .venv/bin/python benchmarks/load.py                      # 1M points, 64 conns, 30 s
    .venv/bin/python benchmarks/load.py --runs 4 --steps 1000 --duration 3
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:6006/ --tool wrk

Without ``--url`` it writes (once, cached by a marker file) a logdir of runs × tags × steps
scalars with ``writer.SummaryWriter`` (default 20 × 10 × 5000 = 1M points), starts
``board --logdir DIR --port 0`` and waits until every point is served. Then it sends
``GET /api/scalars?run=R&tag=T&max_points=N`` round-robin over every (run, tag) from
``--connections`` concurrent keep-alive connections for ``--duration`` seconds, with either

- ``--tool httpx`` (default): asyncio + httpx, one coroutine per connection, bounded by the
  run time; latency includes the client's own scheduling (it shares the CPU with the
  server), or
- ``--tool wrk``: Debian's ``wrk`` (``apt-get install -y wrk``) with a Lua script cycling
  through the same URLs; a C client, so it measures the server rather than the client.

It prints a markdown table (requests, errors, req/s, p50, p99) and, with ``--json``, one JSON
line. Nothing here is asserted; ``tests/reliability/test_load_short.py`` runs a 3-second
variant and checks only that no request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
BOARD = Path(sys.executable).with_name("board")
URL_LINE = re.compile(r"numboard serving .* at (http://\S+/)")


# -- the logdir and the server ------------------------------------------------------------------


def build_logdir(path: Path, runs: int, tags: int, steps: int) -> Path:
    """runs × tags × steps scalar points (cached: a marker names the shape)."""
    marker = path / f".complete-{runs}x{tags}x{steps}"
    if marker.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    sys.path.insert(0, str(ROOT))
    from writer import SummaryWriter

    for r in range(runs):
        with SummaryWriter(path / f"run{r:02d}", max_queue=10_000, flush_secs=3600) as w:
            for s in range(steps):
                for t in range(tags):
                    w.add_scalar(f"tag{t:02d}", math.sin(s / 100 + t) + r, s)
    marker.touch()
    return path


class Board:
    """``board --logdir DIR --port 0`` in a child process, its URL read from stdout."""

    def __init__(self, logdir: Path, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [str(BOARD), "--logdir", str(logdir), "--port", "0", "--reload_interval", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout
        self.url = ""
        while time.monotonic() < deadline and not self.url:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
            m = URL_LINE.search(line)
            if m:
                self.url = m.group(1)
        if not self.url:
            self.stop()
            raise RuntimeError("board did not print its URL")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def scalar_targets(url: str) -> list[tuple[str, str]]:
    tags = httpx.get(url + "data/plugin/scalars/tags", timeout=30).json()
    return [(run, tag) for run, by_tag in sorted(tags.items()) for tag in sorted(by_tag)]


def wait_loaded(url: str, runs: int, tags: int, steps: int, timeout: float) -> float:
    """Seconds until every (run, tag) reports `steps` points."""
    t0 = time.monotonic()
    with httpx.Client(base_url=url, timeout=30) as c:
        while time.monotonic() - t0 < timeout:
            try:
                targets = scalar_targets(url)
                if len(targets) >= runs * tags and all(
                        c.get("/api/scalars", params={"run": r, "tag": t, "max_points": 4})
                        .json().get("total_points") == steps for r, t in targets):
                    return time.monotonic() - t0
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
    raise RuntimeError(f"the logdir was not fully served within {timeout}s")


# -- the load ---------------------------------------------------------------------------------


def percentile(sorted_xs: list[float], q: float) -> float:
    if not sorted_xs:
        return math.nan
    return sorted_xs[min(len(sorted_xs) - 1, int(q * len(sorted_xs)))]


async def _httpx_load(url: str, targets: list[tuple[str, str]], connections: int,
                      duration: float, max_points: int) -> dict:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    paths = [f"/api/scalars?{urlencode({'run': r, 'tag': t, 'max_points': max_points})}"
             for r, t in targets]
    cycle = itertools.cycle(paths)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + duration

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            path = next(cycle)
            t0 = time.perf_counter()
            try:
                r = await client.get(path)
                await r.aread()
            except httpx.HTTPError as exc:
                key = type(exc).__name__
                errors[key] = errors.get(key, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1

    t0 = time.monotonic()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    elapsed = time.monotonic() - t0
    latencies.sort()
    return {"tool": "httpx", "connections": connections, "seconds": round(elapsed, 2),
            "requests": len(latencies), "errors": sum(errors.values()), "error_kinds": errors,
            "req_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1e3, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1e3, 2),
            "max_ms": round(latencies[-1] * 1e3, 2) if latencies else math.nan}


def run_httpx(url: str, targets: list[tuple[str, str]], *, connections: int = 64,
              duration: float = 30, max_points: int = 2000) -> dict:
    """Closed-loop load from `connections` coroutines for `duration` seconds."""
    return asyncio.run(_httpx_load(url, targets, connections, duration, max_points))


_WRK_SCRIPT = """
paths = {%s}
i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i])
end
"""


def _wrk_ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return math.nan
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(url: str, targets: list[tuple[str, str]], *, connections: int = 64,
            duration: float = 30, max_points: int = 2000, threads: int = 2) -> dict:
    """The same load with wrk (a C client); parses its --latency report."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk (or use --tool httpx)")
    paths = ", ".join(json.dumps(f"/api/scalars?{urlencode({'run': r, 'tag': t, 'max_points': max_points})}")
                      for r, t in targets)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_WRK_SCRIPT % paths)
        script = f.name
    try:
        out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{int(duration)}s",
                              "--latency", "-s", script, url], capture_output=True, text=True,
                             timeout=duration + 60, check=True).stdout
    finally:
        os.unlink(script)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return {"tool": "wrk", "connections": connections, "seconds": duration,
            "requests": requests, "errors": errors,
            "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": round(_wrk_ms(lat.get("50", "")), 2),
            "p99_ms": round(_wrk_ms(lat.get("99", "")), 2)}


def table(result: dict, points: int | None) -> str:
    rows = ["| tool | connections | seconds | requests | errors | req/s | p50 ms | p99 ms |",
            "|---|---|---|---|---|---|---|---|",
            f"| {result['tool']} | {result['connections']} | {result['seconds']} | "
            f"{result['requests']} | {result['errors']} | {result['req_per_s']} | "
            f"{result['p50_ms']} | {result['p99_ms']} |"]
    if points:
        rows.insert(0, f"/api/scalars load on a logdir of {points:,} points\n")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="an already running board (skips building and starting)")
    p.add_argument("--logdir", type=Path,
                   default=Path(tempfile.gettempdir()) / "numboard-load-logdir")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--tags", type=int, default=10)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--max-points", type=int, default=2000)
    p.add_argument("--tool", choices=["httpx", "wrk"], default="httpx")
    p.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = p.parse_args(argv)

    board = None
    points = None
    url = args.url
    if url is None:
        build_logdir(args.logdir, args.runs, args.tags, args.steps)
        points = args.runs * args.tags * args.steps
        board = Board(args.logdir)
        url = board.url
        load_s = wait_loaded(url, args.runs, args.tags, args.steps, timeout=600)
        print(f"board served all {points:,} points {load_s:.1f}s after start", file=sys.stderr)
    try:
        targets = scalar_targets(url)
        if not targets:
            print("the board has no scalar series to request", file=sys.stderr)
            return 2
        run = run_wrk if args.tool == "wrk" else run_httpx
        result = run(url, targets, connections=args.connections, duration=args.duration,
                     max_points=args.max_points)
    finally:
        if board is not None:
            board.stop()
    print(table(result, points))
    if args.json:
        print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
