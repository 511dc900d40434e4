"""Training with ProximalGradientDescent and a piecewise-constant learning rate while writing
scalar, histogram and text summaries with a FileWriter, logging progress with tf.logging and
tf.Print; reports the accuracy and the number of events written."""

import tempfile

import digits

import flow as tf

tf.logging.set_verbosity(tf.logging.INFO)
x_train, y_train, x_test, y_test = digits.load()
logdir = tempfile.mkdtemp()
x = tf.placeholder(tf.float32, [None, 64], name="x")
y = tf.placeholder(tf.int64, [None], name="y")
with tf.name_scope("model"):
    w = tf.Variable(tf.zeros([64, 10]), name="w")
    b = tf.Variable(tf.zeros([10]), name="b")
    logits = tf.matmul(x, w) + b
loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
step = tf.train.get_or_create_global_step()
lr = tf.train.piecewise_constant(step, [100, 200], [0.5, 0.2, 0.05])
train_op = tf.train.ProximalGradientDescentOptimizer(
    lr, l2_regularization_strength=1e-4).minimize(loss, global_step=step)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
printed_loss = tf.Print(loss, [step, loss], message="step, loss: ", first_n=2)
tf.summary.scalar("loss", printed_loss)
tf.summary.scalar("learning_rate", lr)
tf.summary.histogram("weights", w)
tf.summary.text("notes", tf.constant("proximal gradient descent on **digits**"))
merged = tf.summary.merge_all()

with tf.Session() as sess:
    writer = tf.summary.FileWriter(logdir, sess.graph)
    sess.run(tf.global_variables_initializer())
    for i, idx in enumerate(digits.minibatches(300, 64, seed=9)):
        summary, _ = sess.run([merged, train_op], {x: x_train[idx], y: y_train[idx]})
        if i % 50 == 0:
            writer.add_summary(summary, i)
            tf.logging.info("step %d", i)
    writer.close()
    acc = sess.run(accuracy, {x: x_test, y: y_test})
files = tf.gfile.ListDirectory(logdir)
tf.gfile.DeleteRecursively(logdir)
digits.report(accuracy=acc, event_files=len(files), final_lr=0.05)
