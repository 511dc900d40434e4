"""Shared pieces of the op rows: broadcasting, shape-rule building blocks, the wrapper entry.

Shapes in shape rules follow ``flow.ops.registry``: a tuple of ``int | None`` or ``None``
(unknown rank).  ``apply`` is how every public wrapper (``tf.add``, ``tf.nn.conv2d`` ...) adds
a node: it imports ``flow.framework.ops`` lazily, so the kernel modules import with numpy alone.
"""

from __future__ import annotations

import numpy as np

from flow.ops.registry import OPS

# ---------------------------------------------------------------- gradients


def sum_rows(m: np.ndarray) -> np.ndarray:
    """``m.sum(axis=0)`` of a 2-D array; as a BLAS ``ones @ m`` for floats (several times
    faster than numpy's reduction over the leading axis, e.g. for a bias gradient)."""
    if m.dtype.kind == "f" and m.flags.c_contiguous:
        return np.ones(m.shape[0], m.dtype) @ m
    return m.sum(axis=0)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape`` (the inverse of numpy broadcasting, for binary-op vjps)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    if not axes:
        return grad.reshape(shape)
    if axes == tuple(range(len(axes))):  # leading axes only: a bias-like gradient
        rows = int(np.prod(grad.shape[:len(axes)]))
        return sum_rows(grad.reshape(rows, -1)).reshape(shape)
    return grad.sum(axis=axes).reshape(shape)


# ---------------------------------------------------------------- shape rules


def broadcast_shape(a, b, op_type: str = "op"):
    """numpy broadcasting over shapes that may hold ``None`` (unknown) dims."""
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        else:
            raise ValueError(
                f"{op_type}: dimensions must be equal or 1 to broadcast, but are {x} and {y} "
                f"for shapes {list(a)} and {list(b)}; reshape one side or add an axis of size 1"
            )
    return tuple(reversed(out))


def same_shape(shapes, attrs):
    """Shape rule of elementwise unary ops: the output has the first input's shape."""
    return [shapes[0]]


def binary_shape(op_type: str):
    """Shape rule of broadcasting binary ops."""
    return lambda shapes, attrs: [broadcast_shape(shapes[0], shapes[1], op_type)]


def const_input(attrs: dict, index: int):
    """The value of input ``index`` when it was known at graph-build time, else ``None``."""
    value = attrs.get("_const_inputs", {}).get(index)
    return None if value is None else np.asarray(value)


def as_str(value) -> str:
    """A string attr (``padding``, ``data_format``) that may arrive as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


def as_tuple(value) -> tuple:
    """A shape-ish value (int, list, array) as a tuple of Python ints (``-1`` kept)."""
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


# ---------------------------------------------------------------- wrappers


def static_value(value):
    """``value`` as a numpy array if it is a plain Python/numpy constant, else ``None``."""
    if isinstance(value, np.ndarray | np.generic | int | float | bool):
        return np.asarray(value)
    if isinstance(value, list | tuple):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return None if arr.dtype == object else arr
    return None


def index_dtype(value):
    """The dtype an index attr (``Tshape``, ``Tidx`` ...) must name: its input's (TF checks)."""
    dtype = getattr(value, "dtype", None)
    return np.int32 if dtype is None else dtype


def _known_value(value):
    """A constant's value at graph-build time: a Python/numpy value or a ``Const`` tensor."""
    static = static_value(value)
    if static is None:
        op = getattr(value, "op", None)
        if getattr(op, "type", None) == "Const":
            return np.asarray(op.attrs["value"])
    return static


def _is_np_type(value) -> bool:
    is_scalar_type = isinstance(value, type) and issubclass(value, np.generic)
    return isinstance(value, np.dtype) or is_scalar_type


def apply(op_type: str, inputs: list, attrs: dict | None = None, name: str | None = None):
    """Add a ``op_type`` node to the default graph (``flow.framework.ops.apply_op``).

    Constants (Python/numpy values, ``Const`` tensors) among the row's ``const_inputs`` are
    recorded in ``attrs["_const_inputs"]`` so its shape rule can use them (``Reshape``'s shape,
    ``Sum``'s axis ...); ``T`` is filled from the
    first input's dtype when the row exports it and the caller did not give it; numpy types
    among attr values (``Tidx=np.int32``) become ``flow.dtypes.DType``.
    """
    from flow import dtypes
    from flow.framework import ops as framework

    attrs = {k: dtypes.as_dtype(v) if _is_np_type(v) else v for k, v in (attrs or {}).items()}
    opdef = OPS[op_type]
    consts = {}
    for i in sorted({k % len(inputs) for k in opdef.const_inputs} if inputs else ()):
        value = _known_value(inputs[i])
        if value is not None:
            consts[i] = value
    if consts:
        attrs["_const_inputs"] = consts
    if "T" in opdef.attrs and "T" not in attrs and inputs:
        first = framework.convert_to_tensor(inputs[0])
        inputs = [first, *inputs[1:]]
        attrs["T"] = first.dtype
    return framework.apply_op(op_type, list(inputs), attrs, name)
