"""Math rows of the op table (TensorFlow 1.15 ``gen_math_ops`` semantics): pure numpy.

Elementwise ops broadcast like numpy; the gradient of a broadcasting binary op is summed back to
each input's shape (:func:`flow.kernels.common.unbroadcast`).  Reductions take ``axis`` as a second
input (``reduction_indices`` in the GraphDef) and the ``keep_dims`` attr, as TF does.
"""

from __future__ import annotations

import numpy as np

from flow.kernels.common import binary_shape, const_input, same_shape, unbroadcast
from flow.kernels.table import OpDef, np_dtype, register


def _bool(shapes, attrs):
    return [np.dtype(bool)]


def unary(op_type, fn, vjp, exported=("T",)):
    """Register an elementwise op; ``vjp(x, y, g) -> dx``; ``vjp=None`` = no gradient."""
    grad = None if vjp is None else (lambda i, o, g, a: [vjp(i[0], o[0], g[0])])
    return register(OpDef(op_type, lambda i, a: fn(i[0]), grad, same_shape, attrs=exported))


def binary(op_type, fn, vjp, dtype=None, exported=("T",)):
    """Register a broadcasting binary op; ``vjp(x, y, z, g) -> (dx, dy)`` before unbroadcast."""

    def grad(inputs, outputs, grads, attrs):
        x, y = inputs
        gx, gy = vjp(x, y, outputs[0], grads[0])
        return [unbroadcast(gx, x.shape), unbroadcast(gy, y.shape)]

    return register(
        OpDef(op_type, lambda i, a: fn(i[0], i[1]), None if vjp is None else grad,
              binary_shape(op_type), dtype=dtype, attrs=exported)
    )


def _pow_dy(x, z, g):
    return g * z * np.where(x > 0, np.log(np.where(x > 0, x, 1)), 0)


# ---------------------------------------------------------------- elementwise rows
# vjp columns: x = input, y = output, g = upstream gradient

unary("Neg",        np.negative,                lambda x, y, g: -g)
unary("Square",     np.square,                  lambda x, y, g: g * 2 * x)
unary("Sqrt",       np.sqrt,                    lambda x, y, g: g * 0.5 / y)
unary("Rsqrt",      lambda x: 1 / np.sqrt(x),   lambda x, y, g: g * -0.5 * y * y * y)
unary("Exp",        np.exp,                     lambda x, y, g: g * y)
unary("Log",        np.log,                     lambda x, y, g: g / x)
unary("Log1p",      np.log1p,                   lambda x, y, g: g / (1 + x))
unary("Abs",        np.abs,                     lambda x, y, g: g * np.sign(x))
unary("Sign",       np.sign,                    lambda x, y, g: np.zeros_like(x))
unary("Reciprocal", np.reciprocal,              lambda x, y, g: -g * y * y)
unary("Sin",        np.sin,                     lambda x, y, g: g * np.cos(x))
unary("Cos",        np.cos,                     lambda x, y, g: -g * np.sin(x))
unary("Floor",      np.floor,                   None)
unary("LogicalNot", np.logical_not,             None, exported=())

binary("Add",       np.add,      lambda x, y, z, g: (g, g))
binary("AddV2",     np.add,      lambda x, y, z, g: (g, g))
binary("Sub",       np.subtract, lambda x, y, z, g: (g, -g))
binary("Mul",       np.multiply, lambda x, y, z, g: (g * y, g * x))
binary("RealDiv",   np.divide,   lambda x, y, z, g: (g / y, -g * z / y))
binary("Maximum",   np.maximum,  lambda x, y, z, g: (g * (x >= y), g * (x < y)))
binary("Minimum",   np.minimum,  lambda x, y, z, g: (g * (x <= y), g * (x > y)))
binary("Pow",       np.power,    lambda x, y, z, g: (g * y * np.power(x, y - 1), _pow_dy(x, z, g)))
binary("FloorMod",  np.mod,      lambda x, y, z, g: (g, -g * np.floor_divide(x, y)))
binary("FloorDiv",  np.floor_divide, None)
binary("SquaredDifference", lambda x, y: np.square(x - y),
       lambda x, y, z, g: (g * 2 * (x - y), g * -2 * (x - y)))

for _type, _fn in [("Equal", np.equal), ("NotEqual", np.not_equal), ("Less", np.less),
                   ("LessEqual", np.less_equal), ("Greater", np.greater),
                   ("GreaterEqual", np.greater_equal)]:
    binary(_type, _fn, None, dtype=_bool)
binary("LogicalAnd", np.logical_and, None, dtype=_bool, exported=())
binary("LogicalOr",  np.logical_or,  None, dtype=_bool, exported=())


# ---------------------------------------------------------------- n-ary, matmul, cast


def _add_n_shape(shapes, attrs):
    known = [s for s in shapes if s is not None]
    return [known[0] if known else None]


def _add_n(inputs, attrs):
    out = inputs[0] + inputs[1] if len(inputs) > 1 else inputs[0].copy()
    for x in inputs[2:]:
        out += x
    return out


register(OpDef("AddN", _add_n,
               lambda i, o, g, a: [g[0]] * len(i), _add_n_shape, attrs=("N", "T")))


def _matmul(inputs, attrs):
    a, b = inputs
    return (a.T if attrs.get("transpose_a") else a) @ (b.T if attrs.get("transpose_b") else b)


_MATMUL_VJPS = {  # (transpose_a, transpose_b) -> (da, db)
    (False, False): (lambda a, b, g: g @ b.T, lambda a, b, g: a.T @ g),
    (False, True):  (lambda a, b, g: g @ b,   lambda a, b, g: g.T @ a),
    (True, False):  (lambda a, b, g: b @ g.T, lambda a, b, g: a @ g),
    (True, True):   (lambda a, b, g: b.T @ g.T, lambda a, b, g: g.T @ a.T),
}


def _matmul_grad(inputs, outputs, grads, attrs):
    a, b = inputs
    vjps = _MATMUL_VJPS[bool(attrs.get("transpose_a")), bool(attrs.get("transpose_b"))]
    wanted = attrs.get("_grad_inputs", (0, 1))
    return [vjp(a, b, grads[0]) if k in wanted else None for k, vjp in enumerate(vjps)]


def _matmul_shape(shapes, attrs):
    a, b = shapes
    if a is None or b is None:
        return [(None, None)]
    if len(a) != 2 or len(b) != 2:
        raise ValueError(f"MatMul: both inputs must be rank 2, got shapes {list(a)} and {list(b)}; "
                         "reshape them to matrices first")
    (m, ka) = a[::-1] if attrs.get("transpose_a") else a
    (kb, n) = b[::-1] if attrs.get("transpose_b") else b
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"Dimensions must be equal, but are {ka} and {kb} for 'MatMul' with "
                         f"input shapes: {list(a)}, {list(b)}.")
    return [(m, n)]


register(OpDef("MatMul", _matmul, _matmul_grad, _matmul_shape,
               attrs=("T", "transpose_a", "transpose_b")))


def _cast_grad(inputs, outputs, grads, attrs):
    x = inputs[0]
    if x.dtype.kind != "f" or outputs[0].dtype.kind != "f":
        return [None]
    return [grads[0].astype(x.dtype, copy=False)]


register(OpDef("Cast", lambda i, a: i[0].astype(np_dtype(a["DstT"]), copy=False), _cast_grad,
               same_shape, dtype=lambda d, a: [np_dtype(a["DstT"])],
               attrs=("SrcT", "DstT", "Truncate")))


# ---------------------------------------------------------------- reductions


def _axes(axis, ndim) -> tuple:
    return tuple(sorted({int(a) % ndim for a in np.asarray(axis).reshape(-1)})) if ndim else ()


def _reduce_shape(shapes, attrs):
    shape, axis = shapes[0], const_input(attrs, 1)
    keep = bool(attrs.get("keep_dims"))
    if shape is None:
        return [None]
    if axis is None:
        return [(None,) * len(shape) if keep else None]
    axes = _axes(axis, len(shape))
    if keep:
        return [tuple(1 if i in axes else n for i, n in enumerate(shape))]
    return [tuple(n for i, n in enumerate(shape) if i not in axes)]


def _kept(g, x, axes):
    """The upstream gradient of a reduction, reshaped so it broadcasts against ``x``."""
    return g.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])


def _prod_grad(x, axes, g):
    # product of all the other elements, without dividing (zeros are fine)
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], -1), -1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + list(axes))) * _kept(g, x, axes)


def reduction(op_type, fn, vjp):
    """Register a reduction; ``vjp(x, y_kept, g_kept, axes) -> dx``."""

    def forward(inputs, attrs):
        x = inputs[0]
        axes = _axes(inputs[1], x.ndim)
        return np.asarray(fn(x, axis=axes, keepdims=bool(attrs.get("keep_dims"))), x.dtype)

    def grad(inputs, outputs, grads, attrs):
        x = inputs[0]
        axes = _axes(inputs[1], x.ndim)
        return [vjp(x, _kept(outputs[0], x, axes), _kept(grads[0], x, axes), axes), None]

    return register(OpDef(op_type, forward, grad, _reduce_shape,
                          attrs=("T", "Tidx", "keep_dims"), const_inputs=(1,)))


def _count(x, axes):
    return int(np.prod([x.shape[a] for a in axes])) if axes else 1


def _spread(g, x):
    return np.broadcast_to(g, x.shape).copy()


def _extreme_vjp(x, y, g, axes):
    mask = x == y
    return g * mask / mask.sum(axis=axes, keepdims=True)


reduction("Sum",  np.sum,  lambda x, y, g, axes: _spread(g, x))
reduction("Mean", np.mean, lambda x, y, g, axes: _spread(g / _count(x, axes), x))
reduction("Max",  np.max,  _extreme_vjp)
reduction("Min",  np.min,  _extreme_vjp)
reduction("Prod", np.prod, lambda x, y, g, axes: _prod_grad(x, axes, g))
for _type, _fn in [("Any", np.any), ("All", np.all)]:
    register(OpDef(_type, lambda i, a, f=_fn: np.asarray(
                       f(i[0], axis=_axes(i[1], i[0].ndim), keepdims=bool(a.get("keep_dims")))),
                   None, _reduce_shape, attrs=("Tidx", "keep_dims"), const_inputs=(1,)))


def _arg_shape(shapes, attrs):
    shape, axis = shapes[0], const_input(attrs, 1)
    if shape is None or axis is None:
        return [None if shape is None else (None,) * (len(shape) - 1)]
    a = int(axis) % len(shape)
    return [shape[:a] + shape[a + 1:]]


def _arg_dtype(dtypes, attrs):
    return [np_dtype(attrs.get("output_type", np.int64))]


for _type, _fn in [("ArgMax", np.argmax), ("ArgMin", np.argmin)]:
    register(OpDef(_type, lambda i, a, f=_fn: np.asarray(
                       f(i[0], axis=int(i[1])), np_dtype(a.get("output_type", np.int64))),
                   None, _arg_shape, dtype=_arg_dtype,
                   attrs=("T", "Tidx", "output_type"), const_inputs=(1,)))


# ---------------------------------------------------------------- safe division, finiteness


def _div_no_nan(x, y):
    safe = np.where(y == 0, 1, y)
    return np.where(y == 0, 0, x / safe).astype(np.result_type(x, y), copy=False)


binary("DivNoNan", _div_no_nan,
       lambda x, y, z, g: (_div_no_nan(g, y), _div_no_nan(-g * x, y * y)))
register(OpDef("IsFinite", lambda i, a: np.isfinite(i[0]), None, same_shape, dtype=_bool))
