"""tf.TensorArray: write/read/stack/unstack/gather/scatter/size, growth with dynamic_size,
TF's errors, and use as a while_loop variable with gradients through time."""

import numpy as np
import pytest

import flow as tf
from flow.core import errors

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]


def test_write_read_stack_and_size():
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False)  # read more than once
    ta = ta.write(0, [1.0, 2.0]).write(2, [5.0, 6.0]).write(1, tf.constant([3.0, 4.0]))
    assert ta.element_shape.as_list() == [2]
    stacked = ta.stack()
    assert stacked.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        got = sess.run([ta.read(1), stacked, ta.size(), ta.gather([2, 0])])
    np.testing.assert_array_equal(got[0], [3.0, 4.0])
    np.testing.assert_array_equal(got[1], [[1, 2], [3, 4], [5, 6]])
    assert got[2] == 3
    np.testing.assert_array_equal(got[3], [[5, 6], [1, 2]])


def test_unstack_scatter_and_a_growing_array():
    x = tf.placeholder(tf.float32, [None, 2])
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True).unstack(x)
    grown = ta.write(4, [9.0, 9.0])
    scattered = tf.TensorArray(tf.float32, size=3).scatter([2, 0], [[1.0], [2.0]])
    with tf.Session() as sess:
        value = np.arange(6, dtype=np.float32).reshape(3, 2)
        assert sess.run(ta.size(), {x: value}) == 3
        np.testing.assert_array_equal(sess.run(grown.stack(), {x: value}),
                                      [[0, 1], [2, 3], [4, 5], [0, 0], [9, 9]])
        np.testing.assert_array_equal(sess.run(scattered.stack()), [[2.0], [0.0], [1.0]])


def test_mistakes_are_named():
    with pytest.raises(ValueError, match="Size must be provided"):
        tf.TensorArray(tf.float32)
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        ta.write(1, [1.0, 2.0, 3.0])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="not resizeable"):
            sess.run(ta.write(2, [0.0, 0.0]).stack())
        with pytest.raises(errors.InvalidArgumentError, match="Tried to read from index 5"):
            sess.run(ta.read(5))


def test_a_recurrence_over_tensor_arrays_in_a_while_loop_and_its_gradients():
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float64, [4, 2, 3], name="x")
    w = tf.placeholder(tf.float64, [3, 3], name="w")
    inputs = tf.TensorArray(tf.float64, size=4).unstack(x)
    outputs = tf.TensorArray(tf.float64, size=4)

    def body(t, h, out):
        h = tf.tanh(tf.matmul(h, w) + inputs.read(t))
        return t + 1, h, out.write(t, h)

    _, _, outputs = tf.while_loop(lambda t, h, o: t < 4, body,
                                  [tf.constant(0), tf.zeros([2, 3], tf.float64), outputs])
    assert isinstance(outputs, tf.TensorArray)
    ys = outputs.stack()
    loss = tf.reduce_sum(ys * ys * tf.range(1.0, 5.0, dtype=tf.float64)[:, None, None])
    gx, gw = tf.gradients(loss, [x, w])
    feed = {x: rng.normal(size=(4, 2, 3)), w: rng.normal(size=(3, 3))}
    with tf.Session() as sess:
        h, want = np.zeros((2, 3)), []
        for t in range(4):
            h = np.tanh(h @ feed[w] + feed[x][t])
            want.append(h)
        np.testing.assert_allclose(sess.run(ys, feed), want, rtol=1e-12)
        for var, got in ((x, sess.run(gx, feed)), (w, sess.run(gw, feed))):
            num = np.zeros_like(feed[var])
            for idx in np.ndindex(num.shape):
                up, down = feed[var].copy(), feed[var].copy()
                up[idx] += 1e-6
                down[idx] -= 1e-6
                num[idx] = (sess.run(loss, {**feed, var: up}) -
                            sess.run(loss, {**feed, var: down})) / 2e-6
            np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def test_an_index_is_written_once_as_in_tensorflow():
    ta = tf.TensorArray(tf.float32, size=3).write(1, [1.0])
    twice = ta.write(1, [2.0])
    scattered = tf.TensorArray(tf.float32, size=3).scatter([0, 2, 0], [[1.0], [2.0], [3.0]])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="index 1 because it has already"):
            sess.run(twice.stack())
        with pytest.raises(errors.InvalidArgumentError, match="index 0 because it has already"):
            sess.run(scattered.stack())
        # each run starts from a new array: the writes of one run are not seen by the next
        np.testing.assert_array_equal(sess.run(ta.stack()), [[0.0], [1.0], [0.0]])
        np.testing.assert_array_equal(sess.run(ta.stack()), [[0.0], [1.0], [0.0]])


def test_a_read_clears_its_row_unless_clear_after_read_is_false():
    ta = tf.TensorArray(tf.float32, size=2).unstack([[1.0], [2.0]])
    kept = tf.TensorArray(tf.float32, size=2, clear_after_read=False).unstack([[1.0], [2.0]])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Could not read index 0 twice"):
            sess.run([ta.read(0), ta.stack()])
        np.testing.assert_array_equal(sess.run(ta.read(1)), [2.0])  # a new array each run
        np.testing.assert_array_equal(sess.run([kept.read(1), kept.stack()])[1], [[1], [2]])


def test_gradients_of_stack_gather_with_repeats_through_gradient_arrays():
    x = tf.placeholder(tf.float64, [3, 2], name="x")
    ta = tf.TensorArray(tf.float64, size=3, clear_after_read=False).unstack(x)
    loss = tf.reduce_sum(ta.stack() * [[1.0], [2.0], [3.0]]) + tf.reduce_sum(
        ta.gather([2, 2, 0]) * 10.0)
    (gx,) = tf.gradients(loss, [x])
    value = np.arange(6.0).reshape(3, 2)
    with tf.Session() as sess:  # the gradient array adds up the scatters to one index
        np.testing.assert_array_equal(sess.run(gx, {x: value}), [[11, 11], [2, 2], [23, 23]])
    # TensorFlow's form: a resource handle and a float flow; gradients are TensorArray ops
    # on one gradient array per tf.gradients call (TensorArrayGradV3, source "gradients")
    assert ta.handle.dtype.name == "resource" and ta.flow.dtype == tf.float32
    ops = tf.get_default_graph().get_operations()
    assert not [op for op in ops if op.type == "SymbolicGradient" and
                op.attrs["fwd_type"].startswith("TensorArray")]
    grads = [op for op in ops if op.type == "TensorArrayGradV3"]
    assert grads and {op.attrs["source"] for op in grads} == {"gradients"}
    assert {op.inputs[0] for op in grads} == {ta.handle}
    write = [op for op in ops if op.type == "TensorArrayScatterV3"][0]
    assert [t.dtype.name for t in write.inputs] == ["resource", "int32", "float64", "float32"]


def test_each_gradients_call_has_its_own_gradient_array():
    x = tf.placeholder(tf.float64, [3, 2], name="x")
    stacked = tf.TensorArray(tf.float64, size=3).unstack(x).stack()
    (g2,) = tf.gradients(tf.reduce_sum(stacked * 2.0), [x])
    (g3,) = tf.gradients(tf.reduce_sum(stacked * 3.0), [x])
    sources = {op.attrs["source"] for op in tf.get_default_graph().get_operations()
               if op.type == "TensorArrayGradV3"}
    assert sources == {"gradients", "gradients_1"}
    with tf.Session() as sess:  # run together, neither adds into the other's array
        got2, got3 = sess.run([g2, g3], {x: np.ones((3, 2))})
    np.testing.assert_array_equal(got2, np.full((3, 2), 2.0))
    np.testing.assert_array_equal(got3, np.full((3, 2), 3.0))
