"""Neural-network rows of the op table (TensorFlow 1.15 ``gen_nn_ops`` semantics): pure numpy.

Convolutions and pools are NHWC only (TF's CPU kernels are too); their kernels live in
``flow.ops.conv``.  Cross-entropies use TF's numerically stable forms
(``reference/tf1-semantics.md`` §6.4); ``FusedBatchNorm`` follows §6.5 and TF's outputs
(``batch_variance`` is the Bessel-corrected variance, ``y`` uses the biased one).
"""

from __future__ import annotations

import numpy as np

from flow.kernels import conv
from flow.kernels.common import as_str, same_shape, sum_rows
from flow.kernels.math import unary
from flow.kernels.table import OpDef, register


def _sigmoid(x):
    # exp(-x) overflows to inf for very negative x, and 1 / inf = 0 is the right limit; this
    # form keeps tiny outputs (4e-8 at x = -17) that a tanh form rounds to 0 in float32
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(x, 0)


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- activations
# vjp columns: x = input, y = output, g = upstream gradient

unary("Relu",     lambda x: np.maximum(x, 0),         lambda x, y, g: g * (y > 0))
unary("Relu6",    lambda x: np.clip(x, 0, 6),         lambda x, y, g: g * ((x > 0) & (x < 6)))
unary("Elu",      lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)),
                                                      lambda x, y, g: g * (np.minimum(y, 0) + 1))
unary("Sigmoid",  _sigmoid,                           lambda x, y, g: g * y * (1 - y))
unary("Tanh",     np.tanh,                            lambda x, y, g: g * (1 - y * y))
unary("Softplus", _softplus,                          lambda x, y, g: g * _sigmoid(x))


def _leaky(inputs, attrs):
    x, alpha = inputs[0], attrs.get("alpha", 0.2)
    return np.maximum(x, x * np.asarray(alpha, x.dtype))


def _leaky_grad(inputs, outputs, grads, attrs):
    x, alpha = inputs[0], attrs.get("alpha", 0.2)
    alpha = np.asarray(alpha, x.dtype)
    return [grads[0] * ((x > 0) * (1 - alpha) + alpha)]


# ReluGrad(gradients, features): the node TF's Relu gradient builds (in TF-written .meta files)
register(OpDef("ReluGrad", lambda i, a: i[0] * (i[1] > 0),
               lambda i, o, g, a: [g[0] * (i[1] > 0), np.zeros_like(i[1])], same_shape))
register(OpDef("LeakyRelu", _leaky, _leaky_grad, same_shape, attrs=("T", "alpha")))
register(OpDef("Softmax", lambda i, a: _softmax(i[0]),
               lambda i, o, g, a: [o[0] * (g[0] - (g[0] * o[0]).sum(-1, keepdims=True))],
               same_shape))
register(OpDef("LogSoftmax", lambda i, a: _log_softmax(i[0]),
               lambda i, o, g, a: [g[0] - np.exp(o[0]) * g[0].sum(-1, keepdims=True)],
               same_shape))


def _bias_axis(x, attrs):
    return 1 if as_str(attrs.get("data_format", "NHWC")) == "NCHW" else x.ndim - 1


def _bias_axis_of_shape(shape, attrs):
    return 1 if as_str(attrs.get("data_format", "NHWC")) == "NCHW" else len(shape) - 1


def _bias_add(inputs, attrs):
    x, b = inputs
    axis = _bias_axis(x, attrs)
    return x + (b if axis == x.ndim - 1 else b.reshape((-1,) + (1,) * (x.ndim - 2)))


def _bias_add_grad(inputs, outputs, grads, attrs):
    x, g = inputs[0], grads[0]
    axis = _bias_axis(x, attrs)
    if axis == x.ndim - 1:
        return [g, sum_rows(g.reshape(-1, g.shape[-1]))]
    return [g, g.sum(axis=tuple(a for a in range(x.ndim) if a != axis))]


register(OpDef("BiasAdd", _bias_add, _bias_add_grad, same_shape, attrs=("T", "data_format")))
register(OpDef("L2Loss", lambda i, a: np.asarray(np.square(i[0]).sum() / 2, i[0].dtype),
               lambda i, o, g, a: [g[0] * i[0]], lambda s, a: [()]))


# ---------------------------------------------------------------- cross-entropies


def _batch_shape(shapes, attrs):
    s = shapes[0]
    return [None if s is None else s[:-1], s]


def _softmax_xent(inputs, attrs):
    logits, labels = inputs
    log_p = _log_softmax(logits)
    return -(labels * log_p).sum(axis=-1), np.exp(log_p) - labels


def _softmax_xent_grad(inputs, outputs, grads, attrs):
    g = grads[0][..., None]
    return [g * outputs[1], g * -_log_softmax(inputs[0])]


register(OpDef("SoftmaxCrossEntropyWithLogits", _softmax_xent, _softmax_xent_grad, _batch_shape,
               num_outputs=2))


def _sparse_xent(inputs, attrs):
    logits, labels = inputs
    depth = logits.shape[-1]
    flat = labels.reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= depth):
        bad = flat[(flat < 0) | (flat >= depth)][0]
        raise ValueError(f"Received a label value of {bad} which is outside the valid range of "
                         f"[0, {depth}); labels must be class indices, not one-hot rows")
    log_p = _log_softmax(logits.reshape(-1, depth))
    rows = np.arange(flat.size)
    loss = -log_p[rows, flat]
    backprop = np.exp(log_p)
    backprop[rows, flat] -= 1
    return loss.reshape(labels.shape), backprop.reshape(logits.shape)


register(OpDef("SparseSoftmaxCrossEntropyWithLogits", _sparse_xent,
               lambda i, o, g, a: [g[0][..., None] * o[1], None], _batch_shape, num_outputs=2,
               attrs=("T", "Tlabels")))


# ---------------------------------------------------------------- conv and pool rows


def _spatial(attrs, key):
    v = [int(s) for s in attrs[key]]
    return v[1], v[2]


def _conv_out(in_shape, kh, kw, attrs):
    if in_shape is None:
        return (None,) * 4
    sh, sw = _spatial(attrs, "strides")
    pad = as_str(attrs["padding"])
    return (in_shape[0], conv.out_dim(in_shape[1], kh, sh, pad),
            conv.out_dim(in_shape[2], kw, sw, pad))


def _conv_shape(shapes, attrs):
    x, w = shapes
    w = w or (None,) * 4
    if x is not None and x[3] is not None and w[2] is not None and x[3] != w[2]:
        raise ValueError(f"Conv2D: input depth {x[3]} must match filter in_channels {w[2]} "
                         f"(input shape {list(x)}, filter shape {list(w)})")
    return [(*_conv_out(x, w[0], w[1], attrs), w[3])]


def _conv_args(attrs):
    return _spatial(attrs, "strides"), as_str(attrs["padding"])


def _conv_grad(inputs, outputs, grads, attrs):
    x, w = inputs
    s, p = _conv_args(attrs)
    wanted = attrs.get("_grad_inputs", (0, 1))
    return [conv.conv2d_backprop_input(x.shape, w, grads[0], s, p) if 0 in wanted else None,
            conv.conv2d_backprop_filter(x, w.shape, grads[0], s, p) if 1 in wanted else None]


def _sizes_shape(attrs, index, fallback):
    sizes = attrs.get("_const_inputs", {}).get(index)
    return fallback if sizes is None else tuple(int(d) for d in np.asarray(sizes))


def _backprop_input_grad(inputs, outputs, grads, attrs):
    _, w, dy = inputs
    s, p = _conv_args(attrs)
    return [None, conv.conv2d_backprop_filter(grads[0], w.shape, dy, s, p),
            conv.conv2d(grads[0], w, s, p)]


def _backprop_filter_grad(inputs, outputs, grads, attrs):
    x, _, dy = inputs
    s, p = _conv_args(attrs)
    return [conv.conv2d_backprop_input(x.shape, grads[0], dy, s, p), None,
            conv.conv2d(x, grads[0], s, p)]


_CONV_ATTRS = ("T", "strides", "use_cudnn_on_gpu", "padding", "data_format", "dilations")
register(OpDef("Conv2D", lambda i, a: conv.conv2d(i[0], i[1], *_conv_args(a)), _conv_grad,
               _conv_shape, attrs=_CONV_ATTRS))
register(OpDef("Conv2DBackpropInput",
               lambda i, a: conv.conv2d_backprop_input(i[0], i[1], i[2], *_conv_args(a)),
               _backprop_input_grad, lambda s, a: [_sizes_shape(a, 0, (None,) * 4)],
               attrs=_CONV_ATTRS, const_inputs=(0,), dtype=lambda d, a: [d[1]]))
register(OpDef("Conv2DBackpropFilter",
               lambda i, a: conv.conv2d_backprop_filter(i[0], i[1], i[2], *_conv_args(a)),
               _backprop_filter_grad, lambda s, a: [_sizes_shape(a, 1, (None,) * 4)],
               attrs=_CONV_ATTRS, const_inputs=(1,)))


def _pool_args(attrs):
    return _spatial(attrs, "ksize"), _spatial(attrs, "strides"), as_str(attrs["padding"])


def _pool_shape(shapes, attrs):
    kh, kw = _spatial(attrs, "ksize")
    x = shapes[0]
    return [(*_conv_out(x, kh, kw, attrs), None if x is None else x[3])]


_POOL_ATTRS = ("T", "ksize", "strides", "padding", "data_format")
register(OpDef("MaxPool", lambda i, a: conv.max_pool(i[0], *_pool_args(a)),
               lambda i, o, g, a: [conv.max_pool_grad(i[0], o[0], g[0], *_pool_args(a))],
               _pool_shape, attrs=_POOL_ATTRS))
register(OpDef("AvgPool", lambda i, a: conv.avg_pool(i[0], *_pool_args(a)),
               lambda i, o, g, a: [conv.avg_pool_grad(i[0].shape, g[0], *_pool_args(a))],
               _pool_shape, attrs=_POOL_ATTRS))


# ---------------------------------------------------------------- fused batch norm


def _fused_bn(inputs, attrs):
    x, scale, offset, mean, var = inputs
    eps = attrs.get("epsilon", 1e-3)
    axes = tuple(range(x.ndim - 1))
    if attrs.get("is_training", True):
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        n = x.size // x.shape[-1]
        unbiased = var * (n / max(n - 1, 1))
    else:
        unbiased = var
    inv = 1 / np.sqrt(var + np.asarray(eps, x.dtype))
    y = (x - mean) * (inv * scale) + offset
    return y.astype(x.dtype, copy=False), mean, unbiased, mean, inv


def _fused_bn_grad(inputs, outputs, grads, attrs):
    x, scale = inputs[0], inputs[1]
    g, mean, inv = grads[0], outputs[3], outputs[4]
    axes = tuple(range(x.ndim - 1))
    xhat = (x - mean) * inv
    dscale, doffset = (g * xhat).sum(axis=axes), g.sum(axis=axes)
    if not attrs.get("is_training", True):
        return [g * (scale * inv), dscale, doffset, None, None]
    n = x.size // x.shape[-1]
    dx = (scale * inv) * (g - doffset / n - xhat * (dscale / n))
    return [dx, dscale, doffset, None, None]


def _fused_bn_shape(shapes, attrs):
    x = shapes[0]
    c = (None if x is None else x[-1],)
    return [x, c, c, c, c]


register(OpDef("FusedBatchNorm", _fused_bn, _fused_bn_grad, _fused_bn_shape, num_outputs=5,
               attrs=("T", "epsilon", "data_format", "is_training")))


# FusedBatchNormV3 (what TF's tf.layers.batch_normalization builds) keeps TF's CPU outputs:
# reserve_space_1/2 are the mean and the biased variance the normalization used, and an
# exponential_avg_factor f != 1 blends the batch statistics into the given mean / variance.


def _fused_bn_v3(inputs, attrs):
    x, _, _, mean, var = inputs
    y, batch_mean, unbiased, used_mean, _ = _fused_bn(inputs, attrs)
    if attrs.get("is_training", True):
        used_var = x.var(axis=tuple(range(x.ndim - 1)))
        f = attrs.get("exponential_avg_factor", 1.0)
        if f != 1.0 and mean.size:
            batch_mean = (1 - f) * mean + f * batch_mean
            unbiased = (1 - f) * var + f * unbiased
    else:
        used_var = var
    return y, batch_mean, unbiased, used_mean, used_var, np.zeros(0, x.dtype)


def _bn_backprop(g, x, scale, mean, var, eps, training):
    """(dx, dscale, doffset) of batch normalization with statistics ``mean``, ``var``."""
    axes = tuple(range(x.ndim - 1))
    inv = 1 / np.sqrt(var + np.asarray(eps, x.dtype))
    xhat = (x - mean) * inv
    dscale, doffset = (g * xhat).sum(axis=axes), g.sum(axis=axes)
    if not training:
        return g * (scale * inv), dscale, doffset
    n = x.size // x.shape[-1]
    return (scale * inv) * (g - doffset / n - xhat * (dscale / n)), dscale, doffset


def _fused_bn_v3_grad(inputs, outputs, grads, attrs):
    x, scale = inputs[0], inputs[1]
    dx, dscale, doffset = _bn_backprop(grads[0], x, scale, outputs[3], outputs[4],
                                       attrs.get("epsilon", 1e-3),
                                       attrs.get("is_training", True))
    return [dx, dscale, doffset, None, None]


def _fused_bn_grad_v3(inputs, attrs):
    g, x, scale, mean, var = inputs[:5]
    dx, dscale, doffset = _bn_backprop(g, x, scale, mean, var, attrs.get("epsilon", 1e-3),
                                       attrs.get("is_training", True))
    empty = np.zeros(0, x.dtype)
    return dx, dscale, doffset, empty, empty


_BN_V3_ATTRS = ("T", "U", "epsilon", "exponential_avg_factor", "data_format", "is_training")
register(OpDef("FusedBatchNormV3", _fused_bn_v3, _fused_bn_v3_grad,
               lambda s, a: [*_fused_bn_shape(s, a), (0,)], num_outputs=6,
               attrs=_BN_V3_ATTRS))
# the gradient kernels TF's Python gradients build (found in TF-written training graphs)
register(OpDef("FusedBatchNormGradV3", _fused_bn_grad_v3, None,
               lambda s, a: [s[1], *_fused_bn_shape(s[1:], a)[1:3], (0,), (0,)],
               num_outputs=5, attrs=("T", "U", "epsilon", "data_format", "is_training")))
register(OpDef("MaxPoolGrad",
               lambda i, a: conv.max_pool_grad(i[0], i[1], i[2], *_pool_args(a)), None,
               lambda s, a: [s[0]], attrs=_POOL_ATTRS))
register(OpDef("BiasAddGrad",
               lambda i, a: _bias_add_grad([i[0]], None, [i[0]], a)[1], None,
               lambda s, a: [None if s[0] is None else (s[0][_bias_axis_of_shape(s[0], a)],)],
               attrs=("T", "data_format")))
