"""Sparse gradients (tf.IndexedSlices) and the sampled losses, against TensorFlow's numbers.

tests/data/tf_sampled/golden.npz holds what TensorFlow computed with the functions of
tests/data/make_tf_sampled.py; here the same functions run with flow. The other tests check
what TF's numbers alone do not show: the gradient of a large embedding holds only its
looked-up rows, sparse updates leave the other rows alone, the samplers' draws.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import flow as tf
from tests.data import make_tf_sampled as recipe

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]
GOLDEN = np.load(Path(__file__).resolve().parents[1] / "data" / "tf_sampled" / "golden.npz")


@pytest.mark.parametrize("part", ["sampled_losses", "expected_counts", "sparse_gradient",
                                  "sparse_training"])
def test_flow_gives_tensorflows_numbers(part):
    got = getattr(recipe, part)(tf)
    assert got and set(got) <= set(GOLDEN.files)
    for name, value in got.items():
        want = GOLDEN[name]
        assert np.shape(value) == want.shape, name
        np.testing.assert_allclose(np.asarray(value), want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_the_gradient_of_a_lookup_is_indexed_slices_of_the_rows_looked_up():
    emb = tf.Variable(np.arange(12, dtype=np.float32).reshape(6, 2))
    (grad,) = tf.gradients(tf.reduce_sum(tf.nn.embedding_lookup(emb, [[1, 3], [1, 5]])), emb)
    assert isinstance(grad, tf.IndexedSlices)
    assert grad.values.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(grad)
    assert isinstance(value, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(value.indices, [1, 3, 1, 5])
    np.testing.assert_array_equal(value.values, np.ones((4, 2)))
    np.testing.assert_array_equal(value.dense_shape, [6, 2])


def test_sparse_and_dense_gradients_agree():
    """The densified IndexedSlices equals the gradient of the same lookup as a one-hot
    matmul; a tensor reached both ways gets the slices and the dense part together."""
    table = np.random.default_rng(3).standard_normal((7, 3)).astype(np.float32)
    ids = np.array([2, 6, 2, 0], np.int32)
    emb = tf.Variable(table)
    x = tf.constant(np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32))
    sparse_loss = tf.reduce_sum(tf.nn.embedding_lookup(emb, ids) * x)
    dense_loss = tf.reduce_sum(tf.matmul(tf.one_hot(ids, 7), emb) * x)
    both = sparse_loss + tf.reduce_sum(tf.square(emb))
    (g_sparse,) = tf.gradients(sparse_loss, [emb])
    (g_dense,) = tf.gradients(dense_loss, [emb])
    (g_both,) = tf.gradients(both, [emb])
    assert isinstance(g_sparse, tf.IndexedSlices) and isinstance(g_both, tf.IndexedSlices)
    assert isinstance(g_dense, tf.Tensor)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sparse, dense, mixed = sess.run([tf.convert_to_tensor(g) for g in
                                         (g_sparse, g_dense, g_both)])
    np.testing.assert_allclose(sparse, dense, rtol=1e-6)
    np.testing.assert_allclose(mixed, dense + 2 * table, rtol=1e-6)


def _train(optimizer, lookup, steps):
    tf.reset_default_graph()
    table = np.random.default_rng(5).standard_normal((8, 2)).astype(np.float32)
    emb = tf.get_variable("emb", initializer=table)
    ids = np.array([1, 4, 1], np.int32)
    rows = tf.nn.embedding_lookup(emb, ids) if lookup else tf.matmul(tf.one_hot(ids, 8), emb)
    train = optimizer().minimize(tf.reduce_sum(tf.square(rows - 1.0)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train)
        return table, sess.run(emb)


@pytest.mark.parametrize("make", [
    lambda: tf.train.GradientDescentOptimizer(0.1), lambda: tf.train.AdamOptimizer(0.1),
    lambda: tf.train.AdagradOptimizer(0.3)], ids=["sgd", "adam", "adagrad"])
def test_sparse_updates_equal_dense_ones_where_tf_defines_them_so(make):
    """GradientDescent, Adam (which decays every row's moments) and Adagrad reach the same
    values from slices as from the dense gradient."""
    _, sparse = _train(make, True, 4)
    _, dense = _train(make, False, 4)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6)


def test_sparse_momentum_moves_only_the_rows_looked_up():
    """SparseApplyMomentum updates the rows of the gradient; the dense update moves every
    row whose accumulator is not zero (here: none are, so both leave rows 0, 2, 3 ... alone
    on the first step, and the looked-up rows agree)."""
    make = lambda: tf.train.MomentumOptimizer(0.1, 0.9)  # noqa: E731
    table, sparse = _train(make, True, 3)
    _, dense = _train(make, False, 3)
    untouched = [0, 2, 3, 5, 6, 7]
    np.testing.assert_array_equal(sparse[untouched], table[untouched])
    np.testing.assert_allclose(sparse[[1, 4]], dense[[1, 4]], rtol=1e-5)


def test_a_large_embeddings_gradient_holds_only_the_looked_up_rows():
    vocab, dim = 200_000, 16  # a 12.8 MB table
    emb = tf.Variable(tf.zeros([vocab, dim]))
    ids = tf.placeholder(tf.int32, [None])
    loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(emb, ids) - 1.0))
    (grad,) = tf.gradients(loss, [emb])
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    batch = np.array([3, 77, 3, 199_999], np.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(grad, {ids: batch})  # plans compiled outside the measurement
        tracemalloc.start()
        value = sess.run(grad, {ids: batch})
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sess.run(train, {ids: batch})
        after = sess.run(emb)
    assert value.values.shape == (4, dim)
    assert peak < vocab * dim * 4 / 20, f"the gradient run allocated {peak} bytes"
    np.testing.assert_allclose(after[3], np.full(dim, 2.0))  # 0.5 · (2 · (0 - 1)) · 2 rows
    np.testing.assert_allclose(after[[77, 199_999]], np.ones((2, dim)))
    assert not after[[0, 4, 100_000]].any()


def test_convert_to_tensor_densifies_indexed_slices():
    values = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    slices = tf.IndexedSlices(values, tf.constant([2, 0, 2]), tf.constant([4, 2]))
    with tf.Session() as sess:
        dense = sess.run(tf.convert_to_tensor(slices))
        negated = sess.run(-slices)
    np.testing.assert_array_equal(dense, [[3, 4], [0, 0], [6, 8], [0, 0]])
    np.testing.assert_array_equal(negated.values, -np.array([[1, 2], [3, 4], [5, 6]]))
    shapeless = tf.IndexedSlices(values, tf.constant([0, 1, 2]))
    with tf.Session() as sess:
        assert sess.run(shapeless).dense_shape is None
    with pytest.raises(ValueError, match="dense_shape"):
        tf.convert_to_tensor(shapeless)
    with pytest.raises(TypeError, match="Tensors for values and indices"):
        tf.IndexedSlices([[1.0]], [0])


def test_samplers_draw_from_their_range_and_repeat_under_a_seed():
    labels = tf.constant(np.array([[1], [4]], np.int64))
    sampled, true_count, sampled_count = tf.nn.log_uniform_candidate_sampler(
        labels, 1, 40, True, 50, seed=11)
    uniform = tf.nn.uniform_candidate_sampler(labels, 1, 5000, False, 7, seed=2)[0]
    draws = []
    for _ in range(2):
        with tf.Session() as sess:
            draws.append(sess.run([sampled, true_count, sampled_count, uniform]))
    (s, tc, sc, u), again = draws
    for a, b in zip(draws[0], again, strict=True):
        np.testing.assert_array_equal(a, b)  # same seeds, same draws
    assert s.dtype == np.int64 and len(set(s.tolist())) == 40 and 0 <= s.min() < s.max() < 50
    assert (tc > 0).all() and (tc < 1).all() and tc[0, 0] > tc[1, 0]  # class 1 likelier than 4
    assert (sc > 0).all() and (sc <= 1).all()
    assert sorted(set(u.tolist())) == list(range(7))
    assert abs(np.bincount(u).min() / 5000 - 1 / 7) < 0.03


def test_sampler_mistakes_name_the_fix():
    with pytest.raises(TypeError, match="tf.int64"):
        tf.nn.log_uniform_candidate_sampler(tf.constant([[1]]), 1, 2, True, 10)
    labels = tf.constant(np.array([[1]], np.int64))
    with pytest.raises(ValueError, match="unique=False"):
        tf.nn.uniform_candidate_sampler(labels, 1, 20, True, 10)


def test_nce_loss_samples_by_itself_and_trains_a_word_model():
    """Without sampled_values nce_loss draws log-uniform negatives; training lowers it."""
    tf.set_random_seed(1)
    emb = tf.Variable(tf.random_uniform([30, 8], -1.0, 1.0))
    nce_w = tf.Variable(tf.truncated_normal([30, 8], stddev=0.3))
    nce_b = tf.Variable(tf.zeros([30]))
    centre = np.arange(30, dtype=np.int32)
    context = ((centre + 1) % 30).astype(np.int64).reshape(-1, 1)
    loss = tf.reduce_mean(tf.nn.nce_loss(nce_w, nce_b, context,
                                         tf.nn.embedding_lookup(emb, centre), 5, 30))
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = np.mean([sess.run(loss) for _ in range(5)])
        for _ in range(300):
            sess.run(train)
        last = np.mean([sess.run(loss) for _ in range(5)])
    assert last < first / 2, (first, last)


def test_clip_by_global_norm_keeps_slices_sparse():
    emb = tf.Variable(np.ones((5, 2), np.float32))
    w = tf.Variable(np.ones((2, 1), np.float32))
    loss = tf.reduce_sum(tf.matmul(tf.nn.embedding_lookup(emb, [0, 3]), w))
    grads = tf.gradients(loss, [emb, w])
    (clipped_emb, clipped_w), norm = tf.clip_by_global_norm(grads, 1.0)
    assert isinstance(clipped_emb, tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        n, e, cw = sess.run([norm, tf.convert_to_tensor(clipped_emb), clipped_w])
    assert n == pytest.approx(np.sqrt(4 + 8))  # two rows of ones, and w's gradient (2, 2)
    np.testing.assert_allclose(e[[0, 3]], np.full((2, 2), 1 / n), rtol=1e-6)
    np.testing.assert_allclose(cw, np.full((2, 1), 2 / n), rtol=1e-6)


def test_slices_reaching_a_computed_tensor_are_made_dense_for_its_gradient():
    """Gathering from a product: the slices become dense (UnsortedSegmentSum) and flow on
    into MatMul's gradient, to the values of the one-hot formulation."""
    a = tf.Variable(np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32))
    b = tf.Variable(np.random.default_rng(7).standard_normal((3, 4)).astype(np.float32))
    ids = np.array([4, 1, 4], np.int32)
    table = tf.matmul(a, b)
    sparse = tf.gradients(tf.reduce_sum(tf.square(tf.gather(table, ids))), [a, b])
    dense = tf.gradients(tf.reduce_sum(tf.square(tf.matmul(tf.one_hot(ids, 5), table))),
                         [a, b])
    assert all(isinstance(g, tf.Tensor) for g in sparse)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for got, want in zip(sess.run(sparse), sess.run(dense), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
