"""tf.cond / tf.case: both branches in the graph, only the taken one runs, gradients through
the taken branch (checked by finite differences), TensorFlow's Switch/Merge nodes in the
GraphDef."""

import numpy as np
import pytest
from flowkit import numeric_grad

import flow as tf
from flow.core import errors
from flow.kernels.control_flow import DEAD
from flow.kernels.table import OPS

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]


def test_only_the_taken_branch_runs():
    p = tf.placeholder(tf.bool, [], name="p")
    hits_t = tf.Variable(0, name="hits_t")
    hits_f = tf.Variable(0, name="hits_f")
    out = tf.cond(p, lambda: tf.assign_add(hits_t, 1), lambda: tf.assign_add(hits_f, 10))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {p: True}) == 1
        assert sess.run(out, {p: True}) == 2
        assert sess.run(out, {p: False}) == 10
        assert sess.run([hits_t, hits_f]) == [2, 10]


def test_both_branches_are_built_under_the_cond_scope():
    x = tf.constant(3.0, name="x")
    y = tf.cond(x > 2.0, lambda: x * 2.0, lambda: tf.square(x))
    names = {op.name: op.type for op in tf.get_default_graph().get_operations()}
    assert y.op.type == "Merge" and y.op.name == "cond/Merge"
    assert {"cond/mul", "cond/Square", "cond/switch_t", "cond/switch_f", "cond/pred_id"} <= \
        set(names)
    with tf.Session() as sess:
        assert sess.run(y) == 6.0


def test_constant_branches_and_nested_structures():
    p = tf.placeholder(tf.bool, [])
    a = tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(2.0))
    pair = tf.cond(p, lambda: {"x": tf.constant(1), "y": (tf.constant(2.0),)},
                   lambda: {"x": tf.constant(3), "y": (tf.constant(4.0),)})
    single = tf.cond(p, lambda: [tf.constant(5)], lambda: [tf.constant(6)])
    kept = tf.cond(p, lambda: [tf.constant(5)], lambda: [tf.constant(6)], strict=True)
    assert isinstance(pair, dict) and isinstance(pair["y"], tuple)
    assert isinstance(kept, list)
    with tf.Session() as sess:
        assert sess.run([a, pair, single, kept], {p: True}) == [1.0, {"x": 1, "y": (2.0,)}, 5,
                                                                 [5]]
        assert sess.run([a, pair, single], {p: False}) == [2.0, {"x": 3, "y": (4.0,)}, 6]


def test_nested_cond_and_outer_values():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.cond(x > 0.0,
                lambda: tf.cond(x > 10.0, lambda: x * 100.0, lambda: x + 1.0),
                lambda: -x)
    with tf.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (20.0, 3.0, -4.0)] == [2000.0, 4.0, 4.0]


def test_gradients_follow_the_taken_branch_and_match_finite_differences():
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float64, [3], name="x")
    w = tf.placeholder(tf.float64, [3], name="w")
    p = tf.placeholder(tf.bool, [], name="p")
    loss = tf.cond(p, lambda: tf.reduce_sum(tf.tanh(x * w) * w),
                   lambda: tf.reduce_sum(tf.sin(x)) + tf.reduce_sum(x * x * 3.0))
    loss = loss * tf.reduce_sum(x)  # and a use outside the cond
    gx, gw = tf.gradients(loss, [x, w])
    feed = {x: rng.normal(size=3), w: rng.normal(size=3)}
    with tf.Session() as sess:
        for taken in (True, False):
            run_feed = {**feed, p: taken}
            got_x, got_w = sess.run([gx, gw], run_feed)
            np.testing.assert_allclose(got_x, numeric_grad(sess, loss, x, feed[x], run_feed),
                                       rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(got_w, numeric_grad(sess, loss, w, feed[w], run_feed),
                                       rtol=1e-6, atol=1e-8)
        assert not np.any(sess.run(gw, {**feed, p: False}))  # w is only on the true branch


def test_training_through_a_cond_moves_only_the_used_variable():
    p = tf.placeholder(tf.bool, [])
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, name="b")
    loss = tf.cond(p, lambda: tf.square(a - 3.0), lambda: tf.square(b + 2.0))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {p: True})
        assert sess.run([a, b]) == pytest.approx([1.4, 1.0])
        sess.run(train, {p: False})
        assert sess.run([a, b]) == pytest.approx([1.4, 0.4])


def test_case_takes_the_first_true_predicate_then_the_default():
    x = tf.placeholder(tf.float32, [])
    y = tf.case([(x > 10.0, lambda: x * 2.0), (x > 0.0, lambda: x * 3.0)],
                default=lambda: -x)
    last_is_default = tf.case({x > 0.0: lambda: tf.constant(1), x > -5.0: lambda: tf.constant(2)})
    with tf.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (20.0, 2.0, -1.0)] == [40.0, 6.0, 1.0]
        assert [sess.run(last_is_default, {x: v}) for v in (1.0, -1.0, -9.0)] == [1, 2, 2]


def test_mistakes_are_named():
    x = tf.constant(1.0)
    with pytest.raises(TypeError, match="true_fn must be callable"):
        tf.cond(x > 0.0, x, lambda: x)
    with pytest.raises(TypeError, match="scalar tf.bool"):
        tf.cond(x, lambda: x, lambda: x)
    with pytest.raises(ValueError, match="same structure"):
        tf.cond(x > 0.0, lambda: (x, x), lambda: x)
    with pytest.raises(ValueError, match="same type"):
        tf.cond(x > 0.0, lambda: x, lambda: tf.constant(1))
    with pytest.raises(TypeError, match="2-tuple"):
        tf.case([x > 0.0], default=lambda: x)


def test_fetching_a_value_of_the_branch_not_taken_is_an_error():
    p = tf.placeholder(tf.bool, [])
    inside = []

    def branch():
        inside.append(tf.constant(1.0) * 2.0)
        return inside[0]

    tf.cond(p, branch, lambda: tf.constant(0.0))
    with tf.Session() as sess:
        assert sess.run(inside[0], {p: True}) == 2.0
        with pytest.raises(errors.InvalidArgumentError, match=r"Retval\[0\] does not have value: .* did not take"):
            sess.run(inside[0], {p: False})


def test_graph_def_has_tensorflows_switch_and_merge():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.cond(x > 0.0, lambda: x * 2.0, lambda: x)
    tf.gradients(y, x)
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    merge = nodes["cond/Merge"]
    assert merge.op == "Merge" and merge.attr["N"].i == 2 and list(merge.input) == [
        "cond/Identity_1", "cond/Identity"] and "_pred" not in merge.attr
    assert nodes["cond/Switch"].op == "Switch" and list(nodes["cond/Switch"].input) == [
        "Greater", "Greater"]
    assert list(nodes["cond/mul/Switch"].input) == ["x", "cond/pred_id"]
    assert list(nodes["cond/Const"].input) == ["^cond/switch_t"]
    assert {n.op for n in nodes.values()} >= {"Switch", "Merge", "SymbolicGradient"}


def test_switch_and_merge_rows_forward_live_values_and_dead_ones():
    x = np.arange(3.0)
    switch, merge = OPS["Switch"], OPS["Merge"]
    assert switch.forward([x, np.bool_(True)], {})[0] is DEAD
    assert switch.forward([x, np.bool_(True)], {})[1] is x
    assert switch.forward([x, np.bool_(False)], {})[1] is DEAD
    assert switch.forward([DEAD, np.bool_(False)], {}) == (DEAD, DEAD)
    value, index = merge.forward([DEAD, x], {})
    assert value is x and index == 1 and index.dtype == np.int32
    assert merge.forward([DEAD, DEAD], {}) == (DEAD, DEAD)
    assert switch.shape([(3,), ()], {}) == [(3,), (3,)]
    assert merge.shape([(3,), (3,)], {}) == [(3,), ()]
    assert merge.shape([(3,), (4,)], {}) == [None, ()]
