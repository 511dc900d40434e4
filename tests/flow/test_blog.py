"""The blog post's snippets (reference/blog-tf1-notes.md) with `import flow as tf`.

Each test is one row of tf1-semantics.md §10 — what TensorFlow itself printed for the snippet.
"""

import glob
import os

import numpy as np
import pytest

import flow as tf
from examples.blog_basics import conv2d, my_image_filter  # the snippets, as shipped
from writer.event_file import RecordTail
from writer.proto import event_pb2, summary_pb2

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fresh_graph")]



def test_image_filter_twice_raises_then_reuse_variables_works():
    image1 = tf.placeholder(tf.float32, [1, 8, 8, 32])
    image2 = tf.placeholder(tf.float32, [1, 8, 8, 32])
    result1 = my_image_filter(image1)
    with pytest.raises(ValueError) as err:
        my_image_filter(image2)
    assert str(err.value).startswith(
        "Variable conv1/weights already exists, disallowed. Did you mean to set reuse=True or "
        "reuse=tf.AUTO_REUSE in VarScope?")
    tf.get_variable_scope().reuse_variables()
    result2 = my_image_filter(image2)
    assert [v.name for v in tf.global_variables()] == [
        "conv1/weights:0", "conv1/biases:0", "conv2/weights:0", "conv2/biases:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        img = np.random.default_rng(0).normal(size=(1, 8, 8, 32))
        r1, r2 = sess.run([result1, result2], {image1: img, image2: img})
    np.testing.assert_array_equal(r1, r2)  # the same weights serve both towers


def test_reuse_true_before_the_variable_exists():
    with pytest.raises(ValueError) as err, tf.variable_scope("nope", reuse=True):
        tf.get_variable("w", [1])
    assert str(err.value) == (
        "Variable nope/w does not exist, or was not created with tf.get_variable(). Did you "
        "mean to set reuse=tf.AUTO_REUSE in VarScope?")


def test_auto_reuse_and_shape_mismatch():
    with tf.variable_scope("a", reuse=tf.AUTO_REUSE):
        w1 = tf.get_variable("w", [2])
        w2 = tf.get_variable("w", [2])
    assert w1 is w2 and w1.name == "a/w:0"
    with pytest.raises(ValueError) as err, tf.variable_scope("a", reuse=True):
        tf.get_variable("w", [3])
    assert str(err.value) == ("Trying to share variable a/w, but specified shape (3,) and found "
                              "shape (2,).")


def test_try_except_conv2d_called_twice():
    value = tf.placeholder(tf.float32, [2, 28, 28, 1])
    conv2d(value, 16)
    out = conv2d(value, 16)
    assert out.get_shape().as_list() == [2, 14, 14, 16]
    assert len(tf.global_variables()) == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {value: np.ones((2, 28, 28, 1))}).shape == (2, 14, 14, 16)


def test_interactive_session_init_snippet():
    v = tf.Variable(tf.constant(1.0, shape=[5]), name="v1")
    sess = tf.InteractiveSession()
    try:
        init = tf.global_variables_initializer()
        sess.run(init)
        np.testing.assert_array_equal(sess.run(v), np.ones(5))
        np.testing.assert_array_equal(v.eval(), np.ones(5))
    finally:
        sess.close()


def _blog_graph(value):
    v1 = tf.Variable(tf.constant(value, shape=[5]), name="v1")
    tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    return v1, tf.global_variables_initializer()


def test_saver_dict_renames_the_key_and_restores(tmp_path):
    d = str(tmp_path)
    v1, init_op = _blog_graph(1.0)
    sess = tf.InteractiveSession()
    try:
        saver = tf.train.Saver({"vv1": v1})
        sess.run(init_op)
        prefix = saver.save(sess, d + "/model.ckpt")
    finally:
        sess.close()
    assert prefix == d + "/model.ckpt"
    assert sorted(os.listdir(d)) == ["checkpoint", "model.ckpt.data-00000-of-00001",
                                     "model.ckpt.index", "model.ckpt.meta"]
    assert tf.train.load_checkpoint(prefix).get_variable_to_shape_map() == {"vv1": [5]}

    tf.reset_default_graph()
    v1, init_op = _blog_graph(0.0)
    sess = tf.InteractiveSession()
    try:
        saver = tf.train.Saver({"vv1": v1})
        sess.run(init_op)
        np.testing.assert_array_equal(sess.run(v1), np.zeros(5))
        saver.restore(sess, d + "/model.ckpt")
        np.testing.assert_array_equal(sess.run(v1), np.ones(5))
        with pytest.raises(tf.errors.NotFoundError) as err:
            tf.train.Saver({"missing": v1}).restore(sess, d + "/model.ckpt")
        assert str(err.value).startswith(
            "Restoring from checkpoint failed. This is most likely due to a Variable name or "
            "other graph key that is missing from the checkpoint.")
    finally:
        sess.close()


def test_checkpoint_state_paths_are_relative_inside_the_directory(tmp_path):
    # The state file names checkpoints relative to its own directory (TF's
    # save_relative_paths=True form), so a run directory can be moved or mounted elsewhere;
    # latest_checkpoint still answers with the full prefix.
    d = str(tmp_path)
    v1, init_op = _blog_graph(1.0)
    with tf.Session() as sess:
        sess.run(init_op)
        tf.train.Saver({"vv1": v1}).save(sess, d + "/model.ckpt")
    state = open(os.path.join(d, "checkpoint")).read()
    assert 'model_checkpoint_path: "model.ckpt"' in state
    assert 'all_model_checkpoint_paths: "model.ckpt"' in state
    assert tf.train.latest_checkpoint(d) == os.path.join(d, "model.ckpt")


def test_image_and_scalar_summaries_merge_all():
    G = tf.placeholder(tf.float32, [5, 4, 4, 3])  # named "G", the scope would be "G_1", as in TF
    tf.summary.image("G", G, max_outputs=3)
    tf.summary.scalar("d_loss", 0.5)
    merged = tf.summary.merge_all()
    batch = np.random.default_rng(0).random((5, 4, 4, 3), dtype=np.float32)
    with tf.Session() as sess:
        data = sess.run(merged, {G: batch})
    assert isinstance(data, bytes)
    values = summary_pb2.Summary.FromString(data).value
    assert [v.tag for v in values] == ["G/image/0", "G/image/1", "G/image/2", "d_loss"]
    for v in values[:3]:
        assert (v.image.width, v.image.height, v.image.colorspace) == (4, 4, 3)
    assert values[3].simple_value == 0.5


def test_file_writer_events_with_and_without_global_step(tmp_path):
    loss = tf.placeholder(tf.float32, [], name="loss")
    summ = tf.summary.scalar("d_loss", loss)
    logdir = str(tmp_path / "logs")
    with tf.Session() as sess:
        s = sess.run(summ, {loss: 0.25})
        writer = tf.summary.FileWriter(logdir, sess.graph)
        writer.add_summary(s, 7)
        with pytest.warns(UserWarning, match="vertical line"):
            writer.add_summary(s)
        writer.close()
    files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    assert len(files) == 1
    events = [event_pb2.Event.FromString(r.data) for r in RecordTail(files[0]).read().records]
    kinds = [(e.WhichOneof("what"), e.step) for e in events]
    assert kinds == [("file_version", 0), ("graph_def", 0), ("meta_graph_def", 0),
                     ("summary", 7), ("summary", 0)]
    assert events[0].file_version == "brain.Event:2"
    assert events[3].summary.value[0].tag == "d_loss"
    assert events[3].summary.value[0].simple_value == 0.25
