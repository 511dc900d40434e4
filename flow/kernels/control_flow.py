"""Control-flow rows of the op table (TF 1.15 ``Switch`` / ``Merge``): dead values, not jumps.

As in TensorFlow's executor, a branch that is not taken is not skipped by a jump: its values
are *dead*. ``Switch(data, pred)`` forwards ``data`` to output 1 when ``pred`` is true (else
output 0) and makes the other output :data:`DEAD`; an op with a dead input does not run and
its outputs are dead too (the Session does that, see ``flow.client.session``); ``Merge``
forwards the one live input it gets, with its index. Their gradients are other Switch/Merge
nodes (``flow.ops.gradients``), so the rows have ``grad=None``.

A loop's gradient is another loop (``flow.ops.while_grad``) that reads the forward values
from stacks, as TensorFlow's: ``StackV2`` makes an empty stack (a Python list, the value of a
``resource`` tensor, new in each run), ``StackPushV2`` appends a value in each forward
iteration and ``StackPopV2`` takes the last one back in each gradient iteration.
``ControlTrigger`` does nothing and is never dead (it orders a dead push before the counter).
"""

from __future__ import annotations

import numpy as np

from flow.core.dtypes import resource
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


class _Stack(list):
    """A ``StackV2`` resource: the values pushed in one run."""

    __slots__ = ("name",)


def _stack(inputs, attrs):
    stack = _Stack()
    stack.name = attrs.get("stack_name", "")
    return stack


def _push(inputs, attrs):
    stack, value = inputs
    stack.append(value)
    return value


def _pop(inputs, attrs):
    stack = inputs[0]
    if not stack:
        raise ValueError(f"Stack {stack.name!r} is empty: a gradient loop popped more values "
                         f"than its forward loop pushed.")
    return stack.pop()


register(OpDef("StackV2", _stack, None, lambda s, a: [(2,)], dtype=lambda d, a: [resource],
               attrs=("elem_type", "stack_name")))
register(OpDef("StackPushV2", _push, None, lambda s, a: [s[1]], dtype=lambda d, a: [d[1]],
               attrs=("T", "swap_memory")))
register(OpDef("StackPopV2", _pop, None, lambda s, a: [None],
               dtype=lambda d, a: [a["elem_type"]], attrs=("elem_type",)))
register(OpDef("ControlTrigger", lambda inputs, attrs: (), None, lambda s, a: [],
               num_outputs=0, attrs=()))
