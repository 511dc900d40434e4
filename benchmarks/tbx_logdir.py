"""The benchmarks' logdirs: runs × tags × steps scalars, built once and cached (a marker file
names the sizes). `writer="tbx"`: tensorboardX, the writer most PyTorch users log with;
`"protos"`: TensorBoard's own protos, framed here. No byte comes from numboard's writer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

# One process per CPU writes its share of the runs. tensorboardX: its own SummaryWriter.
# protos: TensorBoard's Event/Summary protos, serialized and framed here (the TFRecord
# framing of formats.md §1.3 with google-crc32c), so no byte comes from numboard's writer.
WRITERS = {
    "tbx": """
import math, sys
from tensorboardX import SummaryWriter
root, runs, tags, steps, width = sys.argv[1], eval(sys.argv[2]), *map(int, sys.argv[3:])
for r in runs:
    w = SummaryWriter(f"{root}/run{r:0{width}d}", max_queue=1000, flush_secs=3600)
    for s in range(steps):
        for t in range(tags):
            w.add_scalar(f"tag{t:02d}", math.sin(s / 100 + t) + r, s)
    w.close()
""",
    "protos": """
import math, os, socket, struct, sys, time
import google_crc32c
from tensorboard.compat.proto import event_pb2
root, runs, tags, steps, width = sys.argv[1], eval(sys.argv[2]), *map(int, sys.argv[3:])
def masked(data):
    c = google_crc32c.value(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF
def framed(data):
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", masked(head)) + data + struct.pack("<I", masked(data))
for r in runs:
    d = f"{root}/run{r:0{width}d}"
    os.makedirs(d, exist_ok=True)
    wall = time.time()
    parts = [framed(event_pb2.Event(wall_time=wall, file_version="brain.Event:2").SerializeToString())]
    evs = []
    for t in range(tags):
        ev = event_pb2.Event()
        ev.summary.value.add(tag=f"tag{t:02d}")
        evs.append(ev)
    for s in range(steps):
        for t, ev in enumerate(evs):
            ev.wall_time = wall + s * 0.01
            ev.step = s
            ev.summary.value[0].simple_value = math.sin(s / 100 + t) + r
            parts.append(framed(ev.SerializeToString()))
    name = f"events.out.tfevents.{int(wall)}.{socket.gethostname()}.{os.getpid()}.{r}"
    with open(os.path.join(d, name), "wb") as f:
        f.write(b"".join(parts))
""",
}


def build_logdir(path: Path, runs: int, tags: int, steps: int, writer: str = "tbx") -> Path:
    """runs × tags × steps scalar events written by `writer` (cached by a marker)."""
    marker = path / f".complete-{runs}x{tags}x{steps}"
    if marker.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    ncpu = max(1, os.cpu_count() or 1)
    width = max(2, len(str(runs - 1)))
    procs = [subprocess.Popen([sys.executable, "-c", WRITERS[writer], str(path),
                               repr(list(range(k, runs, ncpu))), str(tags), str(steps),
                               str(width)]) for k in range(ncpu)]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("building the logdir failed")
    marker.touch()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


