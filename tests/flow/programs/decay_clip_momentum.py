"""An MLP trained with Momentum on an exponentially decaying learning rate, gradients
clipped by global norm between compute_gradients and apply_gradients."""

import digits

import flow as tf

x_train, y_train, x_test, y_test = digits.load()
tf.set_random_seed(6)
x = tf.placeholder(tf.float32, [None, 64])
y = tf.placeholder(tf.int64, [None])
with tf.variable_scope("hidden"):
    w1 = tf.get_variable("weights", [64, 100],
                         initializer=tf.random_normal_initializer(stddev=0.1))
    b1 = tf.get_variable("biases", [100], initializer=tf.zeros_initializer())
    h = tf.nn.relu(tf.matmul(x, w1) + b1)
with tf.variable_scope("softmax"):
    w2 = tf.get_variable("weights", [100, 10],
                         initializer=tf.random_normal_initializer(stddev=0.1))
    b2 = tf.get_variable("biases", [10], initializer=tf.zeros_initializer())
    logits = tf.matmul(h, w2) + b2
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

global_step = tf.train.get_or_create_global_step()
learning_rate = tf.train.exponential_decay(0.1, global_step, 100, 0.8, staircase=True)
optimizer = tf.train.MomentumOptimizer(learning_rate, momentum=0.9)
grads_and_vars = optimizer.compute_gradients(loss)
grads, variables = zip(*grads_and_vars, strict=True)
clipped, norm = tf.clip_by_global_norm(grads, 5.0)
train_op = optimizer.apply_gradients(zip(clipped, variables, strict=True), global_step=global_step)
correct = tf.nn.in_top_k(logits, y, 1)
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for idx in digits.minibatches(500, 64, seed=4):
        sess.run(train_op, {x: x_train[idx], y: y_train[idx]})
    acc, lr, step = sess.run([accuracy, learning_rate, global_step], {x: x_test, y: y_test})
    print("step", step, "learning rate", lr)
    digits.report(accuracy=acc, learning_rate=lr, step=step)
