"""2-D convolution and pooling kernels over NHWC numpy arrays.

Geometry follows TensorFlow (``reference/tf1-semantics.md`` §6.1): VALID gives
``ceil((in - k + 1) / s)``, SAME gives ``ceil(in / s)`` with
``pad_total = max((out - 1)·s + k - in, 0)`` split ``pad_total // 2`` before, the rest after.

Speed: a convolution is an im2col copy (a strided *view* of the padded input, materialised by
``reshape``) and a float32 BLAS matmul.  The adjoint scatter (col2im, used by the input gradient
and ``conv2d_transpose``) and the pooling kernels are ``kh·kw`` strided numpy adds, one per
kernel offset -- never a loop over pixels and never ``np.add.at``.  The batch is processed in
blocks whose columns fit in ~2 MiB, so the column matrix stays in cache between the copy, the
matmul and the adds (1.5-2x faster than one batch-wide matrix for a 14x14x32 -> 64 5x5 conv).
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


def conv2d(x, w, strides, padding):
    """``y[n, p, q, o] = Σ x_pad[n, p·sh + i, q·sw + j, c] · w[i, j, c, o]``."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    sh, sw = strides
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    xp, k = _pad(x, gh, gw), kh * kw * c
    w2 = w.reshape(k, o)
    y = np.empty((n, gh.out, gw.out, o), np.result_type(x.dtype, w.dtype))
    for b in _blocks(n, gh.out, gw.out, k, x.itemsize):
        cols = _windows(xp[b], kh, kw, sh, sw, gh.out, gw.out).reshape(-1, k)
        np.matmul(cols, w2, out=y[b].reshape(-1, o))
    return y


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
        cols = _windows(xp[b], kh, kw, sh, sw, gh.out, gw.out).reshape(-1, k)
        dw += cols.T @ dy[b].reshape(-1, o)
    return dw.reshape(kh, kw, c, o)


def conv2d_backprop_input(input_shape, w, dy, strides, padding):
    """The gradient of ``conv2d`` w.r.t. its input (= ``conv2d_transpose``): a matmul to
    columns, then one strided add per kernel offset into the padded input."""
    n, h, wd, c = (int(d) for d in input_shape)
    kh, kw, _, o = w.shape
    sh, sw = strides
    gh, gw = geometry(h, kh, sh, padding), geometry(wd, kw, sw, padding)
    _check_out(dy, gh, gw, "Conv2DCustomBackpropInput")
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
    dxp = np.zeros(xp.shape, dy.dtype)
    disjoint = kh <= sh and kw <= sw  # windows never overlap: write instead of accumulate
    free = np.ones(y.shape, bool)  # outputs whose max has not been routed yet
    hit = np.empty(y.shape, bool)
    for i in range(kh):
        for j in range(kw):
            np.equal(_tap(xp, i, j, sh, sw, gh.out, gw.out), y, out=hit)
            hit &= free
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
