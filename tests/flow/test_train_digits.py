"""End to end: an MLP and a small CNN trained with flow on scikit-learn's digits (8x8 images)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import flow as tf

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fresh_graph")]



@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], data.target[order].astype(np.int64)
    return x[:1400], y[:1400], x[1400:], y[1400:]


def dense(x, n_out, name, activation=None):
    with tf.variable_scope(name):
        w = tf.get_variable("weights", [x.get_shape()[-1], n_out])
        b = tf.get_variable("biases", [n_out], initializer=tf.zeros_initializer())
        y = tf.matmul(x, w) + b
    return activation(y) if activation else y


def train_and_score(digits, logits_fn, image_shape, epochs, lr):
    x_train, y_train, x_test, y_test = digits
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, *image_shape], name="x")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    logits = logits_fn(x)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(lr).minimize(loss, global_step=step)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
    rng = np.random.default_rng(1)
    shaped_train = x_train.reshape(-1, *image_shape)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: shaped_train, labels: y_train})
        for _ in range(epochs):
            order = rng.permutation(len(x_train))
            for i in range(0, len(order), 64):
                batch = order[i:i + 64]
                sess.run(train, {x: shaped_train[batch], labels: y_train[batch]})
        last = sess.run(loss, {x: shaped_train, labels: y_train})
        score = sess.run(accuracy, {x: x_test.reshape(-1, *image_shape), labels: y_test})
        assert sess.run(step) == epochs * int(np.ceil(len(x_train) / 64))
    assert last < first / 5
    return score


def test_mlp_reaches_95_percent(digits):
    def mlp(x):
        h = dense(x, 128, "fc1", tf.nn.relu)
        h = dense(h, 64, "fc2", tf.nn.relu)
        return dense(h, 10, "logits")

    assert train_and_score(digits, mlp, [64], epochs=8, lr=2e-3) >= 0.95


def test_cnn_reaches_93_percent(digits):
    def cnn(x):
        h = x
        for name, channels in [("conv1", 8), ("conv2", 16)]:
            with tf.variable_scope(name):
                k = tf.get_variable("weights", [3, 3, h.get_shape()[-1], channels])
                b = tf.get_variable("biases", [channels], initializer=tf.zeros_initializer())
                h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME"), b))
                h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        flat = tf.reshape(h, [-1, 2 * 2 * 16])
        return dense(flat, 10, "logits")

    assert train_and_score(digits, cnn, [8, 8, 1], epochs=6, lr=5e-3) >= 0.93
