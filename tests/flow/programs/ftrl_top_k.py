"""A linear model trained with FTRL (L1 and L2 regularized), evaluated with tf.nn.top_k,
tf.nn.in_top_k (top-1 and top-3) and tf.arg_max."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.int32, [None])
w = tf.Variable(tf.zeros([64, 10]), name="weights")
b = tf.Variable(tf.zeros([10]), name="bias")
logits = tf.matmul(x, w) + b
loss = tf.losses.softmax_cross_entropy(tf.one_hot(y, 10), logits, label_smoothing=0.1)
train_op = tf.train.FtrlOptimizer(0.5, l1_regularization_strength=0.001,
                                  l2_regularization_strength=0.001).minimize(loss)
top1 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, y, 1), tf.float32))
top3 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, y, 3), tf.float32))
best_values, best_classes = tf.nn.top_k(tf.nn.softmax(logits), k=2)
agree = tf.reduce_mean(tf.cast(tf.equal(tf.cast(best_classes[:, 0], tf.int64),
                                        tf.arg_max(logits, 1)), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(400, 64, seed=7):
        sess.run(train_op, {x: x_train[idx], y: y_train[idx]})
    a1, a3, same, zeros = sess.run([top1, top3, agree, tf.reduce_mean(tf.cast(tf.equal(w, 0.0),
                                                                              tf.float32))],
                                   {x: x_test, y: y_test})
    digits.report(top1=a1, top3=a3, argmax_agrees=same, zero_weights=zeros)
