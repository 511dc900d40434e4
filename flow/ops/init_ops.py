"""Initializers and random ops (TF1 ``init_ops.py`` / ``random_ops.py``, ``tf1-semantics.md`` §3).

An initializer is called as ``init(shape, dtype=None, partition_info=None)`` and returns a
Tensor. Random ops take TF's seeds: the graph seed (``tf.set_random_seed``) and the op seed
decide the stream (``get_seed``); with neither, each session draws a new sequence.
"""

from __future__ import annotations

import math

import numpy as np

from flow.core import dtypes
from flow.framework.build import constant, convert_to_tensor, static_value
from flow.framework.graph import get_default_graph, name_scope
from flow.kernels.state import _generator
from flow.kernels.table import stateful
from flow.ops import math_ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def set_random_seed(seed):
    """``tf.set_random_seed``: the graph-level seed of the default graph."""
    get_default_graph().seed = seed


def get_seed(op_seed):
    """(graph seed, op seed) as TF's ``random_seed.get_seed``; ``(None, None)`` = unseeded."""
    graph = get_default_graph()
    if graph.seed is not None:
        seeds = (graph.seed, len(graph._ops) if op_seed is None else op_seed)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, op_seed)
    else:
        return None, None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds


def _shape_input(shape):
    """A random op's ``shape``: a constant (static dims) or a Tensor (``tf.shape(x)``, a list
    mixing ints and scalar tensors), whose dims are then known only at run time."""
    static = static_value(shape)
    if static is not None:
        dims = [int(d) for d in static.reshape(-1)]
        return constant(np.asarray(dims, dtype=np.int32), name="shape"), dims
    tensor = convert_to_tensor(shape)
    value = tensor.op.attrs.get("value") if tensor.op.type == "Const" else None
    if value is not None:
        return tensor, [int(d) for d in np.asarray(value).reshape(-1)]
    if tensor.op.type == "Pack":  # [tf.shape(x)[0], 10]: the constant dims are known
        return tensor, [int(t.op.attrs["value"]) if t.op.type == "Const" else None
                        for t in tensor.op.inputs]
    n = tensor.shape.as_list()[0] if tensor.shape.ndims == 1 else None
    return tensor, None if n is None else [None] * n


def _random_op(op_type, shape, dtype, seed, extra_inputs=()):
    graph = get_default_graph()
    seed1, seed2 = get_seed(seed)  # before the shape's Const: TF's op seed is the op count
    shape_t, dims = _shape_input(shape)
    dt = dtypes.as_dtype(dtype)
    attrs = {"dtype": dt, "seed": seed1 or 0, "seed2": seed2 or 0, "T": shape_t.dtype}
    if op_type == "RandomUniformInt":
        attrs["Tout"] = dt  # TF's name for this op's output dtype
    return graph.create_op(op_type, [shape_t, *extra_inputs], attrs, op_type, [dt],
                           [dims]).outputs[0]


def _param(value, dtype, name):
    """A distribution parameter: a Python number as it was, a Tensor (``stddev=tf.sqrt(v)``)
    converted to the sample's dtype."""
    if static_value(value) is not None and np.ndim(value) == 0:
        return float(value)
    return convert_to_tensor(value, dtype=dtype, name=name)


def _scale_shift(x, scale, shift, name):
    return math_ops.add(x * scale, shift, name=name)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    dt = dtypes.as_dtype(dtype)
    if maxval is None:
        if dt.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dt!r}")
        maxval = 1
    with name_scope(name, "random_uniform") as scope:
        if dt.is_integer:
            lo, hi = convert_to_tensor(minval, dtype=dt, name="min"), convert_to_tensor(
                maxval, dtype=dt, name="max")
            return _random_op("RandomUniformInt", shape, dt, seed, (lo, hi))
        lo, hi = _param(minval, dt, "min"), _param(maxval, dt, "max")
        rnd = _random_op("RandomUniform", shape, dt, seed)
        return _scale_shift(rnd, hi - lo, lo, scope)


def _normal(op_type, default_name, shape, mean, stddev, dtype, seed, name):
    dt = dtypes.as_dtype(dtype)
    with name_scope(name, default_name) as scope:
        mean, stddev = _param(mean, dt, "mean"), _param(stddev, dt, "stddev")
        return _scale_shift(_random_op(op_type, shape, dt, seed), stddev, mean, scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    return _normal("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed,
                   name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples, each beyond two standard deviations drawn again."""
    return _normal("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


@stateful("RandomUniformInt", ("seed", "seed2", "Tout", "T"))
def _random_uniform_int(op, sess):
    rng = _generator(op, sess)
    np_type = op.outputs[0].dtype.as_numpy_dtype  # a NodeDef carries it as Tout
    return lambda ins: rng.integers(ins[1], ins[2], size=tuple(ins[0].tolist())).astype(np_type)


# ---------------------------------------------------------------- initializers


class Initializer:
    dtype = dtypes.float32

    def get_config(self):
        return {k: v for k, v in vars(self).items()}

    def _dtype(self, dtype):
        return dtypes.as_dtype(dtype if dtype is not None else self.dtype)


class Zeros(Initializer):
    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dt = self._dtype(dtype)
        return constant(np.zeros([int(d) for d in shape], dt.as_numpy_dtype), dtype=dt,
                        name="zeros")


class Ones(Zeros):
    def __call__(self, shape, dtype=None, partition_info=None):
        dt = self._dtype(dtype)
        return constant(np.ones([int(d) for d in shape], dt.as_numpy_dtype), dtype=dt,
                        name="ones")


class Constant(Initializer):
    """A scalar, list or array; a list shorter than the shape repeats its last element."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not np.isscalar(value) and not isinstance(value, list | tuple | np.ndarray):
            raise TypeError(f"Invalid type for initial value: {type(value)} (expected Python "
                            f"scalar, list or tuple of values, or numpy.ndarray).")
        self.value, self.dtype, self.verify_shape = value, dtypes.as_dtype(dtype), verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        verify = self.verify_shape if verify_shape is None else verify_shape
        return constant(self.value, dtype=self._dtype(dtype), shape=shape, verify_shape=verify)


class RandomUniform(Initializer):
    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_uniform(shape, self.minval, self.maxval, self._dtype(dtype), self.seed)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_normal(shape, self.mean, self.stddev, self._dtype(dtype), self.seed)


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None, partition_info=None):
        return truncated_normal(shape, self.mean, self.stddev, self._dtype(dtype), self.seed)


def compute_fans(shape):
    """(fan_in, fan_out): rank 0 → (1, 1); rank 1 → (n, n); conv kernels × receptive field."""
    shape = [int(d) for d in shape]
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    """TF 1.15: "truncated_normal" (default; "normal" is an alias) is corrected by 0.8796…."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        s = self.scale / max(1.0, n[self.mode])
        dt = self._dtype(dtype)
        if self.distribution in ("normal", "truncated_normal"):
            return truncated_normal(shape, 0.0, math.sqrt(s) / 0.87962566103423978, dt,
                                    self.seed)
        if self.distribution == "untruncated_normal":
            return random_normal(shape, 0.0, math.sqrt(s), dt, self.seed)
        limit = math.sqrt(3.0 * s)
        return random_uniform(shape, -limit, limit, dt, self.seed)


class GlorotUniform(VarianceScaling):
    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)


class UniformUnitScaling(Initializer):
    """TF 0.x's default: U(±sqrt(3 / input_size)·factor), input_size = all dims but the last."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor, self.seed, self.dtype = factor, seed, dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        input_size = max(1, int(np.prod([int(d) for d in shape][:-1])))
        limit = math.sqrt(3 / input_size) * self.factor
        return random_uniform(shape, -limit, limit, self._dtype(dtype), self.seed)


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
uniform_unit_scaling_initializer = UniformUnitScaling
