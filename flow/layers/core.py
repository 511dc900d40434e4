"""``tf.layers.dense``, ``dropout``, ``flatten`` and the scope every layer opens."""

from __future__ import annotations

import numpy as np

from flow.framework.build import convert_to_tensor
from flow.framework.graph import GraphKeys, Tensor, add_to_collection
from flow.ops import array_ops, init_ops, math_ops, nn_ops
from flow.ops.scope import get_variable, variable_scope

ZEROS, ONES = init_ops.zeros_initializer(), init_ops.ones_initializer()  # TF's defaults


def layer_scope(name, default_name, reuse=None):
    """The variable scope of one layer call: ``dense``, ``dense_1`` … or ``name`` (shared with
    ``reuse=True``), as TF's ``Layer._set_scope``."""
    if reuse:
        return variable_scope(name or default_name, reuse=True)
    return variable_scope(None, default_name=name or default_name)


def add_weight(name, shape, dtype, initializer=None, regularizer=None, trainable=True,
               constraint=None):
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=trainable, constraint=constraint)


def finish(outputs, bias, activation):
    """``BiasAdd`` then the activation, under the layer's scope (``dense/BiasAdd``)."""
    if bias is not None:
        outputs = nn_ops.bias_add(outputs, bias)
    return outputs if activation is None else activation(outputs)


def regularize_activity(outputs, regularizer):
    """A layer's ``activity_regularizer``: its loss joins ``REGULARIZATION_LOSSES``."""
    loss = None if regularizer is None else regularizer(outputs)
    if loss is not None:
        add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return outputs


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=ZEROS, kernel_regularizer=None,
          bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """``activation(inputs @ kernel + bias)``; ``kernel`` is ``[in, units]``."""
    inputs = convert_to_tensor(inputs)
    last = inputs.shape.as_list()[-1] if inputs.shape.ndims else None
    if last is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                         "Found `None`.")
    with layer_scope(name, "dense", reuse):
        kernel = add_weight("kernel", [last, int(units)], inputs.dtype, kernel_initializer,
                            kernel_regularizer, trainable, kernel_constraint)
        bias = add_weight("bias", [int(units)], inputs.dtype, bias_initializer,
                          bias_regularizer, trainable, bias_constraint) if use_bias else None
        if inputs.shape.ndims == 2:
            outputs = math_ops.matmul(inputs, kernel)
        else:  # TF's tensordot: every leading axis is a batch axis
            flat = array_ops.reshape(inputs, [-1, last])
            lead = array_ops.shape(inputs)[:-1]
            outputs = array_ops.reshape(math_ops.matmul(flat, kernel),
                                        array_ops.concat([lead, [int(units)]], 0))
            outputs.set_shape(inputs.shape.as_list()[:-1] + [int(units)])
        outputs = finish(outputs, bias, activation)
        return regularize_activity(outputs, activity_regularizer)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Drop with probability ``rate`` (scaling the rest) when ``training``; else the identity.
    ``training`` may be a bool Tensor: both branches are built and ``Select`` picks one."""
    inputs = convert_to_tensor(inputs)
    with layer_scope(name, "dropout"):
        if isinstance(training, Tensor):
            dropped = nn_ops.dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)
            return array_ops.where(array_ops.fill(array_ops.shape(inputs), training), dropped,
                                   array_ops.identity(inputs))
        if training:
            return nn_ops.dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)
        return array_ops.identity(inputs)


def flatten(inputs, name=None, data_format="channels_last"):
    """``[batch, …]`` → ``[batch, product of the rest]``."""
    inputs = convert_to_tensor(inputs)
    with layer_scope(name, "flatten"):
        if data_format == "channels_first" and inputs.shape.ndims and inputs.shape.ndims > 2:
            perm = [0, *range(2, inputs.shape.ndims), 1]
            inputs = array_ops.transpose(inputs, perm)
        if inputs.shape.ndims == 1:
            return array_ops.expand_dims(inputs, 1)
        rest = inputs.shape.as_list()[1:]
        if None not in rest:
            return array_ops.reshape(inputs, [-1, int(np.prod(rest))])
        return array_ops.reshape(inputs, [array_ops.shape(inputs)[0], -1])
