"""A small DCGAN on scikit-learn's 8x8 digits, TF 1.x style with ``import flow as tf``.

The shape of carpedm20's DCGAN-tensorflow, whose summaries the blog post quotes: a
generator with batch normalization, a discriminator built twice with shared variables
(``reuse_variables()``), losses from
``sigmoid_cross_entropy_with_logits``, two Adam optimizers over the ``d_``/``g_`` variables, and
exactly these summaries::

    d_loss_real_sum = tf.summary.scalar("d_loss_real", d_loss_real)
    d_loss_fake_sum = tf.summary.scalar("d_loss_fake", d_loss_fake)
    d_loss_sum = tf.summary.scalar("d_loss", d_loss)
    g_loss_sum = tf.summary.scalar("g_loss", g_loss)
    G_sum = tf.summary.image("G", G)

Scalars are written every step; ``G`` (samples from one fixed noise batch, shown 4x
enlarged) every ``--sample_every`` steps, so the Images tab shows the digits taking shape.

    python examples/dcgan_digits.py [--logdir logs/dcgan_digits] [--steps 1000]
"""

from __future__ import annotations

import argparse
import sys

import digits
import numpy as np

import flow as tf

Z_DIM = 16
SCALE = 4  # G is shown SCALE times larger (nearest neighbour): 8x8 digits are tiny on screen


def lrelu(x, leak=0.2):
    return tf.maximum(x, leak * x)


def linear(x, out_dim, name):
    with tf.variable_scope(name):
        w = tf.get_variable("w", [x.get_shape()[-1], out_dim],
                            initializer=tf.random_normal_initializer(stddev=0.1))
        b = tf.get_variable("b", [out_dim], initializer=tf.constant_initializer(0.0))
        return tf.matmul(x, w) + b


def conv(x, out_dim, name):
    """3x3 convolution, stride 2, SAME: halves height and width."""
    with tf.variable_scope(name):
        w = tf.get_variable("w", [3, 3, x.get_shape()[-1], out_dim],
                            initializer=tf.truncated_normal_initializer(stddev=0.1))
        b = tf.get_variable("b", [out_dim], initializer=tf.constant_initializer(0.0))
        return tf.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="SAME") + b


def deconv(x, output_shape, name):
    """4x4 transposed convolution, stride 2: doubles height and width (a kernel size that the
    stride divides avoids checkerboard artefacts)."""
    with tf.variable_scope(name):
        w = tf.get_variable("w", [4, 4, output_shape[-1], x.get_shape()[-1]],
                            initializer=tf.random_normal_initializer(stddev=0.1))
        b = tf.get_variable("b", [output_shape[-1]], initializer=tf.constant_initializer(0.0))
        y = tf.nn.conv2d_transpose(x, w, output_shape=output_shape, strides=[1, 2, 2, 1],
                                   padding="SAME")
        return y + b


def batch_norm(x, name):
    """Batch normalization over every axis but the channels (batch statistics)."""
    with tf.variable_scope(name):
        channels = x.get_shape()[-1]
        beta = tf.get_variable("beta", [channels], initializer=tf.constant_initializer(0.0))
        gamma = tf.get_variable("gamma", [channels], initializer=tf.constant_initializer(1.0))
        mean, variance = tf.nn.moments(x, list(range(len(x.get_shape()) - 1)))
        return tf.nn.batch_normalization(x, mean, variance, beta, gamma, 1e-5)


def generator(z, batch_size):
    with tf.variable_scope("generator"):
        h0 = tf.reshape(linear(z, 2 * 2 * 64, "g_h0_lin"), [-1, 2, 2, 64])
        h0 = tf.nn.relu(batch_norm(h0, "g_bn0"))
        h1 = tf.nn.relu(batch_norm(deconv(h0, [batch_size, 4, 4, 32], "g_h1"), "g_bn1"))
        return tf.nn.tanh(deconv(h1, [batch_size, 8, 8, 1], "g_h2"))


def discriminator(image, reuse=False):
    with tf.variable_scope("discriminator") as scope:
        if reuse:
            scope.reuse_variables()
        h0 = lrelu(conv(image, 32, "d_h0_conv"))
        h1 = lrelu(conv(h0, 64, "d_h1_conv"))
        logits = linear(tf.reshape(h1, [-1, 2 * 2 * 64]), 1, "d_h2_lin")
        return tf.nn.sigmoid(logits), logits


def enlarge(images, factor):
    """Nearest-neighbour upsampling of [n, h, w, c] by broadcasting (no resize op needed)."""
    n, h, w, c = images.get_shape().as_list()
    with tf.name_scope("enlarge"):
        grid = tf.reshape(images, [-1, h, 1, w, 1, c]) * tf.ones([1, 1, factor, 1, factor, 1])
        return tf.reshape(grid, [-1, h * factor, w * factor, c])


def run(logdir: str, steps: int = 1000, batch_size: int = 32, sample_every: int = 50,
        learning_rate: float = 0.001, seed: int = 0) -> dict:
    """Train and write the logdir; returns the last {"d_loss", "g_loss"}."""
    train, _ = digits.load(validation_fraction=0.0)
    real_images = train.images * 2.0 - 1.0  # tanh range
    tf.reset_default_graph()
    images = tf.placeholder(tf.float32, [batch_size, 8, 8, 1], name="real_images")
    z = tf.placeholder(tf.float32, [batch_size, Z_DIM], name="z")

    G = generator(z, batch_size)
    D, D_logits = discriminator(images)
    D_, D_logits_ = discriminator(G, reuse=True)

    def xent(logits, label):
        labels = tf.ones_like(logits) * label
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=logits,
                                                                      labels=labels))

    with tf.name_scope("losses"):  # (a scope named like a summary would rename its tag)
        d_loss_real = xent(D_logits, 0.9)  # one-sided label smoothing: D does not win early
        d_loss_fake = xent(D_logits_, 0.0)
        d_loss = d_loss_real + d_loss_fake
        g_loss = xent(D_logits_, 1.0)

    d_loss_real_sum = tf.summary.scalar("d_loss_real", d_loss_real)
    d_loss_fake_sum = tf.summary.scalar("d_loss_fake", d_loss_fake)
    d_loss_sum = tf.summary.scalar("d_loss", d_loss)
    g_loss_sum = tf.summary.scalar("g_loss", g_loss)
    G_sum = tf.summary.image("G", enlarge(G, SCALE))
    d_sum = tf.summary.merge([d_loss_real_sum, d_loss_fake_sum, d_loss_sum])
    g_sum = tf.summary.merge([g_loss_sum])

    t_vars = tf.trainable_variables()
    d_vars = [v for v in t_vars if "d_" in v.name]
    g_vars = [v for v in t_vars if "g_" in v.name]
    with tf.name_scope("optimizers"):
        d_optim = tf.train.AdamOptimizer(learning_rate, beta1=0.5).minimize(d_loss,
                                                                          var_list=d_vars)
        g_optim = tf.train.AdamOptimizer(learning_rate, beta1=0.5).minimize(g_loss,
                                                                          var_list=g_vars)

    rng = np.random.default_rng(seed)
    sample_z = rng.uniform(-1, 1, [batch_size, Z_DIM]).astype(np.float32)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(logdir, sess.graph)
    n = len(real_images)
    for step in range(1, steps + 1):
        batch = real_images[rng.integers(0, n, batch_size)]
        batch_z = rng.uniform(-1, 1, [batch_size, Z_DIM]).astype(np.float32)
        _, summary_str = sess.run([d_optim, d_sum], feed_dict={images: batch, z: batch_z})
        writer.add_summary(summary_str, step)
        _, summary_str = sess.run([g_optim, g_sum], feed_dict={z: batch_z})
        writer.add_summary(summary_str, step)
        if step % sample_every == 0 or step == 1 or step == steps:
            writer.add_summary(sess.run(G_sum, feed_dict={z: sample_z}), step)
    errs = sess.run([d_loss, g_loss], feed_dict={images: batch, z: batch_z})
    writer.close()
    sess.close()
    print(f"dcgan_digits: {steps} steps, d_loss {errs[0]:.3f}, g_loss {errs[1]:.3f}")
    return {"d_loss": float(errs[0]), "g_loss": float(errs[1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="logs/dcgan_digits")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sample_every", type=int, default=50)
    parser.add_argument("--learning_rate", type=float, default=0.001)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "sample_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    run(args.logdir, args.steps, args.batch_size, args.sample_every, args.learning_rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
