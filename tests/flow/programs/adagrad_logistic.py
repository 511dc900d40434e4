"""Binary logistic regression (is the digit 5 or more?) with
tf.losses.sigmoid_cross_entropy, an L2 penalty through get_variable's regularizer and
tf.losses.get_total_loss, trained with Adagrad."""

import digits
import numpy as np

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.float32, [None, 1])
l2 = lambda w: 1e-3 * tf.nn.l2_loss(w)  # noqa: E731 - the TF1 idiom
w = tf.get_variable("w", [64, 1], initializer=tf.zeros_initializer(), regularizer=l2)
b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
logits = tf.matmul(x, w) + b
tf.losses.sigmoid_cross_entropy(multi_class_labels=y, logits=logits)
total = tf.losses.get_total_loss()
train_op = tf.train.AdagradOptimizer(0.5).minimize(total)
predicted = tf.cast(tf.greater(logits, 0.0), tf.float32)
accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32))

big_train = (y_train >= 5).astype(np.float32)[:, None]
big_test = (y_test >= 5).astype(np.float32)[:, None]
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(300):
        lo = (step * 100) % len(x_train)
        sess.run(train_op, {x: x_train[lo:lo + 100], y: big_train[lo:lo + 100]})
    acc, loss = sess.run([accuracy, total], {x: x_test, y: big_test})
    digits.report(accuracy=acc, loss=loss,
                  regularization=sess.run(tf.losses.get_regularization_loss()))
