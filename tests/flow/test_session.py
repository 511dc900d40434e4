"""Session.run semantics and errors (tf1-semantics.md §4)."""

import collections
import os
import platform

import numpy as np
import pytest

import flow as tf
from flow.client.session import keep_freed_memory

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]



def test_nested_fetches_keep_their_structure():
    a, b = tf.constant(1.0), tf.constant([2, 3])
    Pair = collections.namedtuple("Pair", "x y")
    init = tf.no_op(name="noop")
    with tf.Session() as sess:
        out = sess.run({"a": a, "rest": [b, (a, init)], "pair": Pair(a, b)})
        od = sess.run(collections.OrderedDict([("z", a), ("y", b)]))
    assert out["a"] == 1.0 and isinstance(out["a"], np.float32)
    assert isinstance(out["rest"], list) and isinstance(out["rest"][1], tuple)
    assert out["rest"][1][1] is None
    np.testing.assert_array_equal(out["rest"][0], [2, 3])
    assert isinstance(out["pair"], Pair) and out["pair"].x == 1.0
    assert isinstance(od, collections.OrderedDict) and list(od) == ["z", "y"]
    with tf.Session() as sess:
        dd = sess.run(collections.defaultdict(list, {"a": a}))
    assert isinstance(dd, collections.defaultdict) and dd["a"] == 1.0


def test_fetch_by_name_and_variable():
    x = tf.placeholder(tf.float32, name="x")
    y = tf.identity(x * 2, name="y")
    v = tf.Variable(3.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run("y:0", {"x:0": 2.0}) == 4.0
        assert sess.run(v) == 3.0
        assert sess.run("init") is None
        with pytest.raises(ValueError, match="cannot be interpreted as a Tensor"):
            sess.run("nope:0")
        with pytest.raises(TypeError, match="Fetch argument None has invalid type "
                                            "<class 'NoneType'>"):
            sess.run([y, None], {x: 1.0})
        with pytest.raises(TypeError, match="must be a string or Tensor"):
            sess.run(3)


def test_feeding_any_tensor_and_fetching_a_fed_tensor():
    x = tf.placeholder(tf.float32, [2], name="x")
    h = x * 10.0
    y = h + 1.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {h: [1.0, 2.0]}), [2.0, 3.0])  # x unfed
        got_h, got_y = sess.run([h, y], {h: [5.0, 5.0]})
        np.testing.assert_array_equal(got_h, [5.0, 5.0])
        assert sess.run(y, {x: np.array([1, 2])}).dtype == np.float32  # fed value converted


def test_each_op_runs_once_per_run():
    r = tf.random_uniform([3])
    s = r + 0.0
    counter = tf.Variable(0, name="counter")
    inc = tf.assign_add(counter, 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        r1, r2, sv = sess.run([r, r, s])
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(r1, sv)
        assert not np.array_equal(sess.run(r), sess.run(r))  # a new draw on each run
        assert sess.run([inc, inc, inc * 1]) == [1, 1, 1]
        assert sess.run(counter) == 1


def test_only_needed_ops_run():
    x = tf.placeholder(tf.float32, name="x")
    unrelated = tf.placeholder(tf.float32, name="unrelated") * 2.0
    v = tf.Variable(1.0)
    with tf.Session() as sess:
        assert sess.run(x * 3.0, {x: 2.0}) == 6.0  # neither `unrelated` nor `v` is touched
    del unrelated, v


def test_unfed_placeholder_error_text():
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    s = tf.placeholder(tf.int32, name="s")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as err:
            sess.run(x * 2.0)
        assert str(err.value).startswith("You must feed a value for placeholder tensor 'x' with "
                                         "dtype float and shape [?,784]")
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="placeholder tensor 's' with dtype int32$|with dtype int32\n"):
            sess.run(s + 1)


def test_feed_shape_mismatch_and_bad_feeds():
    x = tf.placeholder(tf.float32, [None, 10], name="Placeholder")
    with tf.Session() as sess:
        with pytest.raises(ValueError) as err:
            sess.run(x, {x: np.zeros((100, 784))})
        assert str(err.value) == ("Cannot feed value of shape (100, 784) for Tensor "
                                  "'Placeholder:0', which has shape '(?, 10)'")
        with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor"):
            sess.run(x, {x: tf.zeros([1, 10])})
        with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
            sess.run(x, {"missing:0": 1.0})
    other = tf.Graph()
    with other.as_default():
        foreign = tf.placeholder(tf.float32, name="foreign")
    with tf.Session() as sess, pytest.raises(TypeError, match="is not an element of this graph"):
        sess.run(x, {foreign: 1.0})


def test_uninitialized_variable_error_and_hint():
    v = tf.Variable(tf.zeros([2]), name="Variable")
    init = tf.global_variables_initializer()
    late = tf.Variable(1.0, name="late")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="^Attempting to use uninitialized value Variable"):
            sess.run(v * 2.0)
        sess.run(init)
        np.testing.assert_array_equal(sess.run(v), [0.0, 0.0])
        with pytest.raises(tf.errors.FailedPreconditionError) as err:
            sess.run(late)
        assert "Attempting to use uninitialized value late" in str(err.value)
        assert "created after the initializer op 'init'" in str(err.value)
    with tf.Session() as fresh, pytest.raises(tf.errors.FailedPreconditionError):
        fresh.run(v)  # values live in a session: a new one starts uninitialized


def test_kernel_failures_become_invalid_argument_errors():
    a = tf.placeholder(tf.float32, [None, None], name="a")
    b = tf.placeholder(tf.float32, [None, None], name="b")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
        sess.run(tf.matmul(a, b), {a: np.ones((2, 3)), b: np.ones((2, 3))})


def test_fetched_variable_values_are_copies():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(v)
        got[0] = 100.0
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        reshaped = sess.run(tf.reshape(tf.constant([1.0, 2.0]), [2, 1]))
        reshaped[0, 0] = 5.0  # a view of a graph constant comes back as a writable copy


def test_plan_is_compiled_once_per_signature():
    x = tf.placeholder(tf.float32, name="x")
    y = x * 2.0
    with tf.Session() as sess:
        for i in range(5):
            assert sess.run(y, {x: float(i)}) == 2.0 * i
        assert len(sess._plans) == 1
        plan = next(iter(sess._plans.values()))
        sess.run([y], {x: 1.0})
        sess.run({"y": y}, {x: 1.0})  # same flat fetches and feeds: the same plan
        assert len(sess._plans) == 1 and next(iter(sess._plans.values())) is plan
        sess.run([y, x], {x: 1.0})
        assert len(sess._plans) == 2
        z = y + 1.0  # ops added after the session was made still run
        assert sess.run(z, {x: 1.0}) == 3.0


def test_default_session_eval_and_run():
    x = tf.constant(3.0)
    v = tf.Variable(1.0)
    with pytest.raises(ValueError, match="No default session is registered"):
        x.eval()
    with pytest.raises(ValueError, match="Cannot execute operation using `run\\(\\)`"):
        v.initializer.run()
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        v.initializer.run()
        assert x.eval() == 3.0 and v.eval() == 1.0
    assert tf.get_default_session() is None
    sess = tf.Session()
    with sess.as_default():
        assert (x * 2.0).eval() == 6.0
    assert sess.run(x) == 3.0  # as_default does not close
    other = tf.Graph()
    with other.as_default():
        y = tf.constant(1.0)
    with sess.as_default(), pytest.raises(ValueError, match="graph is different"):
        y.eval()


def test_session_lifecycle_errors():
    x = tf.constant(1.0)
    sess = tf.Session()
    with sess:
        with pytest.raises(RuntimeError, match="not re-entrant"):
            with sess:
                pass
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(x)
    with pytest.raises(TypeError, match="graph must be a tf.Graph"):
        tf.Session(graph=3)
    with tf.Graph().as_default():
        with pytest.raises(RuntimeError, match="The Session graph is empty"):
            tf.Session().run([])


def test_interactive_session_is_default_until_closed():
    sess = tf.InteractiveSession()
    try:
        c = tf.constant([1.0, 2.0]) * 2.0
        np.testing.assert_array_equal(c.eval(), [2.0, 4.0])
        with pytest.raises(AssertionError, match="InteractiveSession is open"):
            tf.reset_default_graph()
    finally:
        sess.close()
    assert tf.get_default_session() is None
    tf.reset_default_graph()


def test_assign_ops_and_load():
    v = tf.Variable([1.0, 2.0], name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v.assign([5.0, 6.0])), [5.0, 6.0])
        np.testing.assert_array_equal(sess.run(tf.assign_add(v, [1.0, 1.0])), [6.0, 7.0])
        np.testing.assert_array_equal(sess.run(v.assign_sub([6.0, 7.0])), [0.0, 0.0])
        v.load([9.0, 9.0], sess)
        np.testing.assert_array_equal(sess.run(v), [9.0, 9.0])
        assert sess._variable_values["v"].dtype == np.float32
    with pytest.raises(ValueError, match="incompatible"):
        v.assign([1.0, 2.0, 3.0])


def test_placeholder_with_default_and_config_proto():
    p = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [None], name="p")
    config = tf.ConfigProto(allow_soft_placement=True)
    config.gpu_options.allow_growth = True
    with tf.Session(config=config) as sess:
        np.testing.assert_array_equal(sess.run(p * 2.0), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(p * 2.0, {p: [5.0]}), [10.0])
        assert sess.run([]) == []


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or "MALLOC_TRIM_THRESHOLD_" in os.environ
                    or "MALLOC_MMAP_THRESHOLD_" in os.environ,
                    reason="heap retention uses glibc's mallopt, and MALLOC_* env vars win")
def test_runs_reuse_freed_memory_instead_of_page_faulting_it_back():
    """Each run frees its 2 MiB intermediates; the next run must get them back from the heap,
    not as fresh pages from the OS (glibc's default trims the heap top after every run)."""
    import resource  # POSIX only, like the skip condition

    x = tf.placeholder(tf.float32, [512, 1024])
    y = tf.reduce_sum(tf.nn.relu(x * 2.0 + 1.0))
    feed = {x: np.ones((512, 1024), np.float32)}
    with tf.Session() as sess:
        for _ in range(3):
            sess.run(y, feed)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(10):
            assert sess.run(y, feed) == 3 * 512 * 1024
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert keep_freed_memory()
    assert faults < 512, f"{faults} page faults in 10 runs (one intermediate is 512 pages)"
