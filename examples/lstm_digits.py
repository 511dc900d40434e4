"""An LSTM classifier on scikit-learn's 8x8 digits, rows as time steps (``import flow as tf``).

Each image is read as a sequence of 8 time steps of 8 pixels: a BasicLSTMCell unrolled by
``tf.nn.dynamic_rnn``, a dense layer on the last output, softmax cross-entropy and Adam.
It writes to ``<logdir>``:

- scalars ``loss`` and ``accuracy`` (training batch) every step, and ``validation/accuracy``
  every ``--eval_every`` steps;
- a histogram of the LSTM kernel, and the graph;
- one traced step (``--trace_step``): ``sess.run`` with ``FULL_TRACE`` fills a
  ``tf.RunMetadata``, written with ``add_run_metadata`` under the tag ``step<N>``; the
  Graphs view offers it as a session run and colours the nodes by compute time or memory.

    python examples/lstm_digits.py [--logdir logs/lstm_digits] [--steps 300]
"""

from __future__ import annotations

import argparse
import sys

import digits

import flow as tf

TIME_STEPS, PIXELS, CLASSES = 8, 8, 10


def model(rows, hidden: int):
    """[n, 8, 8] (time steps of pixel rows) -> logits [n, 10]."""
    cell = tf.nn.rnn_cell.BasicLSTMCell(hidden)
    outputs, _state = tf.nn.dynamic_rnn(cell, rows, dtype=tf.float32)
    last = outputs[:, -1, :]
    with tf.variable_scope("softmax"):
        w = tf.get_variable("weights", [hidden, CLASSES],
                            initializer=tf.truncated_normal_initializer(stddev=0.1))
        b = tf.get_variable("biases", [CLASSES], initializer=tf.constant_initializer(0.0))
        return tf.matmul(last, w) + b


def run(logdir: str, steps: int = 300, batch_size: int = 64, hidden: int = 32,
        learning_rate: float = 0.01, eval_every: int = 10, trace_step: int = 50) -> dict:
    """Train and write `logdir`; returns {"first_accuracy", "accuracy", "loss"} on the
    validation set (before training and after the last step)."""
    train, validation = digits.load()
    tf.reset_default_graph()
    with tf.name_scope("data"):
        x = tf.placeholder(tf.float32, [None, TIME_STEPS, PIXELS], name="rows")
        y = tf.placeholder(tf.float32, [None, CLASSES], name="labels")
    logits = model(x, hidden)
    with tf.name_scope("cross_entropy"):
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    with tf.name_scope("evaluation"):
        correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    global_step = tf.Variable(0, trainable=False, name="global_step")
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)

    kernel = next(v for v in tf.trainable_variables() if v.op.name.endswith("kernel"))
    summaries = tf.summary.merge([tf.summary.scalar("loss", loss),
                                  tf.summary.scalar("accuracy", accuracy)])
    kernel_histogram = tf.summary.histogram("lstm_kernel", kernel)
    val_accuracy = tf.summary.scalar("validation/accuracy", accuracy)

    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(logdir, sess.graph)
    val_feed = {x: validation.images[..., 0], y: validation.onehot}
    first_accuracy = float(sess.run(accuracy, feed_dict=val_feed))
    stream = digits.batches(train, batch_size)
    for step in range(1, steps + 1):
        images, onehot = next(stream)
        feed = {x: images[..., 0], y: onehot}
        if step == trace_step:
            run_metadata = tf.RunMetadata()
            _, summary = sess.run(
                [train_op, summaries], feed_dict=feed,
                options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                run_metadata=run_metadata)
            writer.add_run_metadata(run_metadata, f"step{step}", step)
        else:
            _, summary = sess.run([train_op, summaries], feed_dict=feed)
        writer.add_summary(summary, step)
        if step % eval_every == 0 or step == steps:
            writer.add_summary(sess.run(kernel_histogram), step)
            writer.add_summary(sess.run(val_accuracy, feed_dict=val_feed), step)
    val_loss, val_acc = sess.run([loss, accuracy], feed_dict=val_feed)
    writer.close()
    sess.close()
    print(f"lstm_digits: {steps} steps, validation accuracy {first_accuracy:.3f} -> "
          f"{val_acc:.3f}, loss {val_loss:.3f}")
    return {"first_accuracy": first_accuracy, "accuracy": float(val_acc),
            "loss": float(val_loss)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="logs/lstm_digits")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--eval_every", type=int, default=10)
    parser.add_argument("--trace_step", type=int, default=50,
                        help="the step traced with FULL_TRACE (0: none)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "hidden", "eval_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.trace_step < 0:
        parser.error(f"--trace_step must be 0 (none) or a step, got {args.trace_step}")
    run(args.logdir, args.steps, args.batch_size, args.hidden, args.learning_rate,
        args.eval_every, args.trace_step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
