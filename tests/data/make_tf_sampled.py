"""Regenerate tests/data/tf_sampled/: TensorFlow's numbers for sparse gradients and sampled losses.

A manual step, never part of `make test` (TensorFlow is not a numboard dependency):

    /work/tfenv/bin/python tests/data/make_tf_sampled.py

Each function below builds its graphs with the TF1 API of the module `tf` it is given and
returns named arrays; run here with `tensorflow.compat.v1`, they are written to
`golden.npz` (and TF's version to `golden.json`). tests/flow/test_sampled_losses.py runs the
same functions with `flow` and compares. Sampling is random, so the sampled losses get their
samples as `sampled_values` (fixed arrays); the samplers are checked where their output does
not depend on the draw (`unique=False` expected counts of the true classes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "tf_sampled"

VOCAB, DIM = 20, 4
LOSS_CASES = [  # (loss, num_true, remove_accidental_hits)
    ("nce_loss", 1, False), ("nce_loss", 2, True), ("nce_loss", 2, False),
    ("sampled_softmax_loss", 1, True), ("sampled_softmax_loss", 2, True),
    ("sampled_softmax_loss", 1, False),
]
OPTIMIZERS = {
    "sgd": lambda tf: tf.train.GradientDescentOptimizer(0.3),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda tf: tf.train.AdamOptimizer(0.1),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.2),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.5),
    "centered_rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.05, centered=True),
    "adadelta": lambda tf: tf.train.AdadeltaOptimizer(1.0),
    "ftrl": lambda tf: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01),
    "ftrl_shrinkage": lambda tf: tf.train.FtrlOptimizer(
        0.1, l2_shrinkage_regularization_strength=0.1),
    "proximal_sgd": lambda tf: tf.train.ProximalGradientDescentOptimizer(
        0.1, l1_regularization_strength=0.05),
}
STEPS = 3
IDS = np.array([[1, 4, 1], [7, 4, 2]], np.int32)  # row 1 twice, rows 0, 3, 5, 6, 8, 9 never


def loss_inputs():
    rng = np.random.default_rng(0)
    return {
        "weights": rng.standard_normal((VOCAB, DIM)).astype(np.float32),
        "biases": rng.standard_normal(VOCAB).astype(np.float32),
        "inputs": rng.standard_normal((3, DIM)).astype(np.float32),
        "labels": np.array([[1, 5], [2, 7], [3, 3]], np.int64),
        "sampled": np.array([5, 0, 9, 2], np.int64),  # 5 and 2 hit true classes
        "true_expected": rng.uniform(0.1, 1.0, (3, 2)).astype(np.float32),
        "sampled_expected": rng.uniform(0.1, 1.0, 4).astype(np.float32),
    }


def sampled_losses(tf) -> dict:
    """Each loss of LOSS_CASES and the gradients of its sum (weights and biases made dense)."""
    data, out = loss_inputs(), {}
    for loss_name, num_true, remove in LOSS_CASES:
        tf.reset_default_graph()
        w, b = tf.Variable(data["weights"]), tf.Variable(data["biases"])
        x = tf.constant(data["inputs"])
        labels = data["labels"][:, :num_true]
        sampled_values = (tf.constant(data["sampled"]),
                          tf.constant(data["true_expected"][:, :num_true]),
                          tf.constant(data["sampled_expected"]))
        loss = getattr(tf.nn, loss_name)(w, b, labels, x, num_sampled=4, num_classes=VOCAB,
                                         num_true=num_true, sampled_values=sampled_values,
                                         remove_accidental_hits=remove)
        grads = tf.gradients(tf.reduce_sum(loss), [w, b, x])
        key = f"{loss_name}_true{num_true}_{'remove' if remove else 'keep'}"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run([loss, *[tf.convert_to_tensor(g) for g in grads]])
        for part, value in zip(("loss", "d_weights", "d_biases", "d_inputs"), got, strict=True):
            out[f"{key}/{part}"] = np.asarray(value)
    return out


def expected_counts(tf) -> dict:
    """The true classes' expected counts of the samplers with ``unique=False``
    (``p(class) · num_sampled``, the same whatever is drawn)."""
    tf.reset_default_graph()
    labels = tf.constant(np.array([[0, 3], [17, 9], [1, 1]], np.int64))
    log_uniform = tf.nn.log_uniform_candidate_sampler(labels, 2, 6, False, VOCAB, seed=3)
    uniform = tf.nn.uniform_candidate_sampler(labels, 2, 6, False, VOCAB, seed=3)
    unigram = tf.nn.fixed_unigram_candidate_sampler(
        labels, 2, 6, False, VOCAB, unigrams=[float(k % 5 + 1) for k in range(VOCAB)],
        distortion=0.75, seed=3)
    with tf.Session() as sess:
        got = sess.run([log_uniform[1], uniform[1], unigram[1]])
    return {"log_uniform/true_expected": got[0], "uniform/true_expected": got[1],
            "unigram/true_expected": got[2]}


def sparse_gradient(tf) -> dict:
    """The IndexedSlices gradient of an embedding lookup, as fetched; a lookup with
    ``max_norm`` and its gradient."""
    tf.reset_default_graph()
    emb = tf.Variable(loss_inputs()["weights"][:10, :3])
    looked_up = tf.nn.embedding_lookup(emb, IDS)
    loss = tf.reduce_sum(tf.square(looked_up)) + tf.reduce_sum(tf.gather(emb, [0, 4]))
    (grad,) = tf.gradients(loss, [emb])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(grad)
        dense = sess.run(tf.convert_to_tensor(grad))
    tf.reset_default_graph()
    emb = tf.Variable(loss_inputs()["weights"][:10, :3] * 3.0)
    clipped = tf.nn.embedding_lookup(emb, IDS, max_norm=2.0)
    (clipped_grad,) = tf.gradients(tf.reduce_sum(tf.square(clipped)), [emb])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        rows, clipped_dense = sess.run([clipped, tf.convert_to_tensor(clipped_grad)])
    return {"grad/values": value.values, "grad/indices": value.indices,
            "grad/dense_shape": value.dense_shape, "grad/dense": dense,
            "max_norm/rows": rows, "max_norm/grad": clipped_dense}


def sparse_training(tf) -> dict:
    """STEPS steps of each optimizer on an embedding looked up by IDS (and reversed IDS),
    every variable (the embedding and the slots) afterwards."""
    out = {}
    table = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    for name, make in OPTIMIZERS.items():
        tf.reset_default_graph()
        emb = tf.get_variable("emb", initializer=table)
        ids = tf.placeholder(tf.int32, [None, 3])
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(emb, ids) - 1.0))
        train = make(tf).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(STEPS):
                sess.run(train, {ids: IDS if step % 2 == 0 else IDS[::-1] % 6})
            for v in tf.global_variables():
                out[f"{name}/{v.op.name}"] = sess.run(v)
    return out


def everything(tf) -> dict:
    return {**sampled_losses(tf), **expected_counts(tf), **sparse_gradient(tf),
            **sparse_training(tf)}


def main() -> None:
    import tensorflow as real_tf

    v1 = real_tf.compat.v1
    v1.disable_v2_behavior()
    golden = everything(v1)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "golden.npz", **golden)
    (OUT / "golden.json").write_text(json.dumps(
        {"tensorflow": real_tf.__version__, "arrays": sorted(golden)}, indent=1) + "\n")
    print(f"TensorFlow {real_tf.__version__}: {len(golden)} arrays in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
