"""`tf.train.Saver().save/restore` with an s3:// prefix (a real SeaweedFS server): the same
four files as on disk, byte for byte, restore and latest_checkpoint from the bucket, and
max_to_keep deleting old checkpoints' objects."""

from __future__ import annotations

import pytest

import flow as tf
from writer.storage import storage_for

pytestmark = [pytest.mark.s3, pytest.mark.integration]


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _names(prefix: str) -> list[str]:
    return [o.url.rsplit("/", 1)[1] for o in storage_for(prefix).list(prefix)]


def test_save_and_restore_through_a_bucket(s3_prefix, tmp_path):
    v = tf.Variable(tf.constant([1.0, 2.0, 3.0]), name="v")
    step = tf.Variable(tf.constant(7), name="step")
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(3):
            sess.run(tf.assign(v, [float(i)] * 3))
            path = saver.save(sess, f"{s3_prefix}/ckpt/model.ckpt", global_step=i)
        local = saver.save(sess, str(tmp_path / "model.ckpt-2"), write_state=False)
    assert path == f"{s3_prefix}/ckpt/model.ckpt-2"
    assert _names(s3_prefix + "/ckpt") == [
        "checkpoint", "model.ckpt-1.data-00000-of-00001", "model.ckpt-1.index",
        "model.ckpt-1.meta", "model.ckpt-2.data-00000-of-00001", "model.ckpt-2.index",
        "model.ckpt-2.meta"]  # max_to_keep=2 deleted model.ckpt-0's objects
    store = storage_for(s3_prefix)
    for suffix in (".index", ".data-00000-of-00001"):
        assert store.read(path + suffix) == (tmp_path / f"model.ckpt-2{suffix}").read_bytes()
    assert tf.train.latest_checkpoint(s3_prefix + "/ckpt") == path
    assert tf.train.checkpoint_exists(path) and local
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.restore(sess, tf.train.latest_checkpoint(s3_prefix + "/ckpt"))
        assert sess.run(v).tolist() == [2.0, 2.0, 2.0] and sess.run(step) == 7
    reader = tf.train.load_checkpoint(path)
    assert reader.get_tensor("v").tolist() == [2.0, 2.0, 2.0]


def test_restore_from_a_missing_prefix_is_a_clear_error(s3_prefix):
    tf.Variable(tf.constant(1.0), name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess, pytest.raises(ValueError, match="not a valid checkpoint"):
        saver.restore(sess, f"{s3_prefix}/nothing/model.ckpt")
