"""An MLP whose hidden layer is refined by a tf.while_loop (h <- tanh(h R + x W + b), three
times; the gradient flows back through the loop), with dropout switched on by a training flag
through tf.cond (the evaluation runs take the flag's other branch). The dropout masks are
drawn with numpy and fed, and the start too, so the run is the same on every runtime. A
second loop, with no gradient, counts the Collatz steps of the predicted digits."""

import digits
import numpy as np

import flow as tf

KEEP = 0.8
x_train, y_train, x_test, y_test = digits.load()
x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.int64, [None])
training = tf.placeholder_with_default(False, [], name="training")
mask = tf.placeholder_with_default(tf.ones([1, 32]), [None, 32], name="dropout_mask")

w = tf.get_variable("w", [64, 32])
b = tf.get_variable("b", [32])
r = tf.get_variable("r", [32, 32])
drive = tf.matmul(x, w) + b


def refine(i, h):
    return i + 1, tf.tanh(tf.matmul(h, r) + drive)


steps, hidden = tf.while_loop(lambda i, h: i < 3, refine, [tf.constant(0), tf.tanh(drive)])
hidden = tf.cond(training, lambda: hidden * mask / KEEP, lambda: hidden)
logits = tf.layers.dense(hidden, 10)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
train_op = tf.train.MomentumOptimizer(0.05, 0.5).minimize(loss)
predicted = tf.argmax(logits, 1)
accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32))


def collatz(n, count):
    n = tf.where(n > 1, tf.where(tf.equal(n % 2, 0), n // 2, 3 * n + 1), n)
    return n, count + tf.cast(n > 1, tf.int64)


_, collatz_steps = tf.while_loop(lambda n, c: tf.reduce_any(n > 1), collatz,
                                 [predicted + 1, tf.zeros_like(predicted)])

masks = np.random.RandomState(6)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    digits.set_weights(tf, sess, seed=3, scale=0.3)
    test = {x: x_test, y: y_test}
    first = sess.run(loss, test)
    for step in range(200):
        lo = (step * 100) % len(x_train)
        drop = (masks.uniform(size=(100, 32)) < KEEP).astype(np.float32)
        sess.run(train_op, {x: x_train[lo:lo + 100], y: y_train[lo:lo + 100], training: True,
                            mask: drop})
    acc, last, loops, counted = sess.run([accuracy, loss, steps, collatz_steps], test)
    train_loss = sess.run(loss, {x: x_train[:100], y: y_train[:100], training: True,
                                 mask: np.ones((100, 32), np.float32) * KEEP})
    digits.report(accuracy=acc, loss=last, first_loss=first, loop_steps=loops,
                  collatz_steps=counted.sum(), flag_on_loss=train_loss)
