"""tf.nn.rnn_cell / tf.contrib.rnn cells, static_rnn and dynamic_rnn: TensorFlow's variable
names, the cells' math against numpy, sequence_length, and gradients through time checked by
finite differences."""

import numpy as np
import pytest

import flow as tf

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]


def sig(z):
    return 1 / (1 + np.exp(-z))


def _names():
    return {v.op.name: v.shape.as_list() for v in tf.global_variables()}


def test_variable_names_and_shapes_are_tensorflows():
    x = tf.placeholder(tf.float32, [None, 5, 3])
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), x, dtype=tf.float32)
    with tf.variable_scope("gru"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(2), x, dtype=tf.float32)
    with tf.variable_scope("stack"):
        cells = [tf.contrib.rnn.BasicRNNCell(3),
                 tf.contrib.rnn.LSTMCell(4, use_peepholes=True, num_proj=2)]
        tf.contrib.rnn.static_rnn(tf.contrib.rnn.MultiRNNCell(cells), tf.unstack(x, axis=1),
                                  dtype=tf.float32)
    assert _names() == {
        "rnn/basic_lstm_cell/kernel": [7, 16], "rnn/basic_lstm_cell/bias": [16],
        "gru/rnn/gru_cell/gates/kernel": [5, 4], "gru/rnn/gru_cell/gates/bias": [4],
        "gru/rnn/gru_cell/candidate/kernel": [5, 2], "gru/rnn/gru_cell/candidate/bias": [2],
        "stack/rnn/multi_rnn_cell/cell_0/basic_rnn_cell/kernel": [6, 3],
        "stack/rnn/multi_rnn_cell/cell_0/basic_rnn_cell/bias": [3],
        "stack/rnn/multi_rnn_cell/cell_1/lstm_cell/kernel": [5, 16],
        "stack/rnn/multi_rnn_cell/cell_1/lstm_cell/bias": [16],
        "stack/rnn/multi_rnn_cell/cell_1/lstm_cell/w_f_diag": [4],
        "stack/rnn/multi_rnn_cell/cell_1/lstm_cell/w_i_diag": [4],
        "stack/rnn/multi_rnn_cell/cell_1/lstm_cell/w_o_diag": [4],
        "stack/rnn/multi_rnn_cell/cell_1/lstm_cell/projection/kernel": [4, 2],
    }


def _one_step(cell, x, state):
    out, new_state = cell(tf.constant(x), state)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = {v.op.name.split("/", 1)[1]: sess.run(v) for v in tf.global_variables()}
        return sess.run([out, new_state]), values


def test_cells_compute_tensorflows_formulas():
    rng = np.random.default_rng(1)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    with tf.variable_scope("a"):
        (out, state), v = _one_step(tf.nn.rnn_cell.BasicLSTMCell(4, forget_bias=0.5),
                                    x, tf.nn.rnn_cell.LSTMStateTuple(tf.constant(c),
                                                                     tf.constant(h)))
    i, j, f, o = np.split(np.hstack([x, h]) @ v["basic_lstm_cell/kernel"] +
                          v["basic_lstm_cell/bias"], 4, axis=1)
    want_c = c * sig(f + 0.5) + sig(i) * np.tanh(j)
    np.testing.assert_allclose(state.c, want_c, rtol=1e-12)
    np.testing.assert_allclose(out, np.tanh(want_c) * sig(o), rtol=1e-12)

    tf.reset_default_graph()
    (out, _), v = _one_step(tf.nn.rnn_cell.GRUCell(4), x, tf.constant(h))
    assert np.all(v["gates/bias"] == 1.0)
    r, u = np.split(sig(np.hstack([x, h]) @ v["gates/kernel"] + v["gates/bias"]), 2, axis=1)
    cand = np.tanh(np.hstack([x, r * h]) @ v["candidate/kernel"] + v["candidate/bias"])
    np.testing.assert_allclose(out, u * h + (1 - u) * cand, rtol=1e-12)

    tf.reset_default_graph()
    cell = tf.nn.rnn_cell.LSTMCell(4, use_peepholes=True, num_proj=2, cell_clip=0.5)
    (out, state), v = _one_step(cell, x, (tf.constant(c), tf.constant(h[:, :2])))
    i, j, f, o = np.split(np.hstack([x, h[:, :2]]) @ v["kernel"] + v["bias"], 4, axis=1)
    want_c = np.clip(sig(f + 1.0 + v["w_f_diag"] * c) * c +
                     sig(i + v["w_i_diag"] * c) * np.tanh(j), -0.5, 0.5)
    want_m = (sig(o + v["w_o_diag"] * want_c) * np.tanh(want_c)) @ v["projection/kernel"]
    np.testing.assert_allclose(state.c, want_c, rtol=1e-12)
    np.testing.assert_allclose(out, want_m, rtol=1e-12)


def test_dynamic_rnn_matches_static_rnn_and_honours_sequence_length():
    rng = np.random.default_rng(2)
    x = tf.placeholder(tf.float64, [3, 4, 2], name="x")
    lengths = tf.placeholder(tf.int32, [3], name="lengths")
    with tf.variable_scope("model"):
        cell = tf.nn.rnn_cell.BasicLSTMCell(5)
        dyn_out, dyn_state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths,
                                               dtype=tf.float64)
    with tf.variable_scope("model", reuse=True):
        st_out, st_state = tf.nn.static_rnn(tf.nn.rnn_cell.BasicLSTMCell(5, reuse=True),
                                            tf.unstack(x, axis=1), sequence_length=lengths,
                                            dtype=tf.float64)
    assert len(tf.global_variables()) == 2  # the same two variables
    feed = {x: rng.normal(size=(3, 4, 2)), lengths: [4, 2, 0]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        d_out, d_state, s_out, s_state = sess.run([dyn_out, dyn_state, st_out, st_state],
                                                  feed)
    np.testing.assert_allclose(d_out, np.stack(s_out, axis=1), rtol=1e-12)
    np.testing.assert_allclose(d_state.h, s_state.h, rtol=1e-12)
    assert not d_out[1, 2:].any() and not d_out[2].any()  # zeros past each end
    np.testing.assert_allclose(d_state.h[1], d_out[1, 1], rtol=1e-12)  # the last real step
    assert not d_state.c[2].any()  # an empty sequence keeps the zero state


def test_gradients_through_dynamic_rnn_match_finite_differences():
    rng = np.random.default_rng(4)
    x = tf.placeholder(tf.float64, [2, 3, 2], name="x")
    init = tf.placeholder(tf.float64, [2, 3], name="init")
    cell = tf.nn.rnn_cell.GRUCell(3)
    out, state = tf.nn.dynamic_rnn(cell, x, initial_state=init, sequence_length=[3, 2])
    loss = tf.reduce_sum(tf.sin(out)) + tf.reduce_sum(state * state)
    kernel = [v for v in tf.trainable_variables() if v.op.name.endswith("gates/kernel")][0]
    gx, ginit, gk = tf.gradients(loss, [x, init, kernel])
    feed = {x: rng.normal(size=(2, 3, 2)), init: rng.normal(size=(2, 3))}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([gx, ginit, gk], feed)
        for k, t in enumerate((x, init)):
            num = np.zeros_like(feed[t])
            for idx in np.ndindex(num.shape):
                up, down = feed[t].copy(), feed[t].copy()
                up[idx] += 1e-6
                down[idx] -= 1e-6
                num[idx] = (sess.run(loss, {**feed, t: up}) -
                            sess.run(loss, {**feed, t: down})) / 2e-6
            np.testing.assert_allclose(got[k], num, rtol=1e-5, atol=1e-8)
        k0 = sess.run(kernel)
        num = np.zeros_like(k0)
        for idx in np.ndindex(k0.shape):
            for sign in (1, -1):
                moved = k0.copy()
                moved[idx] += sign * 1e-6
                kernel.load(moved, sess)
                num[idx] += sign * sess.run(loss, feed) / 2e-6
        np.testing.assert_allclose(got[2], num, rtol=1e-5, atol=1e-8)


def test_dropout_wrapper_drops_outputs_but_not_the_lstm_memory():
    x = tf.constant(np.ones((50, 3), np.float32))
    base = tf.nn.rnn_cell.BasicLSTMCell(20)
    state = base.zero_state(50, tf.float32)
    kept_out, kept_state = tf.nn.rnn_cell.DropoutWrapper(base)(x, state)
    drop_out, drop_state = tf.nn.rnn_cell.DropoutWrapper(base, output_keep_prob=0.5,
                                                         state_keep_prob=0.5, seed=1)(x, state)
    assert len(tf.global_variables()) == 2  # the wrapped cell's variables, built once
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, sa, sb = sess.run([kept_out, drop_out, kept_state, drop_state])
    zeroed = b == 0
    assert 0.3 < zeroed.mean() < 0.7
    np.testing.assert_allclose(b[~zeroed], 2 * a[~zeroed], rtol=1e-6)
    np.testing.assert_allclose(sb.c, sa.c)  # c is never dropped (TF's default filter)
    with pytest.raises(ValueError, match="between 0 and 1"):
        tf.nn.rnn_cell.DropoutWrapper(base, input_keep_prob=1.5)


def test_mistakes_are_named():
    x = tf.placeholder(tf.float32, [None, 5, 3])
    with pytest.raises(ValueError, match="must give a dtype"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), x)
    with pytest.raises(TypeError, match="list of"):
        tf.nn.static_rnn(tf.nn.rnn_cell.BasicRNNCell(2), x, dtype=tf.float32)
    with pytest.raises(ValueError, match="last dimension"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), tf.placeholder(tf.float32,
                                                                         [2, 5, None]),
                          dtype=tf.float32)


def _numpy_rnn(x, lengths, kernel, bias, reverse):
    """BasicRNNCell over each sequence (its first ``lengths[b]`` steps), zeros past the end."""
    out = np.zeros((x.shape[0], x.shape[1], bias.size))
    for b, n in enumerate(lengths):
        h = np.zeros(bias.size)
        steps = range(n - 1, -1, -1) if reverse else range(n)
        for t in steps:
            h = np.tanh(np.concatenate([x[b, t], h]) @ kernel + bias)
            out[b, t] = h
    return out


def test_bidirectional_rnns_read_each_sequence_both_ways():
    rng = np.random.default_rng(5)
    x = tf.placeholder(tf.float64, [3, 4, 2], name="x")
    lengths = tf.placeholder(tf.int32, [3], name="lengths")
    (fw, bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.BasicRNNCell(3), tf.nn.rnn_cell.BasicRNNCell(3), x,
        sequence_length=lengths, dtype=tf.float64)
    assert sorted(_names()) == [
        "bidirectional_rnn/bw/basic_rnn_cell/bias", "bidirectional_rnn/bw/basic_rnn_cell/kernel",
        "bidirectional_rnn/fw/basic_rnn_cell/bias", "bidirectional_rnn/fw/basic_rnn_cell/kernel"]
    static_out, _, st_bw = tf.nn.static_bidirectional_rnn(  # the same variables, reused
        tf.nn.rnn_cell.BasicRNNCell(3, reuse=True), tf.nn.rnn_cell.BasicRNNCell(3, reuse=True),
        tf.unstack(x, axis=1), dtype=tf.float64, sequence_length=lengths)
    assert len(tf.global_variables()) == 4
    (gx,) = tf.gradients(tf.reduce_sum(bw * bw), x)
    feed = {x: rng.normal(size=(3, 4, 2)), lengths: [4, 2, 3]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_fw, got_bw, got_sbw, got_static, got_stbw, got_gx = sess.run(
            [fw, bw, s_bw, static_out, st_bw, gx], feed)
        w = {v.op.name: sess.run(v) for v in tf.global_variables()}
    kfw, bfw = w["bidirectional_rnn/fw/basic_rnn_cell/kernel"], \
        w["bidirectional_rnn/fw/basic_rnn_cell/bias"]
    kbw, bbw = w["bidirectional_rnn/bw/basic_rnn_cell/kernel"], \
        w["bidirectional_rnn/bw/basic_rnn_cell/bias"]
    want_bw = _numpy_rnn(feed[x], [4, 2, 3], kbw, bbw, reverse=True)
    np.testing.assert_allclose(got_fw, _numpy_rnn(feed[x], [4, 2, 3], kfw, bfw, False),
                               rtol=1e-12)
    np.testing.assert_allclose(got_bw, want_bw, rtol=1e-12)
    np.testing.assert_allclose(got_sbw, want_bw[:, 0], rtol=1e-12)  # bw ends at step 0
    np.testing.assert_allclose(np.stack(got_static, 1), np.concatenate([got_fw, got_bw], 2),
                               rtol=1e-12)
    np.testing.assert_allclose(got_stbw, got_sbw, rtol=1e-12)
    assert not got_gx[1, 2:].any()  # steps past a sequence's end get no gradient
    # the reversals' gradients are reversals (TF's Python form), not SymbolicGradient nodes
    # TensorFlow cannot run; checked against finite differences
    ops = tf.get_default_graph().get_operations()
    assert not [op for op in ops if op.type == "SymbolicGradient"
                and op.attrs["fwd_type"] in ("ReverseSequence", "ReverseV2")]
    assert [op for op in ops if op.type == "ReverseSequence" and "gradients" in op.name]
    loss = tf.reduce_sum(bw * bw)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v in tf.global_variables():
            sess.run(v.assign(w[v.op.name]))
        for i in [(0, 3, 1), (2, 0, 0), (1, 1, 1)]:
            up, down = (feed[x].copy() for _ in range(2))
            up[i] += 1e-6
            down[i] -= 1e-6
            numeric = (sess.run(loss, {**feed, x: up}) - sess.run(loss, {**feed, x: down})) / 2e-6
            np.testing.assert_allclose(got_gx[i], numeric, rtol=1e-5, atol=1e-8)
