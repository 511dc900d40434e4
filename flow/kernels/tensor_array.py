"""TensorArray rows of the op table (TF 1.15 ``TensorArrayV3`` and friends): pure numpy.

A TensorArray's value is its *flow* tensor, which here carries the whole array densely:
an ndarray ``[size, *element_shape]`` (``[size]`` until the first write fixes the element
shape). ``Write``/``Scatter`` return a new array with rows replaced (inputs are never written
in place), so the usual gradient machinery applies: a write's gradient takes its row out of
the flow's gradient, a read's puts it back.
"""

from __future__ import annotations

import numpy as np

from flow.kernels.common import const_input
from flow.kernels.table import OpDef, np_dtype, register


def _fit(flow, element_shape, need, dynamic):
    """``flow`` shaped for elements of ``element_shape`` and at least ``need`` rows."""
    size = flow.shape[0]
    if need > size:
        if not dynamic:
            raise ValueError(f"Tried to write to index {need - 1} but array is not resizeable "
                             f"and size is: {size}; create the TensorArray with "
                             f"dynamic_size=True or a larger size.")
        size = need
    if flow.shape[1:] == element_shape and size == flow.shape[0]:
        return flow.copy()
    out = np.zeros((size, *element_shape), flow.dtype)
    if flow.shape[1:] == element_shape:
        out[:flow.shape[0]] = flow
    return out


def _index(i, size, verb):
    i = int(i)
    if not 0 <= i < size:
        raise ValueError(f"Tried to {verb} index {i} but array size is: {size}")
    return i


def _create(inputs, attrs):
    shape = attrs.get("element_shape")
    dims = () if shape is None or shape.ndims is None or not shape.is_fully_defined() else \
        tuple(shape.as_list())
    return np.zeros((int(inputs[0]), *dims), np_dtype(attrs["dtype"]))


def _write(inputs, attrs):
    flow, i, value = inputs
    i = int(i)
    out = _fit(flow, value.shape, i + 1, attrs.get("dynamic_size", False))
    out[i] = value
    return out


def _write_grad(inputs, outputs, grads, attrs):
    flow, i, value = inputs
    g = grads[0]
    dvalue = g[int(i)].copy()
    if flow.shape[1:] != value.shape:
        return [np.zeros_like(flow), None, dvalue]
    dflow = g[:flow.shape[0]].copy()
    if int(i) < flow.shape[0]:
        dflow[int(i)] = 0
    return [dflow, None, dvalue]


def _read(inputs, attrs):
    flow, i = inputs
    return flow[_index(i, flow.shape[0], "read from")]


def _read_grad(inputs, outputs, grads, attrs):
    flow, i = inputs
    dflow = np.zeros_like(flow)
    dflow[int(i)] = grads[0]
    return [dflow, None]


def _gather(inputs, attrs):
    flow, indices = inputs
    for i in np.reshape(indices, -1):
        _index(i, flow.shape[0], "read from")
    return flow[indices.astype(np.intp)]


def _gather_grad(inputs, outputs, grads, attrs):
    flow, indices = inputs
    dflow = np.zeros_like(flow)
    np.add.at(dflow, indices.astype(np.intp), grads[0])
    return [dflow, None]


def _scatter(inputs, attrs):
    flow, indices, value = inputs
    indices = indices.astype(np.intp)
    need = int(indices.max()) + 1 if indices.size else 0
    out = _fit(flow, value.shape[1:], need, attrs.get("dynamic_size", False))
    out[indices] = value
    return out


def _scatter_grad(inputs, outputs, grads, attrs):
    flow, indices, value = inputs
    g = grads[0]
    indices = indices.astype(np.intp)
    dvalue = g[indices]
    if flow.shape[1:] != value.shape[1:]:
        return [np.zeros_like(flow), None, dvalue]
    dflow = g[:flow.shape[0]].copy()
    dflow[indices[indices < flow.shape[0]]] = 0
    return [dflow, None, dvalue]


def _created(shapes, attrs):
    size, shape = const_input(attrs, 0), attrs.get("element_shape")
    if shape is None or shape.ndims is None or not shape.is_fully_defined():
        return [None]  # the first write fixes the element shape
    return [(None if size is None else int(size), *shape.as_list())]


def _written(element_rank):
    """Shape rule of Write (element_rank 0) and Scatter (1): rows grow only when dynamic."""

    def rule(shapes, attrs):
        flow, index, value = shapes
        if value is None:
            return [None]
        element = value[element_rank:]
        rows = None if flow is None else flow[0]
        known = const_input(attrs, 1)
        if known is not None and rows is not None and attrs.get("dynamic_size", False):
            rows = max(rows, int(np.max(known, initial=-1)) + 1)
        elif attrs.get("dynamic_size", False):
            rows = None
        return [(rows, *element)]

    return rule


def _element(shapes, attrs):
    flow = shapes[0]
    return [None if flow is None else flow[1:]]


def _gathered(shapes, attrs):
    flow, indices = shapes
    if flow is None or indices is None:
        return [None]
    return [(*indices, *flow[1:])]


register(OpDef("TensorArrayV3", _create, None, _created, dtype=lambda d, a: [np_dtype(
    a["dtype"])], attrs=("dtype", "element_shape", "dynamic_size", "clear_after_read",
                         "tensor_array_name"), const_inputs=(0,)))
register(OpDef("TensorArrayWriteV3", _write, _write_grad, _written(0),
               dtype=lambda d, a: [d[0]], const_inputs=(1,)))
register(OpDef("TensorArrayReadV3", _read, _read_grad, _element, attrs=("dtype",)))
register(OpDef("TensorArrayGatherV3", _gather, _gather_grad, _gathered,
               attrs=("dtype", "element_shape")))
register(OpDef("TensorArrayScatterV3", _scatter, _scatter_grad, _written(1),
               dtype=lambda d, a: [d[0]], const_inputs=(1,)))
register(OpDef("TensorArraySizeV3", lambda i, a: np.int32(i[0].shape[0]), None,
               lambda s, a: [()], dtype=lambda d, a: [np.dtype(np.int32)], attrs=()))
