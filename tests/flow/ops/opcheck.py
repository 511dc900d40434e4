"""Oracles for the op tests: finite-difference gradients and loop-based NN references.

``check_grads`` compares a row's vjp with central differences in float64 and prints the
analytic and numeric gradients side by side when they disagree.  The conv/pool references are
plain loops over output pixels, written from the padding rules in tf1-semantics §6.1, not from
``flow.ops.conv``.
"""

from __future__ import annotations

import math

import numpy as np

EPS = 1e-6  # central-difference step (float64)
RTOL = 1e-5  # analytic vs numeric, relative ...
ATOL = 1e-6  # ... and absolute


def _outputs(opdef, inputs, attrs):
    out = opdef.forward(inputs, attrs)
    return list(out) if opdef.num_outputs > 1 else [out]


def _loss(opdef, inputs, attrs, upstream):
    outs = _outputs(opdef, inputs, attrs)
    return sum(float(np.sum(o * g)) for o, g in zip(outs, upstream, strict=True) if g is not None)


def numeric_grad(opdef, inputs, attrs, upstream, index, eps=EPS):
    """d(Σ outputs·upstream)/d inputs[index] by central differences."""
    x = inputs[index]
    grad = np.zeros_like(x, dtype=np.float64)
    for k in np.ndindex(x.shape):
        saved = x[k]
        x[k] = saved + eps
        plus = _loss(opdef, inputs, attrs, upstream)
        x[k] = saved - eps
        minus = _loss(opdef, inputs, attrs, upstream)
        x[k] = saved
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def check_grads(opdef, inputs, attrs, wrt, grad_outputs=(0,), seed=0, rtol=RTOL, atol=ATOL):
    """Check ``opdef.grad`` for every input index in ``wrt`` against finite differences."""
    rng = np.random.default_rng(seed)
    inputs = [np.array(x, copy=True) for x in inputs]
    outs = _outputs(opdef, inputs, attrs)
    upstream = [rng.standard_normal(np.shape(o)) if k in grad_outputs else None
                for k, o in enumerate(outs)]
    analytic = opdef.grad(inputs, outs, upstream, attrs)
    assert len(analytic) == len(inputs), (
        f"{opdef.type}: grad returned {len(analytic)} entries for {len(inputs)} inputs")
    for index in wrt:
        got = analytic[index]
        assert got is not None, f"{opdef.type}: no gradient for input {index}"
        want = numeric_grad(opdef, inputs, attrs, upstream, index)
        got = np.asarray(got)
        assert got.shape == inputs[index].shape, (
            f"{opdef.type}: gradient of input {index} has shape {got.shape}, "
            f"input has {inputs[index].shape}")
        if not np.allclose(got, want, rtol=rtol, atol=atol):
            raise AssertionError(
                f"Derivative (VJP) check of {opdef.type} failed with arg {index} "
                f"(rtol={rtol}, atol={atol}):\nanalytic: {got}\nnumeric: {want}")


# ---------------------------------------------------------------- loop references (NHWC)


def tf_geometry(size, k, s, padding):
    """(out, pad_before) from tf1-semantics §6.1."""
    if padding == "VALID":
        return math.ceil((size - k + 1) / s), 0
    out = math.ceil(size / s)
    return out, max((out - 1) * s + k - size, 0) // 2


def _conv_taps(n, h, wd, kh, kw, strides, padding):
    """Every (batch, out row, out col, in row, in col, kernel row, kernel col) that a
    TF-geometry convolution multiplies, padding skipped: the naive loops below in one place."""
    (oh, ph), (ow, pw) = tf_geometry(h, kh, strides[0], padding), tf_geometry(wd, kw, strides[1],
                                                                                 padding)
    for b in range(n):
        for p in range(oh):
            for q in range(ow):
                for i in range(kh):
                    for j in range(kw):
                        r, s = p * strides[0] + i - ph, q * strides[1] + j - pw
                        if 0 <= r < h and 0 <= s < wd:
                            yield b, p, q, r, s, i, j


def _out_size(size, k, stride, padding):
    return tf_geometry(size, k, stride, padding)[0]


def naive_conv2d(x, w, strides, padding):
    n, h, wd, _ = x.shape
    kh, kw, _, o = w.shape
    y = np.zeros((n, _out_size(h, kh, strides[0], padding), _out_size(wd, kw, strides[1], padding),
                  o))
    for b, p, q, r, s, i, j in _conv_taps(n, h, wd, kh, kw, strides, padding):
        y[b, p, q] += x[b, r, s] @ w[i, j]
    return y


def naive_conv2d_transpose(input_shape, w, dy, strides, padding):
    """Scatter each output-gradient pixel back through the filter (the adjoint of conv2d)."""
    n, h, wd, c = input_shape
    kh, kw = w.shape[:2]
    dx = np.zeros((n, h, wd, c))
    for b, p, q, r, s, i, j in _conv_taps(n, h, wd, kh, kw, strides, padding):
        dx[b, r, s] += w[i, j] @ dy[b, p, q]
    return dx


def naive_conv2d_filter_grad(x, filter_shape, dy, strides, padding):
    n, h, wd, _ = x.shape
    kh, kw = filter_shape[:2]
    dw = np.zeros(tuple(filter_shape))
    for b, p, q, r, s, i, j in _conv_taps(n, h, wd, kh, kw, strides, padding):
        dw[i, j] += np.outer(x[b, r, s], dy[b, p, q])
    return dw


def naive_pool(x, ksize, strides, padding, kind):
    n, h, wd, c = x.shape
    (oh, ph), (ow, pw) = tf_geometry(h, ksize[0], strides[0], padding), tf_geometry(
        wd, ksize[1], strides[1], padding)
    y = np.zeros((n, oh, ow, c))
    for p in range(oh):
        for q in range(ow):
            r0, s0 = p * strides[0] - ph, q * strides[1] - pw
            window = x[:, max(r0, 0):r0 + ksize[0], max(s0, 0):s0 + ksize[1]]
            y[:, p, q] = window.max(axis=(1, 2)) if kind == "max" else window.mean(axis=(1, 2))
    return y


def naive_max_pool_grad(x, dy, ksize, strides, padding):
    """Each output's gradient goes to the first (row-major) max of its window."""
    n, h, wd, c = x.shape
    (oh, ph), (ow, pw) = tf_geometry(h, ksize[0], strides[0], padding), tf_geometry(
        wd, ksize[1], strides[1], padding)
    dx = np.zeros(x.shape)
    for p in range(oh):
        for q in range(ow):
            r, s = max(p * strides[0] - ph, 0), max(q * strides[1] - pw, 0)
            window = x[:, r:p * strides[0] - ph + ksize[0], s:q * strides[1] - pw + ksize[1]]
            first = window.reshape(n, -1, c).argmax(axis=1)
            rows, cols = np.unravel_index(first, window.shape[1:3])
            for b in range(n):
                for ch in range(c):
                    dx[b, r + rows[b, ch], s + cols[b, ch], ch] += dy[b, p, q, ch]
    return dx
