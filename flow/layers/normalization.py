"""``tf.layers.batch_normalization``: TF 1.15's ``BatchNormalization`` in graph mode.

Variables ``gamma``, ``beta``, ``moving_mean``, ``moving_variance`` (the last two not
trainable). With ``training`` the batch statistics normalize and two ``AssignMovingAvg`` ops,
``moving -= (moving - batch) · (1 - momentum)``, go into ``tf.GraphKeys.UPDATE_OPS`` (run them
with the train op). A rank-4 input over its last axis goes through ``FusedBatchNorm``, whose
batch variance for the moving average is Bessel-corrected, as TF's fused path; other inputs use
``moments`` and the biased variance, as TF's. A bool Tensor ``training`` builds both and picks
with ``Select`` (the moving averages then move only when it is true).
"""

from __future__ import annotations

from flow.framework.build import constant, convert_to_tensor
from flow.framework.graph import GraphKeys, Tensor, add_to_collection, name_scope
from flow.layers.core import ONES, ZEROS, add_weight, layer_scope
from flow.ops import array_ops, math_ops, nn_ops
from flow.ops.variables import assign_sub


def _moving_average(variable, value, decay):
    with name_scope(None, "AssignMovingAvg") as scope:
        delta = math_ops.multiply(math_ops.subtract(variable.value(), value), decay)
        return assign_sub(variable, delta, name=scope)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=ZEROS,
                        gamma_initializer=ONES,
                        moving_mean_initializer=ZEROS,
                        moving_variance_initializer=ONES,
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise ValueError("batch renormalization, virtual_batch_size and adjustment are not "
                         "supported by flow; leave them at their defaults.")
    inputs = convert_to_tensor(inputs)
    ndims = inputs.shape.ndims
    if ndims is None:
        raise ValueError(f"Input has undefined rank: {inputs.shape}; give it a static rank.")
    axis = axis % ndims if isinstance(axis, int) else axis
    if axis != ndims - 1:
        raise ValueError(f"axis={axis} is not supported by flow's batch_normalization; "
                         f"normalize the last axis (channels_last).")
    channels = inputs.shape.as_list()[-1]
    if channels is None:
        raise ValueError(f"Input has undefined `axis` dimension. Input shape: {inputs.shape}")
    dt = inputs.dtype
    with layer_scope(name, "batch_normalization", reuse):
        gamma = add_weight("gamma", [channels], dt, gamma_initializer, gamma_regularizer,
                           trainable, gamma_constraint) if scale else None
        beta = add_weight("beta", [channels], dt, beta_initializer, beta_regularizer,
                          trainable, beta_constraint) if center else None
        moving_mean = add_weight("moving_mean", [channels], dt, moving_mean_initializer,
                                 trainable=False)
        moving_variance = add_weight("moving_variance", [channels], dt,
                                     moving_variance_initializer, trainable=False)
        use_fused = ndims == 4 and fused is not False
        if not isinstance(training, Tensor) and not training:
            return _normalize(inputs, moving_mean.value(), moving_variance.value(), gamma, beta,
                              epsilon, use_fused, False)[0]
        out, mean, variance = _normalize(inputs, None, None, gamma, beta, epsilon, use_fused,
                                         True)
        decay = constant(1.0 - momentum, dtype=dt)
        if isinstance(training, Tensor):
            infer = _normalize(inputs, moving_mean.value(), moving_variance.value(), gamma,
                               beta, epsilon, use_fused, False)[0]
            out = array_ops.where(array_ops.fill(array_ops.shape(inputs), training), out, infer)
            decay = array_ops.where(training, decay, constant(0.0, dtype=dt))
        for var, value in ((moving_mean, mean), (moving_variance, variance)):
            add_to_collection(GraphKeys.UPDATE_OPS, _moving_average(var, value, decay))
        return out


def _normalize(x, mean, variance, gamma, beta, epsilon, fused, training):
    """(output, batch mean, batch variance for the moving average)."""
    channels = x.shape.as_list()[-1]
    if fused:
        scale = gamma if gamma is not None else constant(1.0, x.dtype, [channels])
        offset = beta if beta is not None else constant(0.0, x.dtype, [channels])
        return nn_ops.fused_batch_norm(x, scale, offset, mean, variance, epsilon,
                                       is_training=training, name="FusedBatchNorm")
    if training:
        axes = list(range(x.shape.ndims - 1))
        mean, variance = nn_ops.moments(x, axes)
    out = nn_ops.batch_normalization(x, mean, variance, beta, gamma, epsilon,
                                     name="batchnorm/add_1")
    return out, mean, variance


