"""``tf.contrib.layers``: ``fully_connected``, ``flatten``, ``xavier_initializer``,
``l2_regularizer`` (and ``l1_regularizer``), with TF 1.15's variable names
(``fully_connected/weights``, ``fully_connected/biases``)."""

from __future__ import annotations

import numbers

from flow.framework.build import convert_to_tensor
from flow.framework.graph import name_scope
from flow.layers import core
from flow.layers.core import ZEROS
from flow.ops import init_ops, math_ops, nn_ops
from flow.ops.scope import get_variable, variable_scope


def xavier_initializer(uniform=True, seed=None, dtype=None):
    """Glorot: ``variance_scaling(1.0, "fan_avg")``, uniform or truncated normal."""
    kwargs = {} if dtype is None else {"dtype": dtype}
    return init_ops.VarianceScaling(1.0, "fan_avg", "uniform" if uniform else "truncated_normal",
                                    seed, **kwargs)


xavier_initializer_conv2d = xavier_initializer


def _regularizer(scale, kind, penalty):
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a float, got {scale!r}")
    if scale < 0.0:
        raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
    if scale == 0.0:
        return lambda _: None

    def regularizer(weights):
        with name_scope(None, f"{kind}_regularizer", [weights]) as scope:
            weights = convert_to_tensor(weights)
            factor = convert_to_tensor(scale, dtype=weights.dtype, name="scale")
            return math_ops.multiply(factor, penalty(weights), name=scope)

    return regularizer


def l2_regularizer(scale, scope=None):
    """``scale · sum(w²) / 2`` (``tf.nn.l2_loss``)."""
    return _regularizer(scale, "l2", nn_ops.l2_loss)


def l1_regularizer(scale, scope=None):
    return _regularizer(scale, "l1", lambda w: math_ops.reduce_sum(math_ops.abs(w)))


def flatten(inputs, outputs_collections=None, scope=None):
    with variable_scope(scope, "Flatten", [inputs]):
        return core.flatten(inputs)


def fully_connected(inputs, num_outputs, activation_fn=nn_ops.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None,
                    weights_regularizer=None, biases_initializer=ZEROS,
                    biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable=True, scope=None):
    """``activation_fn(inputs @ weights + biases)``; ReLU by default, as TF's."""
    inputs = convert_to_tensor(inputs)
    last = inputs.shape.as_list()[-1] if inputs.shape.ndims else None
    if last is None:
        raise ValueError(f"The last dimension of the inputs to fully_connected must be "
                         f"defined; got shape {inputs.shape}.")
    with variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
        weights = get_variable("weights", [last, int(num_outputs)], inputs.dtype,
                               weights_initializer or xavier_initializer(),
                               weights_regularizer, trainable=trainable)
        outputs = math_ops.matmul(inputs, weights)
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        elif biases_initializer is not None:
            biases = get_variable("biases", [int(num_outputs)], inputs.dtype,
                                  biases_initializer, biases_regularizer, trainable=trainable)
            outputs = nn_ops.bias_add(outputs, biases)
        return outputs if activation_fn is None else activation_fn(outputs)
