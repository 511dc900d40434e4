"""Shared pieces of the op rows: broadcasting and shape-rule building blocks (numpy only).

Shapes in shape rules follow ``flow.kernels.table``: a tuple of ``int | None`` or ``None``
(unknown rank).
"""

from __future__ import annotations

import numpy as np

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
