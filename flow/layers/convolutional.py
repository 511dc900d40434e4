"""``tf.layers.conv2d``, ``conv2d_transpose``, ``max_pooling2d``, ``average_pooling2d`` (NHWC)."""

from __future__ import annotations

from flow.framework.build import convert_to_tensor
from flow.layers.core import ZEROS, add_weight, finish, layer_scope, regularize_activity
from flow.ops import array_ops, nn_ops


def _pair(value, what):
    pair = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. Received: "
                         f"{value!r}")
    return pair


def _padding(padding):
    upper = str(padding).upper()
    if upper not in ("SAME", "VALID"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: "
                         f"{padding}")
    return upper


def _channels_last(data_format):
    if data_format != "channels_last":
        raise ValueError(f"data_format={data_format!r} is not supported by flow's layers; use "
                         f"'channels_last' (NHWC).")


def _in_channels(inputs, layer):
    channels = inputs.shape.as_list()[-1] if inputs.shape.ndims == 4 else None
    if channels is None:
        raise ValueError(f"The channel dimension of the inputs to `{layer}` should be defined "
                         f"(NHWC, rank 4). Found shape {inputs.shape}.")
    return channels


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=ZEROS,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None):
    """A 2-D convolution; ``kernel`` is ``[kh, kw, in_channels, filters]``."""
    _channels_last(data_format)
    inputs = convert_to_tensor(inputs)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    with layer_scope(name, "conv2d", reuse):
        kernel = add_weight("kernel", [kh, kw, _in_channels(inputs, "Conv2D"), int(filters)],
                            inputs.dtype, kernel_initializer, kernel_regularizer, trainable,
                            kernel_constraint)
        bias = add_weight("bias", [int(filters)], inputs.dtype, bias_initializer,
                          bias_regularizer, trainable, bias_constraint) if use_bias else None
        outputs = nn_ops.conv2d(inputs, kernel, [1, sh, sw, 1], _padding(padding),
                                dilations=[1, dh, dw, 1], name="Conv2D")
        return regularize_activity(finish(outputs, bias, activation), activity_regularizer)


def _deconv_length(size, kernel, stride, padding):
    if size is None:
        return None
    return size * stride + max(kernel - stride, 0) if padding == "VALID" else size * stride


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=ZEROS,
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                     reuse=None):
    """The transposed convolution; ``kernel`` is ``[kh, kw, filters, in_channels]``."""
    _channels_last(data_format)
    inputs = convert_to_tensor(inputs)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    pad = _padding(padding)
    with layer_scope(name, "conv2d_transpose", reuse):
        kernel = add_weight("kernel", [kh, kw, int(filters),
                                       _in_channels(inputs, "Conv2DTranspose")],
                            inputs.dtype, kernel_initializer, kernel_regularizer, trainable,
                            kernel_constraint)
        bias = add_weight("bias", [int(filters)], inputs.dtype, bias_initializer,
                          bias_regularizer, trainable, bias_constraint) if use_bias else None
        n, h, w, _ = inputs.shape.as_list()
        out_h, out_w = _deconv_length(h, kh, sh, pad), _deconv_length(w, kw, sw, pad)
        dynamic = array_ops.shape(inputs)
        size = [dynamic[0], out_h if out_h is not None else dynamic[1] * sh,
                out_w if out_w is not None else dynamic[2] * sw, int(filters)]
        outputs = nn_ops.conv2d_transpose(inputs, kernel, array_ops.stack(size),
                                          [1, sh, sw, 1], pad)
        outputs.set_shape([n, out_h, out_w, int(filters)])
        return regularize_activity(finish(outputs, bias, activation), activity_regularizer)


def _pooling(pool, default_name, inputs, pool_size, strides, padding, data_format, name):
    _channels_last(data_format)
    ph, pw = _pair(pool_size, "pool_size")
    sh, sw = _pair(strides, "strides")
    with layer_scope(name, default_name):
        return pool(convert_to_tensor(inputs), [1, ph, pw, 1], [1, sh, sw, 1],
                    _padding(padding))


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    return _pooling(nn_ops.max_pool, "max_pooling2d", inputs, pool_size, strides, padding,
                    data_format, name)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    return _pooling(nn_ops.avg_pool, "average_pooling2d", inputs, pool_size, strides, padding,
                    data_format, name)
