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


def _executions(meta):
    """Per op name, its executions' (wall nanos, [output bytes]) in run order."""
    out: dict[str, list] = {}
    for s in meta.step_stats.dev_stats[0].node_stats:
        out.setdefault(s.node_name, []).append((s.all_end_rel_nanos, [
            o.tensor_description.allocation_description.requested_bytes for o in s.output]))
    return out


def _loops(graph):
    return {ctx.frame_name: ctx for ctx in graph.get_collection("while_context")}


def _run_ops(ops):
    """The ops of a loop part that execute (flow folds constants into the run plan)."""
    return [op for op in ops if op.type not in ("Const", "NoOp")]


def test_a_traced_loop_logs_each_op_once_per_iteration_with_its_arrays_bytes():
    outer_n, inner_n = 3, 2
    x0 = tf.placeholder(tf.float32, [1, 3], name="x0")

    def inner(j, y):
        return j + 1, tf.sqrt(y + 1.0, name="root")

    def body(i, x):
        grown = tf.concat([x, x[-1:] * 2.0], axis=0, name="grown")  # one row more each time
        _, y = tf.while_loop(lambda j, y: j < inner_n, inner, [tf.constant(0), grown],
                             name="inner")
        return i + 1, y

    _, x = tf.while_loop(lambda i, x: i < outer_n, body, [tf.constant(0), x0],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, 3])],
                         name="outer")
    feed = {x0: np.arange(3, dtype=np.float32)[None]}
    with tf.Session() as sess:
        plain = sess.run(x, feed)
        meta = tf.RunMetadata()
        traced = sess.run(x, feed, options=FULL, run_metadata=meta)
    np.testing.assert_array_equal(traced, plain)  # the traced plan computes the same
    assert traced.shape == (1 + outer_n, 3)
    runs = _executions(meta)
    assert all(took >= 0 for execs in runs.values() for took, _ in execs)
    loops = _loops(tf.get_default_graph())
    outer, inner_loop = loops["outer"], loops["outer/inner"]
    inner_ops = set(_run_ops(inner_loop.body_ops))
    for op in _run_ops(outer.body_ops):
        if op.attrs["_frame"] is outer:
            assert len(runs[op.name]) == outer_n, op.name
    for op in inner_ops:
        assert len(runs[op.name]) == outer_n * inner_n, op.name
    for op in _run_ops(outer.cond_ops):
        assert len(runs[op.name]) == outer_n + 1, op.name
    for loop, n, times in ((outer, outer_n, 1), (inner_loop, inner_n, outer_n)):
        for kind, count in (("merges", n + 1), ("idents", n), ("nexts", n), ("exits", 1)):
            for t in getattr(loop, kind):
                assert len(runs[t.op.name]) == count * times, (kind, t.op.name)
        loop_cond = loop.switches[0][0].op.inputs[1].op
        assert len(runs[loop_cond.name]) == (n + 1) * times
        assert all(len(runs[e.op.name]) == times for e in loop.enters)
    # bytes: the arrays each execution made (float32 rows of 3)
    assert [b for _, (b,) in runs["outer/grown"]] == [(k + 2) * 12 for k in range(outer_n)]
    assert [b for _, (b,) in runs["outer/inner/root"]] == [
        (k + 2) * 12 for k in range(outer_n) for _ in range(inner_n)]
    assert [b for _, (b,) in runs["outer/add"]] == [4] * outer_n  # the int32 counter
    assert [b for _, b in runs["outer/Merge_1"]] == [[12, 4]] + [
        [(k + 2) * 12, 4] for k in range(outer_n)]  # the value and its value_index
    assert [b for _, b in runs["outer/Switch_1"]] == [[0, (k + 1) * 12] for k in range(
        outer_n)] + [[(outer_n + 1) * 12, 0]]  # the live side, then the exit
    assert runs["outer/Exit_1"] == [(runs["outer/Exit_1"][0][0], [traced.nbytes])]
    entries = meta.step_stats.dev_stats[0].node_stats
    starts = [s.all_start_nanos for s in entries]
    assert starts == sorted(starts)  # in run order
    label = next(s.timeline_label for s in entries if s.node_name == "outer/grown")
    assert label.startswith("outer/grown = ConcatV2(outer/Identity_1, ")


def test_a_traced_lstm_training_step_times_every_op_of_each_time_step():
    steps, batch, hidden = 4, 3, 5
    rows = tf.placeholder(tf.float32, [batch, steps, 2], name="rows")
    outputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(hidden), rows,
                                   dtype=tf.float32)
    loss = tf.reduce_sum(outputs[:, -1])
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    feed = {rows: np.ones((batch, steps, 2), np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        meta = tf.RunMetadata()
        sess.run(train, feed, options=FULL, run_metadata=meta)
    runs = _executions(meta)
    loops = _loops(tf.get_default_graph())
    forward = loops["rnn/while"]
    (backward,) = (ctx for name, ctx in loops.items() if name.startswith("gradients"))
    for loop in (forward, backward):
        body = _run_ops(loop.body_ops)
        assert len(body) > 10
        for op in body:
            assert len(runs[op.name]) == steps, op.name
    cell = [op.name for op in _run_ops(forward.body_ops) if "/basic_lstm_cell/" in op.name]
    assert "rnn/while/basic_lstm_cell/MatMul" in cell and len(cell) >= 12
    assert runs["rnn/while/basic_lstm_cell/MatMul"] and all(
        b == [batch * 4 * hidden * 4] for _, b in runs["rnn/while/basic_lstm_cell/MatMul"])
    def stack(t):  # the StackV2 a push or pop reads, through the Enters into its loop
        while t.op.type == "Enter":
            t = t.op.inputs[0]
        return t

    pops = {stack(op.inputs[0]): op for op in backward.body_ops if op.type == "StackPopV2"}
    pushes = [op for op in forward.body_ops if op.type == "StackPushV2"]
    assert len(pushes) == len(pops) > 10
    for push in pushes:  # a push's output is the value pushed, popped last first
        pushed = [b for _, b in runs[push.name]]
        assert all(b[0] > 0 for b in pushed), push.name
        assert pushed[::-1] == [b for _, b in runs[pops[stack(push.inputs[0])].name]], push.name
    assert all(took >= 0 for execs in runs.values() for took, _ in execs)
    loop_exit = forward.anchor.name
    assert len(runs[loop_exit]) == 1
    body_time = sum(took for op in _run_ops(forward.body_ops) for took, _ in runs[op.name])
    assert runs[loop_exit][0][0] < body_time  # the loop's time is its ops', not its Exit's
