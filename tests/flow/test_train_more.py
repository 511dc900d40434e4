"""The optimizers, schedules and moving averages added for TF1 programs: TF's update formulas
(training_ops.cc) against numpy, TF's slot names, TF's schedule formulas."""

from __future__ import annotations

import numpy as np
import pytest

import flow as tf

pytestmark = pytest.mark.usefixtures("fresh_graph")
G = np.array([0.5, -1.0, 2.0], np.float32)
W0 = np.array([1.0, 2.0, -3.0], np.float32)


def _rmsprop(steps, lr=0.1, rho=0.9, mom=0.5, eps=1e-10):
    w, ms, m = W0.astype(np.float64), np.ones(3), np.zeros(3)
    for _ in range(steps):
        ms = rho * ms + (1 - rho) * G * G
        m = mom * m + lr * G / np.sqrt(ms + eps)
        w = w - m
    return w


def _adagrad(steps, lr=0.1, init=0.1):
    w, acc = W0.astype(np.float64), np.full(3, init)
    for _ in range(steps):
        acc = acc + G * G
        w = w - lr * G / np.sqrt(acc)
    return w


def _adadelta(steps, lr=1.0, rho=0.95, eps=1e-6):
    w, acc, upd = W0.astype(np.float64), np.zeros(3), np.zeros(3)
    for _ in range(steps):
        acc = rho * acc + (1 - rho) * G * G
        step = np.sqrt(upd + eps) / np.sqrt(acc + eps) * G
        upd = rho * upd + (1 - rho) * step * step
        w = w - lr * step
    return w


def _ftrl(steps, lr=0.5, l1=0.1, l2=0.2, init=0.1):
    w, acc, lin = W0.astype(np.float64), np.full(3, init), np.zeros(3)
    for _ in range(steps):
        new = acc + G * G
        lin = lin + G - (np.sqrt(new) - np.sqrt(acc)) / lr * w
        w = np.where(abs(lin) > l1, (np.sign(lin) * l1 - lin) / (np.sqrt(new) / lr + 2 * l2), 0)
        acc = new
    return w


def _proximal(steps, lr=0.5, l1=0.3, l2=0.1):
    w = W0.astype(np.float64)
    for _ in range(steps):
        prox = w - lr * G
        w = np.sign(prox) * np.maximum(abs(prox) - lr * l1, 0) / (1 + lr * l2)
    return w


@pytest.mark.parametrize("make, reference, slots", [
    (lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5), _rmsprop, ["w/RMSProp", "w/RMSProp_1"]),
    (lambda: tf.train.AdagradOptimizer(0.1), _adagrad, ["w/Adagrad"]),
    (lambda: tf.train.AdadeltaOptimizer(1.0, epsilon=1e-6), _adadelta,
     ["w/Adadelta", "w/Adadelta_1"]),
    (lambda: tf.train.FtrlOptimizer(0.5, l1_regularization_strength=0.1,
                                    l2_regularization_strength=0.2), _ftrl, ["w/Ftrl", "w/Ftrl_1"]),
    (lambda: tf.train.ProximalGradientDescentOptimizer(0.5, 0.3, 0.1), _proximal, []),
])
def test_optimizer_steps_follow_tensorflows_formulas(make, reference, slots):
    w = tf.Variable(W0, name="w")
    loss = tf.reduce_sum(w * G)  # d loss / d w = G
    opt = make()
    train = opt.minimize(loss)
    assert [v.op.name for v in tf.global_variables()] == ["w", *slots]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        np.testing.assert_allclose(sess.run(w), reference(3), rtol=1e-5, atol=1e-6)


def test_centered_rmsprop_has_three_slots_and_subtracts_the_mean_gradient():
    w = tf.Variable(W0, name="w")
    opt = tf.train.RMSPropOptimizer(0.1, centered=True)
    train = opt.minimize(tf.reduce_sum(w * G))
    assert [v.op.name for v in tf.global_variables()] == ["w", "w/RMSProp", "w/RMSProp_1",
                                                          "w/RMSProp_2"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        ms, mg = 0.9 + 0.1 * G * G, 0.1 * G
        np.testing.assert_allclose(sess.run(w), W0 - 0.1 * G / np.sqrt(ms - mg * mg + 1e-10),
                                   rtol=1e-5)


def test_optimizer_argument_errors_name_the_value():
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive: -1"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="learning_rate_power 0.5"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)


@pytest.mark.parametrize("step", [0, 150, 250, 1000])
def test_learning_rate_schedules(step):
    s = tf.constant(step, tf.int64)
    got = tf.Session().run([
        tf.train.exponential_decay(0.1, s, 100, 0.5),
        tf.train.exponential_decay(0.1, s, 100, 0.5, staircase=True),
        tf.train.inverse_time_decay(0.1, s, 100, 0.5),
        tf.train.polynomial_decay(0.1, s, 500, 0.01, power=2.0),
        tf.train.polynomial_decay(0.1, s, 500, 0.01, cycle=True),
        tf.train.piecewise_constant(s, [100, 200], [1.0, 0.5, 0.1]),
        tf.train.natural_exp_decay(0.1, s, 100, 0.5)])
    capped = min(step, 500)
    cycle_steps = 500 * max(1, np.ceil(step / 500))
    want = [0.1 * 0.5 ** (step / 100), 0.1 * 0.5 ** (step // 100), 0.1 / (1 + 0.5 * step / 100),
            0.09 * (1 - capped / 500) ** 2 + 0.01, 0.09 * (1 - step / cycle_steps) + 0.01,
            1.0 if step <= 100 else 0.5 if step <= 200 else 0.1,
            0.1 * np.exp(-0.5 * step / 100)]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_exponential_moving_average_shadows_and_restore_names():
    w = tf.Variable([1.0, 2.0], name="w")
    step = tf.Variable(0, trainable=False, name="step")
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
    update = ema.apply([w])
    shadow = ema.average(w)
    assert shadow.op.name == "w/ExponentialMovingAverage" == ema.average_name(w)
    assert ema.variables_to_restore() == {"w/ExponentialMovingAverage": w, "step": step}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign([3.0, 4.0]))
        sess.run(update)  # decay = min(0.9, 1/10) = 0.1 at step 0
        np.testing.assert_allclose(sess.run(shadow), [1 + 0.9 * 2, 2 + 0.9 * 2], rtol=1e-6)


def test_clip_by_global_norm_scales_every_gradient_by_one_factor():
    a, b = tf.constant([3.0, 0.0]), tf.constant([[4.0]])
    (ca, none, cb), norm = tf.clip_by_global_norm([a, None, b], 2.5)
    assert none is None
    got_a, got_b, got_norm = tf.Session().run([ca, cb, norm])
    assert got_norm == pytest.approx(5.0)
    np.testing.assert_allclose(got_a, [1.5, 0.0])
    np.testing.assert_allclose(got_b, [[2.0]])
    np.testing.assert_allclose(tf.Session().run(tf.clip_by_norm(a, 1.0)), [1.0, 0.0])


def test_adam_on_a_large_variable_is_the_array_formula_bit_for_bit():
    """ApplyAdam runs a large variable in blocks (flow.kernels.state._BLOCK); three blocks,
    the last one partial, give exactly the float32 numbers of TF's array formula."""
    from flow.kernels.state import _BLOCK

    rng = np.random.default_rng(0)
    n = 2 * _BLOCK + 123
    w0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    g = tf.placeholder(tf.float32, [n])
    w = tf.Variable(w0)
    train = tf.train.AdamOptimizer(0.01).apply_gradients([(g, w)])
    f = np.float32
    lr, b1, b2, eps = f(0.01), f(0.9), f(0.999), f(1e-8)
    want, m, v = w0, np.zeros(n, np.float32), np.zeros(n, np.float32)
    b1_power, b2_power = b1, b2  # TF's beta powers: variables multiplied by beta each step
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for grad in grads:
            sess.run(train, {g: grad})
            lr_t = lr * np.sqrt(1 - b2_power) / (1 - b1_power)
            b1_power, b2_power = b1_power * b1, b2_power * b2
            m = m + (grad - m) * (1 - b1)
            v = v + (grad * grad - v) * (1 - b2)
            want = want - lr_t * m / (np.sqrt(v) + eps)
            np.testing.assert_array_equal(sess.run(w), want)
