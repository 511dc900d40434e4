"""Regenerate tests/data/tf_layers/: a tf.layers model trained by TensorFlow and by flow, and
what each side computes from the other's checkpoint.

A manual step, never part of `make test` (TensorFlow is not a numboard dependency). Two runs,
in this order:

    .venv/bin/python tests/data/make_tf_layers.py             # flow: train, save flow/
    TF_USE_LEGACY_KERAS=1 /work/tfenv/bin/python tests/data/make_tf_layers.py --tf

The model (`build`) is a conv2d → batch_normalization → max_pooling2d → flatten → dense
network on the 8×8 digits, trained with Adam, the batch-norm update ops run with the train
op. Each side trains STEPS steps from its own random start and saves with `Saver`
(`flow/model.ckpt`, `tf/model.ckpt` with their `.meta`). TensorFlow then restores *flow's*
checkpoint, records the logits on the evaluation batch and every variable after one more
training step (`tf_on_flow.npz`), and does the same from its own checkpoint (`tf_on_tf.npz`).
tests/checkpoint/test_layers_interchange.py checks flow against both.

`--model lstm` does the same in tests/data/tf_lstm/ for `build_lstm`: the digits' rows as 8
time steps of a `BasicLSTMCell` run by `tf.nn.static_rnn` (variables
`rnn/basic_lstm_cell/kernel` and `bias`, as TF names them), its last output classified.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "tf_layers"
OUT_LSTM = Path(__file__).resolve().parent / "tf_lstm"
STEPS = 5


def batches():
    """(train images, train labels, eval images): fixed slices of the digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[..., None]
    return images[:64], data.target[:64].astype(np.int64), images[64:96]


def build(tf):
    """(x, y, logits, train op) with the TF1 API of module `tf`; the graph seed is 0."""
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    training = tf.placeholder_with_default(False, [], name="training")
    net = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
    net = tf.layers.batch_normalization(net, training=training)
    net = tf.layers.max_pooling2d(net, 2, 2)
    logits = tf.layers.dense(tf.layers.flatten(net), 10)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.AdamOptimizer(0.01).minimize(loss, name="train")
    return x, y, training, logits, train


def build_lstm(tf):
    """(x, y, training, logits, train op): an LSTM over the image rows; the graph seed is 0."""
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    training = tf.placeholder_with_default(False, [], name="training")  # unused: no dropout
    rows = tf.unstack(tf.reshape(x, [-1, 8, 8]), axis=1)
    outputs, _ = tf.nn.static_rnn(tf.nn.rnn_cell.BasicLSTMCell(16), rows, dtype=tf.float32)
    logits = tf.layers.dense(outputs[-1], 10)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    train = tf.train.AdamOptimizer(0.01).minimize(loss, name="train")
    return x, y, training, logits, train


def train_and_save(tf, out: Path, model=build) -> None:
    x, y, training, _, train = model(tf)
    saver = tf.train.Saver()
    images, labels, _ = batches()
    out.mkdir(parents=True, exist_ok=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(STEPS):
            sess.run(train, {x: images, y: labels, training: True})
        cwd = os.getcwd()
        os.chdir(out)  # a relative save path: the `checkpoint` file names no machine's path
        try:
            saver.save(sess, "model.ckpt")
        finally:
            os.chdir(cwd)


def continue_from(tf, prefix: Path, model=build) -> dict:
    """Restore ``prefix``, then: eval logits, and every variable after one training step."""
    x, y, training, logits, train = model(tf)
    saver = tf.train.Saver()
    images, labels, evaluation = batches()
    with tf.Session() as sess:
        saver.restore(sess, str(prefix))
        out = {"logits": sess.run(logits, {x: evaluation})}
        sess.run(train, {x: images, y: labels, training: True})
        out.update({v.op.name: sess.run(v) for v in tf.global_variables()})
    return out


def main() -> None:
    lstm = "--model" in sys.argv and sys.argv[sys.argv.index("--model") + 1] == "lstm"
    out, model = (OUT_LSTM, build_lstm) if lstm else (OUT, build)
    if "--tf" not in sys.argv:
        sys.path.insert(0, str(OUT.parents[2]))
        import flow as tf

        train_and_save(tf, out / "flow", model)
        print(f"flow wrote {out / 'flow'}")
        return
    import tensorflow as tensorflow

    tf = tensorflow.compat.v1
    tf.disable_v2_behavior()
    with tf.Graph().as_default():
        train_and_save(tf, out / "tf", model)
    for source in ("flow", "tf"):
        with tf.Graph().as_default():
            np.savez(out / f"tf_on_{source}.npz",
                     **continue_from(tf, out / source / "model.ckpt", model))
    print(f"TensorFlow {tensorflow.__version__} wrote {out}")


if __name__ == "__main__":
    main()
