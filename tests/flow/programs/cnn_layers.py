"""A small CNN in tf.layers (conv2d, max_pooling2d, flatten, dense, dropout with a training
placeholder), trained with Adam on the 8×8 digit images."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load(images=True)
tf.set_random_seed(2)
images = tf.placeholder(tf.float32, [None, 8, 8, 1])
labels = tf.placeholder(tf.int64, [None])
training = tf.placeholder_with_default(False, [], name="training")

net = tf.layers.conv2d(images, 16, 3, padding="same", activation=tf.nn.relu)
net = tf.layers.max_pooling2d(net, 2, 2)
net = tf.layers.conv2d(net, 32, 3, padding="same", activation=tf.nn.relu)
net = tf.layers.max_pooling2d(net, 2, 2)
net = tf.layers.flatten(net)
net = tf.layers.dense(net, 64, activation=tf.nn.relu)
net = tf.layers.dropout(net, rate=0.3, training=training)
logits = tf.layers.dense(net, 10)
loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
train_op = tf.train.AdamOptimizer(2e-3).minimize(loss)
predictions = tf.argmax(logits, axis=1)
accuracy = tf.reduce_mean(tf.cast(tf.equal(predictions, labels), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(300, 64, seed=1):
        sess.run(train_op, {images: x_train[idx], labels: y_train[idx], training: True})
    acc, test_loss = sess.run([accuracy, loss], {images: x_test, labels: y_test})
    digits.report(accuracy=acc, loss=test_loss)
