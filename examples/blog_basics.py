"""The TF 1.0 blog post's snippets, end to end, with ``import flow as tf``.

Each part is one section of the post (``/work``'s reference: blog-tf1-notes.md):

1. graph, session, tensor, variable, feed and fetch;
2. ``tf.variable_scope`` + ``tf.get_variable``: the "conv1/weights already exists" ValueError
   the post explains, ``reuse_variables()``, ``reuse=True`` before the variables exist, and the
   post's try/except ``conv2d`` helper;
3. ``tf.train.Saver``: save/restore, the four checkpoint files, and ``Saver({"vv1": v1})``
   which stores ``v1`` under the key ``vv1``;
4. summaries: ``tf.summary.scalar``, ``tf.summary.image(tag, tensor, max_images=3)``,
   ``tf.summary.FileWriter(logdir, sess.graph)`` and ``add_summary(summary, global_step)`` --
   plus a run written without ``global_step``, the "straight line" the post warns about.

    python examples/blog_basics.py [--logdir logs/blog_basics] [--steps 100]

Writes the run ``<logdir>`` (scalars ``loss``, ``w``, ``b``, images ``pictures``, the graph), the
run ``<logdir>/no_global_step``, and checkpoints under ``<logdir>/checkpoints``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import flow as tf


def banner(title: str) -> None:
    print(f"\n== {title}")


# -- 1. graph, session, tensor, variable, feed and fetch -------------------------------------


def part1_session() -> None:
    banner("1. session, feed and fetch")
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, shape=[None, 2], name="x")
    w = tf.Variable(tf.constant([[1.0], [2.0]]), name="w")
    y = tf.matmul(x, w, name="y")
    sess = tf.InteractiveSession()  # creates the session
    init = tf.global_variables_initializer()  # the node that initializes the variables
    sess.run(init)  # runs it
    print("y =", sess.run(y, feed_dict={x: [[1.0, 1.0], [3.0, 4.0]]}).ravel().tolist())
    y_val, w_val = sess.run([y, w], feed_dict={x: [[0.5, 0.5]]})  # fetch several at once
    print("fetched", y_val.tolist(), "and w =", w_val.ravel().tolist())
    sess.close()


# -- 2. variable scopes and shared variables -------------------------------------------------


def conv_relu(input_images, kernel_shape, bias_shape):
    weights = tf.get_variable("weights", kernel_shape,
                              initializer=tf.random_normal_initializer())
    biases = tf.get_variable("biases", bias_shape, initializer=tf.constant_initializer(0.0))
    conv = tf.nn.conv2d(input_images, weights, strides=[1, 1, 1, 1], padding="SAME")
    return tf.nn.relu(conv + biases)


def my_image_filter(input_images):
    with tf.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with tf.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


def conv2d(value, output_dim, k_h=5, k_w=5, strides=(1, 2, 2, 1), name="conv2d"):
    """The post's helper: create the variables, or share them when they already exist."""
    with tf.variable_scope(name):
        try:
            weights = tf.get_variable(
                "weights", [k_h, k_w, value.get_shape()[-1], output_dim],
                initializer=tf.truncated_normal_initializer(stddev=0.02))
            biases = tf.get_variable("biases", [output_dim],
                                     initializer=tf.constant_initializer(0.0))
        except ValueError:
            tf.get_variable_scope().reuse_variables()
            weights = tf.get_variable(
                "weights", [k_h, k_w, value.get_shape()[-1], output_dim],
                initializer=tf.truncated_normal_initializer(stddev=0.02))
            biases = tf.get_variable("biases", [output_dim],
                                     initializer=tf.constant_initializer(0.0))
        conv = tf.nn.conv2d(value, weights, strides=list(strides), padding="SAME")
        conv = conv + biases
        return conv


def first_line(err: Exception) -> str:
    return str(err).split(" Originally defined at")[0].splitlines()[0]


def part2_variable_scope() -> None:
    banner("2. variable scopes and shared variables")
    tf.reset_default_graph()
    image1 = tf.random_normal([1, 8, 8, 32], seed=1)
    image2 = tf.random_normal([1, 8, 8, 32], seed=2)
    result1 = my_image_filter(image1)
    try:
        my_image_filter(image2)
    except ValueError as err:  # the error the post spent a long time on
        print("ValueError:", first_line(err))
    tf.get_variable_scope().reuse_variables()  # share the variables in this scope
    result2 = my_image_filter(image2)
    print("after reuse_variables():", [v.name for v in tf.global_variables()])
    print("result shapes:", result1.get_shape().as_list(), result2.get_shape().as_list())

    tf.reset_default_graph()
    try:  # reuse=True before anything was created: the other error of the post
        with tf.variable_scope("conv1", reuse=True):
            tf.get_variable("weights", [5, 5, 32, 32])
    except ValueError as err:
        print("ValueError:", first_line(err))

    tf.reset_default_graph()
    value = tf.placeholder(tf.float32, [2, 28, 28, 1], name="value")
    out1 = conv2d(value, 16)
    out2 = conv2d(value, 16)  # the same variables, through the try/except
    print("conv2d twice:", out2.get_shape().as_list(), "variables:", len(tf.global_variables()),
          "outputs:", out1.name, out2.name)


# -- 3. tf.train.Saver -----------------------------------------------------------------------


def part3_saver(ckpt_dir: str) -> None:
    banner("3. tf.train.Saver")
    os.makedirs(ckpt_dir, exist_ok=True)
    tf.reset_default_graph()
    tf.Variable(tf.constant(0.0, shape=[5]), name="v1")
    tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    init_op = tf.global_variables_initializer()
    sess = tf.InteractiveSession()
    saver = tf.train.Saver()  # all the variables, keyed by their names
    sess.run(init_op)
    save_path = saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"))
    print("saved", save_path, "->", sorted(os.listdir(ckpt_dir)))
    sess.close()

    # the post's example: a fresh graph where v1 starts at 1, restored to the saved zeros
    tf.reset_default_graph()
    v1 = tf.Variable(tf.constant(1.0, shape=[5]), name="v1")
    tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    init_op = tf.global_variables_initializer()
    sess = tf.InteractiveSession()
    saver = tf.train.Saver()
    sess.run(init_op)
    print("before restore v1 =", sess.run(v1).tolist())
    saver.restore(sess, os.path.join(ckpt_dir, "model.ckpt"))
    print("after restore  v1 =", sess.run(v1).tolist())
    sess.close()

    # renaming: the dict key is the name in the checkpoint
    renamed = os.path.join(ckpt_dir, "renamed", "model.ckpt")
    os.makedirs(os.path.dirname(renamed), exist_ok=True)
    tf.reset_default_graph()
    v1 = tf.Variable(tf.constant(1.0, shape=[5]), name="v1")
    tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    init_op = tf.global_variables_initializer()
    sess = tf.InteractiveSession()
    saver = tf.train.Saver({"vv1": v1})  # v1 is stored under the key vv1
    sess.run(init_op)
    saver.save(sess, renamed)
    sess.close()
    keys = tf.train.load_checkpoint(renamed).get_variable_to_shape_map()
    print("keys in", renamed, "->", keys)

    tf.reset_default_graph()
    v1 = tf.Variable(tf.constant(0.0, shape=[5]), name="v1")
    tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    init_op = tf.global_variables_initializer()
    sess = tf.InteractiveSession()
    saver = tf.train.Saver({"vv1": v1})  # the value under vv1 goes into v1
    sess.run(init_op)
    print("before restore v1 =", sess.run(v1).tolist())
    saver.restore(sess, renamed)
    print("after restore  v1 =", sess.run(v1).tolist())
    sess.close()


# -- 4. summaries and the FileWriter ---------------------------------------------------------


def smiley() -> np.ndarray:
    """An 8x8 target picture in [0, 1] for the image summary to converge to."""
    img = np.zeros((8, 8), np.float32)
    img[2, 2] = img[2, 5] = 1.0
    img[5, 1] = img[5, 6] = img[6, 2:6] = 1.0
    return img.reshape(1, 8, 8, 1)


def part4_summaries(logdir: str, steps: int) -> None:
    banner("4. summaries: scalars, images, the graph, global_step")
    tf.reset_default_graph()
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None], name="x")
    y_true = tf.placeholder(tf.float32, [None], name="y_true")
    with tf.name_scope("linear"):  # the variables are linear/w and linear/b; tags w and b
        w = tf.Variable(0.0, name="w")
        b = tf.Variable(0.0, name="b")
        y = w * x + b
    with tf.name_scope("picture"):  # a picture learning to smile, to watch in the Images tab
        canvas = tf.Variable(tf.zeros([1, 8, 8, 1]), name="canvas")
        noise = tf.random_normal([5, 8, 8, 1], stddev=0.05, seed=3)
        pictures = tf.maximum(canvas + noise, 0.0)  # a batch of 5; the summary shows the last 3
    with tf.name_scope("objective"):
        loss = (tf.reduce_mean(tf.square(y - y_true))
                + tf.reduce_mean(tf.square(canvas - smiley())))
    global_step = tf.Variable(0, trainable=False, name="global_step")
    train_op = tf.train.GradientDescentOptimizer(0.2).minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("w", w)
    tf.summary.scalar("b", b)
    tf.summary.image("pictures", pictures, max_images=3)
    merged = tf.summary.merge_all()

    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(logdir, sess.graph)
    no_step = tf.summary.FileWriter(os.path.join(logdir, "no_global_step"))
    for _ in range(steps):
        xs = rng.uniform(-1, 1, 32).astype(np.float32)
        feed = {x: xs, y_true: 3.0 * xs + 2.0}
        summary, _ = sess.run([merged, train_op], feed_dict=feed)
        step = int(sess.run(global_step))
        writer.add_summary(summary, step)
        if step % 10 == 0:
            no_step.add_summary(summary)  # every point at step 0: a vertical line
    writer.close()
    no_step.close()
    print(f"{steps} steps: loss={sess.run(loss, feed_dict=feed):.4f}",
          f"w={sess.run(w):.3f} b={sess.run(b):.3f} (target 3, 2)")
    print("event files in", logdir)
    sess.close()


def run(logdir: str, steps: int = 100) -> None:
    part1_session()
    part2_variable_scope()
    part3_saver(os.path.join(logdir, "checkpoints"))
    part4_summaries(logdir, steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="logs/blog_basics")
    parser.add_argument("--steps", type=int, default=100, help="training steps in part 4")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    run(args.logdir, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
