"""The benchmarks' logdir: runs × tags × steps scalars written by tensorboardX, the writer
most PyTorch users log with, built once and cached (a marker file names the sizes)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path


def build_logdir(path: Path, runs: int, tags: int, steps: int) -> Path:
    """runs × tags × steps scalar events written by tensorboardX (cached by a marker)."""
    marker = path / f".complete-{runs}x{tags}x{steps}"
    if marker.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    procs = []
    ncpu = max(1, os.cpu_count() or 1)
    width = max(2, len(str(runs - 1)))  # run00…run19, run000…run999: names sort as numbers
    chunks = [list(range(r, runs, ncpu)) for r in range(ncpu)]
    for chunk in chunks:
        code = (
            "import sys, math\n"
            "from tensorboardX import SummaryWriter\n"
            f"for r in {chunk!r}:\n"
            f"    w = SummaryWriter(r'{path}/run{{:0{width}d}}'.format(r), max_queue=1000,"
            " flush_secs=3600)\n"
            f"    for s in range({steps}):\n"
            f"        for t in range({tags}):\n"
            "            w.add_scalar(f'tag{t:02d}', math.sin(s / 100 + t) + r, s)\n"
            "    w.close()\n"
        )
        procs.append(subprocess.Popen([sys.executable, "-c", code]))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("building the logdir failed")
    marker.touch()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
