"""tf.RunOptions / tf.RunMetadata: a traced run's StepStats (each op's wall time and output
bytes) and FileWriter.add_run_metadata, read back by TensorBoard's own event reader and graph
plugin."""

import time

import numpy as np
import pytest
from tensorboard import context as tb_context
from tensorboard.backend.event_processing import data_provider
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.plugins import base_plugin
from tensorboard.plugins.graph import graphs_plugin

import flow as tf

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


def _model():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    w = tf.Variable(tf.ones([4, 3]), name="w")
    return x, tf.nn.relu(tf.matmul(x, w), name="y")


def test_full_trace_records_every_op_that_ran_with_its_output_bytes():
    x, y = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        before = time.time_ns() // 1000
        out = sess.run(y, {x: np.ones((5, 4))}, options=FULL, run_metadata=meta)
        after = time.time_ns() // 1000
    assert out.shape == (5, 3)
    (device,) = meta.step_stats.dev_stats
    assert device.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    stats = {s.node_name: s for s in device.node_stats}
    assert set(stats) == {"w", "w/read", "MatMul", "y"}  # the fed x does not run
    matmul = stats["MatMul"]
    assert matmul.timeline_label == "MatMul = MatMul(x, w/read)"
    assert before <= matmul.all_start_micros <= after
    assert matmul.all_end_rel_nanos == matmul.op_end_rel_nanos >= 0
    assert matmul.all_start_micros == matmul.all_start_nanos // 1000
    (output,) = matmul.output
    desc = output.tensor_description
    assert desc.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in desc.shape.dim] == [5, 3]
    assert desc.allocation_description.requested_bytes == 5 * 3 * 4
    assert matmul.memory[0].total_bytes == 60
    starts = [s.all_start_nanos for s in device.node_stats]
    assert starts == sorted(starts)  # in run order


def test_untraced_runs_leave_run_metadata_alone_and_a_new_trace_replaces_it():
    x, y = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(y, {x: np.ones((1, 4))}, run_metadata=meta)
        sess.run(y, {x: np.ones((1, 4))}, options=tf.RunOptions(), run_metadata=meta)
        assert not meta.HasField("step_stats")
        sess.run(y, {x: np.ones((1, 4))}, options=FULL, run_metadata=meta)
        sess.run(y, {x: np.ones((2, 4))}, options=FULL, run_metadata=meta)
    assert len(meta.step_stats.dev_stats) == 1
    bytes_of_y = [s.output[0].tensor_description.allocation_description.requested_bytes
                  for s in meta.step_stats.dev_stats[0].node_stats if s.node_name == "y"]
    assert bytes_of_y == [2 * 3 * 4]


def test_wrong_types_are_type_errors():
    x, y = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(TypeError, match="options must be a tf.RunOptions"):
            sess.run(y, {x: np.ones((1, 4))}, options="FULL_TRACE",
                     run_metadata=tf.RunMetadata())
        with pytest.raises(TypeError, match="run_metadata must be a tf.RunMetadata"):
            sess.run(y, {x: np.ones((1, 4))}, options=FULL, run_metadata={})


def test_add_run_metadata_checks_type_and_tag(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path))
    with pytest.raises(TypeError, match="tf.RunMetadata"):
        writer.add_run_metadata("junk", "step1")
    writer.add_run_metadata(tf.RunMetadata(), "step1")
    with pytest.raises(ValueError, match="already used"):
        writer.add_run_metadata(tf.RunMetadata(), "step1")
    writer.close()


@pytest.mark.compat
def test_tensorboard_reads_the_traced_step(tmp_path):
    x, y = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(y, {x: np.ones((5, 4))}, options=FULL, run_metadata=meta)
        writer = tf.summary.FileWriter(str(tmp_path / "train"), sess.graph)
        writer.add_run_metadata(meta, "step7", global_step=7)
        writer.close()

    acc = ea.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    assert acc.Tags()["run_metadata"] == ["step7"]
    theirs = acc.RunMetadata("step7")  # TensorBoard's proto parses ours field for field
    assert theirs.SerializeToString() == meta.SerializeToString()
    assert theirs.step_stats.dev_stats[0].node_stats[2].node_name == "MatMul"

    multiplexer = pem.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(tmp_path))
    plugin = graphs_plugin.GraphsPlugin(base_plugin.TBContext(data_provider=provider,
                                                              logdir=str(tmp_path)))
    ctx = tb_context.RequestContext()
    info = plugin.info_impl(ctx, "")
    assert info["train"]["tags"]["step7"]["profile"] is True
    body, mime = plugin.run_metadata_impl(ctx, "", "train", "step7")
    assert mime == "text/x-protobuf"
    assert 'node_name: "MatMul"' in body and "requested_bytes: 60" in body
