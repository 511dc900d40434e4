"""Array rows of the op table (TensorFlow 1.15 ``gen_array_ops`` semantics): pure numpy.

Shapes, axes, begin/end/size arrive as inputs (as in a TF GraphDef); their values at
graph-build time reach the shape rules through ``attrs["_const_inputs"]``.
"""

from __future__ import annotations

import numpy as np

from flow.kernels.common import as_tuple, const_input, same_shape
from flow.kernels.table import OpDef, np_dtype, register

# stand-in sizes for unknown dims: an output dim that differs between them depends on the
# unknown size, so it is unknown too (small probes catch slices that real small dims clamp)
_PROBES = (1, 2, 10007, 10009)


def _probe_shape(shape, index_fn):
    """The shape ``index_fn`` gives for ``shape`` when some dims are unknown (``None``)."""
    if shape is None:
        return None
    outs = []
    for p in _PROBES:
        try:
            outs.append(index_fn(tuple(p if n is None else n for n in shape)))
        except IndexError:  # an integer index beyond this probe's size
            continue
    if len(outs) < 2 or any(len(o) != len(outs[0]) for o in outs):
        return None
    return tuple(d[0] if len(set(d)) == 1 else None for d in zip(*outs, strict=True))


def _dummy(shape):
    return np.broadcast_to(np.empty((), np.int8), shape)


# ---------------------------------------------------------------- Reshape, Transpose, Squeeze


def _reshape_shape(shapes, attrs):
    target = const_input(attrs, 1)
    if target is None:
        return [None if shapes[1] is None or shapes[1][0] is None else (None,) * shapes[1][0]]
    target, shape = list(as_tuple(target)), shapes[0]
    if -1 in target:
        known = [int(n) for n in target if n != -1]
        total = None if shape is None or None in shape else int(np.prod(shape, dtype=np.int64))
        if total is not None:
            if np.prod(known) == 0 or total % int(np.prod(known)):
                raise ValueError(f"Cannot reshape a tensor with {total} elements to shape "
                                 f"{target}; the known dims must divide the element count")
            target[target.index(-1)] = total // int(np.prod(known))
        else:
            target[target.index(-1)] = None
    elif shape is not None and None not in shape and int(np.prod(shape)) != int(np.prod(target)):
        raise ValueError(f"Cannot reshape a tensor with {int(np.prod(shape))} elements to shape "
                         f"{target} ({int(np.prod(target))} elements); check the target shape")
    return [tuple(target)]


register(OpDef("Reshape", lambda i, a: i[0].reshape(as_tuple(i[1])),
               lambda i, o, g, a: [g[0].reshape(i[0].shape), None], _reshape_shape,
               attrs=("T", "Tshape"), const_inputs=(1,)))


def _transpose_shape(shapes, attrs):
    perm = const_input(attrs, 1)
    if perm is None or shapes[0] is None:
        return [None if shapes[0] is None else (None,) * len(shapes[0])]
    return [tuple(shapes[0][p] for p in as_tuple(perm))]


register(OpDef("Transpose", lambda i, a: np.transpose(i[0], as_tuple(i[1])),
               lambda i, o, g, a: [np.transpose(g[0], np.argsort(as_tuple(i[1]))), None],
               _transpose_shape, attrs=("T", "Tperm"), const_inputs=(1,)))


def _squeeze_axes(shape, attrs):
    dims = list(attrs.get("squeeze_dims") or [])
    if not dims:
        return [i for i, n in enumerate(shape) if n == 1]
    return sorted(d % len(shape) for d in dims)


def _squeeze_shape(shapes, attrs):
    shape = shapes[0]
    if shape is None:
        return [None]
    if not attrs.get("squeeze_dims") and None in shape:
        return [None]
    axes = _squeeze_axes(shape, attrs)
    bad = [d for d in axes if shape[d] not in (1, None)]
    if bad:
        raise ValueError(f"Can not squeeze dim[{bad[0]}], expected a dimension of 1, got "
                         f"{shape[bad[0]]} (shape {list(shape)}); pick axes of size 1")
    return [tuple(n for i, n in enumerate(shape) if i not in axes)]


register(OpDef("Squeeze", lambda i, a: np.squeeze(i[0], tuple(_squeeze_axes(i[0].shape, a))),
               lambda i, o, g, a: [g[0].reshape(i[0].shape)], _squeeze_shape,
               attrs=("T", "squeeze_dims")))


def _expand_shape(shapes, attrs):
    dim = const_input(attrs, 1)
    if shapes[0] is None or dim is None:
        return [None if shapes[0] is None else (None,) * (len(shapes[0]) + 1)]
    d = int(dim) % (len(shapes[0]) + 1)
    return [shapes[0][:d] + (1,) + shapes[0][d:]]


register(OpDef("ExpandDims", lambda i, a: np.expand_dims(i[0], int(i[1])),
               lambda i, o, g, a: [g[0].reshape(i[0].shape), None], _expand_shape,
               attrs=("T", "Tdim"), const_inputs=(1,)))


# ---------------------------------------------------------------- Concat, Pack, Tile, Pad


def _concat_grad(inputs, outputs, grads, attrs):
    values, axis = inputs[:-1], int(inputs[-1]) % inputs[0].ndim
    cuts = np.cumsum([v.shape[axis] for v in values])[:-1]
    return [*np.split(grads[0], cuts, axis=axis), None]


def _concat_shape(shapes, attrs):
    values, axis = shapes[:-1], const_input(attrs, len(shapes) - 1)
    known = [s for s in values if s is not None]
    if not known:
        return [None]
    if axis is None:
        return [(None,) * len(known[0])]
    a = int(axis) % len(known[0])
    out = list(known[0])
    sizes = [None if s is None else s[a] for s in values]
    out[a] = None if None in sizes else sum(sizes)
    for s in known:
        if len(s) != len(out):
            raise ValueError(f"ConcatV2: all inputs must have rank {len(out)}, got shape {list(s)}")
        for i, n in enumerate(s):
            if i != a and n is not None:
                if out[i] is not None and out[i] != n:
                    raise ValueError(f"ConcatV2: dimension {i} must match, got {out[i]} and {n} "
                                     f"in shapes {[list(v) for v in known]}")
                out[i] = n
    return [tuple(out)]


register(OpDef("ConcatV2", lambda i, a: np.concatenate(i[:-1], axis=int(i[-1])), _concat_grad,
               _concat_shape, attrs=("N", "T", "Tidx"), const_inputs=(-1,)))


def _pack_shape(shapes, attrs):
    known = [s for s in shapes if s is not None]
    if not known:
        return [None]
    out = [next((s[i] for s in known if s[i] is not None), None) for i in range(len(known[0]))]
    a = int(attrs.get("axis", 0)) % (len(out) + 1)
    return [tuple(out[:a] + [len(shapes)] + out[a:])]


def _pack_grad(inputs, outputs, grads, attrs):
    axis = int(attrs.get("axis", 0)) % outputs[0].ndim
    return [np.take(grads[0], k, axis=axis) for k in range(len(inputs))]


register(OpDef("Pack", lambda i, a: np.stack(i, axis=int(a.get("axis", 0))), _pack_grad,
               _pack_shape, attrs=("N", "T", "axis")))


def _tile_grad(inputs, outputs, grads, attrs):
    x, reps = inputs[0], as_tuple(inputs[1])
    split = [d for pair in zip(reps, x.shape, strict=True) for d in pair]
    return [grads[0].reshape(split).sum(axis=tuple(range(0, 2 * x.ndim, 2))), None]


def _tile_shape(shapes, attrs):
    reps = const_input(attrs, 1)
    if shapes[0] is None or reps is None:
        return [None if shapes[0] is None else (None,) * len(shapes[0])]
    return [tuple(None if n is None else n * r
                  for n, r in zip(shapes[0], as_tuple(reps), strict=True))]


register(OpDef("Tile", lambda i, a: np.tile(i[0], as_tuple(i[1])), _tile_grad, _tile_shape,
               attrs=("T", "Tmultiples"), const_inputs=(1,)))


def _pad_index(paddings, shape):
    return tuple(slice(int(p[0]), int(p[0]) + n)
                 for p, n in zip(np.asarray(paddings), shape, strict=True))


def _pad_shape(shapes, attrs):
    pads = const_input(attrs, 1)
    if shapes[0] is None or pads is None:
        return [None if shapes[0] is None else (None,) * len(shapes[0])]
    return [tuple(None if n is None else n + int(p.sum())
                  for n, p in zip(shapes[0], pads, strict=True))]


register(OpDef("Pad", lambda i, a: np.pad(i[0], np.asarray(i[1], np.int64)),
               lambda i, o, g, a: [g[0][_pad_index(i[1], i[0].shape)], None], _pad_shape,
               attrs=("T", "Tpaddings"), const_inputs=(1,)))


# ---------------------------------------------------------------- slicing, gather


def _slice_index(begin, size):
    return tuple(slice(b, None if s == -1 else b + s)
                 for b, s in zip(as_tuple(begin), as_tuple(size), strict=True))


def _scatter_back(x, index, g):
    dx = np.zeros_like(x)
    dx[index] = g
    return dx


def _slice_shape(shapes, attrs):
    begin, size, shape = const_input(attrs, 1), const_input(attrs, 2), shapes[0]
    if shape is None:
        return [None]
    if begin is None or size is None:
        return [(None,) * len(shape)]
    return [tuple(s if s != -1 else None if n is None else n - b
                  for n, b, s in zip(shape, as_tuple(begin), as_tuple(size), strict=True))]


register(OpDef("Slice", lambda i, a: i[0][_slice_index(i[1], i[2])],
               lambda i, o, g, a: [_scatter_back(i[0], _slice_index(i[1], i[2]), g[0]),
                                   None, None],
               _slice_shape, attrs=("T", "Index"), const_inputs=(1, 2)))


def _split_shape(x, axis, sizes):
    """One output shape per piece of ``x`` (a shape tuple or None) cut along ``axis``."""
    if x is None:
        return [None] * len(sizes)
    if axis is None:
        return [(None,) * len(x)] * len(sizes)
    a = int(axis) % len(x)
    return [(*x[:a], n, *x[a + 1:]) for n in sizes]


def _split_v_sizes(value, sizes, axis):
    sizes = [int(v) for v in np.reshape(sizes, -1)]
    if -1 in sizes:
        sizes[sizes.index(-1)] = value.shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != value.shape[axis] or min(sizes, default=0) < 0:
        raise ValueError(f"SplitV: sizes {sizes} must add up to the size {value.shape[axis]} "
                         f"of dimension {axis} of the input")
    return sizes


def _split(inputs, attrs):
    axis, x = int(inputs[0]), inputs[1]
    n = int(attrs["num_split"])
    if x.shape[axis] % n:
        raise ValueError(f"Split: dimension {axis} of size {x.shape[axis]} is not evenly "
                         f"divisible by num_split {n}; use SplitV (a list of sizes)")
    return tuple(np.split(x, n, axis=axis))


def _split_v(inputs, attrs):
    x, axis = inputs[0], int(inputs[2]) % inputs[0].ndim
    return tuple(np.split(x, np.cumsum(_split_v_sizes(x, inputs[1], axis))[:-1], axis=axis))


def _pieces_grad(outputs, grads, axis):
    """The gradient of a split: the pieces' gradients concatenated (zeros where none)."""
    return np.concatenate([np.zeros_like(o) if g is None else g
                           for o, g in zip(outputs, grads, strict=True)], axis=axis)


def _split_rule(shapes, attrs):
    n, x, axis = int(attrs["num_split"]), shapes[1], const_input(attrs, 0)
    if x is None or axis is None:
        return _split_shape(x, axis, [None] * n)
    d = x[int(axis) % len(x)]
    if d is not None and d % n:
        raise ValueError(f"Split: dimension {int(axis)} of size {d} is not evenly divisible by "
                         f"num_split {n}; pass a list of sizes instead")
    return _split_shape(x, axis, [None if d is None else d // n] * n)


def _split_v_rule(shapes, attrs):
    x, sizes, axis = shapes[0], const_input(attrs, 1), const_input(attrs, 2)
    n = int(attrs["num_split"])
    if sizes is None or x is None or axis is None or x[int(axis) % len(x)] is None:
        return _split_shape(x, axis, [None] * n)
    sizes = [int(v) for v in np.reshape(sizes, -1)]
    if -1 in sizes:
        sizes[sizes.index(-1)] = x[int(axis) % len(x)] - (sum(sizes) + 1)
    return _split_shape(x, axis, sizes)


# Split / SplitV: TF's tf.split (num_outputs as ShapeN's: the dtype and shape rules give
# num_split outputs); the gradient is one concatenation, not one zero-padded array per piece
register(OpDef("Split", _split,
               lambda i, o, g, a: [None, _pieces_grad(o, g, int(i[0]) % o[0].ndim)],
               _split_rule, num_outputs=2, dtype=lambda d, a: [d[1]] * int(a["num_split"]),
               attrs=("num_split", "T"), const_inputs=(0,)))
register(OpDef("SplitV", _split_v,
               lambda i, o, g, a: [_pieces_grad(o, g, int(i[2]) % o[0].ndim), None, None],
               _split_v_rule, num_outputs=2, dtype=lambda d, a: [d[0]] * int(a["num_split"]),
               attrs=("num_split", "T", "Tlen"), const_inputs=(1, 2)))


def strided_index(begin, end, strides, attrs) -> tuple:
    """The numpy index a ``StridedSlice`` with these masks selects."""
    index = []
    for k, (b, e, s) in enumerate(zip(as_tuple(begin), as_tuple(end), as_tuple(strides),
                                      strict=True)):
        bit = 1 << k
        if int(attrs.get("ellipsis_mask", 0)) & bit:
            index.append(Ellipsis)
        elif int(attrs.get("new_axis_mask", 0)) & bit:
            index.append(None)
        elif int(attrs.get("shrink_axis_mask", 0)) & bit:
            index.append(b)
        else:
            index.append(slice(None if int(attrs.get("begin_mask", 0)) & bit else b,
                               None if int(attrs.get("end_mask", 0)) & bit else e, s))
    return tuple(index)


def _strided_slice_shape(shapes, attrs):
    spec = [const_input(attrs, k) for k in (1, 2, 3)]
    if shapes[0] is None:
        return [None]
    if any(v is None for v in spec):  # bounds known at run time only: the masks give the rank
        n = shapes[1][0] if shapes[1] is not None else None
        if n is None:
            return [None]
        zeros, ones = np.zeros(n, np.int64), np.ones(n, np.int64)
        probe = _probe_shape(shapes[0], lambda s: _dummy(s)[strided_index(zeros, zeros, ones,
                                                                           attrs)].shape)
        return [None if probe is None else (None,) * len(probe)]
    index = strided_index(*spec, attrs)
    return [_probe_shape(shapes[0], lambda s: _dummy(s)[index].shape)]


register(OpDef("StridedSlice", lambda i, a: i[0][strided_index(i[1], i[2], i[3], a)],
               lambda i, o, g, a: [_scatter_back(i[0], strided_index(i[1], i[2], i[3], a), g[0]),
                                   None, None, None],
               _strided_slice_shape,
               attrs=("T", "Index", "begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                      "shrink_axis_mask"),
               const_inputs=(1, 2, 3)))


def _gather_grad(params, indices, g, axis):
    dx = np.zeros_like(params)
    np.add.at(dx, (slice(None),) * axis + (indices,), g)
    return dx


def _gather_shape(shapes, axis):
    params, indices = shapes[0], shapes[1]
    if params is None or indices is None or axis is None:
        return [None]
    a = int(axis) % len(params)
    return [params[:a] + indices + params[a + 1:]]


register(OpDef("Gather", lambda i, a: np.take(i[0], i[1], axis=0),
               lambda i, o, g, a: [_gather_grad(i[0], i[1], g[0], 0), None],
               lambda s, a: _gather_shape(s, 0), attrs=("Tparams", "Tindices", "validate_indices")))
register(OpDef("GatherV2", lambda i, a: np.take(i[0], i[1], axis=int(i[2])),
               lambda i, o, g, a: [_gather_grad(i[0], i[1], g[0], int(i[2]) % i[0].ndim),
                                   None, None],
               lambda s, a: _gather_shape(s, const_input(a, 2)),
               attrs=("Tparams", "Tindices", "Taxis", "batch_dims"), const_inputs=(2,)))


def _one_hot(inputs, attrs):
    indices, depth, on, off = inputs
    hot = np.expand_dims(indices, -1) == np.arange(int(depth))
    out = np.where(hot, on, off).astype(np.result_type(on, off), copy=False)
    axis = int(attrs.get("axis", -1))
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def _one_hot_shape(shapes, attrs):
    depth = const_input(attrs, 1)
    if shapes[0] is None:
        return [None]
    axis = int(attrs.get("axis", -1))
    axis = len(shapes[0]) if axis == -1 else axis
    d = None if depth is None else int(depth)
    return [shapes[0][:axis] + (d,) + shapes[0][axis:]]


register(OpDef("OneHot", _one_hot, None, _one_hot_shape, dtype=lambda d, a: [d[2]],
               attrs=("T", "TI", "axis"), const_inputs=(1,)))


def _select_grad(inputs, outputs, grads, attrs):
    cond, x, _ = inputs
    mask = cond.reshape(cond.shape + (1,) * (x.ndim - cond.ndim))
    # g · mask, not np.where: ~15x faster here, and g is finite so nothing turns into NaN
    return [None, grads[0] * mask, grads[0] * ~mask]


def _select(inputs, attrs):
    cond, x, y = inputs
    return np.where(cond.reshape(cond.shape + (1,) * (x.ndim - cond.ndim)), x, y)


register(OpDef("Select", _select, _select_grad, lambda s, a: [s[1]], dtype=lambda d, a: [d[1]]))


# ---------------------------------------------------------------- creation, identity, shape


def _fill_shape(shapes, attrs):
    dims = const_input(attrs, 0)
    if dims is None:
        return [None if shapes[0] is None or shapes[0][0] is None else (None,) * shapes[0][0]]
    return [as_tuple(dims)]


register(OpDef("Fill", lambda i, a: np.full(as_tuple(i[0]), i[1], dtype=i[1].dtype),
               lambda i, o, g, a: [None, np.asarray(g[0].sum(), i[1].dtype)], _fill_shape,
               dtype=lambda d, a: [d[1]], attrs=("T", "index_type"), const_inputs=(0,)))
register(OpDef("ZerosLike", lambda i, a: np.zeros_like(i[0]), None, same_shape))
register(OpDef("OnesLike", lambda i, a: np.ones_like(i[0]), None, same_shape))
register(OpDef("Identity", lambda i, a: i[0], lambda i, o, g, a: [g[0]], same_shape))
register(OpDef("StopGradient", lambda i, a: i[0], None, same_shape))


def _out_type(d, a):
    return [np_dtype(a.get("out_type", np.int32))]


register(OpDef("Shape", lambda i, a: np.asarray(i[0].shape, np_dtype(a.get("out_type", np.int32))),
               None, lambda s, a: [None if s[0] is None else (len(s[0]),)], dtype=_out_type,
               attrs=("T", "out_type")))
# ShapeN: the shapes of its N inputs (TF's Conv2D gradient builds one). num_outputs is that of
# the two-input form TF builds; the dtype and shape rules give one output per input.
register(OpDef("ShapeN",
               lambda i, a: tuple(np.asarray(x.shape, np_dtype(a.get("out_type", np.int32)))
                                  for x in i),
               None, lambda s, a: [None if x is None else (len(x),) for x in s], num_outputs=2,
               dtype=lambda d, a: [np_dtype(a.get("out_type", np.int32))] * len(d),
               attrs=("N", "T", "out_type")))
register(OpDef("Size", lambda i, a: np.asarray(i[0].size, np_dtype(a.get("out_type", np.int32))),
               None, lambda s, a: [()], dtype=_out_type, attrs=("T", "out_type")))
register(OpDef("Rank", lambda i, a: np.asarray(i[0].ndim, np.int32), None, lambda s, a: [()],
               dtype=lambda d, a: [np.dtype(np.int32)]))


def _range_shape(shapes, attrs):
    start, limit, delta = (const_input(attrs, k) for k in range(3))
    if start is None or limit is None or delta is None:
        return [(None,)]
    return [(len(np.arange(start, limit, delta)),)]


register(OpDef("Range", lambda i, a: np.arange(i[0], i[1], i[2]).astype(i[0].dtype, copy=False),
               None, _range_shape, attrs=("Tidx",), const_inputs=(0, 1, 2)))
