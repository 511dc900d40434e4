"""TensorArray rows of the op table (TF 1.15 ``TensorArrayV3`` and friends): pure numpy.

A TensorArray's value is its *flow* tensor, which here carries the whole array densely:
an ndarray ``[size, *element_shape]`` (``[size]`` until the first write fixes the element
shape).

As in TensorFlow, where every flow of one TensorArray names the same resource, ``Write`` and
``Scatter`` write their rows into the array in place when these kernels made it (the array of
``TensorArrayV3``, or one grown from it), so a loop of ``n`` writes costs ``n`` rows, not ``n``
copies of the array. Such an array's index is written once, as TF requires ("Could not write
to TensorArray index ..."), so its gradients are TF's: a write's gradient reads its row from
the flow's gradient and passes the flow's gradient through unchanged (the row held no earlier
value), a read's puts its row into zeros, a gather's scatters back. An array from anywhere
else (a feed, a constant) is treated as a value: a write returns a new array with the row
replaced, and its gradient takes that row out of the flow's gradient.
"""

from __future__ import annotations

import weakref

import numpy as np

from flow.kernels.common import const_input
from flow.kernels.table import OpDef, np_dtype, register

# id(array) -> (weak reference, written-rows mask) of the arrays these kernels made
_OWNED: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def _own(array, written):
    key = id(array)
    _OWNED[key] = (weakref.ref(array, lambda _, k=key: _OWNED.pop(k, None)), written)
    return array


def _written_rows(flow):
    """The written-rows mask of an array these kernels made, else None."""
    entry = _OWNED.get(id(flow))
    return entry[1] if entry is not None and entry[0]() is flow else None


def _fit(flow, element_shape, need, dynamic):
    """``(array, written)`` to write rows of ``element_shape`` into, up to row ``need - 1``:
    ``flow`` itself when these kernels made it and it fits, else a new array holding its
    rows. ``written`` is the mask of rows written so far, None when ``flow`` came from
    elsewhere (then the new array is a value of its own, never written in place later)."""
    size = flow.shape[0]
    if need > size:
        if not dynamic:
            raise ValueError(f"Tried to write to index {need - 1} but array is not resizeable "
                             f"and size is: {size}; create the TensorArray with "
                             f"dynamic_size=True or a larger size.")
        size = need
    same_rows = flow.shape[1:] == element_shape
    written = _written_rows(flow)
    if same_rows and size == flow.shape[0] and written is not None:
        return flow, written
    out = np.zeros((size, *element_shape), flow.dtype)
    if same_rows:
        out[:flow.shape[0]] = flow
    if written is None:
        return out, None
    mask = np.zeros(size, bool)
    if same_rows:
        mask[:flow.shape[0]] = written
    return _own(out, mask), mask


def _check_unwritten(written, rows):
    twice = np.flatnonzero(written[rows])
    if twice.size:
        i = int(np.reshape(rows, -1)[twice[0]])
        raise ValueError(f"Could not write to TensorArray index {i} because it has already "
                         f"been written to; a TensorArray index is written once (use a new "
                         f"TensorArray, or tf.Variable for a buffer that changes).")


def _create(inputs, attrs):
    shape = attrs.get("element_shape")
    dims = () if shape is None or shape.ndims is None or not shape.is_fully_defined() else \
        tuple(shape.as_list())
    size = int(inputs[0])
    return _own(np.zeros((size, *dims), np_dtype(attrs["dtype"])), np.zeros(size, bool))


def _write(inputs, attrs):
    flow, i, value = inputs
    i = int(i)
    out, written = _fit(flow, value.shape, i + 1, attrs.get("dynamic_size", False))
    if written is not None:
        _check_unwritten(written, i)
        written[i] = True
    out[i] = value
    return out


def _write_grad(inputs, outputs, grads, attrs):
    flow, i, value = inputs
    g = grads[0]
    dvalue = g[int(i)].copy()
    if flow.shape[1:] != value.shape:
        return [np.zeros_like(flow), None, dvalue]
    if _written_rows(flow) is not None:  # written in place: TF's gradient, the flow's passes
        return [g[:flow.shape[0]], None, dvalue]
    dflow = g[:flow.shape[0]].copy()
    if int(i) < flow.shape[0]:
        dflow[int(i)] = 0
    return [dflow, None, dvalue]


def _index(i, size, verb):
    i = int(i)
    if not 0 <= i < size:
        raise ValueError(f"Tried to {verb} index {i} but array size is: {size}")
    return i


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
    g, n = grads[0], flow.shape[0]
    rows = np.reshape(indices, -1).astype(np.intp)
    if rows.size == n and g.shape == flow.shape and (rows == np.arange(n)).all():
        return [g, None]  # stack(): the gradient is the upstream gradient itself
    dflow = np.zeros_like(flow)
    if np.unique(rows).size == rows.size:
        dflow[indices.astype(np.intp)] = g
    else:
        np.add.at(dflow, indices.astype(np.intp), g)
    return [dflow, None]


def _scatter(inputs, attrs):
    flow, indices, value = inputs
    indices = indices.astype(np.intp)
    need = int(indices.max()) + 1 if indices.size else 0
    out, written = _fit(flow, value.shape[1:], need, attrs.get("dynamic_size", False))
    if written is not None:
        _check_unwritten(written, indices)
        values, counts = np.unique(indices, return_counts=True)
        if values.size != indices.size:
            raise ValueError(f"Could not write to TensorArray index {values[counts > 1][0]} "
                             f"because it has already been written to: the scatter's indices "
                             f"repeat it.")
        written[indices] = True
    out[indices] = value
    return out


def _scatter_grad(inputs, outputs, grads, attrs):
    flow, indices, value = inputs
    g = grads[0]
    indices = indices.astype(np.intp)
    dvalue = g[indices]
    if flow.shape[1:] != value.shape[1:]:
        return [np.zeros_like(flow), None, dvalue]
    if _written_rows(flow) is not None:  # written in place: TF's gradient, the flow's passes
        return [g[:flow.shape[0]], None, dvalue]
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
