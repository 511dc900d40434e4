"""Many runs: a logdir of N tiny run folders (default 100,000; issue "board hardening" §16).

    .venv/bin/python benchmarks/runs_scale.py [--runs 100000] [--logdir DIR] [--no-rust]

Builds (once, cached) N folders of one small event file each, plus a symlink to a second tree
of 15,000 empty folders, then measures, in this process:
- load: the first loader cycle (walk + read every file) until every run is listed, and the
  memory it took;
- /api/runs: building and encoding the whole list (and one 1000-run page);
- idle cycle: one cycle with nothing changed — with file-system events (what runs while
  the board is watching) and as the polling walk (no events available);
- the re-walk it replaces: one `os.walk` of the tree following links, as every cycle did;
- peer: TensorBoard's Rust data server, seconds from start until its run list holds N runs.
Prints a markdown table with ratios. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from board.loader.discover import Source  # noqa: E402
from board.loader.loader import Loader  # noqa: E402
from board.plugins.runs import runs_impl  # noqa: E402
from board.responses import json_bytes  # noqa: E402
from board.store import Store  # noqa: E402
from writer.proto import event_pb2  # noqa: E402
from writer.record import encode_record  # noqa: E402

NAME = "events.out.tfevents.1700000000.bench"


def build(path: Path, runs: int, linked: int) -> Path:
    marker = path / f".complete-{runs}-{linked}"
    if marker.exists():
        return path
    body = b"".join(encode_record(e.SerializeToString()) for e in (
        event_pb2.Event(wall_time=1.0, file_version="brain.Event:2"),
        event_pb2.Event(wall_time=1.0, step=1, summary={"value": [
            {"tag": "loss", "simple_value": 0.5}]})))
    logs = path / "logs"
    for i in range(runs):
        d = logs / f"{i // 1000:03d}" / f"run{i:06d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / NAME).write_bytes(body)
    other = path / "other"
    for i in range(linked):
        (other / f"{i // 100:03d}" / f"d{i:05d}").mkdir(parents=True, exist_ok=True)
    link = logs / "linked"
    if not link.is_symlink():
        link.symlink_to(other)
    marker.write_text("")
    return path


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def rust_until_listed(logdir: Path, runs: int, limit: float = 600.0) -> float | None:
    # The peer's client is imported only when the peer is measured (--no-rust skips it).
    import grpc
    from tensorboard import context
    from tensorboard.data import grpc_provider
    from tensorboard.data.server_ingester import get_server_binary

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [get_server_binary().path, f"--logdir={logdir}", "--reload=once",
             "--host=127.0.0.1", "--port=0", f"--port-file={port_file}", "--die-after-stdin"],
            stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            while not (port_file.exists() and port_file.read_text().endswith("\n")):
                time.sleep(0.02)
            addr = f"127.0.0.1:{int(port_file.read_text())}"
            with grpc.insecure_channel(addr) as channel:
                provider = grpc_provider.GrpcDataProvider(addr, grpc_provider.make_stub(channel))
                ctx = context.RequestContext()
                while time.perf_counter() - t0 < limit:
                    listed = provider.list_runs(ctx, experiment_id="")
                    if len(listed) >= runs:
                        return time.perf_counter() - t0
                    time.sleep(0.2)
            return None
        finally:
            proc.stdin.close()
            proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--linked", type=int, default=15_000)
    ap.add_argument("--logdir", type=Path, default=Path(tempfile.gettempdir()) / "numboard-runs")
    ap.add_argument("--no-rust", action="store_true")
    args = ap.parse_args()
    path = build(args.logdir, args.runs, args.linked)
    logs = path / "logs"

    store = Store()
    loader = Loader(store, [Source(None, logs)], reload_interval=3600, parallel=False)
    rss0 = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    loader.cycle()
    load = time.perf_counter() - t0
    rss = psutil.Process().memory_info().rss - rss0
    assert len(store.run_names()) == args.runs, len(store.run_names())
    body_bytes = []
    full = timed(lambda: body_bytes.append(len(json_bytes(runs_impl(store)))))
    page = timed(lambda: json_bytes(runs_impl(store, (), args.runs // 2, 1000)))
    poll = timed(loader.cycle)

    # Event-driven: start the watcher the way the board does, let its first walk finish.
    wake = threading.Event()
    loader._start_watching()
    loader.cycle()
    wake.wait(0.5)
    idle = timed(loader.cycle)
    watching = loader.watching
    loader.stop()
    rewalk = timed(lambda: sum(1 for _ in os.walk(logs, followlinks=True)), repeat=2)
    rust = None if args.no_rust else rust_until_listed(logs, args.runs)

    def ratio(a, b):
        if not (a and b):
            return ""
        return f"{b / a:,.0f}×" if b / a >= 10 else f"{b / a:.2f}×"

    rust_text = ("not run (--no-rust)" if args.no_rust else "not within 600 s" if rust is None
                 else f"{rust:.2f}")
    print(f"\n{args.runs} runs (+ a symlink to {args.linked} folders), {os.cpu_count()} cores\n")
    print("| what | numboard (s) | peer | peer (s) | ratio |")
    print("|---|---|---|---|---|")
    print(f"| first load until every run is listed | {load:.2f} | TensorBoard Rust loader | "
          f"{rust_text} | {ratio(load, rust)} |")
    print(f"| memory after the load (MB above empty; bytes/run) | {rss / 1e6:.0f} "
          f"({rss / args.runs:.0f}) | | | |")
    print(f"| /api/runs, all runs ({body_bytes[-1] / 1e6:.1f} MB) | {full:.3f} | | | |")
    print(f"| /api/runs?offset={args.runs // 2}&limit=1000 | {page:.4f} | | | |")
    print(f"| idle cycle, file-system events (watching={watching}) | {idle:.4f} | "
          f"full re-walk (os.walk) each cycle | {rewalk:.2f} | {ratio(idle, rewalk)} |")
    print(f"| idle cycle, polling walk (no events) | {poll:.3f} | full re-walk | "
          f"{rewalk:.2f} | {ratio(poll, rewalk)} |")


if __name__ == "__main__":
    main()
