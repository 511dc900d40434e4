"""Convolution / pooling kernels against loop references, TF's size rules, and stable losses.

Sizes are the ones tf1-semantics §6.1/§6.2 give (VALID ``ceil((in - k + 1) / s)``, SAME
``ceil(in / s)`` with the extra padding after); loop references live in ``opcheck``.
"""

from __future__ import annotations

import numpy as np
import pytest
from opcheck import (
    naive_conv2d,
    naive_conv2d_filter_grad,
    naive_conv2d_transpose,
    naive_max_pool_grad,
    naive_pool,
)

from flow.kernels import conv
from flow.kernels.table import OPS

pytestmark = pytest.mark.unit

rng = np.random.default_rng(7)


@pytest.mark.parametrize(
    "size, k, s, padding, out, before, after",
    [
        (28, 5, 2, "SAME", 14, 1, 2),  # the blog's conv: [2, 28, 28, 1] -> 14x14
        (28, 5, 1, "VALID", 24, 0, 0),
        (7, 3, 2, "SAME", 4, 1, 1),
        (6, 3, 2, "SAME", 3, 0, 1),  # odd padding: the extra row goes after
        (5, 1, 1, "SAME", 5, 0, 0),
        (7, 3, 2, "VALID", 3, 0, 0),
        (6, 3, 2, "VALID", 2, 0, 0),  # the last row is dropped
        (4, 5, 1, "SAME", 4, 2, 2),  # kernel larger than the input
    ],
)
def test_geometry_follows_tf(size, k, s, padding, out, before, after):
    assert conv.geometry(size, k, s, padding) == (out, before, after)


def test_valid_window_larger_than_the_input_is_an_error():
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 5 from 4"):
        OPS["MaxPool"].shape([(1, 4, 4, 1)], {"ksize": [1, 5, 5, 1], "strides": [1, 1, 1, 1],
                                              "padding": "VALID"})


@pytest.mark.parametrize("block_bytes", [conv.CHUNK_BYTES, 1])  # 1: one sample per block
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("shape, kernel", [((2, 7, 6, 3), (3, 3)), ((1, 8, 8, 2), (5, 4)),
                                           ((3, 5, 5, 1), (1, 1)), ((1, 6, 9, 4), (2, 2))])
def test_conv2d_forward_and_grads_match_loops(shape, kernel, stride, padding, block_bytes,
                                              monkeypatch):
    monkeypatch.setattr(conv, "CHUNK_BYTES", block_bytes)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(kernel + (shape[3], 5)).astype(np.float32)
    y = conv.conv2d(x, w, (stride, stride), padding)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, naive_conv2d(x, w, (stride, stride), padding), rtol=1e-4,
                               atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = conv.conv2d_backprop_input(x.shape, w, dy, (stride, stride), padding)
    dw = conv.conv2d_backprop_filter(x, w.shape, dy, (stride, stride), padding)
    np.testing.assert_allclose(dx, naive_conv2d_transpose(x.shape, w, dy, (stride, stride),
                                                          padding), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, naive_conv2d_filter_grad(x, w.shape, dy, (stride, stride),
                                                            padding), rtol=1e-4, atol=1e-4)
    assert dx.dtype == dw.dtype == np.float32


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    x = rng.standard_normal((2, 9, 9, 3))
    w = rng.standard_normal((5, 5, 3, 4))
    y = conv.conv2d(x, w, (2, 2), "SAME")
    dy = rng.standard_normal(y.shape)
    lhs = np.sum(y * dy)
    rhs = np.sum(x * conv.conv2d_backprop_input(x.shape, w, dy, (2, 2), "SAME"))
    assert lhs == pytest.approx(rhs, rel=1e-10)


@pytest.mark.parametrize("h, k, s, padding, h_out", [(7, 5, 2, "SAME", 14), (7, 5, 2, "VALID", 17),
                                                     (4, 3, 1, "VALID", 6), (3, 4, 2, "SAME", 5)])
def test_conv2d_transpose_usual_output_sizes(h, k, s, padding, h_out):
    """SAME: any H_out with ceil(H_out / s) = H; VALID: ceil((H_out - k + 1) / s) = H."""
    row = OPS["Conv2DBackpropInput"]
    sizes = np.array([2, h_out, h_out, 3], np.int32)
    w = rng.standard_normal((k, k, 3, 4))
    value = rng.standard_normal((2, h, h, 4))
    attrs = {"strides": [1, s, s, 1], "padding": padding}
    y = row.forward([sizes, w, value], attrs)
    assert y.shape == (2, h_out, h_out, 3)
    np.testing.assert_allclose(y, naive_conv2d_transpose(tuple(sizes), w, value, (s, s), padding),
                               atol=1e-10)
    assert row.shape([(4,), w.shape, value.shape],
                     {**attrs, "_const_inputs": {0: sizes}}) == [(2, h_out, h_out, 3)]


def test_conv2d_transpose_rejects_an_output_shape_conv2d_cannot_give_back():
    row = OPS["Conv2DBackpropInput"]
    with pytest.raises(ValueError, match="Size of out_backprop doesn't match computed: actual = "
                                         r"\[7, 7\], computed = \[8, 8\]"):
        row.forward([np.array([1, 15, 15, 3]), np.ones((5, 5, 3, 4)), np.ones((1, 7, 7, 4))],
                    {"strides": [1, 2, 2, 1], "padding": "SAME"})


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("ksize, stride", [(2, 2), (3, 2), (3, 1), (2, 1)])
def test_pools_match_loops(ksize, stride, padding):
    x = rng.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3).astype(np.float32) - 100
    k, s = (ksize, ksize), (stride, stride)
    np.testing.assert_array_equal(conv.max_pool(x, k, s, padding),
                                  naive_pool(x, k, s, padding, "max"))
    np.testing.assert_allclose(conv.avg_pool(x, k, s, padding),
                               naive_pool(x, k, s, padding, "avg"), rtol=1e-5)
    y = conv.max_pool(x, k, s, padding)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(conv.max_pool_grad(x, y, dy, k, s, padding),
                               naive_max_pool_grad(x, dy, k, s, padding), rtol=1e-5, atol=1e-6)


def test_max_pool_grad_sends_each_gradient_to_one_input_even_with_ties():
    x = np.zeros((1, 4, 4, 1))  # every window is a tie
    y = conv.max_pool(x, (3, 3), (1, 1), "SAME")
    dy = np.ones_like(y)
    dx = conv.max_pool_grad(x, y, dy, (3, 3), (1, 1), "SAME")
    assert dx.sum() == dy.sum()  # no gradient is duplicated across tied inputs
    assert dx[0, 0, 0, 0] == 4  # the first input of a window wins: (0,0) is first in 4 windows
    y = conv.max_pool(x, (2, 2), (2, 2), "VALID")  # disjoint windows take the write path
    dx = conv.max_pool_grad(x, y, np.ones_like(y), (2, 2), (2, 2), "VALID")
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0],
                                                   [1, 0, 1, 0], [0, 0, 0, 0]])


def test_cross_entropies_are_stable_with_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], np.float32)
    labels = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, backprop = OPS["SoftmaxCrossEntropyWithLogits"].forward([logits, labels], {})
        np.testing.assert_allclose(loss, [0.0, 2e4], rtol=1e-6)
        np.testing.assert_allclose(backprop, [[0, 0, 0], [-1, 1, 0]], atol=1e-6)
        sparse, _ = OPS["SparseSoftmaxCrossEntropyWithLogits"].forward(
            [logits, np.array([0, 1], np.int32)], {})
        np.testing.assert_allclose(sparse, [0.0, 0.0], atol=1e-6)
        x = np.array([1000.0, -1000.0, 80.0, -80.0], np.float32)
        np.testing.assert_allclose(OPS["Softplus"].forward([x], {}), [1000, 0, 80, 0], atol=1e-6)
        np.testing.assert_allclose(OPS["Sigmoid"].forward([x], {}), [1, 0, 1, 0], atol=1e-6)
        assert np.isfinite(OPS["LogSoftmax"].forward([logits], {})).all()


def test_sparse_cross_entropy_names_a_label_out_of_range():
    with pytest.raises(ValueError, match="label value of 5 which is outside the valid range of "
                                         r"\[0, 3\)"):
        OPS["SparseSoftmaxCrossEntropyWithLogits"].forward(
            [np.zeros((2, 3)), np.array([1, 5])], {})


@pytest.mark.parametrize("op_type", ["MatMul", "Conv2D", "Relu", "Sum", "Softmax", "BiasAdd",
                                     "MaxPool", "SoftmaxCrossEntropyWithLogits"])
def test_float32_in_float32_out_including_gradients(op_type):
    """No silent float64: the kernels and their vjps keep float32 (BLAS sgemm)."""
    x4 = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    m = rng.standard_normal((4, 3)).astype(np.float32)
    inputs, attrs = {
        "MatMul": ([m, m.T.copy()], {}),
        "Conv2D": ([x4, rng.standard_normal((3, 3, 3, 2)).astype(np.float32)],
                   {"strides": [1, 2, 2, 1], "padding": "SAME"}),
        "Relu": ([m], {}),
        "Sum": ([m, np.array([0], np.int32)], {}),
        "Softmax": ([m], {}),
        "BiasAdd": ([x4, np.ones(3, np.float32)], {}),
        "MaxPool": ([x4], {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}),
        "SoftmaxCrossEntropyWithLogits": ([m, np.abs(m)], {}),
    }[op_type]
    row = OPS[op_type]
    out = row.forward(inputs, attrs)
    outs = list(out) if row.num_outputs > 1 else [out]
    assert all(o.dtype == np.float32 for o in outs)
    grads = [np.ones_like(outs[0])] + [None] * (len(outs) - 1)
    for g in row.grad(inputs, outs, grads, attrs):
        assert g is None or g.dtype == np.float32


def test_sigmoid_keeps_tiny_outputs_in_float32():
    """GAN losses take log(sigmoid(x)): sigmoid(-17) must not round to 0."""
    out = OPS["Sigmoid"].forward([np.array([-17.0, -80.0], np.float32)], {})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [1 / (1 + np.exp(17.0)), 1 / (1 + np.exp(80.0))], rtol=1e-5)


def test_conv2d_accepts_non_contiguous_views():
    """A transposed NCHW batch is a strided view: the window view must follow its strides."""
    nchw = rng.standard_normal((2, 3, 6, 5))
    x = nchw.transpose(0, 2, 3, 1)
    w = rng.standard_normal((3, 3, 3, 4)).transpose(1, 0, 2, 3)
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    np.testing.assert_allclose(conv.conv2d(x, w, (2, 2), "SAME"),
                               naive_conv2d(x, w, (2, 2), "SAME"), atol=1e-10)
    dy = rng.standard_normal((2, 3, 3, 4)).transpose(0, 2, 1, 3)
    np.testing.assert_allclose(conv.conv2d_backprop_input(x.shape, w, dy, (2, 2), "SAME"),
                               naive_conv2d_transpose(x.shape, w, dy, (2, 2), "SAME"), atol=1e-10)
