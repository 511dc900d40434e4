"""A denoising autoencoder: Gaussian noise of the input's dynamic shape
(tf.random_normal(tf.shape(x))) with a Tensor stddev, tf.losses.huber_loss, Adadelta."""

import digits

import flow as tf

x_train, _, x_test, _ = digits.load()
tf.set_random_seed(7)
x = tf.placeholder(tf.float32, [None, 64])
noise_level = tf.placeholder_with_default(0.2, [], name="noise_level")
noisy = x + tf.random_normal(tf.shape(x), stddev=noise_level)
code = tf.layers.dense(noisy, 24, activation=tf.nn.sigmoid, name="encoder")
reconstruction = tf.layers.dense(code, 64, activation=tf.nn.sigmoid, name="decoder")
loss = tf.losses.huber_loss(labels=x, predictions=reconstruction, delta=0.5)
clean_error = tf.reduce_mean(tf.square(reconstruction - x))
train_op = tf.train.AdadeltaOptimizer(learning_rate=1.0, rho=0.95).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(800, 64, seed=5):
        sess.run(train_op, {x: x_train[idx]})
    mse = sess.run(clean_error, {x: x_test, noise_level: 0.0})
    digits.report(reconstruction_mse=mse)
