"""Traced Session.runs (Event.tagged_run_metadata): flow writes them with FileWriter.add_run_metadata,
the board serves each op's compute time and memory (/api/graph/run_metadata) and lists the tags
per run; TensorBoard's own reader and graph plugin see the same tags and the same bytes."""

from __future__ import annotations

import numpy as np
import pytest
from boardkit import event, write_events
from tensorboard import context as tb_context
from tensorboard.backend.event_processing import data_provider
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.plugins import base_plugin
from tensorboard.plugins.graph import graphs_plugin

import flow as tf
from board.run_metadata import summarize
from writer.proto import config_pb2, event_pb2

pytestmark = pytest.mark.integration

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """A logdir with run `train`: a graph, a scalar and two traced steps written by flow;
    returns (logdir, {tag: the RunMetadata written})."""
    logdir = tmp_path_factory.mktemp("traced")
    tf.reset_default_graph()
    with tf.name_scope("layer"):
        x = tf.placeholder(tf.float32, [None, 64], name="x")
        w = tf.Variable(tf.ones([64, 32]), name="w")
        y = tf.nn.relu(tf.matmul(x, w), name="y")
    loss = tf.reduce_mean(y, name="loss")
    written = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(str(logdir / "train"), sess.graph)
        for step in (2, 10):
            meta = tf.RunMetadata()
            sess.run(loss, {x: np.ones((16, 64))}, options=FULL, run_metadata=meta)
            writer.add_run_metadata(meta, f"step{step}", global_step=step)
            written[f"step{step}"] = meta
        writer.add_summary(sess.run(tf.summary.scalar("loss", loss), {x: np.ones((2, 64))}), 10)
        writer.close()
    tf.reset_default_graph()
    return logdir, written


def test_the_board_serves_each_ops_time_and_memory(traced, board_factory):
    logdir, written = traced
    board = board_factory(logdir).load()
    (run,) = board.json("/api/runs")["runs"]
    assert run["run_metadata"] == ["step2", "step10"]  # by step, not alphabetically
    assert run["errors"] == [] and run["corrupt_records"] == 0
    (compact,) = board.json("/api/runs", params={"compact": 1})["runs"]
    assert compact["run_metadata"] == ["step2", "step10"]

    body = board.json("/api/graph/run_metadata", params={"run": "train", "tag": "step10"})
    assert body["step"] == 10 and body["devices"] == [
        "/job:localhost/replica:0/task:0/device:CPU:0"]
    nodes = {n["name"]: n for n in body["nodes"]}
    stats = {s.node_name: s for s in written["step10"].step_stats.dev_stats[0].node_stats}
    assert set(nodes) == set(stats)  # every op that ran, by its graph name
    matmul = nodes["layer/MatMul"]
    assert matmul["memory_bytes"] == 16 * 32 * 4  # a [16, 32] float32 output
    assert matmul["compute_micros"] == pytest.approx(stats["layer/MatMul"].all_end_rel_nanos
                                                     / 1000)
    assert matmul["compute_micros"] > 0 and matmul["executions"] == 1
    assert nodes["loss"]["memory_bytes"] == 4
    graph_ops = {n["id"] for n in board.json("/api/graph", params={
        "run": "train", "expand": "layer"})["nodes"]}
    assert {"layer/MatMul", "layer/y", "loss"} <= graph_ops  # names map 1:1 onto graph nodes


@pytest.mark.compat
def test_tensorboard_lists_the_same_run_metadata_and_bytes(traced, board_factory):
    logdir, written = traced
    acc = ea.EventAccumulator(str(logdir / "train"))
    acc.Reload()
    assert sorted(acc.Tags()["run_metadata"]) == ["step10", "step2"]
    assert acc.RunMetadata("step10").SerializeToString() == \
        written["step10"].SerializeToString()

    multiplexer = pem.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    plugin = graphs_plugin.GraphsPlugin(base_plugin.TBContext(data_provider=provider,
                                                              logdir=str(logdir)))
    ctx = tb_context.RequestContext()
    info = plugin.info_impl(ctx, "")
    board = board_factory(logdir).load()
    ours = board.json("/data/plugin/graphs/info")
    assert set(ours["train"]["tags"]) == set(info["train"]["tags"]) == {"step2", "step10"}
    assert ours["train"]["run_graph"] == info["train"]["run_graph"] is True
    assert ours["train"]["tags"]["step2"]["profile"] == info["train"]["tags"]["step2"]["profile"]
    theirs, mime = plugin.run_metadata_impl(ctx, "", "train", "step2")
    r = board.get("/data/plugin/graphs/run_metadata", params={"run": "train", "tag": "step2"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(mime)
    assert r.text == theirs  # the same RunMetadata text, byte for byte


@pytest.mark.parametrize("path, params, code, words", [
    ("/api/graph/run_metadata", {"run": "nope", "tag": "step2"}, 404, "unknown run 'nope'"),
    ("/api/graph/run_metadata", {"run": "train", "tag": "step3"}, 404,
     "no run metadata tag 'step3'; its run metadata tags: 'step10', 'step2'"),
    ("/api/graph/run_metadata", {"run": "train"}, 422, "tag"),
    ("/data/plugin/graphs/run_metadata", {"run": "train", "tag": "x"}, 404, "'x'"),
])
def test_run_metadata_errors(traced, board_factory, path, params, code, words):
    r = board_factory(traced[0]).load().get(path, params=params)
    assert r.status_code == code and words in r.json()["error"]["message"], r.text


def _tagged(step: int, tag: str, data: bytes):
    return event(step=step, tagged_run_metadata=event_pb2.TaggedRunMetadata(
        tag=tag, run_metadata=data))


def test_bad_run_metadata_bytes_are_a_note_and_the_rest_is_served(tmp_path, board_factory):
    good = config_pb2.RunMetadata()
    dev = good.step_stats.dev_stats.add(device="/device:CPU:0")
    dev.node_stats.add(node_name="a", all_start_micros=100, all_end_rel_micros=7).memory.add(
        total_bytes=40)
    dev.node_stats.add(node_name="a", all_start_micros=120, all_end_rel_micros=5)  # a loop
    stream = good.step_stats.dev_stats.add(device="/device:GPU:0/stream:all")
    stream.node_stats.add(node_name="a", all_start_micros=100, all_end_rel_micros=99)
    write_events(tmp_path / "r" / "events.out.tfevents.1.h",
                 _tagged(1, "broken", b"\x0a\xff\xff\xff"),  # a length past the end
                 _tagged(2, "good", good.SerializeToString()),
                 _tagged(3, "torch_empty", config_pb2.RunMetadata().SerializeToString()))
    board = board_factory(tmp_path).load()
    (run,) = board.json("/api/runs")["runs"]
    assert run["run_metadata"] == ["good", "torch_empty"]
    assert len(run["errors"]) == 1 and "run metadata 'broken' at step 1 cannot be decoded" \
        in run["errors"][0]
    body = board.json("/api/graph/run_metadata", params={"run": "r", "tag": "good"})
    # stream pseudo-devices are left out (TensorBoard's default); two runs of "a" add up
    assert body["devices"] == ["/device:CPU:0"]
    assert body["nodes"] == [{"name": "a", "compute_micros": 12.0, "memory_bytes": 40,
                              "executions": 2}]
    assert body["total_micros"] == 25.0  # from the first start to the last end
    empty = board.json("/api/graph/run_metadata", params={"run": "r", "tag": "torch_empty"})
    assert empty["nodes"] == [] and empty["total_micros"] == 0.0


def test_run_metadata_of_a_deleted_file_goes_and_a_restart_purges_it(tmp_path, board_factory):
    meta = config_pb2.RunMetadata()
    meta.step_stats.dev_stats.add(device="/device:CPU:0").node_stats.add(
        node_name="op", all_start_micros=1, all_end_rel_micros=3)
    data = meta.SerializeToString()
    first = write_events(tmp_path / "r" / "events.out.tfevents.1.h", _tagged(5, "s5", data),
                         _tagged(9, "s9", data))
    board = board_factory(tmp_path).load()
    assert board.json("/api/runs")["runs"][0]["run_metadata"] == ["s5", "s9"]
    start = event(step=7, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    write_events(first, start)
    board.load()
    assert board.json("/api/runs")["runs"][0]["run_metadata"] == ["s5"]
    write_events(tmp_path / "r" / "events.out.tfevents.2.h", _tagged(1, "other", data))
    board.load()
    first.unlink()
    board.load()
    assert board.json("/api/runs")["runs"][0]["run_metadata"] == ["other"]


@pytest.mark.unit
def test_summarize_is_bounded_and_never_raises():
    assert summarize("t", 0, 0.0, b"\xff" * 10).problem.startswith("run metadata 't'")
    nested = b"\x0a\x80\x01" + b"\x0a\x7e" * 63  # deep garbage
    assert summarize("t", 0, 0.0, nested).nodes == {}


def test_tags_past_the_per_run_bounds_are_a_note(tmp_path, board_factory, monkeypatch):
    from board import store

    monkeypatch.setattr(store, "MAX_RUN_METADATA_TAGS", 2)  # the bounds, made small
    monkeypatch.setattr(store, "MAX_RUN_METADATA_OPS", 3)
    meta = config_pb2.RunMetadata()
    dev = meta.step_stats.dev_stats.add(device="/device:CPU:0")
    for name in ("a", "b"):
        dev.node_stats.add(node_name=name, all_start_micros=1, all_end_rel_micros=1)
    data = meta.SerializeToString()
    write_events(tmp_path / "r" / "events.out.tfevents.1.h", _tagged(1, "s1", data),
                 _tagged(2, "s2", data), _tagged(3, "s1", b""), _tagged(4, "s4", b""),
                 _tagged(5, "s5", b""), _tagged(6, "s6", b""), _tagged(7, "s7", data))
    board = board_factory(tmp_path).load()
    (run,) = board.json("/api/runs")["runs"]
    # s2 would make 4 op timings; the empty s1 replaces the first, s4 fits, s5 is a third tag
    assert run["run_metadata"] == ["s1", "s4"]
    assert run["errors"] == [  # one line per bound, however many tags it turns away
        "run metadata holds more than 3 op timings in all; later tags are not shown",
        "more than 2 run metadata tags; later ones are not shown"]


@pytest.mark.unit
def test_a_note_alone_is_announced_to_the_page():
    from board.store import Store, Update

    store = Store()
    store.add_run("r")
    seq = store.version
    update = Update("events.out.tfevents.1.h")
    update.run_metadata.append(summarize("bad", 3, 1.0, b"\xff"))
    store.apply("r", update)
    assert [(c.run, c.plugin) for c in store.changes_since(seq)] == [("r", "runs")]
    assert store.listing()[0][0]["errors"][0].startswith("run metadata 'bad' at step 3")
    assert store.run_metadata_tags("r") == []
