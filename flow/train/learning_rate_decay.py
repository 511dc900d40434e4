"""``tf.train`` learning-rate schedules of TF 1.15 (``learning_rate_decay.py``): tensors of
``global_step``, built from ordinary ops so they run (and export) like the rest of the graph."""

from __future__ import annotations

from flow.framework.build import convert_to_tensor
from flow.framework.graph import name_scope
from flow.ops import array_ops, math_ops


def _step(global_step, dtype):
    if global_step is None:
        raise ValueError("global_step is required for exponential_decay.")
    return math_ops.cast(global_step, dtype)


def _progress(learning_rate, global_step, decay_steps, staircase):
    """(lr tensor, ``step / decay_steps`` — floored with ``staircase``)."""
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    p = _step(global_step, lr.dtype) / math_ops.cast(decay_steps, lr.dtype)
    return lr, math_ops.floor(p) if staircase else p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``lr · decay_rate ^ (step / decay_steps)``; ``staircase`` floors the exponent."""
    with name_scope(name, "ExponentialDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        return math_ops.multiply(lr, math_ops.pow(math_ops.cast(decay_rate, lr.dtype), p),
                                 name=scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """``lr / (1 + decay_rate · step / decay_steps)``."""
    with name_scope(name, "InverseTimeDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        denom = 1.0 + math_ops.cast(decay_rate, lr.dtype) * p
        return math_ops.truediv(lr, denom, name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """``(lr - end) · (1 - step / decay_steps) ^ power + end``, ``step`` capped at
    ``decay_steps`` (``cycle``: ``decay_steps`` grows to the next multiple instead)."""
    with name_scope(name, "PolynomialDecay") as scope:
        lr = convert_to_tensor(learning_rate, name="learning_rate")
        step = _step(global_step, lr.dtype)
        steps = math_ops.cast(decay_steps, lr.dtype)
        end = math_ops.cast(end_learning_rate, lr.dtype)
        if cycle:
            multiplier = array_ops.where(math_ops.equal(step, 0), 1.0,
                                         -math_ops.floor(-(step / steps)))
            steps = math_ops.multiply(steps, multiplier)
        else:
            step = math_ops.minimum(step, steps)
        frac = math_ops.pow(1 - step / steps, math_ops.cast(power, lr.dtype))
        return math_ops.add(math_ops.multiply(lr - end, frac), end, name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """``values[0]`` while ``x <= boundaries[0]``, … ``values[-1]`` after the last boundary."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with name_scope(name, "PiecewiseConstant") as scope:
        x = convert_to_tensor(x)
        vals = [convert_to_tensor(v) for v in values]
        dtype = vals[0].dtype
        if any(v.dtype != dtype for v in vals):
            raise ValueError(f"Values must have elements all with the same dtype "
                             f"({sorted({v.dtype.name for v in vals})}).")
        bounds = [convert_to_tensor(b, dtype=x.dtype) for b in boundaries]
        out = vals[-1]
        for bound, value in reversed(list(zip(bounds, vals[:-1], strict=True))):
            out = array_ops.where(math_ops.less_equal(x, bound), value, out)
        return array_ops.identity(out, name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``lr · exp(-decay_rate · step / decay_steps)``."""
    with name_scope(name, "NaturalExpDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        return math_ops.multiply(lr, math_ops.exp(-math_ops.cast(decay_rate, lr.dtype) * p),
                                 name=scope)


