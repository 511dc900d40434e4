"""The op table: one row per TensorFlow op type (``OpDef`` in ``OPS``, ``StatefulOp`` in ``STATEFUL``).

Every stateless kernel of ``flow`` is a row here.  A row says, for one TF op type:

- ``forward(inputs, attrs)``: pure numpy over ``np.ndarray`` inputs; returns one array, or a
  tuple of arrays when ``num_outputs > 1``.
- ``grad(inputs, outputs, grads, attrs)``: the vector-Jacobian product.  ``outputs`` are the
  forward results (a list, one per output), ``grads`` holds one upstream gradient per output
  (``None`` when that output is not on a path to the loss).  Returns one entry per input:
  an array of the input's shape, or ``None`` (no gradient, e.g. integer indices / shapes).
  ``grad=None`` on the row means the op is not differentiable (comparisons, ArgMax, Shape...);
  ``flow.ops.gradients`` then treats it as a stop.
- ``shape(input_shapes, attrs)``: static shape inference.  Each input shape is a tuple whose
  dims are ``int`` or ``None`` (unknown), or ``None`` when even the rank is unknown.  Returns
  one shape per output with the same conventions.  Shape rules never raise for unknown dims;
  they raise ``ValueError`` naming the bad shape when known dims are incompatible.
- ``dtype(input_dtypes, attrs)``: output numpy dtypes; ``None`` = same as the first input.
- ``attrs``: the names of the attrs this op carries in a TF ``GraphDef`` NodeDef, in TF's
  order (e.g. ``("T", "transpose_a", "transpose_b")`` for MatMul).  ``Graph.as_graph_def``
  exports exactly these keys from the Operation's attr dict.  The wrappers fill every one
  (a test checks it): type attrs (``T``, ``Tidx`` ...) are ``flow.core.dtypes.DType`` values, and
  ``flow.kernels.common.apply`` sets ``T`` from the first input when the wrapper does not.  Keys
  that are not listed (``_const_inputs``, ``_grad_inputs``) are private and never exported.
- ``const_inputs``: indices of inputs that must be known when the shape rule runs to give a
  full answer (``Reshape``'s shape, ``Sum``'s axis, ``Fill``'s dims...).  ``common.apply``
  passes their values through ``attrs["_const_inputs"]`` (``{index: np.ndarray}``) when they
  are Python/numpy constants or ``Const`` tensors; otherwise the rule returns unknown dims.
  A negative index counts from the end (``ConcatV2``'s axis is its last input);
  ``_const_inputs`` keys are always positive.

``attrs["_grad_inputs"]`` (optional, set by the runtime): the input indices whose gradient is
wanted.  A ``grad`` may return ``None`` for the other inputs and skip their work (``MatMul``
and ``Conv2D`` do: the gradient w.r.t. a placeholder image is a whole transposed convolution).
``flow.ops.gradients`` can pass it as ``{**op.attrs, "_grad_inputs": tuple(targets)}``; without it
every input's gradient is computed.

Attr values the kernels see are plain Python: ``T``/``dtype``/``Tidx``/``DstT`` as numpy dtypes
or ``flow.core.dtypes.DType`` (kernels convert them with :func:`np_dtype`), ``strides``/``ksize`` as
lists of ints, ``padding`` as ``"SAME"``/``"VALID"`` (str or bytes), bools as bool.

Kernels never modify their inputs in place, and a forward may return a view of an input
(``Reshape``, ``Identity``, a no-op ``Cast``): the runtime must not write into an array it
fed to a kernel (assign a new array to a variable instead of updating it in place), or must
copy variable values when they are read.

Row semantics follow TensorFlow 1.15 (``reference/tf1-semantics.md``).  Rows are added by
``flow.kernels.math``, ``.array``, ``.nn`` and ``.state`` at import time (pure numpy); the
public wrappers that add nodes for them are ``flow.ops.math_ops``, ``array_ops`` and ``nn_ops``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class OpDef:
    """One op type: forward kernel, gradient, static shape rule, GraphDef attrs."""

    type: str
    forward: Callable
    grad: Callable | None
    shape: Callable
    num_outputs: int = 1
    dtype: Callable | None = None
    attrs: tuple[str, ...] = ("T",)
    const_inputs: tuple[int, ...] = field(default=())


OPS: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    """Add ``opdef`` to :data:`OPS`; a second row for the same type is an error."""
    if opdef.type in OPS:
        raise ValueError(
            f"op type {opdef.type!r} is already registered; give the new row another type name"
        )
    OPS[opdef.type] = opdef
    return opdef


def get(op_type: str) -> OpDef:
    """The row for ``op_type``; the error lists close names when it is unknown."""
    try:
        return OPS[op_type]
    except KeyError:
        close = difflib.get_close_matches(op_type, OPS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"no op type {op_type!r} in flow.kernels.table.OPS.{hint}") from None


def np_dtype(value) -> np.dtype:
    """An attr dtype (numpy dtype, type, str or ``flow.core.dtypes.DType``) as a numpy dtype."""
    as_np = getattr(value, "as_numpy_dtype", None)
    if as_np is not None:
        return np.dtype(as_np)
    return np.dtype(value)


# ---------------------------------------------------------------- stateful rows


@dataclass(frozen=True)
class StatefulOp:
    """A row the Session builds per session: ``make(op, session) -> kernel(inputs)``.

    ``ref_inputs`` are the indices of inputs that name a variable the op writes (``Assign``'s
    first input): the session does not read them, the kernel gets ``None`` in their place.
    ``attrs`` lists what ``as_graph_def`` exports.
    """

    type: str
    make: Callable
    attrs: tuple = ()
    ref_inputs: tuple = ()


STATEFUL: dict[str, StatefulOp] = {}


def stateful(op_type: str, attrs=(), ref_inputs=()):
    """Decorator: register ``make(op, session)`` as the kernel factory of ``op_type``."""

    def deco(make):
        STATEFUL[op_type] = StatefulOp(op_type, make, tuple(attrs), tuple(ref_inputs))
        return make

    return deco
