"""A small CNN on scikit-learn's 8x8 digits, written in TF 1.x style with ``import flow as tf``.

The "MNIST for experts" recipe at digits size: two conv + max-pool layers, a dense layer,
softmax cross-entropy and Adam. It writes what a TensorBoard user expects to see:

- runs ``<logdir>/train`` and ``<logdir>/validation`` with scalars ``loss`` and ``accuracy``
  at every global step (validation every ``--eval_every`` steps, on the whole held-out set);
- histograms ``weights/<layer>`` and ``biases/<layer>``, the input images, and the graph
  (train run);
- a checkpoint every ``--checkpoint_every`` steps in ``<logdir>/checkpoints`` (tf.train.Saver);
- in ``<logdir>`` itself, the session's run: its hyperparameters and final validation
  metrics (``SummaryWriter.add_hparams``; train and validation sit below it, so the Runs
  table shows them with these hyperparameters) and a Markdown note at the first and last step.

    python examples/mnist_like_cnn.py [--logdir logs/mnist_like_cnn] [--steps 300]
"""

from __future__ import annotations

import argparse
import os
import sys

import digits

import flow as tf
from writer import SummaryWriter


def weight(name, shape):
    return tf.get_variable(name, shape, initializer=tf.truncated_normal_initializer(stddev=0.1))


def bias(name, shape):
    return tf.get_variable(name, shape, initializer=tf.constant_initializer(0.1))


def model(images):
    """[n, 8, 8, 1] -> logits [n, 10]."""
    with tf.variable_scope("conv1"):
        w = weight("weights", [3, 3, 1, 16])
        h = tf.nn.relu(tf.nn.conv2d(images, w, [1, 1, 1, 1], "SAME") + bias("biases", [16]))
        h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    with tf.variable_scope("conv2"):
        w = weight("weights", [3, 3, 16, 32])
        h = tf.nn.relu(tf.nn.conv2d(h, w, [1, 1, 1, 1], "SAME") + bias("biases", [32]))
        h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    with tf.variable_scope("fc"):
        flat = tf.reshape(h, [-1, 2 * 2 * 32])
        return tf.matmul(flat, weight("weights", [2 * 2 * 32, 10])) + bias("biases", [10])


def run(logdir: str, steps: int = 300, batch_size: int = 64, eval_every: int = 10,
        checkpoint_every: int = 100, learning_rate: float = 0.01) -> dict:
    """Train and write the logdir; returns the final {"loss", "accuracy"} on validation."""
    train, validation = digits.load()
    tf.reset_default_graph()
    with tf.name_scope("data"):
        x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="images")
        y = tf.placeholder(tf.float32, [None, 10], name="labels")
    logits = model(x)
    with tf.name_scope("cross_entropy"):
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    with tf.name_scope("evaluation"):
        correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    global_step = tf.Variable(0, trainable=False, name="global_step")
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)

    scalars = tf.summary.merge([tf.summary.scalar("loss", loss),
                                tf.summary.scalar("accuracy", accuracy)])
    # A summary's tag is its op's name scope, made unique like any op name (TF does the same):
    # tf.summary.histogram("conv1/weights", w) would be tagged "conv1/weights_1", because the
    # variable already holds that name. So the histograms live under weights/ and biases/.
    # (Each name scope is entered once: entering "weights" again would open "weights_1".)
    histograms = []
    for kind in ("weights", "biases"):
        with tf.name_scope(kind):
            for v in tf.trainable_variables():
                layer, name = v.op.name.split("/")
                if name == kind:
                    histograms.append(tf.summary.histogram(layer, v))
    details = tf.summary.merge(histograms + [tf.summary.image("input", x, max_outputs=3)])
    saver = tf.train.Saver(max_to_keep=3)
    ckpt_dir = os.path.join(logdir, "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)

    hparams = {"learning_rate": learning_rate, "batch_size": batch_size, "optimizer": "adam",
               "steps": steps}
    session = SummaryWriter(logdir)  # TF1 had no hparams API; writer has torch's
    session.add_text("notes", "A 2-conv CNN on 8x8 digits, trained with Adam.\n\n"
                     + _markdown_table(hparams), 0)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    train_writer = tf.summary.FileWriter(os.path.join(logdir, "train"), sess.graph)
    val_writer = tf.summary.FileWriter(os.path.join(logdir, "validation"))
    val_feed = {x: validation.images, y: validation.onehot}
    stream = digits.batches(train, batch_size)
    for _ in range(steps):
        images, onehot = next(stream)
        feed = {x: images, y: onehot}
        _, summary = sess.run([train_op, scalars], feed_dict=feed)
        step = int(sess.run(global_step))
        train_writer.add_summary(summary, step)
        if step % eval_every == 0 or step == steps:
            train_writer.add_summary(sess.run(details, feed_dict=feed), step)
            val_writer.add_summary(sess.run(scalars, feed_dict=val_feed), step)
        if step % checkpoint_every == 0 or step == steps:
            saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"), global_step=step)
    val_loss, val_acc = sess.run([loss, accuracy], feed_dict=val_feed)
    results = {"validation loss": f"{val_loss:.4f}", "validation accuracy": f"{val_acc:.4f}"}
    session.add_hparams(hparams, {"hparam/val_loss": float(val_loss),
                                  "hparam/val_accuracy": float(val_acc)}, global_step=steps)
    session.add_text("notes", f"Finished {steps} steps.\n\n" + _markdown_table(results), steps)
    session.close()
    train_writer.close()
    val_writer.close()
    sess.close()
    print(f"mnist_like_cnn: {steps} steps, validation loss {val_loss:.3f}, "
          f"accuracy {val_acc:.3f}; latest checkpoint {tf.train.latest_checkpoint(ckpt_dir)}")
    return {"loss": float(val_loss), "accuracy": float(val_acc)}


def _markdown_table(values: dict) -> str:
    rows = "".join(f"| {k} | {v} |\n" for k, v in values.items())
    return "| setting | value |\n|---|---|\n" + rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="logs/mnist_like_cnn")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--eval_every", type=int, default=10)
    parser.add_argument("--checkpoint_every", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=0.01)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "eval_every", "checkpoint_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    run(args.logdir, args.steps, args.batch_size, args.eval_every, args.checkpoint_every,
        args.learning_rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
