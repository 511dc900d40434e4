"""2-D convolution and pooling kernels over NHWC numpy arrays.

Geometry follows TensorFlow (``reference/tf1-semantics.md`` §6.1): VALID gives
``ceil((in - k + 1) / s)``, SAME gives ``ceil(in / s)`` with
``pad_total = max((out - 1)·s + k - in, 0)`` split ``pad_total // 2`` before, the rest after.

Speed: a convolution is an im2col copy (a strided *view* of the padded input, materialised in
the layout whose copy has the longest contiguous runs) and a float32 BLAS matmul.  Its filter
gradient is ``colsᵀ @ dy``; its input gradient at stride 1 is itself a convolution (of the
padded ``dy`` with the flipped filter), and at other strides (``conv2d_transpose``'s usual
case) a matmul plus the adjoint scatter (col2im): ``kh·kw`` strided numpy adds, one per kernel
offset, like the pooling kernels -- never a loop over pixels and never ``np.add.at``.  The
batch is processed in blocks whose columns fit in ~2 MiB, so the column matrix stays in cache
between the copy and the matmul (1.5-2x faster than one batch-wide matrix for a 14x14x16 -> 32
5x5 conv).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided


class Geometry(NamedTuple):
    """Output size and padding of one spatial dim."""

    out: int
    before: int
    after: int


def geometry(size: int, k: int, s: int, padding: str) -> Geometry:
    """TF's output size and zero padding for one spatial dim (``padding`` SAME or VALID)."""
    if padding == "VALID":
        if size < k:
            raise ValueError(f"Negative dimension size caused by subtracting {k} from {size}: "
                             f"a VALID window of {k} does not fit in {size}; use padding='SAME' "
                             f"or a smaller kernel")
        return Geometry(-(-(size - k + 1) // s), 0, 0)
    if padding == "SAME":
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        return Geometry(out, total // 2, total - total // 2)
    raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")


def out_dim(size, k, s, padding):
    """``geometry(...).out`` for shape rules, where ``size`` may be ``None`` (unknown)."""
    return None if size is None or k is None else geometry(size, k, s, padding).out


def _pad(x, gh: Geometry, gw: Geometry, value=0.0):
    if not (gh.before or gh.after or gw.before or gw.after):
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + gh.before + gh.after, w + gw.before + gw.after, c), value, x.dtype)
    out[:, gh.before:gh.before + h, gw.before:gw.before + w] = x
    return out


def _unpad(xp, gh: Geometry, gw: Geometry, h: int, w: int):
    return xp[:, gh.before:gh.before + h, gw.before:gw.before + w]


def _windows(xp, kh, kw, sh, sw, oh, ow):
    """A view ``(N, oh, ow, kh, kw, C)`` of every window of the padded input (no copy)."""
    sn, sy, sx, sc = xp.strides
    shape = (xp.shape[0], oh, ow, kh, kw, xp.shape[3])
    return as_strided(xp, shape, (sn, sy * sh, sx * sw, sy, sx, sc), writeable=False)


def _tap(xp, i, j, sh, sw, oh, ow):
    """The strided slab of the padded input that kernel offset (i, j) sees, ``(N, oh, ow, C)``."""
    return xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]


# ---------------------------------------------------------------- convolution

CHUNK_BYTES = 2 << 20  # im2col columns per block of the batch


def _blocks(n: int, oh: int, ow: int, k: int, itemsize: int):
    """Slices of the batch whose ``(block·oh·ow, k)`` column matrix is about CHUNK_BYTES."""
    step = max(1, CHUNK_BYTES // max(oh * ow * k * itemsize, 1))
    return [slice(s, s + step) for s in range(0, n, step)]


def _columns(xp, kh, kw, sh, sw, oh, ow):
    """im2col: the ``(N·oh·ow, kh·kw·C)`` matrix of every window of the padded block ``xp``.

    The copy runs along the longest contiguous stretch: ``kw·C`` values of a window row, or,
    with one channel, a whole image row -- then the matrix is the transpose of a C-contiguous
    ``(kh·kw, N·oh·ow)`` array, which BLAS reads just as well (3-4x faster copy for C = 1)."""
    win = _windows(xp, kh, kw, sh, sw, oh, ow)
    k = kh * kw * xp.shape[3]
    if xp.shape[3] == 1:
        return np.ascontiguousarray(win.transpose(3, 4, 5, 0, 1, 2)).reshape(k, -1).T
    return win.reshape(-1, k)


def _conv_padded(xp, w, sh, sw, oh, ow):
    """VALID convolution of the padded input ``xp`` with ``w`` ``(kh, kw, C, O)``."""
    n, (kh, kw, c, o) = xp.shape[0], w.shape
    w2 = w.reshape(kh * kw * c, o)
    y = np.empty((n, oh, ow, o), np.result_type(xp.dtype, w.dtype))
    for b in _blocks(n, oh, ow, kh * kw * c, xp.itemsize):
        np.matmul(_columns(xp[b], kh, kw, sh, sw, oh, ow), w2, out=y[b].reshape(-1, o))
    return y


def conv2d(x, w, strides, padding):
    """``y[n, p, q, o] = Σ x_pad[n, p·sh + i, q·sw + j, c] · w[i, j, c, o]``."""
    (kh, kw), (sh, sw) = w.shape[:2], strides
    gh, gw = geometry(x.shape[1], kh, sh, padding), geometry(x.shape[2], kw, sw, padding)
    return _conv_padded(_pad(x, gh, gw), w, sh, sw, gh.out, gw.out)


def conv2d_backprop_filter(x, filter_shape, dy, strides, padding):
    """The gradient of ``conv2d`` w.r.t. its filter: ``Σ colsᵀ @ dy`` over batch blocks."""
    n, h, wd, c = x.shape
    kh, kw = int(filter_shape[0]), int(filter_shape[1])
    o = dy.shape[3]
    sh, sw = strides
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    _check_out(dy, gh, gw, "Conv2DBackpropFilter")
    xp, k = _pad(x, gh, gw), kh * kw * c
    dw = np.zeros((k, o), np.result_type(x.dtype, dy.dtype))
    for b in _blocks(n, gh.out, gw.out, k, x.itemsize):
        dw += _columns(xp[b], kh, kw, sh, sw, gh.out, gw.out).T @ dy[b].reshape(-1, o)
    return dw.reshape(kh, kw, c, o)


def conv2d_backprop_input(input_shape, w, dy, strides, padding):
    """The gradient of ``conv2d`` w.r.t. its input (= ``conv2d_transpose``).

    Stride 1: a VALID convolution of ``dy`` -- padded by ``k - 1`` minus the forward padding --
    with the filter flipped in space and its channels swapped: one GEMM, no scatter (1.6x
    faster than col2im here).  Other strides: a matmul to columns, then one strided add per
    kernel offset into the padded input (col2im)."""
    n, h, wd, c = (int(d) for d in input_shape)
    kh, kw, _, o = w.shape
    sh, sw = strides
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    _check_out(dy, gh, gw, "Conv2DCustomBackpropInput")
    if sh == sw == 1:
        dyp = _pad(dy, Geometry(h, kh - 1 - gh.before, kh - 1 - gh.after),
                   Geometry(wd, kw - 1 - gw.before, kw - 1 - gw.after))
        return _conv_padded(dyp, w[::-1, ::-1].transpose(0, 1, 3, 2), 1, 1, h, wd)
    k = kh * kw * c
    wt = w.reshape(k, o).T
    dxp = np.zeros((n, h + gh.before + gh.after, wd + gw.before + gw.after, c),
                   np.result_type(w.dtype, dy.dtype))
    for b in _blocks(n, gh.out, gw.out, k, dxp.itemsize):
        part = dxp[b]
        cols = (dy[b].reshape(-1, o) @ wt).reshape(part.shape[0], gh.out, gw.out, kh, kw, c)
        for i in range(kh):
            for j in range(kw):
                _tap(part, i, j, sh, sw, gh.out, gw.out)[...] += cols[:, :, :, i, j]
    return _unpad(dxp, gh, gw, h, wd)


def _check_out(dy, gh, gw, label):
    if dy.shape[1:3] != (gh.out, gw.out):
        raise ValueError(f"{label}: Size of out_backprop doesn't match computed: actual = "
                         f"{list(dy.shape[1:3])}, computed = {[gh.out, gw.out]}; pick an "
                         f"output_shape whose conv2d with these strides/padding gives "
                         f"{list(dy.shape[1:3])}")


# ---------------------------------------------------------------- pooling


def max_pool(x, ksize, strides, padding):
    """Window max; padding counts as -inf (never chosen)."""
    (kh, kw), (sh, sw) = ksize, strides
    gh, gw = geometry(x.shape[1], kh, sh, padding), geometry(x.shape[2], kw, sw, padding)
    xp = _pad(x, gh, gw, -np.inf)
    y = _tap(xp, 0, 0, sh, sw, gh.out, gw.out).copy()
    for i in range(kh):
        for j in range(kw):
            if i or j:
                np.maximum(y, _tap(xp, i, j, sh, sw, gh.out, gw.out), out=y)
    return y


def max_pool_grad(x, y, dy, ksize, strides, padding):
    """Each output's gradient goes to the first (row-major) input of its window equal to the max."""
    (kh, kw), (sh, sw) = ksize, strides
    h, wd = x.shape[1:3]
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    xp = _pad(x, gh, gw, -np.inf)
    disjoint = kh <= sh and kw <= sw  # windows never overlap: write instead of accumulate
    tiled = disjoint and xp.shape[1:3] == (gh.out * kh, gw.out * kw)  # every input written
    dxp = (np.empty if tiled else np.zeros)(xp.shape, dy.dtype)
    free = np.ones(y.shape, bool)  # outputs whose max has not been routed yet
    hit = np.empty(y.shape, bool)
    for i in range(kh):
        for j in range(kw):
            np.equal(_tap(xp, i, j, sh, sw, gh.out, gw.out), y, out=hit)
            if i or j:
                hit &= free
            if i < kh - 1 or j < kw - 1:
                free ^= hit
            tap = _tap(dxp, i, j, sh, sw, gh.out, gw.out)
            if disjoint:
                np.multiply(dy, hit, out=tap)
            else:
                tap += dy * hit
    return _unpad(dxp, gh, gw, h, wd)


@functools.lru_cache(maxsize=64)
def _avg_counts(h, wd, ksize, strides, padding, dtype):
    """How many real (unpadded) inputs each output window holds, ``(1, oh, ow, 1)`` (cached
    per geometry, read-only)."""
    ones = np.ones((1, h, wd, 1), dtype)
    (kh, kw), (sh, sw) = ksize, strides
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    counts = _windows(_pad(ones, gh, gw), kh, kw, sh, sw, gh.out, gw.out).sum(axis=(3, 4))
    counts.setflags(write=False)
    return counts


def avg_pool(x, ksize, strides, padding):
    """Window mean over the real inputs only (TF's SAME average pooling)."""
    (kh, kw), (sh, sw) = ksize, strides
    gh, gw = geometry(x.shape[1], kh, sh, padding), geometry(x.shape[2], kw, sw, padding)
    xp = _pad(x, gh, gw)
    y = np.zeros((x.shape[0], gh.out, gw.out, x.shape[3]), x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += _tap(xp, i, j, sh, sw, gh.out, gw.out)
    return y / _avg_counts(x.shape[1], x.shape[2], tuple(ksize), tuple(strides), padding,
                           x.dtype)


def avg_pool_grad(input_shape, dy, ksize, strides, padding):
    (kh, kw), (sh, sw) = ksize, strides
    n, h, wd, c = input_shape
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    share = dy / _avg_counts(h, wd, tuple(ksize), tuple(strides), padding, dy.dtype)
    dxp = np.zeros((n, h + gh.before + gh.after, wd + gw.before + gw.after, c), dy.dtype)
    for i in range(kh):
        for j in range(kw):
            _tap(dxp, i, j, sh, sw, gh.out, gw.out)[...] += share
    return _unpad(dxp, gh, gw, h, wd)
