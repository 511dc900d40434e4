"""Array wrappers under TensorFlow's names (``tf.reshape``, ``tf.concat``, ``t[...]`` ...).

Each adds one node whose kernel is a row of ``flow.kernels.array``; ``getitem`` turns
``t[...]`` into one ``StridedSlice`` with TF's five bit masks.
"""

from __future__ import annotations

import builtins

import numpy as np

from flow.core import dtypes
from flow.framework.build import (
    apply,
    constant,
    convert_all,
    convert_to_tensor,
    index_dtype,
    static_value,
)
from flow.kernels.common import as_tuple

__all__ = [  # the TF names ``import flow as tf`` exposes (``getitem`` serves ``t[...]``)
    "cast", "to_float", "to_int32", "to_int64",
    "concat", "expand_dims", "fill", "gather", "identity", "one_hot", "ones", "ones_like", "pad",
    "range", "rank", "reshape", "reverse", "reverse_sequence", "reverse_v2", "shape", "size",
    "slice", "split", "squeeze", "stack",
    "stop_gradient", "strided_slice", "tile", "transpose", "unstack", "where", "zeros",
    "zeros_like",
]


def _tensor(value, dtype=None):
    return convert_to_tensor(value, dtype=dtype)


def _int_input(value):
    """A shape/axis argument: a numpy array when constant, else the tensor itself. As in TF,
    Python ints become int32 (int64 when they do not fit); an int64 numpy array stays int64."""
    static = static_value(value)
    if static is None:
        if isinstance(value, list | tuple):  # a list mixing ints and scalar tensors
            return stack([_int_input(v) for v in value])
        return value
    if static.dtype.kind not in "iub" and static.size:
        raise TypeError(f"expected integer values for a shape or axis, got {value!r}")
    if isinstance(value, np.ndarray | np.generic) and static.dtype == np.int64:
        return static
    fits = not static.size or (static.min() >= -2**31 and static.max() < 2**31)
    return static.astype(np.int32 if fits else np.int64)


def reshape(tensor, shape, name=None):
    shape = _int_input(shape)
    return apply("Reshape", [tensor, shape], {"Tshape": index_dtype(shape)}, name)


def transpose(a, perm=None, name="transpose", conjugate=False):
    a = _tensor(a)
    if perm is None:  # reverse the dims
        ndims = a.shape.ndims
        if ndims is None:
            perm = range(rank(a) - 1, -1, -1)
        else:
            perm = np.arange(ndims - 1, -1, -1, dtype=np.int32)
    perm = _int_input(perm)
    return apply("Transpose", [a, perm], {"Tperm": index_dtype(perm)}, name)


def concat(values, axis, name="concat"):
    values = list(values)
    if len(values) == 1:
        return identity(values[0], name=name)
    values = convert_all(values)
    axis = _int_input(axis)
    return apply("ConcatV2", [*values, axis], {"N": len(values), "Tidx": index_dtype(axis)},
                 name)


def slice(input_, begin, size, name=None):
    return apply("Slice", [input_, _int_input(begin), _int_input(size)], {"Index": np.int32}, name)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, name=None):
    if strides is None:
        strides = [1] * len(begin)
    attrs = {"Index": np.int32, "begin_mask": begin_mask, "end_mask": end_mask,
             "ellipsis_mask": ellipsis_mask, "new_axis_mask": new_axis_mask,
             "shrink_axis_mask": shrink_axis_mask}
    return apply("StridedSlice",
                 [input_, _int_input(begin), _int_input(end), _int_input(strides)], attrs, name)


def _index_part(spec, bit: int):
    """``(begin, end, stride, masks)`` for one entry of a ``t[...]`` index (TF's rules)."""
    if isinstance(spec, builtins.slice):
        if spec.step is not None and static_value(spec.step) is not None and spec.step == 0:
            raise ValueError("slice step cannot be zero; use a positive or negative step")
        masks = {}
        if spec.start is None:
            masks["begin_mask"] = bit
        if spec.stop is None:
            masks["end_mask"] = bit
        return (0 if spec.start is None else spec.start, 0 if spec.stop is None else spec.stop,
                1 if spec.step is None else spec.step, masks)
    if spec is Ellipsis:
        return 0, 0, 1, {"ellipsis_mask": bit}
    if spec is None:
        return 0, 0, 1, {"new_axis_mask": bit}
    static = static_value(spec)
    if isinstance(spec, bool) or (static is not None and static.dtype.kind not in "iu"):
        raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) "
                        f"and scalar tf.int32/tf.int64 tensors are valid indices, got {spec!r}")
    return spec, spec + 1, 1, {"shrink_axis_mask": bit}


def getitem(tensor, slice_spec):
    """``tensor[slice_spec]`` as one ``StridedSlice`` (ints, slices, ``...``, ``None``,
    scalar tensors), with the masks TensorFlow's ``Tensor.__getitem__`` builds."""
    if not isinstance(slice_spec, tuple):
        slice_spec = (slice_spec,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                           "shrink_axis_mask"), 0)
    for k, spec in enumerate(slice_spec):
        b, e, s, bits = _index_part(spec, 1 << k)
        begin.append(b)
        end.append(e)
        strides.append(s)
        for mask, bit in bits.items():
            masks[mask] |= bit
    return strided_slice(tensor, begin, end, strides, name="strided_slice", **masks)


slice_helper = getitem  # TensorFlow's own name for it (array_ops._slice_helper)


def gather(params, indices, validate_indices=None, name=None, axis=0):
    params = _tensor(params)
    indices = _tensor(_int_input(indices) if static_value(indices) is not None else indices)
    attrs = {"Tparams": params.dtype, "Tindices": indices.dtype, "Taxis": np.int32,
             "batch_dims": 0}
    return apply("GatherV2", [params, indices, _int_input(axis)], attrs, name)


def stack(values, axis=0, name="stack"):
    values = convert_all(list(values))
    return apply("Pack", values, {"N": len(values), "axis": int(axis)}, name)


def unstack(value, num=None, axis=0, name="unstack"):
    """The pieces of ``value`` along ``axis``: one ``StridedSlice`` per piece (TF builds one
    multi-output ``Unpack``; the values are the same)."""
    value = _tensor(value)
    ndims = value.shape.ndims
    if ndims is None:
        raise ValueError("unstack needs a known rank; give the input a static shape")
    axis = axis % ndims
    n = value.shape.as_list()[axis] if num is None else int(num)
    if n is None:
        raise ValueError(f"Cannot infer num from shape {value.shape.as_list()}; pass num=")
    lead = (builtins.slice(None),) * axis
    return [getitem(value, (*lead, k)) for k in builtins.range(n)]


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Equal pieces (an int: TF's ``Split`` op) or pieces of the given sizes (``SplitV``)
    along ``axis``."""
    value = _tensor(value)
    shape = value.shape.as_list() if value.shape.ndims is not None else None
    if shape is None or shape[axis] is None:
        raise ValueError("split needs the size of the split axis at graph-build time")
    axis = axis % len(shape)
    if np.ndim(num_or_size_splits) == 0:
        parts = int(num_or_size_splits)
        if shape[axis] % parts:
            raise ValueError(f"Dimension size {shape[axis]} must be evenly divisible by "
                             f"{parts}; pass a list of sizes instead")
        out = apply("Split", [np.int32(axis), value], {"num_split": parts, "T": value.dtype},
                    name)
        return list(out)
    sizes = [int(v) for v in num_or_size_splits]
    if -1 in sizes:
        sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != shape[axis]:
        raise ValueError(f"sizes {sizes} must add up to the axis size {shape[axis]}")
    out = apply("SplitV", [value, np.asarray(sizes, np.int32), np.int32(axis)],
                {"num_split": len(sizes), "T": value.dtype, "Tlen": np.int32}, name)
    return list(out)


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    if squeeze_dims is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'squeeze_dims' and 'axis'; use 'axis'.")
        axis = squeeze_dims
    axis = [] if axis is None else [int(a) for a in np.atleast_1d(axis)]
    return apply("Squeeze", [input], {"squeeze_dims": axis}, name)


def expand_dims(input, axis=None, name=None, dim=None):
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'; use 'axis'.")
        axis = dim
    if axis is None:
        raise ValueError("expand_dims needs an 'axis' (the index of the new size-1 dim)")
    axis = _int_input(axis)
    return apply("ExpandDims", [input, axis], {"Tdim": index_dtype(axis)}, name)


def tile(input, multiples, name=None):
    multiples = _int_input(multiples)
    return apply("Tile", [input, multiples], {"Tmultiples": index_dtype(multiples)}, name)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    if str(mode).upper() != "CONSTANT" or constant_values != 0:
        raise NotImplementedError(f"pad supports mode='CONSTANT' with 0 fill only, got {mode!r}")
    paddings = _int_input(paddings)
    return apply("Pad", [tensor, paddings], {"Tpaddings": index_dtype(paddings)}, name)


def fill(dims, value, name=None):
    value = _tensor(value)
    return apply("Fill", [_int_input(dims), value], {"T": value.dtype, "index_type": np.int32},
                 name)


def _filled(value, shape, dtype, name):
    dtype = dtypes.as_dtype(dtype)
    static = static_value(shape)
    if static is not None:
        return constant(value, dtype=dtype, shape=as_tuple(static), name=name)
    return fill(shape, constant(value, dtype=dtype), name=name)


def zeros(shape, dtype=np.float32, name=None):
    """``tf.zeros``: a ``Const`` for a static shape, else ``Fill``."""
    return _filled(0, shape, dtype, name or "zeros")


def ones(shape, dtype=np.float32, name=None):
    return _filled(1, shape, dtype, name or "ones")


def cast(x, dtype, name=None):
    """``Cast`` to ``dtype`` (a ``flow`` DType or anything ``flow.as_dtype`` accepts)."""
    x = convert_to_tensor(x)
    dst = dtypes.as_dtype(dtype)
    if x.dtype == dst:
        return x
    return apply("Cast", [x], {"SrcT": x.dtype, "DstT": dst, "Truncate": False}, name or "Cast")


def to_float(x, name="ToFloat"):
    return cast(x, np.float32, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, np.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, np.int64, name=name)


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    out = apply("ZerosLike", [tensor], None, name)
    return out if dtype is None else cast(out, dtype)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    out = apply("OnesLike", [tensor], None, name)
    return out if dtype is None else cast(out, dtype)


def identity(input, name=None):
    return apply("Identity", [input], None, name)


def stop_gradient(input, name=None):
    return apply("StopGradient", [input], None, name)


def shape(input, name=None, out_type=np.int32):
    return apply("Shape", [input], {"out_type": dtypes.as_dtype(out_type)}, name)


def size(input, name=None, out_type=np.int32):
    return apply("Size", [input], {"out_type": dtypes.as_dtype(out_type)}, name)


def rank(input, name=None):
    return apply("Rank", [input], None, name)


def range(start, limit=None, delta=1, dtype=None, name="range"):
    if limit is None:
        start, limit = 0, start
    values = [start, limit, delta]
    statics = [static_value(v) for v in values]
    if dtype is None and all(v is not None for v in statics):
        dtype = np.float32 if any(v.dtype.kind == "f" for v in statics) else np.int32
    values = convert_all(values, dtype=dtype)
    return apply("Range", values, {"Tidx": values[0].dtype}, name)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    dtype = np.float32 if dtype is None else dtype
    indices = _tensor(_int_input(indices) if static_value(indices) is not None else indices)
    on = _tensor(1 if on_value is None else on_value, dtype=dtype)
    off = _tensor(0 if off_value is None else off_value, dtype=dtype)
    attrs = {"T": on.dtype, "TI": indices.dtype, "axis": -1 if axis is None else int(axis)}
    return apply("OneHot", [indices, _int_input(depth), on, off], attrs, name)


def where(condition, x=None, y=None, name=None):
    if x is None and y is None:
        raise NotImplementedError("where(condition) without x and y (coordinates) is not "
                                  "supported; pass x and y to select elements")
    x, y = convert_all([x, y])
    return apply("Select", [condition, x, y], {"T": x.dtype}, name)


def reverse(tensor, axis, name=None):
    """``tf.reverse`` (``ReverseV2``): flip ``tensor`` along the axes in ``axis``."""
    axis = _int_input(axis)
    return apply("ReverseV2", [tensor, axis], {"Tidx": index_dtype(axis)}, name or "ReverseV2")


reverse_v2 = reverse


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,  # noqa: A002
                     seq_dim=None, batch_dim=None):
    """``tf.reverse_sequence``: per batch entry, flip its first ``seq_lengths[b]`` steps."""
    seq = seq_axis if seq_axis is not None else seq_dim
    batch = batch_axis if batch_axis is not None else (batch_dim or 0)
    if seq is None:
        raise ValueError("reverse_sequence needs seq_axis (the time axis of input).")
    lengths = _tensor(seq_lengths)
    if lengths.dtype.name not in ("int32", "int64"):
        raise TypeError(f"seq_lengths must be int32 or int64, got {lengths.dtype.name}")
    return apply("ReverseSequence", [input, lengths], {
        "seq_dim": int(seq), "batch_dim": int(batch), "Tlen": lengths.dtype},
        name or "ReverseSequence")
