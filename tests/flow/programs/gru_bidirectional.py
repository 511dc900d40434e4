"""A bidirectional GRU classifier: each digit's rows are a sequence that ends at its last row
with more than 2 of ink (sequence_length), read forwards and backwards by tf.nn.bidirectional_dynamic_rnn
over two GRUCells; the two final states, concatenated, are classified. RMSProp with gradient
clipping by global norm, batches in order and a start drawn with numpy, so the run is the
same on every runtime."""

import digits
import numpy as np

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
rows_train, rows_test = x_train.reshape(-1, 8, 8), x_test.reshape(-1, 8, 8)


def lengths(rows):
    """1 + the index of the last row with more than 2 of ink."""
    inked = rows.sum(axis=2) > 2.0
    return (8 - np.argmax(inked[:, ::-1], axis=1)).astype(np.int32)


x = tf.placeholder(tf.float32, [None, 8, 8])
length = tf.placeholder(tf.int32, [None])
y = tf.placeholder(tf.int64, [None])
(out_fw, out_bw), (state_fw, state_bw) = tf.nn.bidirectional_dynamic_rnn(
    tf.nn.rnn_cell.GRUCell(16), tf.nn.rnn_cell.GRUCell(16), x, sequence_length=length,
    dtype=tf.float32)
features = tf.concat([state_fw, state_bw], axis=1)
logits = tf.layers.dense(features, 10)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
optimizer = tf.train.RMSPropOptimizer(0.02)
grads, variables = zip(*optimizer.compute_gradients(loss), strict=True)
clipped, norm = tf.clip_by_global_norm(grads, 5.0)
train_op = optimizer.apply_gradients(zip(clipped, variables, strict=True))
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
# outputs past a sequence's end are zeros, forwards and (reversed back) backwards
padding = tf.sequence_mask(length, 8, dtype=tf.float32)[:, :, None]
leak = tf.reduce_sum(tf.abs(out_fw * (1 - padding))) + tf.reduce_sum(tf.abs(out_bw * (1 - padding)))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    digits.set_weights(tf, sess, seed=2)
    test = {x: rows_test, length: lengths(rows_test), y: y_test}
    first = sess.run(loss, test)
    for step in range(150):
        lo = (step * 100) % len(x_train)
        batch = rows_train[lo:lo + 100]
        _, n = sess.run([train_op, norm], {x: batch, length: lengths(batch),
                                           y: y_train[lo:lo + 100]})
    acc, last, past_end = sess.run([accuracy, loss, leak], test)
    digits.report(accuracy=acc, loss=last, first_loss=first, last_grad_norm=n,
                  short_sequences=float((lengths(rows_test) < 8).mean()), past_end=past_end)
