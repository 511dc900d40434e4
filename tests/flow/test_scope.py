"""variable_scope / get_variable semantics and initializers (tf1-semantics.md §1–§3)."""

import numpy as np
import pytest

import flow as tf

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]



def test_already_exists_message_names_the_first_definition_and_the_fix():
    with tf.variable_scope("conv1"):
        tf.get_variable("weights", [2])
    with pytest.raises(ValueError) as err, tf.variable_scope("conv1"):
        tf.get_variable("weights", [2])
    msg = str(err.value)
    assert msg.startswith("Variable conv1/weights already exists, disallowed. Did you mean to set "
                          "reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined "
                          "at:\n\n")
    assert "test_scope.py" in msg and "flow/ops/scope.py" not in msg
    hint = msg.rstrip().splitlines()[-1]
    assert hint.startswith("Hint:") and "tf.reset_default_graph()" in hint
    assert "reuse=tf.AUTO_REUSE" in hint


def test_reuse_modes():
    with tf.variable_scope("s"):
        w = tf.get_variable("w", [2])
    with tf.variable_scope("s", reuse=True):
        assert tf.get_variable("w", [2]) is w
        assert tf.get_variable("w") is w  # shape None matches any
        with pytest.raises(ValueError, match="^Variable s/new does not exist, or was not created "
                                             "with tf.get_variable\\(\\). Did you mean to set "
                                             "reuse=tf.AUTO_REUSE in VarScope\\?$"):
            tf.get_variable("new", [1])
        with pytest.raises(ValueError, match="specified dtype int32 and found dtype float32"):
            tf.get_variable("w", [2], dtype=tf.int32)
    with tf.variable_scope("s", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [2]) is w
        assert tf.get_variable("fresh", [1]).name == "s/fresh:0"
    plain = tf.Variable(1.0, name="plain")
    with pytest.raises(ValueError, match="does not exist"), tf.variable_scope("", reuse=True):
        tf.get_variable("plain")
    del plain


def test_reuse_is_inherited_and_cannot_be_switched_off():
    with tf.variable_scope("outer", reuse=True):
        with tf.variable_scope("inner", reuse=False) as inner:
            assert inner.reuse is True
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        with tf.variable_scope("child") as child:
            assert child.reuse is tf.AUTO_REUSE
    with tf.variable_scope("plain") as plain:
        assert plain.reuse is False
        plain.reuse_variables()
        assert tf.get_variable_scope().reuse is True
    with tf.variable_scope(plain) as again:  # re-entry by object carries the flag
        assert again.reuse is True
    with tf.variable_scope("plain") as by_string:  # a new object from the root: not reusing
        assert by_string.reuse is False


def test_scope_reentry_names_variables_and_ops():
    with tf.variable_scope("foo") as vs:
        x = tf.Variable(1.0, name="Variable")
        a = tf.get_variable("a", [1])
        op1 = tf.add(a, 1.0)
    with tf.variable_scope(vs):
        y = tf.Variable(1.0, name="Variable")
        assert tf.get_variable_scope().name == "foo"
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("a") is a
        op2 = tf.add(a, 1.0)
    assert (x.name, y.name) == ("foo/Variable:0", "foo_1/Variable:0")
    assert (op1.op.name, op2.op.name) == ("foo/Add", "foo_2/Add")
    assert vs.original_name_scope == "foo/" and vs.name == "foo"


def test_default_name_counters_reset_per_parent():
    with tf.variable_scope("foo") as foo:
        with tf.variable_scope(None, default_name="bar"):
            assert tf.get_variable("a", [1]).name == "foo/bar/a:0"
        with tf.variable_scope(None, default_name="bar"):
            assert tf.get_variable("a", [1]).name == "foo/bar_1/a:0"
    with tf.variable_scope(foo):
        with tf.variable_scope(None, default_name="bar"):
            assert tf.get_variable("c", [1]).name == "foo/bar/c:0"  # "bar", not "bar_2"


def test_get_variable_ignores_name_scope():
    with tf.name_scope("ns"):
        assert tf.get_variable("v", [1]).name == "v:0"
    with tf.variable_scope("vs"):
        with tf.name_scope("ns"):
            assert tf.get_variable("v", [1]).name == "vs/v:0"


def test_variable_scope_argument_errors():
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    with pytest.raises(TypeError, match="If default_name is None then name_or_scope is required"):
        with tf.variable_scope(None):
            pass
    with pytest.raises(TypeError, match="name_or_scope must be a string or VariableScope"):
        with tf.variable_scope(3):
            pass
    with pytest.raises(ValueError, match="The reuse parameter must be True or False or None."):
        with tf.variable_scope("x", reuse="yes"):
            pass
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        tf.get_variable("c", [2], initializer=np.ones(2, np.float32))
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("u", [None, 2])


def test_scope_defaults_and_initializer_from_value():
    with tf.variable_scope("s", initializer=tf.constant_initializer(3.0), dtype=tf.float64):
        v = tf.get_variable("v", [2])
        c = tf.get_variable("c", initializer=tf.constant([1, 2]))
    assert v.dtype == tf.float64 and c.dtype == tf.int32 and c.shape.as_list() == [2]
    reg = tf.get_variable("r", [2], regularizer=lambda w: tf.reduce_sum(w * w))
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [3.0, 3.0])
        np.testing.assert_array_equal(sess.run(c), [1, 2])
    assert reg in tf.trainable_variables()


def test_initializer_statistics():
    tf.set_random_seed(7)
    n = 20000
    shapes = {"glorot": [100, 200], "conv": [5, 5, 32, 64]}
    glorot = tf.get_variable("glorot", shapes["glorot"])  # the default initializer
    conv = tf.get_variable("conv", shapes["conv"], initializer=tf.glorot_uniform_initializer())
    tn = tf.get_variable("tn", [n], initializer=tf.truncated_normal_initializer(1.0, 2.0))
    rn = tf.get_variable("rn", [n], initializer=tf.random_normal_initializer(0.0, 3.0))
    ru = tf.get_variable("ru", [n], initializer=tf.random_uniform_initializer(-2.0, 5.0))
    vs = tf.get_variable("vs", [400, 100], initializer=tf.variance_scaling_initializer(2.0))
    zeros = tf.get_variable("z", [3], initializer=tf.zeros_initializer())
    ones = tf.get_variable("o", [3], initializer=tf.ones_initializer())
    short = tf.get_variable("short", [2, 3], initializer=tf.constant_initializer([1, 2, 3, 4]))
    ints = tf.get_variable("i", [2], dtype=tf.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g, cv, t, r, u, v, z, o, s, i = sess.run([glorot, conv, tn, rn, ru, vs, zeros, ones,
                                                  short, ints])
    limit = np.sqrt(6.0 / 300)
    assert np.abs(g).max() <= limit and np.abs(g).max() > 0.95 * limit
    assert np.abs(cv).max() <= np.sqrt(6.0 / (25 * 96))
    assert t.min() >= 1.0 - 4.0 and t.max() <= 1.0 + 4.0  # resampled beyond 2 sigma
    assert abs(t.std() - 0.88 * 2.0) < 0.05 and abs(t.mean() - 1.0) < 0.05
    assert abs(r.std() - 3.0) < 0.1 and u.min() >= -2.0 and u.max() < 5.0
    assert abs(v.std() - np.sqrt(2.0 / 400)) < 0.1 * np.sqrt(2.0 / 400)
    assert g.dtype == np.float32 and i.dtype == np.int32 and not i.any()
    np.testing.assert_array_equal(z, 0)
    np.testing.assert_array_equal(o, 1)
    np.testing.assert_array_equal(s, [[1, 2, 3], [4, 4, 4]])


def test_seeds_make_runs_repeatable():
    def draw(graph_seed, op_seed):
        tf.reset_default_graph()
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        r = tf.random_normal([4], seed=op_seed)
        with tf.Session() as sess:
            return sess.run(r)

    np.testing.assert_array_equal(draw(1, None), draw(1, None))
    np.testing.assert_array_equal(draw(None, 5), draw(None, 5))
    assert not np.array_equal(draw(1, None), draw(2, None))
    assert not np.array_equal(draw(None, None), draw(None, None))


def test_custom_getters_nest_outer_last():
    calls = []

    def named(tag):
        def getter(next_getter, name, *args, **kwargs):
            calls.append((tag, name))
            return next_getter(name, *args, **kwargs)

        return getter

    with tf.variable_scope("outer", custom_getter=named("outer")):
        with tf.variable_scope("inner", custom_getter=named("inner")):
            v = tf.get_variable("v", [1])
    assert v.name == "outer/inner/v:0"
    assert calls == [("inner", "outer/inner/v"), ("outer", "outer/inner/v")]
