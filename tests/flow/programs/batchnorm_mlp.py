"""Batch normalization the TF1 way: tf.layers.batch_normalization with a training flag and the
UPDATE_OPS collection run with the train op; the test pass uses the moving statistics."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
tf.set_random_seed(3)
x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.int64, [None])
is_training = tf.placeholder(tf.bool, [])

h = tf.layers.dense(x, 64, use_bias=False)
h = tf.layers.batch_normalization(h, training=is_training, momentum=0.9)
h = tf.nn.relu(h)
logits = tf.layers.dense(h, 10)
loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(400, 50, seed=2):
        sess.run(train_op, {x: x_train[idx], y: y_train[idx], is_training: True})
    acc, test_loss = sess.run([accuracy, loss], {x: x_test, y: y_test, is_training: False})
    moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    print(moving_mean.name, len(update_ops), "update ops")
    digits.report(accuracy=acc, loss=test_loss)
