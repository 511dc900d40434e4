"""A TF1 program in the shape of the official tutorials: ``tf.app.run`` with ``tf.app.flags``,
an input pipeline in ``tf.data`` and a model in ``tf.layers``, on scikit-learn's 8x8 digits.

- training batches come from a shuffled, repeated ``Dataset`` through a one-shot iterator;
  the validation set is read through an initializable iterator fed from placeholders, batch
  by batch until ``OutOfRangeError``;
- the model: conv2d → batch_normalization → max_pooling2d → conv2d → flatten → dense with
  dropout → dense, trained with Adam (the batch-norm update ops run with the train op);
- runs ``<logdir>/train`` (loss, learning rate, graph) and ``<logdir>/validation``
  (accuracy), and a checkpoint in ``<logdir>/checkpoints``.

    python examples/layers_data_app.py [--logdir logs/layers_data_app] [--steps 300]
"""

from __future__ import annotations

import os

import digits

import flow as tf

flags = tf.app.flags
flags.DEFINE_string("logdir", "logs/layers_data_app", "where the runs and checkpoints go")
flags.DEFINE_integer("steps", 300, "training steps")
flags.DEFINE_integer("batch_size", 64, "training batch size")
flags.DEFINE_integer("eval_every", 50, "validate every this many steps")
flags.DEFINE_float("learning_rate", 0.005, "Adam's learning rate")
FLAGS = flags.FLAGS


def model(images, training):
    """[n, 8, 8, 1] → logits [n, 10]."""
    net = tf.layers.conv2d(images, 16, 3, padding="same", activation=tf.nn.relu)
    net = tf.layers.batch_normalization(net, training=training)
    net = tf.layers.max_pooling2d(net, 2, 2)
    net = tf.layers.conv2d(net, 32, 3, padding="same", activation=tf.nn.relu)
    net = tf.layers.dense(tf.layers.flatten(net), 64, activation=tf.nn.relu)
    net = tf.layers.dropout(net, rate=0.3, training=training)
    return tf.layers.dense(net, 10)


def main(_):
    train, validation = digits.load()
    pipeline = (tf.data.Dataset.from_tensor_slices((train.images, train.labels))
                .shuffle(1000, seed=1).repeat().batch(FLAGS.batch_size).prefetch(1))
    images, labels = pipeline.make_one_shot_iterator().get_next()

    val_images = tf.placeholder(tf.float32, [None, 8, 8, 1], name="val_images")
    val_labels = tf.placeholder(tf.int64, [None], name="val_labels")
    val_iterator = tf.data.Dataset.from_tensor_slices((val_images, val_labels)).batch(
        100).make_initializable_iterator()
    val_x, val_y = val_iterator.get_next()

    with tf.variable_scope("model"):
        logits = model(images, training=True)
    with tf.variable_scope("model", reuse=True):
        val_logits = model(val_x, training=False)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    step = tf.train.get_or_create_global_step()
    rate = tf.train.exponential_decay(FLAGS.learning_rate, step, 100, 0.9)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = tf.train.AdamOptimizer(rate).minimize(loss, global_step=step)
    correct = tf.reduce_sum(tf.cast(tf.nn.in_top_k(val_logits, val_y, 1), tf.float32))
    tf.summary.scalar("loss", loss)
    tf.summary.scalar("learning_rate", rate)
    train_summaries = tf.summary.merge_all()
    accuracy = tf.placeholder(tf.float32, [], name="accuracy_value")
    val_summary = tf.summary.scalar("accuracy", accuracy, collections=[])

    def validate(sess):
        sess.run(val_iterator.initializer, {val_images: validation.images,
                                            val_labels: validation.labels})
        right = 0.0
        while True:
            try:
                right += sess.run(correct)
            except tf.errors.OutOfRangeError:
                return right / len(validation.labels)

    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        train_writer = tf.summary.FileWriter(os.path.join(FLAGS.logdir, "train"), sess.graph)
        val_writer = tf.summary.FileWriter(os.path.join(FLAGS.logdir, "validation"))
        for global_step in range(1, FLAGS.steps + 1):
            summary, _ = sess.run([train_summaries, train_op])
            train_writer.add_summary(summary, global_step)
            if global_step % FLAGS.eval_every == 0 or global_step == FLAGS.steps:
                acc = validate(sess)
                val_writer.add_summary(sess.run(val_summary, {accuracy: acc}), global_step)
                tf.logging.info("step %d: validation accuracy %.3f", global_step, acc)
        checkpoints = os.path.join(FLAGS.logdir, "checkpoints")
        tf.gfile.MakeDirs(checkpoints)
        saver.save(sess, os.path.join(checkpoints, "model.ckpt"), global_step=step)
        train_writer.close()
        val_writer.close()
    print(f"validation accuracy {acc:.3f} after {FLAGS.steps} steps")


if __name__ == "__main__":
    tf.logging.set_verbosity(tf.logging.INFO)
    tf.app.run()
