"""tf.while_loop: TensorFlow's frame (Enter/Merge/Switch/LoopCond/NextIteration/Exit) run by
the Session, nested loop variables, shape invariants, maximum_iterations, and gradients
through time checked by finite differences."""

import collections

import numpy as np
import pytest
from flowkit import numeric_grad

import flow as tf

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]


def test_counting_loop_and_a_single_loop_variable():
    i = tf.constant(0)
    r = tf.while_loop(lambda i: tf.less(i, 10), lambda i: tf.add(i, 1), [i])
    s = tf.while_loop(lambda x: x < 100.0, lambda x: x * 2.0, tf.constant(3.0))
    with tf.Session() as sess:
        assert sess.run([r, s]) == [10, 192.0]


def test_nested_loop_variables_keep_their_structure():
    Pair = collections.namedtuple("Pair", "a b")
    start = (tf.constant(0), Pair(tf.constant(1.0), {"c": tf.constant([1.0, 2.0])}))

    def body(i, p):
        return i + 1, Pair(p.a * 3.0, {"c": p.b["c"] + p.a})

    n, pair = tf.while_loop(lambda i, p: i < 3, body, start)
    assert isinstance(pair, Pair) and set(pair.b) == {"c"}
    with tf.Session() as sess:
        got = sess.run([n, pair])
    assert got[0] == 3 and got[1].a == 27.0
    np.testing.assert_allclose(got[1].b["c"], [1.0 + 1 + 3 + 9, 2.0 + 1 + 3 + 9])


def test_shape_invariants_let_a_value_grow():
    x = tf.constant([1.0])
    grow = lambda i, x: (i + 1, tf.concat([x, x], 0))  # noqa: E731
    with pytest.raises(ValueError, match="shape_invariants"):
        tf.while_loop(lambda i, x: i < 3, grow, [tf.constant(0), x])
    _, out = tf.while_loop(lambda i, x: i < 3, grow, [tf.constant(0), x],
                           shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    assert out.shape.as_list() == [None]
    with tf.Session() as sess:
        assert sess.run(out).shape == (8,)


def test_maximum_iterations_caps_the_loop():
    x = tf.placeholder(tf.float32, [])
    capped = tf.while_loop(lambda v: v < 1000.0, lambda v: v + 1.0, [x],
                           maximum_iterations=5)
    with tf.Session() as sess:
        assert sess.run(capped, {x: 0.0}) == 5.0
        assert sess.run(capped, {x: 998.5}) == 1000.5


def test_parallel_iterations_and_frame_are_in_the_graph_def():
    x = tf.placeholder(tf.float32, [], name="x")
    tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x], parallel_iterations=7)
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    enter = nodes["while/Enter"]
    assert enter.op == "Enter" and enter.attr["frame_name"].s == b"while"
    assert enter.attr["parallel_iterations"].i == 7 and not enter.attr["is_constant"].b
    assert list(nodes["while/Merge"].input) == ["while/Enter", "while/NextIteration"]
    assert list(nodes["while/Switch"].input) == ["while/Merge", "while/LoopCond"]
    assert list(nodes["while/Exit"].input) == ["while/Switch"]
    assert list(nodes["while/Identity"].input) == ["while/Switch:1"]
    assert nodes["while/LoopCond"].op == "LoopCond"
    assert nodes["while/NextIteration"].op == "NextIteration"


def test_gradients_through_time_match_finite_differences():
    rng = np.random.default_rng(3)
    x = tf.placeholder(tf.float64, [2, 3], name="x")
    w = tf.placeholder(tf.float64, [3, 3], name="w")
    steps = tf.placeholder(tf.int32, [], name="steps")

    def body(i, h, total):
        h = tf.tanh(tf.matmul(h, w) + x)
        return i + 1, h, total + tf.reduce_sum(h * h)

    _, h, total = tf.while_loop(lambda i, h, t: i < steps, body,
                                [tf.constant(0), x, tf.constant(0.0, tf.float64)])
    loss = total + tf.reduce_sum(h)
    gx, gw = tf.gradients(loss, [x, w])
    feed = {x: rng.normal(size=(2, 3)), w: rng.normal(size=(3, 3)) * 0.5}
    with tf.Session() as sess:
        for n in (0, 1, 5):
            run_feed = {**feed, steps: n}
            got_x, got_w = sess.run([gx, gw], run_feed)
            np.testing.assert_allclose(got_x, numeric_grad(sess, loss, x, feed[x], run_feed),
                                       rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(got_w, numeric_grad(sess, loss, w, feed[w], run_feed),
                                       rtol=1e-6, atol=1e-8)


def test_a_cond_inside_the_body_runs_and_differentiates_per_iteration():
    x = tf.placeholder(tf.float64, [], name="x")

    def body(i, v):
        v = tf.cond(tf.equal(i % 2, 0), lambda: v * v, lambda: v + 1.0)
        return i + 1, v

    _, out = tf.while_loop(lambda i, v: i < 4, body, [tf.constant(0), x])
    (g,) = tf.gradients(out, x)
    with tf.Session() as sess:
        # x -> x^2 -> x^2+1 -> (x^2+1)^2 -> (x^2+1)^2+1
        assert sess.run(out, {x: 2.0}) == 26.0
        assert sess.run(g, {x: 2.0}) == pytest.approx(2 * 5 * 2 * 2)


def test_training_a_variable_read_inside_the_loop():
    w = tf.Variable(0.5, dtype=tf.float64, name="w")
    _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * w),
                         [tf.constant(0), tf.constant(2.0, tf.float64)])
    loss = tf.square(y - 1.0)  # y = 2 w^3
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        want = 0.5 - 0.01 * 2 * (2 * 0.5 ** 3 - 1.0) * 6 * 0.5 ** 2
        assert sess.run(w) == pytest.approx(want)


def test_back_prop_false_stops_gradients():
    x = tf.placeholder(tf.float32, [])
    y = tf.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, [x], back_prop=False)
    assert tf.gradients(y, x) == [None]


def test_mistakes_are_named():
    i = tf.constant(0)
    with pytest.raises(TypeError, match="cond must be callable"):
        tf.while_loop(i < 3, lambda i: i + 1, [i])
    with pytest.raises(ValueError, match="as many values"):
        tf.while_loop(lambda i: i < 3, lambda i: (i + 1, i), [i])
    with pytest.raises(ValueError, match="keep each variable's dtype"):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32), [i])
    with pytest.raises(TypeError, match="scalar tf.bool"):
        tf.while_loop(lambda i: i, lambda i: i + 1, [i])
    with pytest.raises(ValueError, match="No loop variables"):
        tf.while_loop(lambda: True, lambda: (), [])


def test_a_loss_on_one_loop_variable_only_still_gets_its_gradient():
    x = tf.placeholder(tf.float64, [], name="x")
    y, i, z = tf.while_loop(lambda y, i, z: i < 3, lambda y, i, z: (y * x, i + 1, z + 1.0),
                            [tf.constant(1.0, tf.float64), tf.constant(0),
                             tf.constant(0.0, tf.float64)])
    (g,) = tf.gradients(y, x)  # y's Exit is not the loop's last node
    with tf.Session() as sess:
        assert sess.run(g, {x: 2.0}) == pytest.approx(3 * 2.0 ** 2)


def _nested(x, w, with_cond):
    """A loop whose body runs a loop (i + 1 times, reading the outer counter, a weight and
    the outer loop variable), optionally with a tf.cond in the inner body."""

    def outer(i, v):
        def inner(j, u):
            u2 = tf.sin(u * w) + u
            if with_cond:
                u2 = tf.cond(tf.equal(j % 2, 0), lambda: u2 * w, lambda: u2 - u * 0.5)
            return j + 1, u2

        _, v2 = tf.while_loop(lambda j, u: j < i + 1, inner, [tf.constant(0), v])
        return i + 1, v2 * 0.9 + v * 0.1

    return tf.while_loop(lambda i, v: i < 3, outer, [tf.constant(0), x])[1]


def test_a_loop_inside_a_loop_body_runs():
    x = tf.placeholder(tf.float64, [3], name="x")
    out = _nested(x, tf.constant([0.5, -0.3, 0.8], tf.float64), False)
    want = v = np.array([0.1, 0.2, 0.3])
    for i in range(3):
        for _ in range(i + 1):
            want = np.sin(want * [0.5, -0.3, 0.8]) + want
        want = v = want * 0.9 + v * 0.1
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out, {x: [0.1, 0.2, 0.3]}), want)


@pytest.mark.parametrize("with_cond", [False, True])
def test_gradients_through_nested_loops_match_finite_differences(with_cond):
    x = tf.placeholder(tf.float64, [3], name="x")
    w = tf.placeholder(tf.float64, [3], name="w")
    loss = tf.reduce_sum(tf.square(_nested(x, w, with_cond)))
    gx, gw = tf.gradients(loss, [x, w])
    feed = {x: np.array([0.1, 0.2, 0.3]), w: np.array([0.5, -0.3, 0.8])}
    with tf.Session() as sess:
        got_x, got_w = sess.run([gx, gw], feed)
        for _ in range(2):  # the stacks start empty in every run
            np.testing.assert_allclose(sess.run(gx, feed), got_x)
        np.testing.assert_allclose(got_x, numeric_grad(sess, loss, x, feed[x], feed),
                                   rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got_w, numeric_grad(sess, loss, w, feed[w], feed),
                                   rtol=1e-6, atol=1e-8)
    nodes = tf.get_default_graph().as_graph_def().node
    frames = {n.attr["frame_name"].s.decode() for n in nodes if n.op == "Enter"}
    assert {"while", "while/while", "gradients/while",
            "gradients/while/body/while/while"} <= frames


def test_the_gradient_is_a_second_loop_reading_the_forward_values_from_stacks():
    x = tf.placeholder(tf.float64, [2], name="x")
    _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.sin(v) * x),
                         [tf.constant(0), x])
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    nodes = tf.get_default_graph().as_graph_def().node
    frames = {n.name: n.attr["frame_name"].s for n in nodes if n.op == "Enter"}
    assert set(frames.values()) == {b"while", b"gradients/while"}
    pushes = [n for n in nodes if n.op == "StackPushV2"]
    pops = [n for n in nodes if n.op == "StackPopV2"]
    assert pushes and len(pushes) == len(pops)
    assert all(frames[n.input[0]] == b"while" for n in pushes)
    assert all(frames[n.input[0]] == b"gradients/while" for n in pops)
    assert "WhileGrad" not in {n.op for n in nodes}
    with tf.Session() as sess:
        for value in ([0.3, -0.7], [1.1, 0.4]):  # fresh stacks in every run
            np.testing.assert_allclose(
                sess.run(g, {x: value}),
                numeric_grad(sess, tf.reduce_sum(y), x, np.array(value), {x: value}),
                rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("taken", [True, False])
def test_a_loop_on_a_cond_branch_runs_only_when_taken_and_differentiates(taken):
    x = tf.placeholder(tf.float64, [2], name="x")
    w = tf.placeholder(tf.float64, [2], name="w")
    pred = tf.placeholder(tf.bool, [], name="pred")
    out = tf.cond(pred, lambda: tf.while_loop(lambda i, v: i < 3, lambda i, v: (
        i + 1, tf.sin(v) * w), [0, x])[1], lambda: x * 2.0)
    loss = tf.reduce_sum(out * out)
    gx, gw = tf.gradients(loss, [x, w])
    feed = {x: np.array([0.3, -0.4]), w: np.array([1.2, 0.7]), pred: taken}
    want = feed[x] * 2.0
    if taken:
        want = feed[x]
        for _ in range(3):
            want = np.sin(want) * feed[w]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out, feed), want)
        got_x, got_w = sess.run([gx, gw], feed)
        np.testing.assert_allclose(got_x, numeric_grad(sess, loss, x, feed[x], feed),
                                   rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got_w, numeric_grad(sess, loss, w, feed[w], feed),
                                   rtol=1e-6, atol=1e-8)


def test_the_stack_rows_push_and_pop_last_first_and_say_when_empty():
    from flow.kernels.table import OPS

    stack = OPS["StackV2"].forward([np.int32(-1)], {"stack_name": "s", "elem_type": tf.float32})
    for value in (np.ones(2), np.zeros(3)):
        assert OPS["StackPushV2"].forward([stack, value], {}) is value
    assert OPS["StackPopV2"].forward([stack], {}).shape == (3,)
    assert OPS["StackPopV2"].forward([stack], {}).shape == (2,)
    with pytest.raises(ValueError, match="Stack 's' is empty"):
        OPS["StackPopV2"].forward([stack], {})
