"""``tf.TensorArray``: a list of tensors with one dtype, written once per index, usable as a
``tf.while_loop`` variable (TF 1.15 ``tensor_array_ops.py``).

As in TensorFlow a TensorArray is a ``resource`` handle (``.handle``) and a *flow* tensor
(``.flow``, a dummy float that orders the ops); each method returns a new TensorArray over the
same handle and a new flow (``flow.kernels.tensor_array``); gradients write to and read from
gradient arrays (``grad``, ``flow.ops.tensor_array_grad``). ``infer_shape`` follows
TF: the first element written or unstacked fixes ``element_shape`` and later ones must agree.
"""

from __future__ import annotations

from flow.core import dtypes
from flow.core.tensor_shape import TensorShape, as_shape
from flow.framework.build import apply_op, convert_to_tensor, no_op
from flow.framework.graph import get_default_graph
from flow.ops import array_ops


class TensorArray:
    """``tf.TensorArray(dtype, size=None, dynamic_size=None, ..., element_shape=None)``."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        self._element_shape = as_shape(element_shape)
        if handle is not None:
            if flow is None:
                raise ValueError("flow must not be None if handle is not None; pass the "
                                 "TensorArray's flow tensor with its handle.")
            self._handle, self._flow = handle, convert_to_tensor(flow)
            return
        if flow is not None:
            raise ValueError("handle must be given with flow: a TensorArray is its handle and "
                             "its flow (ta.handle, ta.flow).")
        if size is None:
            raise ValueError("Size must be provided if handle is not provided; pass "
                             "size=N (and dynamic_size=True to let it grow).")
        graph = get_default_graph()
        with graph.name_scope(name or "TensorArray") as scope:  # the op is named the scope
            self._handle, self._flow = apply_op("TensorArrayV3", [convert_to_tensor(
                size, dtypes.int32)], {
                "dtype": self._dtype, "element_shape": self._element_shape,
                "dynamic_size": self._dynamic_size,
                "clear_after_read": True if clear_after_read is None else clear_after_read,
                "identical_element_shapes": bool(infer_shape),
                "tensor_array_name": tensor_array_name or ""}, scope)

    flow = property(lambda self: self._flow)
    handle = property(lambda self: self._handle)
    dtype = property(lambda self: self._dtype)
    element_shape = property(lambda self: self._element_shape)

    def _with_flow(self, flow, element_shape=None):
        return TensorArray(self._dtype, dynamic_size=self._dynamic_size, handle=self._handle,
                           flow=flow, infer_shape=self._infer_shape,
                           element_shape=self._element_shape if element_shape is None
                           else element_shape)

    def _merge_shape(self, shape):
        if not self._infer_shape:
            return self._element_shape
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected "
                             f"{self._element_shape} (and infer_shape=True)")
        return self._element_shape.merge_with(shape)

    def _value(self, value):
        return convert_to_tensor(value, dtype=self._dtype)

    def grad(self, source, flow=None, name=None):
        """The gradient array of this one for the ``tf.gradients`` call ``source``
        (``TensorArrayGradV3``), over ``flow`` (default: this array's)."""
        flow = self._flow if flow is None else flow
        graph = get_default_graph()
        with graph.name_scope(name or "TensorArrayGrad"):
            g_handle, _ = apply_op("TensorArrayGradV3", [self._handle, flow],
                                   {"source": source}, "TensorArrayGradV3")
            with graph.control_dependencies([g_handle]):
                flow = array_ops.identity(flow, name="gradient_flow")
        return TensorArray(self._dtype, handle=g_handle, flow=flow,
                           infer_shape=self._infer_shape, element_shape=self._element_shape)

    def write(self, index, value, name=None):
        value = self._value(value)
        shape = self._merge_shape(value.shape)
        flow = apply_op("TensorArrayWriteV3", [self._handle, convert_to_tensor(
            index, dtypes.int32), value, self._flow], {"T": self._dtype},
                        name or "TensorArrayWrite")
        return self._with_flow(flow, shape)

    def read(self, index, name=None):
        out = apply_op("TensorArrayReadV3", [self._handle, convert_to_tensor(
            index, dtypes.int32), self._flow], {"dtype": self._dtype},
                       name or "TensorArrayRead")
        out.set_shape(self._element_shape)
        return out

    def gather(self, indices, name=None):
        indices = convert_to_tensor(indices, dtypes.int32)
        out = apply_op("TensorArrayGatherV3", [self._handle, indices, self._flow],
                       {"dtype": self._dtype, "element_shape": self._element_shape},
                       name or "TensorArrayGather")
        out.set_shape(indices.shape.concatenate(self._element_shape)
                      if indices.shape.ndims is not None and self._element_shape.ndims is not None
                      else TensorShape(None))
        return out

    def stack(self, name=None):
        """All elements along a new first axis (``[size, *element_shape]``)."""
        with get_default_graph().name_scope(name or "TensorArrayStack"):
            return self.gather(array_ops.range(0, self.size()), name="TensorArrayGatherV3")

    def scatter(self, indices, value, name=None):
        value = self._value(value)
        shape = self._merge_shape(value.shape[1:]) if value.shape.ndims else \
            self._element_shape
        flow = apply_op("TensorArrayScatterV3", [self._handle, convert_to_tensor(
            indices, dtypes.int32), value, self._flow], {"T": self._dtype},
                        name or "TensorArrayScatter")
        return self._with_flow(flow, shape)

    def unstack(self, value, name=None):
        """Element ``i`` becomes ``value[i]``."""
        value = self._value(value)
        with get_default_graph().name_scope(name or "TensorArrayUnstack"):
            n = array_ops.range(0, _rows(value))
            return self.scatter(n, value, name="TensorArrayScatter")

    def size(self, name=None):
        return apply_op("TensorArraySizeV3", [self._handle, self._flow], {},
                        name or "TensorArraySize")

    def identity(self):
        return self._with_flow(array_ops.identity(self._flow))

    def close(self, name=None):
        return no_op(name or "TensorArrayClose")

    def _to_tensor(self):
        return self._flow


def _rows(value):
    dims = value.shape.as_tuple()
    if dims and dims[0] is not None:
        return dims[0]
    return array_ops.shape(value)[0]
