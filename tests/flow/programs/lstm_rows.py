"""The recurrent MNIST classifier of the TF1 tutorials: an LSTM reads each digit's 8 rows as 8
time steps (tf.nn.dynamic_rnn over a BasicLSTMCell), its last state is classified by a dense
layer; Adam, batches in order, and a start drawn with numpy, so the run is the same on every
runtime."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
x = tf.placeholder(tf.float32, [None, 8, 8], name="rows")
y = tf.placeholder(tf.int64, [None], name="labels")
cell = tf.nn.rnn_cell.BasicLSTMCell(24)
outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
logits = tf.layers.dense(state.h, 10)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

rows_train, rows_test = x_train.reshape(-1, 8, 8), x_test.reshape(-1, 8, 8)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    digits.set_weights(tf, sess, seed=1)
    first = sess.run(loss, {x: rows_test, y: y_test})
    for step in range(120):
        lo = (step * 100) % len(x_train)
        sess.run(train_op, {x: rows_train[lo:lo + 100], y: y_train[lo:lo + 100]})
    acc, last, out = sess.run([accuracy, loss, outputs], {x: rows_test, y: y_test})
    digits.report(accuracy=acc, loss=last, first_loss=first, output_mean=out.mean())
