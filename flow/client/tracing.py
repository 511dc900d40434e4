"""``RunOptions(trace_level=...)`` / ``RunMetadata``: the ``StepStats`` of one traced run.

One ``NodeExecStats`` per op execution, in run order, on TF's CPU device name: its absolute
start (``all_start_micros`` / ``_nanos``), its wall time as ``op_end_rel`` / ``all_end_rel``,
a ``timeline_label`` like TF's (``name = Type(inputs)``), and per output the dtype, shape and
bytes (``NodeOutput.tensor_description.allocation_description``), their sum in ``memory``
(what TensorBoard's graph view colours by).

An op inside a ``tf.while_loop`` frame gets one entry per execution, under its own name, as
TensorFlow records it: each body op once per iteration, each cond op and the loop's ``Merge``,
``Switch`` and ``LoopCond`` once more (the test that ends the loop), ``Identity`` and
``NextIteration`` once per iteration, ``Exit`` once per run of the loop. Constants and
``NoOp`` have no entry: flow folds them into the run plan, they do not execute.

While the run goes, the Session logs ``(op, start_ns, end_ns, outputs)`` per execution, the
outputs reduced by :func:`describe` (so a long loop keeps no arrays alive); :func:`record`
makes the protos after the run. Pure functions over numpy values.
"""

from __future__ import annotations

import numpy as np

from flow.core import dtypes
from flow.framework.tensor_util import shape_proto
from writer.proto import config_pb2, step_stats_pb2

DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
ALLOCATOR = "cpu"


def check_arguments(options, run_metadata) -> bool:
    """TypeError for anything but protos; True when the run is to be traced."""
    if options is not None and not isinstance(options, config_pb2.RunOptions):
        raise TypeError(f"options must be a tf.RunOptions proto, got {options!r} of type "
                        f"{type(options).__name__}; pass e.g. "
                        f"tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE).")
    if run_metadata is not None and not isinstance(run_metadata, config_pb2.RunMetadata):
        raise TypeError(f"run_metadata must be a tf.RunMetadata proto, got {run_metadata!r} "
                        f"of type {type(run_metadata).__name__}; pass tf.RunMetadata().")
    return bool(options is not None and options.trace_level != config_pb2.RunOptions.NO_TRACE
                and run_metadata is not None)


def describe(values) -> tuple:
    """Per output value, ``(shape, nbytes)`` of an array, else None (a dead or unread output,
    a stack)."""
    return tuple((v.shape, v.nbytes) if isinstance(v, np.ndarray | np.generic) else None
                 for v in values)


def _output(slot, tensor, described):
    out = step_stats_pb2.NodeOutput(slot=slot)
    desc = out.tensor_description
    desc.dtype = tensor.dtype.as_datatype_enum if isinstance(tensor.dtype, dtypes.DType) else 0
    if described is not None:
        shape, nbytes = described
        desc.shape.CopyFrom(shape_proto(shape))
        desc.allocation_description.requested_bytes = nbytes
        desc.allocation_description.allocated_bytes = nbytes
        desc.allocation_description.allocator_name = ALLOCATOR
    return out


def node_stats(op, start_ns: int, end_ns: int, outputs) -> step_stats_pb2.NodeExecStats:
    """The stats of ``op`` that ran from ``start_ns`` to ``end_ns`` (``time.time_ns``) and
    produced ``outputs`` (:func:`describe` of its output values)."""
    took = max(end_ns - start_ns, 0)
    stats = step_stats_pb2.NodeExecStats(
        node_name=op.name, all_start_micros=start_ns // 1000, op_start_rel_micros=0,
        op_end_rel_micros=took // 1000, all_end_rel_micros=took // 1000,
        all_start_nanos=start_ns, op_start_rel_nanos=0, op_end_rel_nanos=took,
        all_end_rel_nanos=took,
        timeline_label=f"{op.name} = {op.type}({', '.join(t.op.name for t in op.inputs)})")
    total = 0
    for k, (t, d) in enumerate(zip(op.outputs, outputs, strict=True)):
        out = _output(k, t, d)
        total += out.tensor_description.allocation_description.requested_bytes
        stats.output.append(out)
    stats.memory.add(allocator_name=ALLOCATOR, total_bytes=total, peak_bytes=total,
                     live_bytes=total)
    return stats


def record(run_metadata, log) -> None:
    """Put one run's executions ``log`` (``(op, start_ns, end_ns, outputs)`` each) into
    ``run_metadata.step_stats`` (replacing what was there, as TF fills a RunMetadata afresh
    per run)."""
    run_metadata.step_stats.Clear()
    device = run_metadata.step_stats.dev_stats.add(device=DEVICE)
    device.node_stats.extend(node_stats(*entry) for entry in log)
