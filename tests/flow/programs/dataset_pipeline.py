"""tf.data end to end: a shuffled, repeated, batched training pipeline read through a
one-shot iterator, and a test pass through an initializable iterator fed from placeholders,
read until OutOfRangeError."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
tf.set_random_seed(4)
train = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
         .map(lambda image, label: (image * 2.0 - 1.0, label))
         .shuffle(500, seed=7).repeat().batch(32).prefetch(1))
images, labels = train.make_one_shot_iterator().get_next()

features = tf.placeholder(tf.float32, [None, 64])
targets = tf.placeholder(tf.int64, [None])
test_set = tf.data.Dataset.from_tensor_slices((features, targets)).map(
    lambda image, label: (image * 2.0 - 1.0, label)).batch(100)
test_iterator = test_set.make_initializable_iterator()
test_images, test_labels = test_iterator.get_next()

with tf.variable_scope("model"):
    hidden = tf.layers.dense(images, 64, activation=tf.nn.tanh, name="hidden")
    logits = tf.layers.dense(hidden, 10, name="logits")
with tf.variable_scope("model", reuse=True):
    test_hidden = tf.layers.dense(test_images, 64, activation=tf.nn.tanh, name="hidden",
                                  reuse=True)
    test_logits = tf.layers.dense(test_hidden, 10, name="logits", reuse=True)
loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
train_op = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(test_logits, 1), test_labels), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(800):
        sess.run(train_op)
    sess.run(test_iterator.initializer, {features: x_test, targets: y_test})
    right, batches = 0.0, 0
    while True:
        try:
            right += sess.run(correct)
            batches += 1
        except tf.errors.OutOfRangeError:
            break
    print("test batches:", batches)
    digits.report(accuracy=right / len(x_test), batches=batches)
