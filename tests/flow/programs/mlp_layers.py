"""A two-hidden-layer MLP with tf.layers.dense, tf.losses.sparse_softmax_cross_entropy and
Adam; minibatches drawn with numpy."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
tf.set_random_seed(1)
x = tf.placeholder(tf.float32, [None, 64], name="x")
labels = tf.placeholder(tf.int64, [None], name="labels")
hidden = tf.layers.dense(x, 128, activation=tf.nn.relu)
hidden = tf.layers.dense(hidden, 64, activation=tf.nn.relu)
logits = tf.layers.dense(hidden, 10)
loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(600, 64, seed=0):
        sess.run(train_op, {x: x_train[idx], labels: y_train[idx]})
    acc, test_loss = sess.run([accuracy, loss], {x: x_test, labels: y_test})
    print("variables:", [v.name for v in tf.trainable_variables()])
    digits.report(accuracy=acc, loss=test_loss)
