"""Training with an ExponentialMovingAverage of the weights, saving with tf.train.Saver into a
directory managed with tf.gfile, and evaluating the averaged weights restored by
ema.variables_to_restore()."""

import os
import tempfile

import digits
import numpy as np

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
workdir = os.path.join(tempfile.mkdtemp(), "ema_run")
if tf.gfile.Exists(workdir):
    tf.gfile.DeleteRecursively(workdir)
tf.gfile.MakeDirs(workdir)


def model(x):
    w = tf.get_variable("w", [64, 10], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [10], initializer=tf.zeros_initializer())
    return tf.matmul(x, w) + b


with tf.Graph().as_default():
    x = tf.placeholder(tf.float32, [None, 64])
    y = tf.placeholder(tf.int64, [None])
    logits = model(x)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    step = tf.train.get_or_create_global_step()
    opt = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=step)
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    with tf.control_dependencies([opt]):
        train_op = ema.apply(tf.trainable_variables())
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for idx in digits.minibatches(300, 50, seed=6):
            sess.run(train_op, {x: x_train[idx], y: y_train[idx]})
        path = saver.save(sess, os.path.join(workdir, "model.ckpt"), global_step=step)
print("checkpoint files:", len(tf.gfile.Glob(path + "*")))

with tf.Graph().as_default():
    x = tf.placeholder(tf.float32, [None, 64])
    logits = model(x)
    ema = tf.train.ExponentialMovingAverage(0.99)
    restorer = tf.train.Saver(ema.variables_to_restore())
    with tf.Session() as sess:
        restorer.restore(sess, tf.train.latest_checkpoint(workdir))
        predicted = sess.run(tf.argmax(logits, 1), {x: x_test})
tf.gfile.DeleteRecursively(os.path.dirname(workdir))
digits.report(accuracy=np.mean(predicted == y_test))
