"""The public wrappers (``tf.matmul``, ``tf.nn.conv2d`` ...) through a real graph and Session.

Checks static shapes, TF's argument handling and error texts (tf1-semantics §6), and values
and gradients against numpy on small inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import flow as tf

pytestmark = pytest.mark.integration

rng = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_dense_layer_values_and_gradients():
    xv = rng.standard_normal((5, 4)).astype(np.float32)
    wv = rng.standard_normal((4, 3)).astype(np.float32)
    bv = rng.standard_normal(3).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[[0, 2, 1, 1, 0]]
    x = tf.placeholder(tf.float32, [None, 4])
    w, b = tf.Variable(wv), tf.Variable(bv)
    logits = tf.nn.bias_add(tf.matmul(x, w), b)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    gw, gb = tf.gradients(loss, [w, b])
    assert logits.shape.as_list() == [None, 3]
    assert loss.dtype == tf.float32 and loss.shape.as_list() == []
    got_loss, got_gw, got_gb = run([loss, gw, gb], {x: xv})
    z = xv @ wv + bv
    dz = (softmax(z) - labels) / 5
    assert got_loss == pytest.approx(-np.mean(np.sum(labels * np.log(softmax(z)), 1)), rel=1e-5)
    np.testing.assert_allclose(got_gw, xv.T @ dz, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got_gb, dz.sum(0), rtol=1e-4, atol=1e-6)
    assert got_gw.dtype == np.float32


def test_operators_and_python_scalars_keep_float32():
    x = tf.placeholder(tf.float32, [2])
    y = tf.add(x, 1) * 2.0 - tf.square(x) / 4
    assert y.dtype == tf.float32
    np.testing.assert_allclose(run(y, {x: [1.0, 2.0]}), [3.75, 5.0])


def test_blog_conv_shape_and_conv_values():
    """tf1-semantics §10: a stride-2 SAME conv of [2, 28, 28, 1] gives [2, 14, 14, 16]."""
    image = tf.placeholder(tf.float32, [2, 28, 28, 1])
    w = tf.Variable(tf.random_normal([5, 5, 1, 16]))
    y = tf.nn.conv2d(image, w, strides=[1, 2, 2, 1], padding="SAME")
    assert y.shape.as_list() == [2, 14, 14, 16]
    unknown = tf.nn.conv2d(tf.placeholder(tf.float32, [None, 9, None, 1]), w, [1, 2, 2, 1],
                           "VALID")
    assert unknown.shape.as_list() == [None, 3, None, 16]
    pooled = tf.nn.max_pool(y, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    assert pooled.shape.as_list() == [2, 7, 7, 16]


def test_conv2d_rejects_batch_strides_and_bad_padding():
    x = tf.placeholder(tf.float32, [1, 4, 4, 1])
    w = tf.ones([2, 2, 1, 1])
    with pytest.raises(ValueError, match="does not yet support strides in the batch and depth"):
        tf.nn.conv2d(x, w, strides=[2, 1, 1, 1], padding="SAME")
    with pytest.raises(ValueError, match="padding must be 'SAME' or 'VALID'"):
        tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="FULL")


def test_conv2d_transpose_shape_values_and_gradients():
    value = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    filt = rng.standard_normal((3, 3, 2, 3)).astype(np.float32)  # [h, w, out_ch, in_ch]
    v = tf.Variable(value)
    f = tf.Variable(filt)
    out = tf.nn.conv2d_transpose(v, f, output_shape=[2, 8, 8, 2], strides=[1, 2, 2, 1])
    assert out.shape.as_list() == [2, 8, 8, 2]
    # conv2d_transpose is the gradient of conv2d: check it through tf.gradients of a conv2d
    x = tf.Variable(np.zeros((2, 8, 8, 2), np.float32))
    y = tf.nn.conv2d(x, f, [1, 2, 2, 1], "SAME")
    (dx,) = tf.gradients(y, [x], grad_ys=[v])
    got, want = run([out, dx])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    gv, gf = tf.gradients(tf.reduce_sum(out * out), [v, f])
    assert gv.shape.as_list() == [2, 4, 4, 3] and gf.shape.as_list() == [3, 3, 2, 3]


def test_conv2d_transpose_with_an_impossible_output_shape_fails_at_run():
    v = tf.ones([1, 7, 7, 4])
    out = tf.nn.conv2d_transpose(v, tf.ones([5, 5, 3, 4]), [1, 15, 15, 3], [1, 2, 2, 1])
    with pytest.raises(Exception, match="Size of out_backprop doesn't match computed"):
        run(out)


def test_named_arguments_only_for_cross_entropies():
    with pytest.raises(ValueError, match="Only call `softmax_cross_entropy_with_logits` with "
                                         "named arguments"):
        tf.nn.softmax_cross_entropy_with_logits(tf.ones([2, 3]), tf.ones([2, 3]))
    with pytest.raises(ValueError, match="Only call `sigmoid_cross_entropy_with_logits`"):
        tf.nn.sigmoid_cross_entropy_with_logits(tf.ones([2]), tf.ones([2]))


def test_v1_cross_entropy_stops_the_label_gradient_and_v2_does_not():
    labels = tf.Variable(np.full((2, 3), 1 / 3, np.float32))
    logits = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    assert tf.gradients(v1, [labels]) == [None]
    (g2,) = tf.gradients(v2, [labels])
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    np.testing.assert_allclose(run(g2), -np.log(softmax(z)), rtol=1e-5)


def test_sigmoid_cross_entropy_is_tensorflows_composition_and_stable():
    x = tf.constant([1000.0, -1000.0, 80.0, -80.0])
    z = tf.constant([0.0, 1.0, 1.0, 0.0])
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    assert loss.op.name == "logistic_loss" and loss.op.type == "Add"
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert {"ZerosLike", "GreaterEqual", "Select", "Neg", "Exp", "Log1p"} <= types
    (dx,) = tf.gradients(tf.reduce_sum(loss), [x])
    got, grad = run([loss, dx])
    np.testing.assert_allclose(got, [1000, 1000, 0, 0], atol=1e-6)
    np.testing.assert_allclose(grad, [1, -1, 0, 0], atol=1e-6)


def test_sparse_and_sigmoid_cross_entropy_values():
    z = rng.standard_normal((4, 5)).astype(np.float32)
    ids = np.array([0, 4, 2, 2], np.int32)
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=z)
    targets = rng.uniform(0, 1, (4, 5)).astype(np.float32)
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=z)
    got_sparse, got_sig = run([sparse, sig])
    np.testing.assert_allclose(got_sparse, -np.log(softmax(z))[range(4), ids], rtol=1e-5)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(got_sig, -targets * np.log(p) - (1 - targets) * np.log(1 - p),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids[None], logits=z)
    with pytest.raises(TypeError, match="labels must be int32 or int64 class indices"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=z)
    with pytest.raises(ValueError, match="logits and labels must have the same shape"):
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=targets[:, :3], logits=z)


def test_reductions_argmax_and_accuracy():
    xv = rng.standard_normal((3, 4)).astype(np.float32)
    x = tf.constant(xv)
    same = tf.equal(tf.argmax(x, 1), tf.argmax(x, 1))
    fetches = {
        "all": tf.reduce_sum(x), "rows": tf.reduce_mean(x, axis=1),
        "keep": tf.reduce_max(x, 0, keepdims=True),
        "old": tf.reduce_sum(x, reduction_indices=[0], keep_dims=True),
        "arg": tf.argmax(x, 1), "acc": tf.reduce_mean(tf.cast(same, tf.float32)),
    }
    assert fetches["keep"].shape.as_list() == [1, 4]
    assert fetches["arg"].dtype == tf.int64 and fetches["arg"].shape.as_list() == [3]
    got = run(fetches)
    np.testing.assert_allclose(got["all"], xv.sum(), rtol=1e-5)
    np.testing.assert_allclose(got["rows"], xv.mean(1), rtol=1e-5)
    np.testing.assert_allclose(got["keep"], xv.max(0, keepdims=True))
    np.testing.assert_allclose(got["old"], xv.sum(0, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(got["arg"], xv.argmax(1))
    assert got["acc"] == 1.0


def test_reduce_over_unknown_rank():
    x = tf.placeholder(tf.float32)
    total = tf.reduce_sum(x)
    assert run(total, {x: np.ones((2, 3, 4))}) == 24


def test_array_wrappers():
    xv = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = tf.constant(xv)
    out = {
        "reshape": tf.reshape(x, [-1, 4]), "transpose": tf.transpose(x),
        "concat": tf.concat([x, x], axis=2), "stack": tf.stack([x, x], axis=1),
        "slice": tf.slice(x, [0, 1, 0], [-1, 2, 3]), "squeeze": tf.squeeze(x[:, :1, :], [1]),
        "expand": tf.expand_dims(x, 0), "tile": tf.tile(x, [1, 2, 1]),
        "gather": tf.gather(x, [1, 0, 1]), "one_hot": tf.one_hot([0, 2], 3),
        "zeros": tf.zeros_like(x), "ones": tf.ones([2, 2]), "shape": tf.shape(x),
    }
    assert out["reshape"].shape.as_list() == [6, 4]
    assert out["transpose"].shape.as_list() == [4, 3, 2]
    assert out["concat"].shape.as_list() == [2, 3, 8]
    assert out["slice"].shape.as_list() == [2, 2, 3]
    assert out["squeeze"].shape.as_list() == [2, 4]
    got = run(out)
    np.testing.assert_array_equal(got["reshape"], xv.reshape(-1, 4))
    np.testing.assert_array_equal(got["transpose"], xv.T)
    np.testing.assert_array_equal(got["concat"], np.concatenate([xv, xv], 2))
    np.testing.assert_array_equal(got["stack"], np.stack([xv, xv], 1))
    np.testing.assert_array_equal(got["slice"], xv[:, 1:3, 0:3])
    np.testing.assert_array_equal(got["squeeze"], xv[:, 0, :])
    np.testing.assert_array_equal(got["expand"], xv[None])
    np.testing.assert_array_equal(got["tile"], np.tile(xv, (1, 2, 1)))
    np.testing.assert_array_equal(got["gather"], xv[[1, 0, 1]])
    np.testing.assert_array_equal(got["one_hot"], [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(got["zeros"], np.zeros_like(xv))
    np.testing.assert_array_equal(got["ones"], np.ones((2, 2)))
    np.testing.assert_array_equal(got["shape"], [2, 3, 4])


def test_getitem_builds_one_strided_slice():
    xv = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    x = tf.placeholder(tf.float32, [None, 4, 5])
    cases = {
        "a": (x[1], xv[1]), "b": (x[:, 1:3], xv[:, 1:3]), "c": (x[..., -1], xv[..., -1]),
        "d": (x[::-1, None, 2, ::2], xv[::-1, None, 2, ::2]), "e": (x[-2:], xv[-2:]),
    }
    assert x[1].op.type == "StridedSlice"
    assert x[1].shape.as_list() == [4, 5]
    assert x[:, 1:3].shape.as_list() == [None, 2, 5]
    assert x[::-1, None, 2, ::2].shape.as_list() == [None, 1, 3]
    assert x[-2:].shape.as_list() == [None, 4, 5]  # a batch of 1 would give 1 row, not 2
    assert tf.slice(x, [1, 0, 0], [2, -1, 3]).shape.as_list() == [2, 4, 3]
    got = run({k: t for k, (t, _) in cases.items()}, {x: xv})
    for k, (_, want) in cases.items():
        np.testing.assert_array_equal(got[k], want, err_msg=k)
    n = tf.shape(x)[0]
    assert n.shape.as_list() == []
    assert run(n, {x: xv}) == 3
    k = tf.placeholder(tf.int32, [])
    assert x[:, :k].shape.as_list() == [None, None, None]  # bounds fed: only the rank is known
    assert run(x[:, :k], {x: xv, k: 2}).shape == (3, 2, 5)


def test_dropout_scales_kept_values_and_reuses_the_mask_in_the_gradient():
    xv = np.ones((200, 50), np.float32)
    x = tf.Variable(xv)
    y = tf.nn.dropout(x, keep_prob=0.5)
    (g,) = tf.gradients(tf.reduce_sum(y), [x])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, grad = sess.run([y, g])
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0.4 < (out > 0).mean() < 0.6
    np.testing.assert_array_equal(grad, out)  # d(sum(x·mask/keep))/dx = mask/keep = out for x=1
    assert tf.nn.dropout(x, keep_prob=1.0).op.type == "Identity"
    with pytest.raises(ValueError, match="keep_prob must be a scalar tensor or a float in the "
                                         "range \\(0, 1\\]"):
        tf.nn.dropout(x, keep_prob=1.5)


def test_moments_and_batch_normalization():
    xv = rng.standard_normal((8, 3, 3, 4)).astype(np.float32)
    x = tf.constant(xv)
    mean, var = tf.nn.moments(x, axes=[0, 1, 2])
    assert mean.shape.as_list() == [4] and var.shape.as_list() == [4]
    scale, offset = tf.Variable(np.full(4, 2.0, np.float32)), tf.Variable(np.zeros(4, np.float32))
    y = tf.nn.batch_normalization(x, mean, var, offset, scale, 1e-3)
    fused, fmean, fvar = tf.nn.fused_batch_norm(x, scale, offset, epsilon=1e-3)
    got = run([mean, var, y, fused, fmean, fvar])
    m, v = xv.mean((0, 1, 2)), xv.var((0, 1, 2))
    np.testing.assert_allclose(got[0], m, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], v, rtol=1e-5)
    want = (xv - m) / np.sqrt(v + 1e-3) * 2
    np.testing.assert_allclose(got[2], want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[3], want, rtol=1e-4, atol=1e-5)
    n = xv.size / 4
    np.testing.assert_allclose(got[5], v * n / (n - 1), rtol=1e-5)  # TF's Bessel-corrected var


def test_graph_def_carries_tf_attrs():
    x = tf.placeholder(tf.float32, [1, 8, 8, 3], name="x")
    y = tf.nn.conv2d(x, tf.ones([3, 3, 3, 4]), [1, 2, 2, 1], "SAME", name="conv")
    tf.nn.max_pool(y, [1, 2, 2, 1], [1, 2, 2, 1], "VALID", name="pool")
    tf.matmul(tf.ones([2, 3]), tf.ones([4, 3]), transpose_b=True, name="mm")
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    conv = nodes["conv"]
    assert conv.op == "Conv2D"
    assert list(conv.attr["strides"].list.i) == [1, 2, 2, 1]
    assert conv.attr["padding"].s == b"SAME"
    assert conv.attr["T"].type == 1  # DT_FLOAT
    assert list(nodes["pool"].attr["ksize"].list.i) == [1, 2, 2, 1]
    assert nodes["mm"].attr["transpose_b"].b is True
    assert not any(k.startswith("_") for n in nodes.values() for k in n.attr)


def test_dropout_with_a_batch_dim_known_only_at_run_time():
    x = tf.placeholder(tf.float32, [None, 30])
    y = tf.nn.dropout(x, rate=0.25)
    assert y.shape.as_list() == [None, 30]
    out = run(y, {x: np.ones((40, 30), np.float32)})
    assert out.shape == (40, 30)
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}


def test_more_wrappers():
    x = tf.constant([[-2.0, 0.5], [3.0, -0.25]])
    out = {
        "where": tf.where(tf.greater(x, 0), x, tf.zeros_like(x)), "range": tf.range(5),
        "pad": tf.pad(x, [[1, 0], [0, 1]]), "clip": tf.clip_by_value(x, -1.0, 1.0),
        "zeros": tf.zeros([2, 3], tf.int32), "add_n": tf.add_n([x, x, x]),
        "l2": tf.nn.l2_loss(x), "leaky": tf.nn.leaky_relu(x, alpha=0.1),
        "softmax0": tf.nn.softmax(x, axis=0), "log_softmax": tf.nn.log_softmax(x),
        "sigmoid": tf.sigmoid(x), "tanh": tf.nn.tanh(x), "div": tf.divide(tf.constant([3, 4]), 2),
    }
    assert out["range"].dtype == tf.int32 and out["div"].dtype == tf.float64
    assert out["softmax0"].shape.as_list() == [2, 2]
    got = run(out)
    xv = np.array([[-2.0, 0.5], [3.0, -0.25]])
    np.testing.assert_array_equal(got["where"], np.maximum(xv, 0))
    np.testing.assert_array_equal(got["range"], np.arange(5))
    np.testing.assert_array_equal(got["pad"], np.pad(xv, [[1, 0], [0, 1]]))
    np.testing.assert_array_equal(got["clip"], np.clip(xv, -1, 1))
    np.testing.assert_array_equal(got["zeros"], np.zeros((2, 3), np.int32))
    np.testing.assert_allclose(got["add_n"], 3 * xv)
    np.testing.assert_allclose(got["l2"], (xv ** 2).sum() / 2)
    np.testing.assert_allclose(got["leaky"], np.where(xv > 0, xv, 0.1 * xv))
    np.testing.assert_allclose(got["softmax0"], softmax(xv.T).T, rtol=1e-6)
    np.testing.assert_allclose(got["log_softmax"], np.log(softmax(xv)), rtol=1e-5)
    np.testing.assert_allclose(got["sigmoid"], 1 / (1 + np.exp(-xv)), rtol=1e-6)
    np.testing.assert_allclose(got["tanh"], np.tanh(xv), rtol=1e-6)
    np.testing.assert_allclose(got["div"], [1.5, 2.0])


def test_shape_errors_name_both_sides():
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4 for 'MatMul' "
                                         r"with input shapes: \[2, 3\], \[4, 5\]"):
        tf.matmul(tf.ones([2, 3]), tf.ones([4, 5]))
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 6 elements to shape"):
        tf.reshape(tf.ones([2, 3]), [4, 2])
    with pytest.raises(ValueError, match="must be equal or 1 to broadcast, but are 3 and 2"):
        tf.add(tf.ones([2, 3]), tf.ones([2, 2]))
    with pytest.raises(ValueError, match="Must provide as many biases as the last dimension"):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([5]))


def test_every_wrapper_op_carries_the_attrs_its_row_exports():
    """``as_graph_def`` exports ``OpDef.attrs``: the wrappers must fill every one of them."""
    from flow.kernels.table import OPS

    x = tf.placeholder(tf.float32, [None, 6, 6, 2])
    h = tf.nn.conv2d(x, tf.ones([3, 3, 2, 4]), [1, 1, 1, 1], "SAME")
    h = tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(h, tf.ones([4]))), [1, 2, 2, 1], [1, 2, 2, 1],
                       "VALID")
    h = tf.nn.avg_pool(h, [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
    h = tf.nn.conv2d_transpose(h, tf.ones([3, 3, 2, 4]), [2, 6, 6, 2], [1, 2, 2, 1])
    flat = tf.reshape(h, [-1, 72])
    logits = tf.matmul(flat, tf.ones([72, 3]))
    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=logits)
    tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.one_hot([0, 1], 3), logits=logits)
    tf.nn.sigmoid_cross_entropy_with_logits(labels=logits, logits=logits)
    tf.argmax(logits, 1), tf.cast(logits, tf.int32), tf.reduce_sum(logits, 1), logits[0, ::2]
    tf.gather(logits, [0]), tf.concat([logits, logits], 0), tf.stack([logits, logits])
    tf.transpose(logits), tf.squeeze(tf.expand_dims(logits, 0)), tf.tile(logits, [1, 2])
    tf.slice(logits, [0, 0], [1, 1]), tf.pad(logits, [[0, 1], [0, 0]]), tf.shape(logits)
    tf.nn.dropout(logits, 0.5), tf.nn.leaky_relu(logits), tf.nn.l2_loss(logits)
    tf.nn.fused_batch_norm(x, tf.ones([2]), tf.zeros([2])), tf.nn.moments(x, [0, 1, 2])
    tf.where(tf.less(logits, 0.0), logits, logits), tf.add_n([logits, logits]), tf.range(3)
    tf.fill([2], 1.0), tf.size(logits), tf.rank(logits), tf.ones_like(logits)
    checked = set()
    for op in tf.get_default_graph().get_operations():
        if op.type in OPS:
            missing = set(OPS[op.type].attrs) - set(op.attrs)
            assert not missing, f"{op.name} ({op.type}) lacks attrs {sorted(missing)}"
            if "T" in op.attrs and op.outputs[0].dtype.is_floating:
                assert op.attrs["T"] == op.outputs[0].dtype, f"{op.name}: T={op.attrs['T']}"
            checked.add(op.type)
    assert len(checked) > 40


def test_shape_rules_see_const_tensors_too():
    x = tf.placeholder(tf.float32, [None, 6])
    assert tf.reshape(x, tf.constant([-1, 2, 3])).shape.as_list() == [None, 2, 3]
    assert tf.reduce_sum(x, tf.constant(1)).shape.as_list() == [None]
    assert tf.concat([x, x], tf.constant(1)).shape.as_list() == [None, 12]
    fed = tf.placeholder(tf.int32, [3])
    assert tf.reshape(x, fed).shape.as_list() == [None, None, None]


def test_composite_wrappers():
    xv = rng.standard_normal((4, 6)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 6])
    pieces = tf.split(x, 3, axis=1)
    sized = tf.split(x, [1, -1, 2], axis=1)
    rows = tf.unstack(tf.constant(xv))
    assert [p.shape.as_list() for p in sized] == [[None, 1], [None, 3], [None, 2]]
    assert len(rows) == 4 and rows[0].shape.as_list() == [6]
    lse = tf.reduce_logsumexp(x, axis=1)
    (g,) = tf.gradients(tf.reduce_sum(lse), [x])
    normed = tf.nn.l2_normalize(x, axis=1)
    dense = tf.nn.xw_plus_b(x, tf.ones([6, 2]), tf.constant([1.0, 2.0]))
    got = run({"pieces": pieces, "sized": sized, "rows": rows, "lse": lse, "g": g,
               "normed": normed, "dense": dense}, {x: xv})
    for k, p in enumerate(got["pieces"]):
        np.testing.assert_array_equal(p, xv[:, 2 * k:2 * k + 2])
    np.testing.assert_array_equal(got["sized"][1], xv[:, 1:4])
    for k, r in enumerate(got["rows"]):
        np.testing.assert_array_equal(r, xv[k])
    np.testing.assert_allclose(got["lse"], np.log(np.exp(xv).sum(1)), rtol=1e-5)
    np.testing.assert_allclose(got["g"], softmax(xv), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got["normed"], xv / np.linalg.norm(xv, axis=1, keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(got["dense"], xv.sum(1, keepdims=True) + [1.0, 2.0], rtol=1e-5)
