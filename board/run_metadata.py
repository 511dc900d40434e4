"""What the Graphs view needs from one traced Session.run (an `Event.tagged_run_metadata`).

A RunMetadata carries a StepStats: per device, one NodeExecStats per op execution. The board
keeps, per op name, its compute time, the bytes its outputs took and how often it ran; the
rest of the record (timeline labels, partition graphs, cost graphs) stays in the file.

The rules follow TensorBoard's graph view (`joinStatsInfoWithGraph`):
- only devices named like `…/device:CPU:0` count (its default device filter); the pseudo
  devices TF adds for GPU streams and copies (`…/device:GPU:0/stream:all`, `…/memcpy`) would
  count the same kernels twice;
- an execution's time is `all_end_rel` (from its start to the end of all its work), in
  microseconds (from the `_nanos` fields when a writer filled them); negative times and
  negative byte counts are ignored;
- memory is the sum of `memory[].total_bytes`.
One difference, said in docs/http_api.md: an op that ran several times in the step (inside a
while loop) gets the sum of its executions, where TensorBoard shows the span from the first
start to the last end (which counts the time other ops ran in between).

Pure functions; bad bytes give a `problem`, never an exception.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_NODES = 200_000  # op names kept per traced run (a note says when more were dropped)
_DEVICE = re.compile(r"device:[^:/]+:[0-9]+$")


class RunStats(NamedTuple):
    """One traced run, reduced: `nodes` maps an op name to (compute_micros, memory_bytes,
    executions). `path`/`offset` locate the record, for TensorBoard's route."""
    tag: str
    step: int
    wall_time: float
    nodes: dict[str, tuple[float, int, int]]
    devices: tuple[str, ...]
    total_micros: float  # first start to last end, over the counted devices
    path: str
    offset: int
    problem: str | None = None  # why the bytes could not be read (then `nodes` is empty)


def _micros(nanos: int, micros: int) -> float:
    return nanos / 1000.0 if nanos > 0 else float(micros)


def summarize(tag: str, step: int, wall_time: float, data: bytes, path: str = "",
              offset: int = 0) -> RunStats:
    """Reduce serialized RunMetadata `data` to a RunStats (see the module docstring)."""
    from google.protobuf.message import DecodeError

    from writer.proto import config_pb2

    try:
        meta = config_pb2.RunMetadata.FromString(data)
    except (DecodeError, RecursionError, ValueError) as exc:
        return RunStats(tag, step, wall_time, {}, (), 0.0, path, offset,
                        f"run metadata {tag!r} at step {step} cannot be decoded ({exc})")
    nodes: dict[str, tuple[float, int, int]] = {}
    devices = []
    start, end = None, None
    dropped = 0
    for dev in meta.step_stats.dev_stats:
        if not _DEVICE.search(dev.device):
            continue
        devices.append(dev.device)
        for ns in dev.node_stats:
            took = _micros(ns.all_end_rel_nanos, ns.all_end_rel_micros)
            took = took if took > 0 else 0.0
            begin = _micros(ns.all_start_nanos, ns.all_start_micros)
            if begin > 0:
                start = begin if start is None else min(start, begin)
                end = begin + took if end is None else max(end, begin + took)
            nbytes = sum(m.total_bytes for m in ns.memory if m.total_bytes > 0)
            old = nodes.get(ns.node_name)
            if old is not None:
                nodes[ns.node_name] = (old[0] + took, old[1] + nbytes, old[2] + 1)
            elif len(nodes) < MAX_NODES:
                nodes[ns.node_name] = (took, nbytes, 1)
            else:
                dropped += 1
    problem = None
    if dropped:
        problem = (f"run metadata {tag!r} at step {step} times more than {MAX_NODES} ops; "
                   f"{dropped} executions of the others are not shown")
    total = 0.0 if start is None else end - start
    return RunStats(tag, step, wall_time, nodes, tuple(devices), total, path, offset, problem)


def stats_json(run: str, stats: RunStats) -> dict:
    """The /api/graph/run_metadata body: per op its compute time, memory and executions,
    ops sorted by name."""
    return {
        "run": run, "tag": stats.tag, "step": stats.step, "wall_time": stats.wall_time,
        "devices": list(stats.devices), "total_micros": stats.total_micros,
        "nodes": [{"name": name, "compute_micros": micros, "memory_bytes": nbytes,
                   "executions": runs}
                  for name, (micros, nbytes, runs) in sorted(stats.nodes.items())],
    }
