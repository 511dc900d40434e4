"""How ops enter the graph: ``apply_op``, ``convert_to_tensor``, ``constant``, ``placeholder``.

Contract with ``flow.ops`` (the public wrappers), over ``flow.kernels.table`` (the op table):

``apply_op(op_type, inputs, attrs=None, name=None) -> Tensor | tuple[Tensor, ...]``
    Converts each input with :func:`convert_to_tensor`, creates one Operation of type
    ``op_type`` in the inputs' graph (the default graph when no input is a Tensor), named
    ``name`` (default: ``op_type``) under the current name scope and made unique (``MatMul_1``),
    with the current control dependencies. Output shapes and dtypes come from
    ``OPS[op_type].shape`` / ``.dtype``. Returns the single output, or a tuple when the row has
    ``num_outputs > 1``. Python constants among ``inputs`` become ``Const`` ops with their own
    dtype (a wrapper that wants them in the other input's dtype converts them first, passing
    ``dtype=``).

``convert_to_tensor(value, dtype=None, name=None) -> Tensor``
    A Tensor is returned as is (``dtype`` must match); a Variable gives its read tensor
    (``v/read``); anything else becomes a ``Const`` (Python floats → float32, ints → int32,
    numpy arrays keep their dtype).
"""

from __future__ import annotations

import contextlib

import numpy as np

from flow.core import dtypes
from flow.core.tensor_shape import as_shape
from flow.framework.graph import Graph, Operation, Tensor, get_default_graph
from flow.kernels import table
from flow.kernels.table import OPS


def _input_graph(inputs) -> Graph:
    for x in inputs:
        g = getattr(x, "graph", None)
        if isinstance(g, Graph):
            return g
    return get_default_graph()


def apply_op(op_type: str, inputs: list, attrs: dict | None = None, name: str | None = None):
    """Add one ``op_type`` node whose kernel is the row ``flow.kernels.table.OPS[op_type]``."""
    opdef = table.get(op_type)
    graph = _input_graph(inputs)
    scope = graph.as_default() if graph is not get_default_graph() else contextlib.nullcontext()
    with scope:
        tensors = [convert_to_tensor(x) for x in inputs]
        attrs = dict(attrs or {})
        shapes = opdef.shape([t._shape.as_tuple() for t in tensors], attrs)
        if opdef.dtype is not None:
            out_dtypes = opdef.dtype([np.dtype(t.dtype.as_numpy_dtype) for t in tensors], attrs)
        else:
            out_dtypes = [tensors[0].dtype] * opdef.num_outputs
        op = graph.create_op(op_type, tensors, attrs, name, [dtypes.as_dtype(d)
                                                             for d in out_dtypes], shapes)
    return op.outputs[0] if opdef.num_outputs == 1 else tuple(op.outputs)


# ---------------------------------------------------------------- constants


def _as_array(value, dtype=None) -> np.ndarray:
    """``value`` as a numpy array in TF's default dtypes (or ``dtype``), with TF's type errors."""
    if isinstance(value, Tensor | Operation) or hasattr(value, "_as_graph_element"):
        raise TypeError(f"Expected a constant value, got {value!r}; a Tensor cannot be a "
                        f"constant's value.")
    try:
        arr = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"Argument must be a dense tensor: {value!r} - {e}") from None
    if arr.dtype == object and any(isinstance(v, Tensor) or hasattr(v, "_as_graph_element")
                                   for v in arr.reshape(-1)):
        raise TypeError(f"List of Tensors when single Tensor expected: {value!r}; "
                        f"combine them with tf.stack(...) first.")
    if arr.dtype.kind in "US":
        arr = np.array([v.encode() if isinstance(v, str) else v for v in arr.reshape(-1)],
                       dtype=object).reshape(arr.shape)
    if dtype is not None:
        dt = dtypes.as_dtype(dtype)
        if dt.name == "string" or arr.dtype == object:
            if dt.name != "string" or arr.dtype != object:
                raise TypeError(f"Expected {dt.name}, got {value!r} of type "
                                f"'{type(value).__name__}' instead.")
            return arr
        if (dt.is_integer or dt.is_bool) and arr.dtype.kind in "fc" and arr.size and \
                not np.all(np.round(arr) == arr):
            raise TypeError(f"Expected {dt.name}, got {value!r} of type "
                            f"'{type(value).__name__}' instead.")
        if dt.is_integer and arr.dtype.kind in "iu" and arr.size:
            info = np.iinfo(dt.as_numpy_dtype)
            if arr.min() < info.min or arr.max() > info.max:
                raise ValueError(f"Can't convert Python int {value!r} to {dt.name}: out of "
                                 f"range; use a larger type (e.g. tf.int64).")
        return arr.astype(dt.as_numpy_dtype, copy=False)
    if isinstance(value, np.ndarray | np.generic):
        return arr
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype.kind == "i" and arr.dtype != np.int32:
        small = arr.size == 0 or (arr.min() >= -(2**31) and arr.max() < 2**31)
        return arr.astype(np.int32 if small else np.int64)
    return arr


def _fill_to(arr: np.ndarray, shape, verify: bool) -> np.ndarray:
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape))
    if arr.shape == shape:
        return arr
    if verify:
        raise TypeError(f"Expected Tensor's shape: {shape}, got {arr.shape}.")
    if arr.size == n:
        return arr.reshape(shape)
    if arr.size > n:
        raise ValueError(f"Too many elements provided. Needed at most {n}, but received "
                        f"{arr.size}")
    if arr.size == 0:
        raise ValueError(f"Cannot fill shape {shape} from an empty value")
    flat = arr.reshape(-1)
    out = np.concatenate([flat, np.full(n - flat.size, flat[-1], dtype=arr.dtype)])
    return out.reshape(shape)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False) -> Tensor:
    """``tf.constant``: a ``Const`` op; a short value fills ``shape`` with its last element."""
    arr = _as_array(value, dtype)
    if shape is not None:
        arr = _fill_to(arr, as_shape(shape).as_list(), verify_shape)
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.as_dtype(arr.dtype)
    arr = np.array(arr)  # the graph owns a read-only copy; kernels may return it as is
    arr.setflags(write=False)
    op = get_default_graph().create_op("Const", [], {"value": arr, "dtype": dt}, name, [dt],
                                       [arr.shape])
    return op.outputs[0]


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None):
    """``tf.convert_to_tensor``: Tensor as is, Variable → its read tensor, else a ``Const``."""
    if isinstance(value, Tensor):
        if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                             f"for Tensor with dtype {value.dtype.name}: {value!r}")
        return value
    to_tensor = getattr(value, "_to_tensor", None)
    if to_tensor is not None:
        return convert_to_tensor(to_tensor(), dtype=dtype, name=name)
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation {value.name!r} to Tensor (target dtype="
                        f"{dtype}, name={name}); fetch or depend on it with "
                        f"tf.control_dependencies instead.")
    if isinstance(value, list | tuple) and _holds_tensors(value):
        return _pack(value, dtype, name)
    hint = preferred_dtype or dtype_hint
    if dtype is None and hint is not None:
        try:
            return constant(value, dtype=hint, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def _holds_tensors(value) -> bool:
    return any(isinstance(v, Tensor) or hasattr(v, "_to_tensor") or
               (isinstance(v, list | tuple) and _holds_tensors(v)) for v in value)


def _pack(values, dtype, name):
    """A list mixing Tensors and numbers becomes a ``Pack`` (``[-1, tf.shape(x)[1]]``), as TF."""
    tensors = [v for v in values if isinstance(v, Tensor) or hasattr(v, "_to_tensor")]
    if dtype is None and tensors:
        dtype = convert_to_tensor(tensors[0]).dtype
    items = [convert_to_tensor(v, dtype=dtype) for v in values]
    return apply("Pack", items, {"N": len(items), "axis": 0}, name or "packed")


def placeholder(dtype, shape=None, name=None) -> Tensor:
    """``tf.placeholder``: must be fed; ``shape=None`` accepts any shape."""
    dt = dtypes.as_dtype(dtype)
    shape = as_shape(shape)
    op = get_default_graph().create_op("Placeholder", [], {"dtype": dt, "shape": shape},
                                       name or "Placeholder", [dt], [shape])
    return op.outputs[0]


def placeholder_with_default(input, shape, name=None) -> Tensor:  # noqa: A002 - TF's name
    value = convert_to_tensor(input)
    shape = as_shape(shape)
    op = get_default_graph().create_op(
        "PlaceholderWithDefault", [value], {"dtype": value.dtype, "shape": shape},
        name or "PlaceholderWithDefault", [value.dtype], [shape])
    return op.outputs[0]


def no_op(name=None) -> Operation:
    return get_default_graph().create_op("NoOp", [], {}, name or "NoOp")


def group(*inputs, name=None) -> Operation:
    """``tf.group``: a ``NoOp`` with a control dependency on every input."""
    deps = []
    for x in inputs:
        deps.extend(x if isinstance(x, list | tuple) else [x])
    deps = [d._as_graph_element() if hasattr(d, "_as_graph_element") else d for d in deps]
    deps = [getattr(d, "op", d) for d in deps]
    return get_default_graph().create_op("NoOp", [], {}, name or "group_deps",
                                         control_inputs=deps)


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
    """Add a ``op_type`` node to the default graph (``flow.framework.build.apply_op``).

    Constants (Python/numpy values, ``Const`` tensors) among the row's ``const_inputs`` are
    recorded in ``attrs["_const_inputs"]`` so its shape rule can use them (``Reshape``'s shape,
    ``Sum``'s axis ...); ``T`` is filled from the
    first input's dtype when the row exports it and the caller did not give it; numpy types
    among attr values (``Tidx=np.int32``) become ``flow.core.dtypes.DType``.
    """
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
        first = convert_to_tensor(inputs[0])
        inputs = [first, *inputs[1:]]
        attrs["T"] = first.dtype
    return apply_op(op_type, list(inputs), attrs, name)


def convert_all(values, dtype=None):
    """Convert wrapper inputs; plain constants take the dtype of the first real tensor."""
    if dtype is None:
        for v in values:
            if static_value(v) is None:
                dtype = convert_to_tensor(v).dtype
                break
    return [convert_to_tensor(v, dtype=dtype) for v in values]
