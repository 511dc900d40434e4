"""tf.layers, tf.contrib.layers and tf.losses: TF's variable and op names, TF's numbers."""

from __future__ import annotations

import numpy as np
import pytest

import flow as tf

pytestmark = pytest.mark.usefixtures("fresh_graph")
rng = np.random.default_rng(0)


def _names(variables):
    return [v.op.name for v in variables]


def test_dense_and_conv_variables_and_ops_have_tensorflows_names():
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.conv2d_transpose(h, 2, 3, strides=2, padding="same")
    h = tf.layers.average_pooling2d(h, 2, 2)
    flat = tf.layers.flatten(h)
    with tf.variable_scope("head"):
        out = tf.layers.dense(tf.layers.dense(flat, 5), 3, name="logits")
    tf.layers.dense(flat, 5)
    assert _names(tf.global_variables()) == [
        "conv2d/kernel", "conv2d/bias", "conv2d_transpose/kernel", "conv2d_transpose/bias",
        "head/dense/kernel", "head/dense/bias", "head/logits/kernel", "head/logits/bias",
        "dense/kernel", "dense/bias"]
    assert tf.global_variables()[2].shape.as_list() == [3, 3, 2, 4]  # [h, w, out, in]
    assert h.shape.as_list() == [None, 4, 4, 2] and flat.shape.as_list() == [None, 32]
    assert out.op.name == "head/logits/BiasAdd"
    ops = {op.name for op in tf.get_default_graph().get_operations()}
    assert {"conv2d/Conv2D", "conv2d/BiasAdd", "conv2d/Relu", "max_pooling2d/MaxPool",
            "average_pooling2d/AvgPool", "head/dense/MatMul"} <= ops


def test_dense_reuse_shares_the_variables_and_computes_x_w_plus_b():
    x = tf.placeholder(tf.float32, [None, 3])
    a = tf.layers.dense(x, 2, name="fc", activation=tf.nn.relu)
    b = tf.layers.dense(x, 2, name="fc", reuse=True, activation=tf.nn.relu)
    assert _names(tf.global_variables()) == ["fc/kernel", "fc/bias"]
    value = rng.standard_normal((4, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.global_variables()[1].assign([0.5, -0.5]))
        ya, yb, kernel = sess.run([a, b, tf.global_variables()[0]], {x: value})
    np.testing.assert_allclose(ya, np.maximum(value @ kernel + [0.5, -0.5], 0), rtol=1e-5)
    np.testing.assert_array_equal(ya, yb)


def test_dropout_layer_only_drops_when_training():
    x = tf.ones([1000])
    training = tf.placeholder(tf.bool, [])
    out = tf.layers.dropout(x, rate=0.5, training=training)
    static = tf.layers.dropout(x, rate=0.5)
    with tf.Session() as sess:
        dropped, kept, plain = (sess.run(out, {training: True}), sess.run(out, {training: False}),
                                sess.run(static))
    assert set(np.unique(dropped)) == {0.0, 2.0} and 350 < (dropped == 0).sum() < 650
    np.testing.assert_array_equal(kept, np.ones(1000))
    np.testing.assert_array_equal(plain, np.ones(1000))


@pytest.mark.parametrize("rank", [2, 4])
def test_batch_normalization_trains_on_batch_statistics_and_updates_moving_ones(rank):
    shape = [6, 3] if rank == 2 else [2, 2, 3, 3]
    x = tf.placeholder(tf.float32, shape)
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, training=training, momentum=0.9)
    assert _names(tf.global_variables()) == [
        "batch_normalization/gamma", "batch_normalization/beta",
        "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert _names(tf.trainable_variables()) == _names(tf.global_variables())[:2]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert [u.op.name for u in updates] == ["batch_normalization/AssignMovingAvg",
                                            "batch_normalization/AssignMovingAvg_1"]
    value = rng.standard_normal(shape).astype(np.float32) * 2 + 1
    flat = value.reshape(-1, 3)
    n = flat.shape[0]
    # TF's fused (rank-4) path moves the variance by its Bessel-corrected batch variance
    variance = flat.var(0) * (n / (n - 1) if rank == 4 else 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(y, {x: value, training: True})
        sess.run(updates, {x: value, training: True})
        mean, var = sess.run(tf.global_variables()[2:])
        frozen = sess.run(y, {x: value, training: False})
        sess.run(updates, {x: value, training: False})
        again = sess.run(tf.global_variables()[2:])
    np.testing.assert_allclose(out.reshape(-1, 3), (flat - flat.mean(0)) /
                               np.sqrt(flat.var(0) + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean, 0.1 * flat.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.9 + 0.1 * variance, rtol=1e-5)
    np.testing.assert_allclose(frozen.reshape(-1, 3), (flat - mean) / np.sqrt(var + 1e-3),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(again, [mean, var])  # not training: the averages stay


def test_contrib_layers_names_and_l2_regularizer():
    x = tf.placeholder(tf.float32, [None, 4, 2])
    flat = tf.contrib.layers.flatten(x)
    out = tf.contrib.layers.fully_connected(
        flat, 3, weights_regularizer=tf.contrib.layers.l2_regularizer(0.5),
        weights_initializer=tf.contrib.layers.xavier_initializer(seed=1))
    tf.contrib.layers.fully_connected(out, 2, activation_fn=None)
    assert _names(tf.global_variables()) == [
        "fully_connected/weights", "fully_connected/biases", "fully_connected_1/weights",
        "fully_connected_1/biases"]
    reg = tf.losses.get_regularization_loss()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w, r = sess.run([tf.global_variables()[0], reg])
    assert abs(w).max() <= np.sqrt(6 / (8 + 3))  # Glorot uniform's limit
    np.testing.assert_allclose(r, 0.5 * (w ** 2).sum() / 2, rtol=1e-5)
    with pytest.raises(ValueError, match="scale cannot be an integer"):
        tf.contrib.layers.l2_regularizer(1)


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


LABELS = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], np.float32)
PRED = np.array([[0.2, 0.9], [0.5, -0.7], [1.5, 0.1]], np.float32)
WEIGHTS = np.array([[1.0], [0.0], [2.0]], np.float32)


@pytest.mark.parametrize("fn, per_element", [
    (tf.losses.mean_squared_error, lambda y, p: (p - y) ** 2),
    (tf.losses.absolute_difference, lambda y, p: abs(p - y)),
    (lambda labels, predictions, weights: tf.losses.huber_loss(labels, predictions, weights,
                                                               delta=0.5),
     lambda y, p: np.where(abs(p - y) <= 0.5, 0.5 * (p - y) ** 2, 0.5 * (abs(p - y) - 0.25))),
])
def test_weighted_losses_divide_by_the_nonzero_weights(fn, per_element):
    loss = fn(labels=LABELS, predictions=PRED, weights=WEIGHTS)
    weights = np.broadcast_to(WEIGHTS, LABELS.shape)
    want = (per_element(LABELS, PRED) * weights).sum() / (weights != 0).sum()
    np.testing.assert_allclose(_run(loss), want, rtol=1e-5)
    assert tf.losses.get_losses() == [loss]


def test_cross_entropy_losses_match_their_formulas():
    logits = PRED
    sig = tf.losses.sigmoid_cross_entropy(LABELS, logits, label_smoothing=0.2)
    smooth = LABELS * 0.8 + 0.1
    want_sig = (np.maximum(logits, 0) - logits * smooth + np.log1p(np.exp(-abs(logits)))).mean()
    soft = tf.losses.softmax_cross_entropy(LABELS / LABELS.sum(1, keepdims=True), logits)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    want_soft = -(LABELS / LABELS.sum(1, keepdims=True) * log_p).sum(1).mean()
    sparse = tf.losses.sparse_softmax_cross_entropy([1, 0, 0], logits, weights=[1.0, 2.0, 0.0])
    want_sparse = -(log_p[0, 1] + 2 * log_p[1, 0]) / 2
    np.testing.assert_allclose(_run([sig, soft, sparse]), [want_sig, want_soft, want_sparse],
                               rtol=1e-5)
    assert len(tf.losses.get_losses()) == 3


def test_total_loss_adds_the_regularization_losses():
    w = tf.get_variable("w", [2], initializer=tf.constant_initializer([1.0, 2.0]),
                        regularizer=lambda v: 0.1 * tf.reduce_sum(v * v))
    tf.losses.add_loss(tf.reduce_sum(w))
    total = tf.losses.get_total_loss()
    assert total.op.name == "total_loss"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(total) == pytest.approx(3.0 + 0.5)
        assert sess.run(tf.losses.get_regularization_loss()) == pytest.approx(0.5)


def test_total_loss_without_losses_says_how_to_add_one():
    with pytest.raises(ValueError, match="tf.losses.add_loss"):
        tf.losses.get_total_loss()
