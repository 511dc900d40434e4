"""Control-flow rows of the op table (TF 1.15 ``Switch`` / ``Merge``): dead values, not jumps.

As in TensorFlow's executor, a branch that is not taken is not skipped by a jump: its values
are *dead*. ``Switch(data, pred)`` forwards ``data`` to output 1 when ``pred`` is true (else
output 0) and makes the other output :data:`DEAD`; an op with a dead input does not run and
its outputs are dead too (the Session does that, see ``flow.client.session``); ``Merge``
forwards the one live input it gets, with its index. Their gradients are other Switch/Merge
nodes (``flow.ops.gradients``), so the rows have ``grad=None``.
"""

from __future__ import annotations

import numpy as np

from flow.kernels.table import OpDef, register


class _Dead:
    """The value of a tensor on a branch that is not taken."""

    __slots__ = ()

    def __repr__(self):
        return "DEAD"


DEAD = _Dead()


def _switch(inputs, attrs):
    data, pred = inputs
    if data is DEAD or pred is DEAD:
        return DEAD, DEAD
    return (data, DEAD) if not bool(pred) else (DEAD, data)


def _merge(inputs, attrs):
    for i, x in enumerate(inputs):
        if x is not DEAD:
            return x, np.int32(i)
    return DEAD, DEAD


def _merge_shape(shapes, attrs):
    first = shapes[0]
    same = all(s == first for s in shapes)
    return [first if same else None, ()]


register(OpDef("Switch", _switch, None, lambda s, a: [s[0], s[0]], num_outputs=2))
register(OpDef("Merge", _merge, None, _merge_shape, num_outputs=2,
               dtype=lambda d, a: [d[0], np.dtype(np.int32)], attrs=("T", "N")))


# The loop rows: a ``while_loop`` frame is run by the Session as one step (its Merge, Switch,
# LoopCond, NextIteration and Exit nodes are bookkeeping there); ``Enter`` runs once before it.
def _forward(inputs, attrs):
    return inputs[0]


def _same(shapes, attrs):
    return [shapes[0]]


register(OpDef("Enter", _forward, None, _same,
               attrs=("T", "frame_name", "is_constant", "parallel_iterations")))
register(OpDef("Exit", _forward, None, _same))
register(OpDef("NextIteration", _forward, None, _same))
register(OpDef("LoopCond", _forward, None, _same, attrs=()))
