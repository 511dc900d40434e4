"""One parametrized test over every row of ``flow.kernels.table.OPS``.

For each row: the forward against a numpy reference (float64), the shape and dtype rules
against the actual outputs (float32 inputs stay float32), and the gradient against central
finite differences in float64 (``opcheck.check_grads``: rtol 1e-5, atol 1e-6).  A row without
a case here fails the test, so adding an op means adding a row to ``CASES`` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import opcheck
import pytest
from opcheck import naive_conv2d, naive_conv2d_filter_grad, naive_conv2d_transpose, naive_pool

from flow.kernels.table import OPS

pytestmark = pytest.mark.unit

rng = np.random.default_rng(1234)


def rnd(*shape):
    return rng.uniform(-1, 1, shape)


def away(*shape):
    """Values with |x| >= 0.2: no kinks of relu/abs/sign within the finite-difference step."""
    r = rng.uniform(-1, 1, shape)
    return np.sign(r) * (0.2 + np.abs(r))


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Distinct values, so max/min/argmax have one winner."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


def ints(*shape, high=4):
    return rng.integers(0, high, shape).astype(np.int32)


@dataclass
class Case:
    inputs: list
    ref: object  # (*inputs) -> output, or a tuple for multi-output rows
    attrs: dict = field(default_factory=dict)
    wrt: tuple | None = None  # inputs to check by finite differences; None = every float input
    grad_outputs: tuple = (0,)


def i32(v):
    return np.asarray(v, np.int32)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _bn_ref(x, scale, offset, mean, var, eps=1e-3, training=True):
    n = x.size // x.shape[-1]
    if training:
        mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    inv = 1 / np.sqrt(var + eps)
    return ((x - mean) * inv * scale + offset, mean,
            var * n / (n - 1) if training else var, mean, inv)


def _bn_v3_ref(x, scale, offset, mean, var, eps=1e-3, training=True, exp_factor=1.0):
    y, batch_mean, batch_var, used_mean, _ = _bn_ref(x, scale, offset, mean, var, eps, training)
    used_var = x.var((0, 1, 2)) if training else var
    if exp_factor != 1.0:
        batch_mean = (1 - exp_factor) * mean + exp_factor * batch_mean
        batch_var = (1 - exp_factor) * var + exp_factor * batch_var
    return y, batch_mean, batch_var, used_mean, used_var, np.zeros(0)


def _bn_backprop_ref(g, x, scale, mean, var, training, eps=1e-3):
    """Batch norm's input gradients by the chain rule, written out (TF's FusedBatchNormGrad)."""
    n = x.size // x.shape[-1]
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * inv
    dscale, doffset = (g * xhat).sum((0, 1, 2)), g.sum((0, 1, 2))
    dxhat = g * scale
    if not training:
        return dxhat * inv, dscale, doffset, np.zeros(0), np.zeros(0)
    dx = inv / n * (n * dxhat - dxhat.sum((0, 1, 2)) - xhat * (dxhat * xhat).sum((0, 1, 2)))
    return dx, dscale, doffset, np.zeros(0), np.zeros(0)


POOLED = distinct(1, 4, 4, 1)


def _max_pool_grad_ref(x, y, g):
    """2x2/2 VALID max pool: each upstream value goes to its window's maximum."""
    out = np.zeros_like(x)
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            window = x[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2, 0]
            a, b = np.unravel_index(np.argmax(window), (2, 2))
            out[0, 2 * i + a, 2 * j + b, 0] = g[0, i, j, 0]
    return out


def _one_hot(idx, depth, axis=-1):
    out = np.zeros(idx.shape + (depth,))
    for k, v in np.ndenumerate(idx):
        if 0 <= v < depth:
            out[k + (v,)] = 1
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def _prod_with_zero():
    x = pos(3, 4)
    x[1, 2] = 0.0
    return x


SAME1 = {"strides": [1, 1, 1, 1], "padding": "SAME"}
SAME2 = {"strides": [1, 2, 2, 1], "padding": "SAME"}
VALID2 = {"strides": [1, 2, 2, 1], "padding": "VALID"}
B = (2, 3, 4)  # a base shape for elementwise cases

CASES: dict[str, list[Case]] = {
    # -- elementwise unary
    "Neg": [Case([rnd(*B)], lambda x: -x)],
    "Square": [Case([rnd(*B)], lambda x: x * x)],
    "Sqrt": [Case([pos(*B)], lambda x: x ** 0.5)],
    "Rsqrt": [Case([pos(*B)], lambda x: x ** -0.5)],
    "Exp": [Case([rnd(*B)], lambda x: np.e ** x)],
    "Log": [Case([pos(*B)], lambda x: np.log(x))],
    "Log1p": [Case([pos(*B)], lambda x: np.log(1 + x))],
    "Abs": [Case([away(*B)], lambda x: np.where(x < 0, -x, x))],
    "Sign": [Case([away(*B)], lambda x: np.where(x < 0, -1.0, 1.0))],
    "Reciprocal": [Case([away(*B)], lambda x: 1 / x)],
    "Sin": [Case([rnd(*B) * 3], lambda x: np.imag(np.exp(1j * x)))],
    "Cos": [Case([rnd(*B) * 3], lambda x: np.real(np.exp(1j * x)))],
    "Floor": [Case([rnd(*B) * 3], lambda x: x - np.mod(x, 1))],
    "LogicalNot": [Case([ints(5) > 1], lambda x: ~x)],
    "Relu": [Case([away(*B)], lambda x: x * (x > 0))],
    "Relu6": [Case([np.array([-2.0, -0.5, 0.5, 3.0, 5.5, 6.5, 9.0])],
                   lambda x: np.minimum(np.maximum(x, 0), 6))],
    "Elu": [Case([away(*B)], lambda x: np.where(x > 0, x, np.exp(x) - 1))],
    "ReluGrad": [Case([rnd(*B), away(*B)], lambda g, x: g * (x > 0))],
    "LeakyRelu": [Case([away(*B)], lambda x: np.where(x > 0, x, 0.3 * x), {"alpha": 0.3}),
                  Case([away(5)], lambda x: np.where(x > 0, x, 0.2 * x))],
    "Sigmoid": [Case([rnd(*B) * 4], lambda x: 1 / (1 + np.exp(-x)))],
    "Tanh": [Case([rnd(*B) * 2], lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1))],
    "Softplus": [Case([rnd(*B) * 4], lambda x: np.log(1 + np.exp(x)))],
    # -- broadcasting binary (second shape broadcasts: checks the gradient's unbroadcast)
    "Add": [Case([rnd(*B), rnd(3, 1)], lambda x, y: x + y)],
    "AddV2": [Case([rnd(4), rnd(*B)], lambda x, y: x + y)],
    "Sub": [Case([rnd(*B), rnd(1, 4)], lambda x, y: x - y)],
    "Mul": [Case([rnd(*B), rnd(2, 1, 4)], lambda x, y: x * y),
            Case([rnd(*B), np.array(1.5)], lambda x, y: x * y)],
    "RealDiv": [Case([rnd(*B), away(3, 1)], lambda x, y: x / y)],
    # the 0.0123 offset keeps every x != y by far more than the finite-difference step
    "Maximum": [Case([distinct(*B), distinct(4) * 0.7 + 0.0123],
                     lambda x, y: np.where(x > y, x, y))],
    "Minimum": [Case([distinct(*B), distinct(4) * 0.7 + 0.0123],
                     lambda x, y: np.where(x < y, x, y))],
    "Pow": [Case([pos(*B), rnd(3, 1) * 2], lambda x, y: np.exp(y * np.log(x)))],
    "FloorMod": [Case([rnd(*B) * 5, away(4) * 2], lambda x, y: x - np.floor(x / y) * y),
                 Case([ints(3, 4, high=20) - 10, i32([3, -4, 5, 7])],
                      lambda x, y: x - np.floor(x / y).astype(np.int32) * y)],
    "FloorDiv": [Case([ints(3, 4, high=20) - 10, i32([3, -4, 5, 7])],
                      lambda x, y: np.floor(x / y).astype(np.int32))],
    "SquaredDifference": [Case([rnd(*B), rnd(4)], lambda x, y: (x - y) * (x - y))],
    "Equal": [Case([ints(3, 4), ints(4)], lambda x, y: x == y)],
    "NotEqual": [Case([ints(3, 4), ints(4)], lambda x, y: x != y)],
    "Less": [Case([ints(3, 4), ints(4)], lambda x, y: x < y)],
    "LessEqual": [Case([ints(3, 4), ints(4)], lambda x, y: x <= y)],
    "Greater": [Case([ints(3, 4), ints(4)], lambda x, y: x > y)],
    "GreaterEqual": [Case([ints(3, 4), ints(4)], lambda x, y: x >= y)],
    "LogicalAnd": [Case([ints(6) > 1, ints(6) > 1], lambda x, y: x & y)],
    "LogicalOr": [Case([ints(6) > 1, ints(6) > 1], lambda x, y: x | y)],
    "AddN": [Case([rnd(*B), rnd(*B), rnd(*B)], lambda a, b, c: a + b + c, {"N": 3})],
    # -- matmul, cast
    "MatMul": [Case([rnd(3, 4), rnd(4, 5)], lambda a, b: np.einsum("ik,kj->ij", a, b)),
               Case([rnd(4, 3), rnd(4, 5)], lambda a, b: np.einsum("ki,kj->ij", a, b),
                    {"transpose_a": True}),
               Case([rnd(3, 4), rnd(5, 4)], lambda a, b: np.einsum("ik,jk->ij", a, b),
                    {"transpose_b": True}),
               Case([rnd(4, 3), rnd(5, 4)], lambda a, b: np.einsum("ki,jk->ij", a, b),
                    {"transpose_a": True, "transpose_b": True})],
    "Cast": [Case([rnd(*B) * 3], lambda x: np.trunc(x).astype(np.int32), {"DstT": np.int32},
                  wrt=()),
             Case([rnd(*B)], lambda x: x, {"DstT": np.float64})],
    # -- reductions
    "Sum": [Case([rnd(*B), i32([1])], lambda x, a: x.sum(1)),
            Case([rnd(*B), i32([0, -1])], lambda x, a: x.sum((0, 2), keepdims=True),
                 {"keep_dims": True}),
            Case([rnd(*B), i32([])], lambda x, a: x)],
    "Mean": [Case([rnd(*B), i32([0, 2])], lambda x, a: x.sum((0, 2)) / 8),
             Case([rnd(*B), i32(1)], lambda x, a: x.sum(1, keepdims=True) / 3,
                  {"keep_dims": True})],
    "Max": [Case([distinct(*B), i32([2])], lambda x, a: np.sort(x, 2)[:, :, -1])],
    "Min": [Case([distinct(*B), i32([0, 1])], lambda x, a: np.sort(x.reshape(6, 4), 0)[0])],
    "Prod": [Case([_prod_with_zero(), i32([1])],
                  lambda x, a: x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3])],
    "Any": [Case([ints(3, 4) > 2, i32([1])], lambda x, a: x.sum(1) > 0)],
    "All": [Case([ints(3, 4) > 0, i32([0])], lambda x, a: x.sum(0) == 3)],
    "ArgMax": [Case([distinct(3, 5), i32(1)], lambda x, a: np.argsort(x, 1)[:, -1])],
    "ArgMin": [Case([distinct(3, 5), i32(0)], lambda x, a: np.argsort(x, 0)[0],
                    {"output_type": np.int32})],
    "DivNoNan": [Case([rnd(*B), np.where(np.arange(4) == 2, 0.0, away(4))],
                      lambda x, y: np.where(y == 0, 0.0, x / np.where(y == 0, 1, y)), wrt=(0,)),
                 Case([rnd(*B), away(4)], lambda x, y: x / y)],  # y's gradient away from 0
    "IsFinite": [Case([np.array([1.0, np.inf, -np.inf, np.nan, 0.0])],
                      lambda x: np.array([True, False, False, False, True]))],
    "TopKV2": [Case([distinct(3, 5), i32(2)],
                    lambda x, k: (-np.sort(-x, 1)[:, :2], np.argsort(-x, 1)[:, :2]),
                    {"sorted": True}, wrt=(0,), grad_outputs=(0,))],
    "InTopKV2": [Case([np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.1, 0.3, np.nan]]), i32([2, 3]),
                       i32(1)], lambda p, t, k: np.array([True, False]))],
    "Print": [Case([rnd(*B), rnd(2)], lambda x, d: x,
                   {"message": "x: ", "first_n": 0, "summarize": 3, "_count": [0]}, wrt=(0,))],
    # -- array
    "Reshape": [Case([rnd(*B), i32([4, -1])], lambda x, s: x.ravel().reshape(4, 6))],
    "Transpose": [Case([rnd(*B), i32([2, 0, 1])], lambda x, p: np.einsum("abc->cab", x))],
    "Squeeze": [Case([rnd(2, 1, 3, 1)], lambda x: x.reshape(2, 3, 1), {"squeeze_dims": [1]}),
                Case([rnd(2, 1, 3, 1)], lambda x: x.reshape(2, 3))],
    "ExpandDims": [Case([rnd(2, 3), i32(-1)], lambda x, d: x.reshape(2, 3, 1))],
    "ConcatV2": [Case([rnd(2, 3), rnd(2, 2), i32(1)], lambda a, b, ax: np.hstack([a, b]),
                      {"N": 2})],
    "Pack": [Case([rnd(2, 3), rnd(2, 3), rnd(2, 3)], lambda a, b, c: np.array([a, b, c]).
                  transpose(1, 0, 2), {"N": 3, "axis": 1})],
    "Tile": [Case([rnd(2, 1, 3), i32([2, 3, 1])],
                  lambda x, m: np.concatenate([np.concatenate([x] * 3, 1)] * 2, 0))],
    "Pad": [Case([rnd(2, 3), i32([[1, 0], [2, 1]])],
                 lambda x, p: np.block([[np.zeros((1, 6))],
                                        [np.zeros((2, 2)), x, np.zeros((2, 1))]]))],
    "Slice": [Case([rnd(4, 5), i32([1, 2]), i32([2, -1])], lambda x, b, s: x[1:3, 2:])],
    "Split": [Case([i32(1), rnd(3, 4)], lambda a, x: (x[:, :2], x[:, 2:]), {"num_split": 2},
                   wrt=(1,), grad_outputs=(0, 1)),
              Case([i32(-2), rnd(4, 3)], lambda a, x: (x[:2], x[2:]), {"num_split": 2},
                   wrt=(1,), grad_outputs=(1,)),
              Case([i32(1), rnd(2, 6, 3)], lambda a, x: tuple(np.split(x, 2, axis=1)),
                   {"num_split": 2}, wrt=(1,), grad_outputs=(0, 1))],
    "SplitV": [Case([rnd(3, 5), i32([1, -1]), i32(1)], lambda x, s, a: (x[:, :1], x[:, 1:]),
                    {"num_split": 2}, wrt=(0,), grad_outputs=(0, 1)),
               Case([rnd(5, 2), i32([3, 2]), i32(0)], lambda x, s, a: (x[:3], x[3:]),
                    {"num_split": 2}, wrt=(0,), grad_outputs=(0,)),
               Case([rnd(7, 2), i32([3, -1]), i32(0)], lambda x, s, a: (x[:3], x[3:]),
                    {"num_split": 2}, wrt=(0,), grad_outputs=(1,))],
    "StridedSlice": [
        Case([rnd(4, 5, 6), i32([1, 2, 0]), i32([3, 3, 0]), i32([1, 1, 2])],
             lambda x, b, e, s: x[1:3, 2, ::2],
             {"begin_mask": 4, "end_mask": 4, "shrink_axis_mask": 2}),
        Case([rnd(4, 5, 6), i32([0, 0, -1]), i32([0, 0, 0]), i32([1, 1, 1])],
             lambda x, b, e, s: x[..., None, -1],
             {"ellipsis_mask": 1, "new_axis_mask": 2, "shrink_axis_mask": 4}),
        Case([rnd(4, 5), i32([0, 1]), i32([0, 4]), i32([-1, 2])],
             lambda x, b, e, s: x[::-1, 1:4:2], {"begin_mask": 1, "end_mask": 1})],
    "Gather": [Case([rnd(5, 3), i32([0, 2, 2, 4])], lambda p, i: p[[0, 2, 2, 4]])],
    "GatherV2": [Case([rnd(2, 5, 3), i32([[4, 1], [1, 1]]), i32(1)],
                      lambda p, i, a: p[:, [[4, 1], [1, 1]]])],
    "OneHot": [Case([i32([0, 2, -1, 1]), i32(3), np.array(1.0), np.array(0.0)],
                    lambda i, d, on, off: _one_hot(i, 3), {"axis": -1}),
               Case([i32([[0, 2], [1, 5]]), i32(3), np.array(2.0), np.array(-1.0)],
                    lambda i, d, on, off: _one_hot(i, 3, 0) * 3 - 1, {"axis": 0})],
    "Select": [Case([ints(3, 4) > 1, rnd(3, 4), rnd(3, 4)], lambda c, x, y: x * c + y * ~c,
                    wrt=(1, 2)),
               Case([np.array([True, False, True]), rnd(3, 2), rnd(3, 2)],
                    lambda c, x, y: np.vstack([x[0], y[1], x[2]]), wrt=(1, 2))],
    "Fill": [Case([i32([2, 3]), np.array(1.5)], lambda d, v: np.ones((2, 3)) * 1.5, wrt=(1,))],
    "ZerosLike": [Case([rnd(*B)], lambda x: x * 0)],
    "OnesLike": [Case([rnd(*B)], lambda x: x * 0 + 1)],
    "Identity": [Case([rnd(*B)], lambda x: x)],
    "ReverseV2": [Case([rnd(2, 3, 4), i32([0, -1])], lambda x, a: x[::-1, :, ::-1],
                       {"Tidx": np.int32}, wrt=(0,))],
    "ReverseSequence": [
        Case([rnd(3, 4, 2), i32([4, 0, 2])],
             lambda x, n: np.stack([x[0, ::-1], x[1], np.vstack([x[2, 1::-1], x[2, 2:]])]),
             {"seq_dim": 1, "batch_dim": 0}, wrt=(0,)),
        Case([rnd(4, 3), i32([1, 4, 3])],
             lambda x, n: np.stack([x[:, 0], x[::-1, 1], np.concatenate([x[2::-1, 2], x[3:, 2]])],
                                   axis=1), {"seq_dim": 0, "batch_dim": 1}, wrt=(0,))],
    "StopGradient": [Case([rnd(*B)], lambda x: x)],
    "Shape": [Case([rnd(*B)], lambda x: i32([2, 3, 4])),
              Case([rnd(*B)], lambda x: np.array([2, 3, 4], np.int64), {"out_type": np.int64})],
    "ShapeN": [Case([rnd(*B), rnd(4, 1)], lambda x, y: (i32([2, 3, 4]), i32([4, 1])))],
    "UnsortedSegmentSum": [
        Case([rnd(4, 3), i32([2, 0, 2, 3]), i32(5)],
             lambda d, i, n: np.stack([d[i == k].sum(0) for k in range(5)]),
             {"Tindices": np.int32}, wrt=(0,)),
        Case([rnd(2, 2, 3), i32([[1, 1], [0, 1]]), i32(2)],
             lambda d, i, n: np.stack([d[i == k].sum(0) for k in range(2)]), wrt=(0,))],
    "Unique": [Case([i32([5, 3, 5, 1, 3])], lambda x: (i32([5, 3, 1]), i32([0, 1, 0, 2, 1])),
                    {"out_idx": np.int32}),
               Case([np.array([2, 2, 7], np.int64)],
                    lambda x: (np.array([2, 7]), np.array([0, 0, 1], np.int64)),
                    {"out_idx": np.int64})],
    "SparseToDense": [Case([i32([[0, 1], [2, 3]]), i32([3, 4]), rnd(2), np.float64(-1.0)],
                           lambda i, s, v, d: np.where(
                               np.isin(np.arange(12), [1, 11]).reshape(3, 4),
                               np.zeros((3, 4)) + np.array(
                                   [0, v[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, v[1]]).reshape(3, 4),
                               -1.0),
                           {"validate_indices": False})],
    "ComputeAccidentalHits": [Case(
        [np.array([[1, 5], [2, 7], [3, 3]], np.int64), np.array([5, 0, 3, 2], np.int64)],
        lambda t, s: (i32([0, 1, 2]), np.array([0, 3, 2]),
                      np.full(3, -np.finfo(np.float32).max, np.float32)),
        {"num_true": 2})],
    "Size": [Case([rnd(*B)], lambda x: i32(24))],
    "Rank": [Case([rnd(*B)], lambda x: i32(3))],
    "Range": [Case([i32(1), i32(10), i32(3)], lambda a, b, c: i32([1, 4, 7])),
              Case([np.array(0.0), np.array(1.0), np.array(0.25)],
                   lambda a, b, c: np.array([0, 0.25, 0.5, 0.75]), wrt=())],
    # -- nn
    "BiasAdd": [Case([rnd(*B), rnd(4)], lambda x, b: x + b),
                Case([rnd(2, 4, 3), rnd(4)], lambda x, b: x + b[:, None],
                     {"data_format": "NCHW"})],
    "L2Loss": [Case([rnd(*B)], lambda x: (x * x).sum() / 2)],
    "Softmax": [Case([rnd(3, 5) * 3], _softmax)],
    "LogSoftmax": [Case([rnd(3, 5) * 3], lambda x: np.log(_softmax(x)))],
    "SoftmaxCrossEntropyWithLogits": [
        Case([rnd(3, 5) * 3, _softmax(rnd(3, 5))],
             lambda x, z: (-(z * np.log(_softmax(x))).sum(-1), _softmax(x) - z))],
    "SparseSoftmaxCrossEntropyWithLogits": [
        Case([rnd(4, 5) * 3, i32([0, 4, 2, 2])],
             lambda x, z: (-np.log(_softmax(x))[range(4), z], _softmax(x) - np.eye(5)[z]))],
    "Conv2D": [
        Case([rnd(2, 5, 5, 3), rnd(3, 3, 3, 2)],
             lambda x, w: naive_conv2d(x, w, (1, 1), "SAME"), SAME1),
        Case([rnd(1, 6, 7, 2), rnd(2, 3, 2, 3)],
             lambda x, w: naive_conv2d(x, w, (2, 2), "VALID"), VALID2),
        Case([rnd(1, 6, 5, 2), rnd(3, 2, 2, 2)],
             lambda x, w: naive_conv2d(x, w, (2, 2), "SAME"), SAME2)],
    "Conv2DBackpropInput": [
        Case([i32([2, 5, 5, 3]), rnd(3, 3, 3, 2), rnd(2, 3, 3, 2)],
             lambda s, w, dy: naive_conv2d_transpose((2, 5, 5, 3), w, dy, (2, 2), "SAME"),
             SAME2),
        Case([i32([1, 7, 6, 2]), rnd(3, 2, 2, 3), rnd(1, 3, 3, 3)],
             lambda s, w, dy: naive_conv2d_transpose((1, 7, 6, 2), w, dy, (2, 2), "VALID"),
             VALID2)],
    "Conv2DBackpropFilter": [
        Case([rnd(2, 5, 5, 3), i32([3, 3, 3, 2]), rnd(2, 3, 3, 2)],
             lambda x, s, dy: naive_conv2d_filter_grad(x, (3, 3, 3, 2), dy, (2, 2), "SAME"),
             SAME2)],
    "MaxPool": [
        Case([distinct(2, 5, 5, 2)], lambda x: naive_pool(x, (2, 2), (2, 2), "SAME", "max"),
             {"ksize": [1, 2, 2, 1], **SAME2}),
        Case([distinct(1, 5, 6, 2)], lambda x: naive_pool(x, (3, 3), (1, 1), "VALID", "max"),
             {"ksize": [1, 3, 3, 1], "strides": [1, 1, 1, 1], "padding": "VALID"})],
    "AvgPool": [
        Case([rnd(2, 5, 5, 2)], lambda x: naive_pool(x, (3, 3), (2, 2), "SAME", "avg"),
             {"ksize": [1, 3, 3, 1], **SAME2}),
        Case([rnd(1, 6, 6, 1)], lambda x: naive_pool(x, (2, 2), (2, 2), "VALID", "avg"),
             {"ksize": [1, 2, 2, 1], **VALID2})],
    "FusedBatchNorm": [
        Case([rnd(4, 2, 2, 3), pos(3), rnd(3), np.zeros(0), np.zeros(0)], _bn_ref,
             {"epsilon": 1e-3, "is_training": True}, wrt=(0, 1, 2)),
        Case([rnd(4, 2, 2, 3), pos(3), rnd(3), rnd(3), pos(3)],
             lambda *a: _bn_ref(*a, training=False), {"epsilon": 1e-3, "is_training": False},
             wrt=(0, 1, 2))],
    "FusedBatchNormV3": [
        Case([rnd(4, 2, 2, 3), pos(3), rnd(3), np.zeros(0), np.zeros(0)], _bn_v3_ref,
             {"epsilon": 1e-3, "is_training": True}, wrt=(0, 1, 2)),
        Case([rnd(4, 2, 2, 3), pos(3), rnd(3), rnd(3), pos(3)],
             lambda *a: _bn_v3_ref(*a, exp_factor=0.25),
             {"epsilon": 1e-3, "is_training": True, "exponential_avg_factor": 0.25},
             wrt=(0, 1, 2)),
        Case([rnd(4, 2, 2, 3), pos(3), rnd(3), rnd(3), pos(3)],
             lambda *a: _bn_v3_ref(*a, training=False), {"epsilon": 1e-3, "is_training": False},
             wrt=(0, 1, 2))],
    "FusedBatchNormGradV3": [
        Case([rnd(4, 2, 2, 3), rnd(4, 2, 2, 3), pos(3), rnd(3), pos(3), np.zeros(0)],
             lambda g, x, s, m, v, r: _bn_backprop_ref(g, x, s, m, v, True),
             {"epsilon": 1e-3, "is_training": True}),
        Case([rnd(4, 2, 2, 3), rnd(4, 2, 2, 3), pos(3), rnd(3), pos(3), np.zeros(0)],
             lambda g, x, s, m, v, r: _bn_backprop_ref(g, x, s, m, v, False),
             {"epsilon": 1e-3, "is_training": False})],
    "MaxPoolGrad": [
        Case([POOLED, naive_pool(POOLED, (2, 2), (2, 2), "VALID", "max"), rnd(1, 2, 2, 1)],
             _max_pool_grad_ref, {"ksize": [1, 2, 2, 1], **VALID2})],
    "BiasAddGrad": [Case([rnd(*B)], lambda g: g.sum((0, 1))),
                    Case([rnd(2, 4, 3)], lambda g: g.sum((0, 2)), {"data_format": "NCHW"})],
}


def _known_shapes(inputs):
    return [tuple(np.shape(x)) for x in inputs]


def _with_consts(opdef, case):
    attrs = dict(case.attrs)
    n = len(case.inputs)
    attrs["_const_inputs"] = {k % n: case.inputs[k] for k in opdef.const_inputs}
    return attrs


def _as_list(out, n):
    return list(out) if n > 1 else [out]


def _float32(x):
    return x.astype(np.float32) if np.asarray(x).dtype == np.float64 else x


def _compatible(rule, actual):
    if rule is None:
        return True
    return len(rule) == len(actual) and all(r is None or r == a
                                            for r, a in zip(rule, actual, strict=True))


# rows whose outputs can be dead or that a while frame runs: tests/flow/test_control_flow.py
DEAD_VALUED = {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"}
# a gradient loop's stacks (values are Python lists) and its trigger: test_while_loop.py
LOOP_STACKS = {"StackV2", "StackPushV2", "StackPopV2", "ControlTrigger"}
# TensorArray rows (values are the arrays behind resource handles; gradients are graph ops):
# tests/flow/test_tensor_array.py
TENSOR_ARRAYS = {"TensorArrayV3", "TensorArrayGradV3", "TensorArrayWriteV3",
                 "TensorArrayReadV3", "TensorArrayGatherV3", "TensorArrayScatterV3",
                 "TensorArraySizeV3"}


# rows whose output length depends on the values: their shape rule can only be compatible
DATA_DEPENDENT = {"Unique", "ComputeAccidentalHits"}


@pytest.mark.parametrize("op_type", sorted(set(OPS) - DEAD_VALUED - LOOP_STACKS - TENSOR_ARRAYS))
def test_row(op_type):
    opdef = OPS[op_type]
    if op_type not in CASES:
        pytest.fail(f"row {op_type!r} has no case in CASES; add one (inputs + numpy reference)")
    for n, case in enumerate(CASES[op_type]):
        label = f"{op_type} case {n}"
        inputs = [np.asarray(x) for x in case.inputs]
        saved = [x.copy() for x in inputs]
        outs = _as_list(opdef.forward(inputs, case.attrs), opdef.num_outputs)
        want = _as_list(case.ref(*saved), opdef.num_outputs)
        assert len(outs) == opdef.num_outputs == len(want), label
        for out, ref in zip(outs, want, strict=True):
            np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-7, atol=1e-10, err_msg=label)

        # shape rule: exact with known shapes, compatible with unknown dims / unknown rank
        attrs = _with_consts(opdef, case)
        shapes = opdef.shape(_known_shapes(inputs), attrs)
        if op_type in DATA_DEPENDENT:
            assert all(_compatible(r, np.shape(o)) for r, o in zip(shapes, outs, strict=True))
        else:
            assert [tuple(s) for s in shapes] == [np.shape(o) for o in outs], label
        consts = {k % len(inputs) for k in opdef.const_inputs}
        blurred = [(None,) * x.ndim if k not in consts else x.shape
                   for k, x in enumerate(inputs)]
        for rule, out in zip(opdef.shape(blurred, attrs), outs, strict=True):
            assert _compatible(rule, np.shape(out)), f"{label}: {rule} vs {np.shape(out)}"

        # dtype rule, with float32 inputs: no silent upcast to float64
        inputs32 = [_float32(x) for x in inputs]
        outs32 = _as_list(opdef.forward(inputs32, case.attrs), opdef.num_outputs)
        dtypes = [x.dtype for x in inputs32]
        rule = opdef.dtype(dtypes, case.attrs) if opdef.dtype else [dtypes[0]] * len(outs32)
        assert [np.dtype(d) for d in rule] == [np.asarray(o).dtype for o in outs32], label

        if opdef.grad is not None:  # kernels never write into their inputs (registry rule)
            upstream = [np.ones_like(o) for o in outs]
            kept = [o.copy() for o in outs] + [g.copy() for g in upstream]
            opdef.grad(inputs, outs, upstream, case.attrs)
            for a, b in zip(outs + upstream, kept, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f"{label}: grad wrote into an array")
        for a, b in zip(inputs, saved, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{label}: kernel wrote into an input")

        if opdef.grad is None:
            continue
        wrt = case.wrt
        if wrt is None:
            wrt = tuple(k for k, x in enumerate(inputs) if x.dtype.kind == "f")
        opcheck.check_grads(opdef, inputs, case.attrs, wrt, case.grad_outputs)


def test_rows_without_gradient_are_the_expected_ones():
    no_grad = {t for t, row in OPS.items() if row.grad is None}
    expected = {"Floor", "FloorDiv", "LogicalNot", "LogicalAnd", "LogicalOr", "Equal",
                "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "Any", "All",
                "ArgMax", "ArgMin", "OneHot", "ZerosLike", "OnesLike", "StopGradient", "Shape",
                "Size", "Rank", "Range", "IsFinite", "InTopKV2", "ShapeN", "FusedBatchNormGradV3", "MaxPoolGrad",
                "BiasAddGrad", "Unique", "SparseToDense", "ComputeAccidentalHits",
                *DEAD_VALUED, *LOOP_STACKS, *TENSOR_ARRAYS}
    assert no_grad == expected


@pytest.mark.parametrize("op_type, inputs, attrs", [
    ("MatMul", [rnd(3, 4), rnd(4, 2)], {}),
    ("Conv2D", [rnd(1, 5, 5, 2), rnd(3, 3, 2, 2)], SAME2),
])
def test_grad_inputs_attr_skips_unwanted_gradients(op_type, inputs, attrs):
    """``attrs["_grad_inputs"]`` (registry docstring): only those inputs' vjps are computed."""
    row = OPS[op_type]
    out = row.forward(inputs, attrs)
    g = [np.ones_like(out)]
    full = row.grad(inputs, [out], g, attrs)
    only_filter = row.grad(inputs, [out], g, {**attrs, "_grad_inputs": (1,)})
    assert only_filter[0] is None
    np.testing.assert_array_equal(only_filter[1], full[1])
