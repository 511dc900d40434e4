"""Regression with tf.losses.mean_squared_error and RMSProp: predict the digit's value
(0-9, as a number) from its pixels; reports the test mean squared error."""

import digits
import numpy as np

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
tf.set_random_seed(5)
x = tf.placeholder(tf.float32, [None, 64])
target = tf.placeholder(tf.float32, [None, 1])
hidden = tf.layers.dense(x, 32, activation=tf.nn.relu,
                         kernel_initializer=tf.truncated_normal_initializer(stddev=0.1))
prediction = tf.layers.dense(hidden, 1)
loss = tf.losses.mean_squared_error(labels=target, predictions=prediction)
mae = tf.losses.absolute_difference(target, prediction, loss_collection=None)
train_op = tf.train.RMSPropOptimizer(learning_rate=0.003, decay=0.9, momentum=0.5).minimize(
    loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(1000, 64, seed=3):
        sess.run(train_op, {x: x_train[idx], target: y_train[idx, None].astype(np.float32)})
    mse, abs_err = sess.run([loss, mae], {x: x_test, target: y_test[:, None].astype(np.float32)})
    print("losses in the collection:", len(tf.losses.get_losses()))
    digits.report(mse=mse, mae=abs_err)
