"""mnist_softmax: one softmax layer trained by gradient descent, run through tf.app.run with
flags for the learning rate and the number of steps."""

import digits

import flow as tf

flags = tf.app.flags
flags.DEFINE_float("learning_rate", 0.5, "gradient descent step size")
flags.DEFINE_integer("steps", 300, "training steps")
FLAGS = flags.FLAGS


def main(_):
    x_train, y_train, x_test, y_test = digits.load()
    x = tf.placeholder(tf.float32, [None, 64])
    y_ = tf.placeholder(tf.float32, [None, 10])
    W = tf.Variable(tf.zeros([64, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_,
                                                                              logits=y))
    train_step = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(cross_entropy)
    correct = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    for i in range(FLAGS.steps):
        lo = (i * 100) % len(x_train)
        sess.run(train_step, {x: x_train[lo:lo + 100], y_: digits.one_hot(y_train[lo:lo + 100])})
    acc, loss = sess.run([accuracy, cross_entropy], {x: x_test, y_: digits.one_hot(y_test)})
    tf.logging.info("test accuracy %g", acc)
    digits.report(accuracy=acc, loss=loss)
    sess.close()


if __name__ == "__main__":
    tf.app.run()
