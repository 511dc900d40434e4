"""Top-k rows of the op table (TF 1.15 ``TopKV2``, ``InTopKV2``): pure numpy.

``TopKV2`` returns the ``k`` largest entries of the last axis, largest first, ties in index
order, with their int32 indices; its gradient puts each value's gradient back at its index.
``InTopKV2`` says per row whether the target's prediction is among the ``k`` largest: fewer
than ``k`` predictions are strictly larger (so ties count in), false for a non-finite one.
"""

from __future__ import annotations

import numpy as np

from flow.kernels.common import const_input
from flow.kernels.table import OpDef, register


def _top_k(inputs, attrs):
    x, k = inputs[0], int(inputs[1])
    if k > x.shape[-1]:
        raise ValueError(f"input must have at least k={k} columns, got shape {list(x.shape)}")
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, -1), order.astype(np.int32)


def _top_k_grad(inputs, outputs, grads, attrs):
    x, g = inputs[0], grads[0]
    dx = np.zeros_like(x)
    if g is not None:
        np.put_along_axis(dx, outputs[1].astype(np.intp), g, -1)
    return [dx, None]


def _top_k_shape(shapes, attrs):
    x, k = shapes[0], const_input(attrs, 1)
    if x is None:
        return [None, None]
    out = (*x[:-1], None if k is None else int(k))
    return [out, out]


def _top_k_dtype(dtypes, attrs):
    return [dtypes[0], np.dtype(np.int32)]


register(OpDef("TopKV2", _top_k, _top_k_grad, _top_k_shape, num_outputs=2, dtype=_top_k_dtype,
               attrs=("sorted", "T"), const_inputs=(1,)))


def _in_top_k(inputs, attrs):
    predictions, targets, k = inputs[0], inputs[1].astype(np.intp), int(inputs[2])
    target = np.take_along_axis(predictions, targets[:, None], 1)
    larger = (predictions > target).sum(axis=1)
    return (larger < k) & np.isfinite(target[:, 0])


register(OpDef("InTopKV2", _in_top_k, None, lambda s, a: [None if s[1] is None else s[1]],
               dtype=lambda d, a: [np.dtype(bool)], attrs=("T",), const_inputs=(2,)))
