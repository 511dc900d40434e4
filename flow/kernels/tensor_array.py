"""TensorArray rows of the op table (TF 1.15 ``TensorArrayV3`` and friends), in TensorFlow's
form: ``TensorArrayV3`` outputs a ``resource`` handle and a float *flow*; the other ops take
the handle and a flow (``TensorArrayWriteV3(handle, index, value, flow_in)`` ...) and writes
return a new flow. The flow is a dummy scalar that only orders the ops, as in TensorFlow.

The handle's value is the array itself (an :class:`_Array`, made anew each time
``TensorArrayV3`` runs, so each run has its own): rows written once per index ("Could not
write to TensorArray index ..."), and with ``clear_after_read`` (the default) read once. ``TensorArrayGradV3(handle, flow_in)`` gives the gradient
array of a forward array for one ``tf.gradients`` call (its ``source``): made at the first
call, the same one after; its writes to an index add up (TF's ``multiple_writes_aggregate``),
and its unwritten rows read as zeros. The gradients themselves are graph ops
(``flow.ops.tensor_array_grad``), as TensorFlow's ``tensor_array_grad.py`` builds them.
"""

from __future__ import annotations

import numpy as np

from flow.core.dtypes import resource
from flow.kernels.table import OpDef, np_dtype, register

_FLOW = np.float32(0.0)
_CLEARED = object()  # a row read from an array with clear_after_read (TF's cleared tensor)


class _Array:
    """A ``TensorArrayV3`` resource: its rows (None until written) and the arrays of its
    gradients by source."""

    __slots__ = ("rows", "dtype", "element_shape", "identical", "dynamic", "clear",
                 "aggregate", "grads", "name")

    def __init__(self, size, dtype, element_shape, identical, dynamic, clear, name,
                 aggregate=False):
        self.rows = [None] * size
        self.dtype, self.element_shape, self.identical = dtype, element_shape, identical
        self.dynamic, self.clear, self.aggregate, self.name = dynamic, clear, aggregate, name
        self.grads = {}

    def write(self, i, value):
        rows = self.rows
        if i < 0:
            raise ValueError(f"TensorArray {self.name}: Tried to write to index {i} but an "
                             f"index must be >= 0.")
        if i >= len(rows):
            if not self.dynamic:
                raise ValueError(f"TensorArray {self.name}: Tried to write to index {i} but "
                                 f"array is not resizeable and size is: {len(rows)}; create "
                                 f"the TensorArray with dynamic_size=True or a larger size.")
            rows.extend([None] * (i + 1 - len(rows)))
        if self.element_shape is None:
            if self.identical:  # the first write fixes the element shape (TF)
                self.element_shape = value.shape
        elif value.shape != self.element_shape:
            raise ValueError(f"TensorArray {self.name}: Could not write to TensorArray index "
                             f"{i} because the value shape is {list(value.shape)} which is "
                             f"incompatible with the TensorArray's element shape: "
                             f"{list(self.element_shape)}.")
        old = rows[i]
        if old is _CLEARED:
            raise ValueError(f"TensorArray {self.name}: Could not write to TensorArray index "
                             f"{i} because it has already been read and cleared.")
        if old is None:
            rows[i] = value
        elif self.aggregate:
            rows[i] = old + value
        else:
            raise ValueError(f"TensorArray {self.name}: Could not write to TensorArray index "
                             f"{i} because it has already been written to; a TensorArray "
                             f"index is written once (use a new TensorArray, or tf.Variable "
                             f"for a buffer that changes).")

    def read(self, i):
        rows = self.rows
        if not 0 <= i < len(rows):
            raise ValueError(f"TensorArray {self.name}: Tried to read from index {i} but "
                             f"array size is: {len(rows)}")
        value = rows[i]
        if value is _CLEARED:
            raise ValueError(f"TensorArray {self.name}: Could not read index {i} twice "
                             f"because it was cleared after a previous read (perhaps try "
                             f"setting clear_after_read = false?).")
        if value is not None:
            if self.clear:
                rows[i] = _CLEARED
            return value
        shape = self.element_shape
        if shape is None:
            raise ValueError(f"TensorArray {self.name}: Could not read from TensorArray index "
                             f"{i} because it has not yet been written to; write it first (or "
                             f"give the TensorArray a full element_shape to read zeros).")
        return np.zeros(shape, self.dtype)


def _shape_attr(shape):
    if shape is None or shape.ndims is None or not shape.is_fully_defined():
        return None
    return tuple(shape.as_list())


def _create(inputs, attrs):
    array = _Array(int(inputs[0]), np_dtype(attrs["dtype"]),
                   _shape_attr(attrs.get("element_shape")),
                   bool(attrs.get("identical_element_shapes")), bool(attrs.get("dynamic_size")),
                   attrs.get("clear_after_read", True),
                   attrs.get("tensor_array_name") or "")
    return array, _FLOW


def _grad(inputs, attrs):
    """``TensorArrayGradV3``: the gradient array of ``handle`` for ``source``."""
    forward = inputs[0]
    source = attrs.get("source", "")
    g = forward.grads.get(source)
    if g is None:
        shape = forward.element_shape or next(
            (r.shape for r in forward.rows if r is not None), None)
        g = _Array(len(forward.rows), forward.dtype, shape, True, False, forward.clear,
                   f"{forward.name}@{source}", aggregate=True)
        forward.grads[source] = g
    return g, _FLOW


def _write(inputs, attrs):
    array, i, value, _ = inputs
    array.write(int(i), np.asarray(value, array.dtype))
    return _FLOW


def _read(inputs, attrs):
    return inputs[0].read(int(inputs[1]))


def _gather(inputs, attrs):
    array, indices = inputs[0], inputs[1]
    flat = np.reshape(indices, -1)
    if not flat.size:
        shape = array.element_shape or _shape_attr(attrs.get("element_shape"))
        return np.zeros((*np.shape(indices), *(shape or ())), array.dtype)
    out = np.stack([array.read(int(i)) for i in flat])
    return out.reshape(*np.shape(indices), *out.shape[1:])


def _scatter(inputs, attrs):
    array, indices, value, _ = inputs
    flat = np.reshape(indices, -1)
    value = np.asarray(value, array.dtype)
    if len(flat) != len(value):
        raise ValueError(f"TensorArray {array.name}: the scatter's {len(flat)} indices do not "
                         f"match its value's {len(value)} rows.")
    for i, row in zip(flat, value, strict=True):
        array.write(int(i), row)
    return _FLOW


def _size(inputs, attrs):
    return np.int32(len(inputs[0].rows))


def _flow_out(shapes, attrs):
    return [()]


def _element_out(shapes, attrs):
    shape = attrs.get("element_shape")
    return [None if shape is None or shape.ndims is None else tuple(shape.as_list())]


def _gathered(shapes, attrs):
    shape, indices = attrs.get("element_shape"), shapes[1]
    if shape is None or shape.ndims is None or indices is None:
        return [None]
    return [(*indices, *shape.as_list())]




def _handle_and_flow(shapes, attrs):
    return [(2,), ()]


def _handle_and_flow_dtypes(dtypes_, attrs):
    return [resource, np.dtype(np.float32)]


register(OpDef("TensorArrayV3", _create, None, _handle_and_flow, num_outputs=2,
               dtype=_handle_and_flow_dtypes,
               attrs=("dtype", "element_shape", "dynamic_size", "clear_after_read",
                      "identical_element_shapes", "tensor_array_name")))
register(OpDef("TensorArrayGradV3", _grad, None, _handle_and_flow, num_outputs=2,
               dtype=_handle_and_flow_dtypes,
               attrs=("source",)))
register(OpDef("TensorArrayWriteV3", _write, None, _flow_out,
               dtype=lambda d, a: [np.dtype(np.float32)]))
register(OpDef("TensorArrayReadV3", _read, None, _element_out,
               dtype=lambda d, a: [np_dtype(a["dtype"])], attrs=("dtype",)))
register(OpDef("TensorArrayGatherV3", _gather, None, _gathered,
               dtype=lambda d, a: [np_dtype(a["dtype"])], attrs=("dtype", "element_shape")))
register(OpDef("TensorArrayScatterV3", _scatter, None, _flow_out,
               dtype=lambda d, a: [np.dtype(np.float32)]))
register(OpDef("TensorArraySizeV3", _size, None, lambda s, a: [()],
               dtype=lambda d, a: [np.dtype(np.int32)], attrs=()))
