"""Regenerate tests/data/tf_train/: flow's training graphs, as TensorFlow imported and ran them.

A manual step, never part of `make test` (TensorFlow is not a numboard dependency). Two runs:

    .venv/bin/python tests/data/make_tf_training.py            # flow: graph, checkpoint, feed
    /work/tfenv/bin/python tests/data/make_tf_training.py --tf # TensorFlow: train, record

(`/work/tfenv`: any interpreter with `pip install tensorflow-cpu`.)

`--kinds lstm` (a comma-separated list) limits either run to those models, so adding a model
leaves the committed files of the others as they are.

The first builds each model below with flow (`import flow as tf`), saves its initial
variables with `flow.train.Saver` (`model.ckpt` and `model.ckpt.meta`, the graph including
the Adam training op, which is also in the `train_op` collection) and the feed (`feed.npz`).
The second, in TensorFlow's interpreter, runs `tf.compat.v1.train.import_meta_graph` on that
`.meta`, restores the checkpoint, runs the collection's training op STEPS times with the feed,
and writes every variable's value to `tf_after.npz` (and TF's version to `tf_after.json`). tests/checkpoint/test_tf_runs_flow_training.py
checks that flow still exports exactly that graph and that flow's own steps give TF's values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "tf_train"
KINDS = ("mlp", "cnn", "deconv", "lstm", "nce", "lstm_loop", "nested", "lstm_dynamic")
STEPS = 3


def feed(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    if kind == "nce":  # word ids: 3 context words, the centre word to predict
        return rng.integers(0, 40, (16, 3)).astype(np.int32), rng.integers(0, 40, 16)
    shape = {"mlp": (16, 64), "cnn": (4, 28, 28, 1), "deconv": (4, 16), "lstm": (8, 6, 5),
             "lstm_loop": (4, 8, 8), "nested": (4, 8, 8), "lstm_dynamic": (4, 8, 8)}[kind]
    return rng.random(shape, dtype=np.float32), rng.integers(0, 2 if kind == "deconv" else 10,
                                                            shape[0])


def build(tf, kind: str):
    """The model with the TF1 API of module `tf`: (x, y, train op). An MLP, a CNN (2 conv +
    pool, sparse softmax cross-entropy), a DCGAN-like generator (dense, conv2d_transpose,
    tanh) under a dense discriminator with sigmoid cross-entropy, trained with plain SGD, or
    a BasicLSTMCell run by static_rnn over 6 time steps (no while loop), its last output
    classified; or a CBOW word model: the mean of 3 looked-up embeddings scored by nce_loss
    (with accidental hits removed, a fixed noise sample) and a sampled softmax, trained with
    Momentum, whose updates of the embedding and output rows are sparse; or an LSTM
    (`lstm_loop`) or a loop-in-a-loop RNN (`nested`) written as tf.while_loop over image
    rows, trained with plain SGD; or a BasicLSTMCell run by dynamic_rnn (`lstm_dynamic`: a
    while loop over TensorArrays, gradient arrays in the gradient loop) over the same rows,
    its last state and mean output classified, trained with plain SGD."""
    x_val, _ = feed(kind)
    x = tf.placeholder(tf.int32 if kind == "nce" else tf.float32, [None, *x_val.shape[1:]],
                       name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    if kind == "nce":
        return x, y, _nce(tf, x, y)
    if kind == "deconv":
        return x, y, _deconv(tf, x, y)
    h = x
    if kind == "lstm":
        cell = tf.nn.rnn_cell.BasicLSTMCell(12)
        outputs, _ = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
        h = outputs[-1]
    elif kind == "lstm_loop":
        h = _lstm(tf, x)
    elif kind == "nested":
        h = _nested_rnn(tf, x)
    elif kind == "lstm_dynamic":
        cell = tf.nn.rnn_cell.BasicLSTMCell(16)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        h = state.h + tf.reduce_mean(outputs, axis=1)
    elif kind == "mlp":
        for i, n in enumerate([32, 32]):
            w = tf.get_variable(f"w{i}", [h.get_shape()[-1], n])
            b = tf.get_variable(f"b{i}", [n], initializer=tf.zeros_initializer())
            h = tf.nn.relu(tf.matmul(h, w) + b)
    else:
        for i, c in enumerate([4, 8]):
            k = tf.get_variable(f"k{i}", [5, 5, h.get_shape()[-1], c])
            b = tf.get_variable(f"c{i}", [c], initializer=tf.zeros_initializer())
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME"), b))
            h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        h = tf.reshape(h, [-1, 7 * 7 * 8])
    w = tf.get_variable("out", [h.get_shape()[-1], 10])
    b = tf.get_variable("out_b", [10], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y, logits=tf.matmul(h, w) + b))
    step = tf.train.get_or_create_global_step()
    # the loops with plain SGD: the values it moves by are the gradients themselves
    optimizer = tf.train.GradientDescentOptimizer(0.5) if kind in (
        "lstm_loop", "nested", "lstm_dynamic") else \
        tf.train.AdamOptimizer(0.01)
    train = optimizer.minimize(loss, global_step=step, name="train")
    tf.add_to_collection("train_op", train)
    return x, y, train


def _lstm(tf, x, units=16):
    """An LSTM written as a tf.while_loop over the rows of an 8x8 image (time steps), the
    cell as BasicLSTMCell computes it (one kernel over [x_t, h], gates i, j, f, o, forget
    bias 1); returns the last h."""
    rows = tf.transpose(x, [1, 0, 2])
    with tf.variable_scope("rnn/lstm_cell"):
        kernel = tf.get_variable("kernel", [8 + units, 4 * units])
        bias = tf.get_variable("bias", [4 * units], initializer=tf.zeros_initializer())

    def body(t, c, h):
        gates = tf.matmul(tf.concat([tf.gather(rows, t), h], 1), kernel) + bias
        # the four gates as tf.split(gates, 4, 1) gives them; TensorFlow's SymbolicGradient of
        # the Slice nodes flow makes a split of has no case for a size of -1
        i, j, f, o = tf.unstack(tf.reshape(gates, [-1, 4, units]), axis=1)
        c = c * tf.sigmoid(f + 1.0) + tf.sigmoid(i) * tf.tanh(j)
        return t + 1, c, tf.tanh(c) * tf.sigmoid(o)

    zeros = tf.zeros([tf.shape(x)[0], units])
    zeros.set_shape([None, units])
    _, _, h = tf.while_loop(lambda t, c, h: t < 8, body, [tf.constant(0), zeros, zeros],
                            name="rnn/while")
    return h


def _nested_rnn(tf, x, units=8):
    """A tf.while_loop over the 4 pairs of rows of an 8x8 image whose body runs a
    tf.while_loop over the 2 rows of the pair (a tanh RNN cell, with a tf.cond that halves
    the state after the first row), then mixes the result with the pair's state."""
    pairs = tf.reshape(tf.transpose(x, [1, 0, 2]), [4, 2, -1, 8])
    w_x = tf.get_variable("rnn/w_x", [8, units])
    w_h = tf.get_variable("rnn/w_h", [units, units])
    b = tf.get_variable("rnn/b", [units], initializer=tf.zeros_initializer())

    def pair_step(p, h):
        rows = tf.gather(pairs, p)

        def row_step(r, u):
            u = tf.tanh(tf.matmul(tf.gather(rows, r), w_x) + tf.matmul(u, w_h) + b)
            return r + 1, tf.cond(tf.equal(r, 0), lambda: u * 0.5, lambda: u)

        _, inner = tf.while_loop(lambda r, u: r < 2, row_step, [tf.constant(0), h],
                                 name="rows")
        return p + 1, 0.7 * inner + 0.3 * h

    h = tf.zeros([tf.shape(x)[0], units])
    h.set_shape([None, units])
    return tf.while_loop(lambda p, h: p < 4, pair_step, [tf.constant(0), h],
                         name="pairs")[1]


def _deconv(tf, z, y):
    h = tf.reshape(tf.matmul(z, tf.get_variable("g_w", [16, 4 * 4 * 8])), [-1, 4, 4, 8])
    image = tf.nn.conv2d_transpose(h, tf.get_variable("g_k", [5, 5, 1, 8]), [4, 8, 8, 1],
                                   [1, 2, 2, 1])
    logits = tf.matmul(tf.reshape(tf.tanh(image), [-1, 64]), tf.get_variable("d_w", [64, 1]))
    labels = tf.cast(tf.reshape(y, [-1, 1]), tf.float32)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    step = tf.train.get_or_create_global_step()
    # plain SGD: Adam turns float rounding in near-zero gradients into whole steps of size lr
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=step, name="train")
    tf.add_to_collection("train_op", train)
    return train


def _nce(tf, ids, y):
    emb = tf.get_variable("emb", [40, 8])
    out_w = tf.get_variable("nce_w", [40, 8])
    out_b = tf.get_variable("nce_b", [40], initializer=tf.zeros_initializer())
    mean = tf.reduce_mean(tf.nn.embedding_lookup(emb, ids), axis=1)
    labels = tf.reshape(y, [-1, 1])
    noise = (tf.constant(np.array([0, 3, 7, 1, 12, 30], np.int64)),
             tf.fill(tf.stack([tf.shape(y)[0], 1]), 0.3),
             tf.constant(np.array([0.9, 0.5, 0.3, 0.7, 0.2, 0.1], np.float32)))
    loss = tf.reduce_mean(tf.nn.nce_loss(out_w, out_b, labels, mean, 6, 40,
                                         sampled_values=noise, remove_accidental_hits=True))
    loss += tf.reduce_mean(tf.nn.sampled_softmax_loss(out_w, out_b, labels, mean, 6, 40,
                                                      sampled_values=noise))
    step = tf.train.get_or_create_global_step()
    train = tf.train.MomentumOptimizer(0.5, 0.9).minimize(loss, global_step=step, name="train")
    tf.add_to_collection("train_op", train)
    return train


def build_for_saving(tf, kind: str):
    """`build` (graph seed 0), then the initializer and the Saver, in the order the `.meta`
    was written."""
    tf.set_random_seed(0)
    x, y, train = build(tf, kind)
    return x, y, train, tf.global_variables_initializer(), tf.train.Saver()


def chosen_kinds() -> tuple[str, ...]:
    """The kinds named by ``--kinds a,b`` (all of KINDS without it)."""
    args = sys.argv[1:]
    if "--kinds" not in args:
        return KINDS
    wanted = tuple(args[args.index("--kinds") + 1].split(","))
    unknown = set(wanted) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown kinds {sorted(unknown)}; choose from {KINDS}")
    return wanted


def write_flow_side() -> None:
    sys.path.insert(0, str(OUT.parents[2]))
    import flow as tf

    for kind in chosen_kinds():
        out = OUT / kind
        out.mkdir(parents=True, exist_ok=True)
        tf.reset_default_graph()
        _, _, _, init, saver = build_for_saving(tf, kind)
        with tf.Session() as sess:
            sess.run(init)
            saver.save(sess, str(out / "model.ckpt"))
        x_val, y_val = feed(kind)
        np.savez(out / "feed.npz", x=x_val, y=y_val)
        print(f"flow wrote {out}")


def write_tf_side() -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    v1.disable_eager_execution()
    for kind in chosen_kinds():
        out = OUT / kind
        data = np.load(out / "feed.npz")
        graph = tf.Graph()
        with graph.as_default(), v1.Session() as sess:
            saver = v1.train.import_meta_graph(str(out / "model.ckpt.meta"))
            saver.restore(sess, str(out / "model.ckpt"))
            train = v1.get_collection("train_op")[0]
            for _ in range(STEPS):
                sess.run(train, {"x:0": data["x"], "y:0": data["y"]})
            after = {v.op.name: np.asarray(sess.run(v)) for v in v1.global_variables()}
        np.savez_compressed(out / "tf_after.npz", **after)
        (out / "tf_after.json").write_text(json.dumps(
            {"tensorflow": tf.__version__, "steps": STEPS, "variables": sorted(after)}) + "\n")
        print(f"TensorFlow {tf.__version__} trained {out}: {len(after)} variables")


if __name__ == "__main__":
    write_tf_side() if "--tf" in sys.argv[1:] else write_flow_side()
