"""``Print``: TF1's ``tf.Print`` row, the identity of its first input that prints the others
(to standard error, as TF's kernel logs them) each time it runs. Its gradient is the identity."""

from __future__ import annotations

import sys

import numpy as np

from flow.kernels.common import same_shape
from flow.kernels.table import OpDef, register, stateful


def format_values(values, summarize) -> str:
    """TF's ``[v0 v1 v2...]`` with the first ``summarize`` entries of each value."""
    parts = []
    for v in values:
        arr = np.asarray(v)
        flat = arr.reshape(-1)
        shown = " ".join(str(x.decode() if isinstance(x, bytes) else x)
                         for x in flat[:summarize].tolist())
        parts.append(f"[{shown}{'...' if flat.size > summarize else ''}]" if arr.ndim else
                     str(flat[0].tolist()))
    return "".join(parts)


def _print(inputs, attrs):
    counter = attrs["_count"]
    counter[0] += 1
    first_n = attrs.get("first_n", -1)
    if first_n < 0 or counter[0] <= first_n:
        summarize = attrs.get("summarize", 3)
        print(attrs.get("message", "") + format_values(inputs[1:], summarize), file=sys.stderr)
    return inputs[0]


def _print_grad(inputs, outputs, grads, attrs):
    return [grads[0], *[None] * (len(inputs) - 1)]


register(OpDef("Print", _print, _print_grad, same_shape,
               attrs=("T", "U", "message", "first_n", "summarize")))


@stateful("PrintV2", ("output_stream", "end"))
def _print_v2(op, sess):
    """``tf.print``: the op has no output; it writes its template with the inputs' values."""
    template, stream, sep, end = (op.attrs["_template"], op.attrs["_stream"], op.attrs["_sep"],
                                  op.attrs["end"])
    name = op.attrs["output_stream"]
    summarize = op.attrs.get("_summarize", 3)

    def kernel(ins):
        parts = [ins[piece] if isinstance(piece, int) else piece for piece in template]
        text = sep.join(p if isinstance(p, str) else _tf_format(p, summarize) for p in parts)
        print(text, end=end, file=stream or getattr(sys, name))

    return kernel


def _tf_format(value, summarize) -> str:
    """A value as ``tf.print`` shows it: numpy's layout, ``...`` past ``summarize`` per axis."""
    arr = np.asarray(value)
    if arr.dtype == object:
        arr = np.vectorize(lambda b: b.decode() if isinstance(b, bytes) else b)(arr)
    if arr.ndim == 0:
        return str(arr.tolist())
    return np.array2string(arr, separator=" ", threshold=summarize * 2,
                           edgeitems=summarize).replace("\n ", "\n")
