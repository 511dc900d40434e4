"""tf.gradients against finite differences, and the optimizers against hand computations."""

import numpy as np
import pytest
from flowkit import numeric_grad

import flow as tf

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]


def test_gradients_of_a_small_graph_match_finite_differences():
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float64, [3, 4], name="x")
    w = tf.placeholder(tf.float64, [4, 2], name="w")
    b = tf.placeholder(tf.float64, [2], name="b")
    h = tf.tanh(tf.matmul(x, w) + b)
    loss = tf.reduce_sum(h * h) + tf.reduce_mean(tf.exp(x) * 0.1) + tf.reduce_sum(w) * 2.0
    gx, gw, gb = tf.gradients(loss, [x, w, b])
    assert gx.op.name.startswith("gradients/") and gx.shape.as_list() == [3, 4]
    feed = {x: rng.normal(size=(3, 4)), w: rng.normal(size=(4, 2)), b: rng.normal(size=2)}
    with tf.Session() as sess:
        got = sess.run([gx, gw, gb], feed)
        for t, g in zip([x, w, b], got, strict=True):
            np.testing.assert_allclose(g, numeric_grad(sess, loss, t, feed[t], feed), rtol=1e-5,
                                       atol=1e-7)


def test_multiple_paths_sum_and_unconnected_is_none():
    x = tf.placeholder(tf.float32, [], name="x")
    y = x * x + 3.0 * x + tf.exp(x)  # three paths from x
    other = tf.placeholder(tf.float32, [], name="other")
    gx, go = tf.gradients(y, [x, other])
    assert go is None
    with tf.Session() as sess:
        value = sess.run(gx, {x: 2.0})
    assert value == pytest.approx(2 * 2.0 + 3.0 + np.exp(2.0), rel=1e-5)


def test_stop_gradient_grad_ys_and_second_call_scope():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = x * tf.stop_gradient(x * 2.0)
    (g,) = tf.gradients(y, [x], grad_ys=[tf.constant([1.0, 10.0])])
    (g2,) = tf.gradients(tf.reduce_sum(x * x), x)
    assert g2.op.name.startswith("gradients_1/")
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: [1.0, 3.0]}), [2.0, 60.0])
        np.testing.assert_allclose(sess.run(g2, {x: [1.0, 3.0]}), [2.0, 6.0])


def test_gradient_with_respect_to_variables_goes_through_read():
    w = tf.Variable([1.0, 2.0], name="w")
    loss = tf.reduce_sum(w * w)
    (g,) = tf.gradients(loss, [w])
    with tf.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_allclose(sess.run(g), [2.0, 4.0])


def _setup(opt, steps=1, global_step=None):
    w = tf.Variable([1.0, -2.0], name="w")
    b = tf.Variable(0.5, name="b")
    x = tf.constant([3.0, 4.0])
    loss = tf.reduce_sum(w * x) + b * b
    train = opt.minimize(loss, global_step=global_step)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    for _ in range(steps):
        sess.run(train)
    return sess, w, b, train


def test_gradient_descent_one_step():
    sess, w, b, _ = _setup(tf.train.GradientDescentOptimizer(0.1))
    np.testing.assert_allclose(sess.run(w), [1.0 - 0.1 * 3.0, -2.0 - 0.1 * 4.0], rtol=1e-6)
    assert sess.run(b) == pytest.approx(0.5 - 0.1 * 1.0)
    assert len(tf.global_variables()) == 2  # no slots


def test_momentum_two_steps_and_slot_names():
    opt = tf.train.MomentumOptimizer(0.1, momentum=0.9)
    sess, w, b, _ = _setup(opt, steps=2)
    g = np.array([3.0, 4.0])
    accum = g
    expected = np.array([1.0, -2.0]) - 0.1 * accum
    accum = accum * 0.9 + g
    expected = expected - 0.1 * accum
    np.testing.assert_allclose(sess.run(w), expected, rtol=1e-6)
    assert opt.get_slot(w, "momentum").op.name == "w/Momentum"
    assert opt.get_slot_names() == ["momentum"]


def test_adam_one_step_slots_and_global_step():
    step = tf.train.get_or_create_global_step()
    opt = tf.train.AdamOptimizer(0.01)
    sess, w, b, train = _setup(opt, global_step=step)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    g = np.array([3.0, 4.0])
    m = (1 - b1) * g
    v = (1 - b2) * g * g
    lr_t = lr * np.sqrt(1 - b2) / (1 - b1)
    np.testing.assert_allclose(sess.run(w), np.array([1.0, -2.0]) - lr_t * m / (np.sqrt(v) + eps),
                               rtol=1e-5)
    np.testing.assert_allclose(sess.run(opt.get_slot(w, "m")), m, rtol=1e-5)
    np.testing.assert_allclose(sess.run(opt.get_slot(w, "v")), v, rtol=1e-4)  # float32 1-b2
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["global_step", "w", "b", "beta1_power", "beta2_power", "w/Adam", "w/Adam_1",
                     "b/Adam", "b/Adam_1"]
    assert sess.run("beta1_power:0") == pytest.approx(b1 * b1)
    assert sess.run("beta2_power:0") == pytest.approx(b2 * b2)
    assert sess.run(step) == 1 and train.type == "AssignAdd" and train.name == "Adam"
    assert sess.run(train) is None and sess.run(step) == 2  # the train op is the step update
    assert train in tf.get_collection(tf.GraphKeys.TRAIN_OP)
    assert {v.op.name for v in tf.trainable_variables()} == {"w", "b"}


def test_optimizer_made_after_the_initializer_names_the_slot():
    w = tf.Variable(1.0, name="w")
    init = tf.global_variables_initializer()
    train = tf.train.AdamOptimizer().minimize(w * w)
    with tf.Session() as sess:
        sess.run(init)
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="uninitialized value (beta1_power|beta2_power|w/Adam)"):
            sess.run(train)


def test_slots_under_a_reusing_scope_fail_as_in_tf():
    w = tf.get_variable("w", [2])
    tf.get_variable_scope().reuse_variables()
    with pytest.raises(ValueError, match="Variable w/Adam/ does not exist"):
        tf.train.AdamOptimizer().minimize(tf.reduce_sum(w * w))


def test_optimizer_argument_errors():
    x = tf.placeholder(tf.float32, [])
    with pytest.raises(ValueError, match="No variables to optimize."):
        tf.train.GradientDescentOptimizer(0.1).minimize(x * x)
    v = tf.Variable(1.0)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        tf.train.GradientDescentOptimizer(0.1).minimize(x * x, var_list=[v])
