"""A convolutional autoencoder: conv2d and average_pooling2d down, conv2d_transpose up,
trained with Adam on the mean squared error."""

import digits

import flow as tf

x_train, _, x_test, _ = digits.load(images=True)
tf.set_random_seed(8)
images = tf.placeholder(tf.float32, [None, 8, 8, 1])
net = tf.layers.conv2d(images, 8, 3, padding="same", activation=tf.nn.relu)
net = tf.layers.average_pooling2d(net, 2, 2)
net = tf.layers.conv2d(net, 8, 3, padding="same", activation=tf.nn.relu)
net = tf.layers.conv2d_transpose(net, 8, 3, strides=2, padding="same", activation=tf.nn.relu)
decoded = tf.layers.conv2d_transpose(net, 1, 3, padding="same", activation=tf.nn.sigmoid)
loss = tf.losses.mean_squared_error(images, decoded)
train_op = tf.train.AdamOptimizer(5e-3).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(300, 64, seed=8):
        sess.run(train_op, {images: x_train[idx]})
    print("decoded shape:", decoded.shape)
    digits.report(reconstruction_mse=sess.run(loss, {images: x_test}))
