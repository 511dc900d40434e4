"""tf.summary ops and FileWriter (tf1-semantics.md §8), read back by our reader and TensorBoard."""

import glob
import os

import numpy as np
import pytest

import flow as tf
from writer.event_file import RecordTail
from writer.proto import event_pb2, graph_pb2, summary_pb2

pytestmark = pytest.mark.usefixtures("fresh_graph")


def parse(data):
    return summary_pb2.Summary.FromString(data)


@pytest.mark.unit
def test_tags_follow_name_scopes_and_are_uniquified():
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.name_scope("train"):
        a = tf.summary.scalar("loss", x)
    b = tf.summary.scalar("loss", x)
    c = tf.summary.scalar("loss", x)
    with pytest.warns(UserWarning, match="Summary name bad name! is illegal; using bad_name_"):
        d = tf.summary.scalar("bad name!", x)
    e = tf.summary.scalar("acc", x, family="eval")
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b, c, d, e]
    with tf.Session() as sess:
        tags = [parse(sess.run(s, {x: 1.5})).value[0].tag for s in [a, b, c, d, e]]
    assert tags == ["train/loss", "loss", "loss_1", "bad_name_", "eval/acc"]
    assert a.op.type == "ScalarSummary" and a.dtype == tf.string


@pytest.mark.unit
def test_image_summary_keeps_the_last_images_and_names_tags_by_max_outputs():
    imgs = tf.placeholder(tf.float32, [None, 3, 2, 1])
    many = tf.summary.image("many", imgs, max_images=2)
    one = tf.summary.image("one", imgs, max_outputs=1)
    batch = np.zeros((4, 3, 2, 1), np.float32)
    batch[:, 0, 0, 0] = [1.0, 2.0, 3.0, 4.0]  # the last image differs in its other pixels
    batch[3, 1, 1, 0] = 2.0
    with tf.Session() as sess:
        m, o = sess.run([many, one], {imgs: batch})
        short = sess.run(many, {imgs: batch[:1]})
    assert [v.tag for v in parse(m).value] == ["many/image/0", "many/image/1"]
    assert [v.tag for v in parse(o).value] == ["one/image"]
    assert [v.tag for v in parse(short).value] == ["many/image/0"]  # form set by max_outputs
    value = parse(m).value[1].image
    assert (value.width, value.height, value.colorspace) == (2, 3, 1)
    from io import BytesIO

    from PIL import Image

    last = np.asarray(Image.open(BytesIO(value.encoded_image_string)))
    assert last.reshape(3, 2)[1, 1] == 127  # 2.0 of max 4.0 → 255/4*2, truncated
    bad = tf.placeholder(tf.float32, [2, 3])
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="Tensor must be 4-D with last dim 1, 3, or 4"):
        sess.run(tf.summary.image("bad", tf.reshape(bad, [1, 2, 3, 1]) * tf.ones([1, 1, 1, 2])),
                 {bad: np.zeros((2, 3))})


@pytest.mark.unit
def test_scalar_must_be_scalar_histogram_and_duplicate_tags():
    v = tf.placeholder(tf.float32, [None])
    s = tf.summary.scalar("loss", v)
    h = tf.summary.histogram("weights", v)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"tags and values not the same shape: \[\] != \[3\] "
                                 r"\(tag 'loss'\)"):
            sess.run(s, {v: [1.0, 2.0, 3.0]})
        histo = parse(sess.run(h, {v: [1.0, 2.0, 3.0]})).value[0].histo
        assert (histo.min, histo.max, histo.num, histo.sum) == (1.0, 3.0, 3.0, 6.0)
        dup = tf.summary.merge([h, h])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Duplicate tag weights found in summary inputs"):
            sess.run(dup, {v: [1.0]})
    assert tf.summary.merge_all(key="nothing") is None


@pytest.mark.integration
def test_file_writer_graph_reopen_and_closed_warning(tmp_path):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    tf.matmul(x, tf.get_variable("w", [3, 2]), name="logits")
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_graph(tf.get_default_graph(), global_step=3)
    writer.close()
    with pytest.warns(UserWarning, match="closed FileWriter"):
        writer.add_summary(b"", 1)
    writer.reopen()
    writer.add_summary(summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag="t", simple_value=1.0)]), global_step=2)
    writer.close()
    files = sorted(glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*")))
    assert len(files) == 2
    first = [event_pb2.Event.FromString(r.data) for r in RecordTail(files[0]).read().records]
    assert first[1].step == 3
    gd = graph_pb2.GraphDef.FromString(first[1].graph_def)
    nodes = {n.name: n for n in gd.node}
    assert nodes["logits"].op == "MatMul" and "_output_shapes" in nodes["logits"].attr
    with pytest.raises(ValueError, match="Please pass only graph"):
        tf.summary.FileWriter(str(tmp_path), tf.get_default_graph(), graph_def=gd)
    with pytest.raises(TypeError, match="must be an instance of `Graph`"):
        tf.summary.FileWriter(str(tmp_path), graph="nope")


@pytest.mark.compat
def test_tensorboard_reads_what_flow_wrote(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x = tf.placeholder(tf.float32, [None, 4, 4, 3], name="x")
    loss = tf.reduce_mean(x, name="loss_value")
    tf.summary.scalar("loss", loss)
    tf.summary.image("inputs", x, max_outputs=2)
    tf.summary.histogram("pixels", x)
    merged = tf.summary.merge_all()
    batch = np.random.default_rng(0).random((3, 4, 4, 3), dtype=np.float32)
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph)
        for step in range(3):
            writer.add_summary(sess.run(merged, {x: batch * (step + 1)}), step)
        writer.close()
    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss"] and tags["histograms"] == ["pixels"]
    assert sorted(tags["images"]) == ["inputs/image/0", "inputs/image/1"]
    assert [e.step for e in acc.Scalars("loss")] == [0, 1, 2]
    assert acc.Scalars("loss")[2].value == pytest.approx(3 * batch.mean(), rel=1e-5)
    assert acc.Images("inputs/image/0")[0].width == 4
    assert {n.name for n in acc.Graph().node} >= {"x", "loss_value", "loss", "Merge/MergeSummary"}
