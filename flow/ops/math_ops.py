"""Math wrappers under TensorFlow's names (``tf.add``, ``tf.matmul``, ``tf.reduce_mean`` ...).

Each adds one node whose kernel is a row of ``flow.kernels.math``; arguments, defaults and
error texts follow TensorFlow 1.15's ``math_ops``.
"""

from __future__ import annotations

import numpy as np

from flow.core import dtypes
from flow.framework.build import apply, convert_all, convert_to_tensor, index_dtype, static_value
from flow.framework.graph import Tensor
from flow.kernels.table import np_dtype
from flow.ops import array_ops
from flow.ops.array_ops import cast

__all__ = [  # the TF names ``import flow as tf`` exposes
    "arg_max", "arg_min", "div_no_nan", "is_finite",
    "abs", "add", "add_n", "add_v2", "argmax", "argmin", "clip_by_value", "cos", "div",
    "divide", "equal", "exp", "floor", "floordiv", "floormod", "greater", "greater_equal", "less",
    "less_equal", "log", "log1p", "logical_and", "logical_not", "logical_or", "matmul", "maximum",
    "minimum", "mod", "multiply", "negative", "not_equal", "pow", "realdiv", "reciprocal",
    "reduce_all", "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_prod", "reduce_sum", "rsqrt", "sigmoid", "sign", "sin", "sqrt", "square",
    "sequence_mask", "squared_difference", "subtract", "tanh", "truediv", "unique",
    "unsorted_segment_sum",
]


def _binary(op_type, x, y, name):
    return apply(op_type, convert_all([x, y]), None, name)


def _unary(op_type, x, name):
    return apply(op_type, [x], None, name)


def add(x, y, name=None):
    return _binary("Add", x, y, name)


def add_v2(x, y, name=None):
    return _binary("AddV2", x, y, name)


def subtract(x, y, name=None):
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None):
    return _binary("Mul", x, y, name)


def truediv(x, y, name=None):
    """``x / y``; integer inputs are cast to float64 first (TF's ``truediv``)."""
    x, y = convert_all([x, y])
    if np_dtype(x.dtype).kind in "iu":
        x, y = cast(x, np.float64), cast(y, np.float64)
    return apply("RealDiv", [x, y], None, name or "truediv")


def divide(x, y, name=None):
    return truediv(x, y, name=name)


div = divide


def floordiv(x, y, name=None):
    return _binary("FloorDiv", x, y, name)


def floormod(x, y, name=None):
    return _binary("FloorMod", x, y, name)


mod = floormod


def realdiv(x, y, name=None):
    return _binary("RealDiv", x, y, name)


def maximum(x, y, name=None):
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    return _binary("Minimum", x, y, name)


def pow(x, y, name=None):
    return _binary("Pow", x, y, name)


def squared_difference(x, y, name=None):
    return _binary("SquaredDifference", x, y, name)


def equal(x, y, name=None):
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    return _binary("NotEqual", x, y, name)


def less(x, y, name=None):
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    return _binary("GreaterEqual", x, y, name)


def logical_and(x, y, name=None):
    return apply("LogicalAnd", [x, y], None, name)


def logical_or(x, y, name=None):
    return apply("LogicalOr", [x, y], None, name)


def logical_not(x, name=None):
    return apply("LogicalNot", [x], None, name)


def negative(x, name=None):
    return _unary("Neg", x, name)


def square(x, name=None):
    return _unary("Square", x, name)


def sqrt(x, name=None):
    return _unary("Sqrt", x, name)


def rsqrt(x, name=None):
    return _unary("Rsqrt", x, name)


def exp(x, name=None):
    return _unary("Exp", x, name)


def log(x, name=None):
    return _unary("Log", x, name)


def log1p(x, name=None):
    return _unary("Log1p", x, name)


def abs(x, name=None):
    return _unary("Abs", x, name)


def sign(x, name=None):
    return _unary("Sign", x, name)


def reciprocal(x, name=None):
    return _unary("Reciprocal", x, name)


def sin(x, name=None):
    return _unary("Sin", x, name)


def cos(x, name=None):
    return _unary("Cos", x, name)


def floor(x, name=None):
    return _unary("Floor", x, name)


def sigmoid(x, name=None):
    return _unary("Sigmoid", x, name)


def tanh(x, name=None):
    return _unary("Tanh", x, name)


def add_n(inputs, name=None):
    """Sum of a list of same-shape tensors (``AddN``)."""
    if not isinstance(inputs, list | tuple) or not inputs:
        raise ValueError(f"add_n: inputs must be a non-empty list of tensors, got {inputs!r}")
    values = convert_all(list(inputs))
    if len(values) == 1:
        return values[0]
    return apply("AddN", values, {"N": len(values)}, name)


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    a, b = convert_all([a, b])
    attrs = {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b)}
    return apply("MatMul", [a, b], attrs, name)


def _axis_input(x, axis):
    """TF's reduction axis: ``None`` = every axis (a constant when the rank is known)."""
    if axis is None:
        rank = x.shape.ndims
        if rank is None:
            return array_ops.range(0, array_ops.rank(x), 1)
        return np.arange(rank, dtype=np.int32)
    return np.asarray(axis, dtype=np.int32) if static_value(axis) is not None else axis


def _reduce(op_type, x, axis, keepdims, keep_dims, name, reduction_indices=None):
    if reduction_indices is not None:
        if axis is not None:
            raise ValueError("Can not specify both 'axis' and 'reduction_indices'; use 'axis'.")
        axis = reduction_indices
    if keepdims is not None and keep_dims is not None and bool(keepdims) != bool(keep_dims):
        raise ValueError("Can not specify both 'keepdims' and 'keep_dims'; use 'keepdims'.")
    keep = bool(keepdims if keepdims is not None else keep_dims)
    x = convert_to_tensor(x)
    axis = _axis_input(x, axis)
    return apply(op_type, [x, axis], {"keep_dims": keep, "Tidx": index_dtype(axis)}, name)


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Sum", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    return _reduce("Mean", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Max", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Min", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    return _reduce("Prod", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Any", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("All", input_tensor, axis, keepdims, keep_dims, name, reduction_indices)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None):
    """``log Σ exp(x)`` as TF builds it: ``log Σ exp(x - m) + m`` with ``m`` the max, held
    constant for the gradient."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    axis = reduction_indices if axis is None else axis
    top = array_ops.stop_gradient(reduce_max(input_tensor, axis, keepdims=True))
    result = log(reduce_sum(exp(subtract(input_tensor, top)), axis, keepdims=keep))
    if not keep:
        top = array_ops.reshape(top, array_ops.shape(result))
    return add(result, top, name=name)


def _arg(op_type, x, axis, name, dimension, output_type):
    if dimension is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dimension'; use 'axis'.")
        axis = dimension
    axis = 0 if axis is None else axis
    attrs = {"Tidx": np.int32, "output_type": dtypes.as_dtype(output_type)}
    if static_value(axis) is not None:
        axis = np.asarray(axis, np.int32)
    return apply(op_type, [x, axis], attrs, name)


def argmax(input, axis=None, name=None, dimension=None, output_type=np.int64):
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=np.int64):
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def arg_max(input, dimension, output_type=np.int64, name=None):
    """TF1's older name: ``dimension`` is required."""
    return _arg("ArgMax", input, None, name, dimension, output_type)


def arg_min(input, dimension, output_type=np.int64, name=None):
    return _arg("ArgMin", input, None, name, dimension, output_type)


def div_no_nan(x, y, name=None):
    """``x / y``, and 0 where ``y`` is 0."""
    return _binary("DivNoNan", x, y, name)


def is_finite(x, name=None):
    return _unary("IsFinite", x, name)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """``maximum(minimum(t, max), min)``: the two ops TF 1.15 builds, in its order."""
    return maximum(minimum(t, clip_value_max), clip_value_min, name=name)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """``out[k] = Σ data[i]`` over the ``i`` with ``segment_ids[i] == k`` (TF's op)."""
    data = convert_to_tensor(data)
    ids = convert_to_tensor(segment_ids)
    n = num_segments if isinstance(num_segments, Tensor) else np.asarray(num_segments, np.int32)
    return apply("UnsortedSegmentSum", [data, ids, n],
                 {"Tindices": ids.dtype, "Tnumsegments": index_dtype(n)}, name)


def unique(x, out_idx=dtypes.int32, name=None):
    """``(y, idx)``: the distinct values of 1-D ``x`` in first-seen order, ``x == y[idx]``."""
    return apply("Unique", [x], {"out_idx": dtypes.as_dtype(out_idx)}, name)


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """``mask[..., j] = j < lengths[...]`` over ``maxlen`` columns (the longest length by
    default), as TF builds it: ``Range < ExpandDims(lengths, -1)``."""
    lengths = convert_to_tensor(lengths)
    if not lengths.dtype.is_integer:
        raise TypeError(f"sequence_mask: lengths must be integers, got {lengths.dtype.name}; "
                        f"cast them with tf.cast(lengths, tf.int32).")
    if maxlen is None:
        maxlen = reduce_max(lengths, [0] if lengths.shape.ndims == 1 else None)
    maxlen = convert_to_tensor(maxlen, dtype=lengths.dtype) if static_value(maxlen) is None \
        else np.asarray(maxlen, lengths.dtype.as_numpy_dtype)
    row = array_ops.range(np.zeros((), lengths.dtype.as_numpy_dtype), maxlen,
                          np.ones((), lengths.dtype.as_numpy_dtype))
    mask = less(row, array_ops.expand_dims(lengths, -1))
    return mask if dtypes.as_dtype(dtype) == dtypes.bool else cast(mask, dtype, name=name)
