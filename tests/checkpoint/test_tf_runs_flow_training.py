"""TensorFlow imports flow's training graphs and trains with them (golden files, SPEC §2).

tests/data/tf_train/<kind>/ holds what flow wrote (`model.ckpt*`, the `.meta` with the
training op: Adam, or plain SGD for the conv2d_transpose model and the loop models (an LSTM
and a loop-in-a-loop RNN written with tf.while_loop, whose gradients are gradient loops with
stacks); `feed.npz`) and what TensorFlow 2.21 computed from it (`tf_after.npz`): it ran
`import_meta_graph` on the `.meta`, restored the checkpoint and ran the `train_op` collection's
op 3 times (tests/data/make_tf_training.py). Here flow must still export exactly that graph,
node for node, and its own 3 steps must give TensorFlow's values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import flow as tf
from flow.framework.graph_import import UnsupportedOpError
from tests.data.make_tf_training import KINDS, STEPS, build_for_saving, feed
from writer.proto import meta_graph_pb2

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "tf_train"


def committed_meta(kind: str) -> meta_graph_pb2.MetaGraphDef:
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString((DATA / kind / "model.ckpt.meta").read_bytes())
    return meta


@pytest.mark.parametrize("kind", KINDS)
def test_flow_exports_the_graph_tensorflow_trained_with(kind):
    tf.reset_default_graph()
    ours = build_for_saving(tf, kind)[-1].export_meta_graph()
    theirs = committed_meta(kind)
    assert [n.name for n in ours.graph_def.node] == [n.name for n in theirs.graph_def.node]
    for mine, committed in zip(ours.graph_def.node, theirs.graph_def.node, strict=True):
        assert mine == committed, mine.name
    gradient_ops = {n.op for n in ours.graph_def.node if n.name.startswith("gradients/")}
    assert "SymbolicGradient" in gradient_ops  # in TF's form: f, Tin, Tout
    assert all(n.attr["f"].func.name and n.attr["Tout"].list.type
               for n in ours.graph_def.node if n.op == "SymbolicGradient")


@pytest.mark.parametrize("kind", KINDS)
def test_flow_training_steps_give_tensorflows_values(kind):
    tf.reset_default_graph()
    x, y, train, _, saver = build_for_saving(tf, kind)
    x_val, y_val = feed(kind)
    data = np.load(DATA / kind / "feed.npz")
    np.testing.assert_array_equal(data["x"], x_val)
    want = np.load(DATA / kind / "tf_after.npz")
    assert json.loads((DATA / kind / "tf_after.json").read_text())["steps"] == STEPS
    with tf.Session() as sess:
        saver.restore(sess, str(DATA / kind / "model.ckpt"))
        for _ in range(STEPS):
            sess.run(train, {x: x_val, y: y_val})
        got = {v.op.name: sess.run(v) for v in tf.global_variables()}
    assert sorted(got) == sorted(want.files)
    for name, value in got.items():
        np.testing.assert_allclose(value, want[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_the_lstm_loop_and_its_gradient_are_in_tensorflows_control_flow_form():
    nodes = committed_meta("lstm_loop").graph_def.node
    ops = {n.op for n in nodes}
    assert {"Enter", "Merge", "Switch", "LoopCond", "NextIteration", "Exit"} <= ops
    assert {"StackV2", "StackPushV2", "StackPopV2"} <= ops
    assert "WhileGrad" not in ops
    frames = {n.attr["frame_name"].s.decode() for n in nodes if n.op == "Enter"}
    assert frames == {"rnn/while", "gradients/rnn/while"}  # the loop and its gradient loop
    by_name = {n.name: n for n in nodes}
    pushes = [n for n in nodes if n.op == "StackPushV2"]
    pops = [n for n in nodes if n.op == "StackPopV2"]
    assert len(pushes) == len(pops) > 0
    for n in pushes:  # pushed in the forward loop, popped in the gradient loop
        assert by_name[n.input[0]].attr["frame_name"].s == b"rnn/while"
    for n in pops:
        assert by_name[n.input[0]].attr["frame_name"].s == b"gradients/rnn/while"


def test_dynamic_rnns_tensor_arrays_are_in_tensorflows_form():
    nodes = committed_meta("lstm_dynamic").graph_def.node
    by_name = {n.name: n for n in nodes}

    def source(name):  # the node an input names (output index dropped)
        return by_name[name.split(":")[0].lstrip("^")]

    arrays = [n for n in nodes if n.op == "TensorArrayV3"]
    assert len(arrays) == 2  # the inputs, unstacked, and the outputs, stacked
    assert all({"dtype", "element_shape", "dynamic_size", "clear_after_read",
                "identical_element_shapes", "tensor_array_name"} <= set(n.attr) for n in arrays)
    assert not [n for n in nodes if n.op == "SymbolicGradient"
                and n.attr["f"].func.name.startswith("TensorArray")]
    grads = [n for n in nodes if n.op == "TensorArrayGradV3"]
    assert grads and all(n.attr["source"].s == b"gradients" for n in grads)
    # (handle, ..., flow): the handle is a TensorArrayV3's (entered into a loop), the flow a
    # float; the gradient arrays are read and written in the gradient loop
    for n in nodes:
        if n.op in ("TensorArrayWriteV3", "TensorArrayReadV3", "TensorArrayScatterV3",
                    "TensorArrayGatherV3", "TensorArraySizeV3", "TensorArrayGradV3"):
            handle = source(n.input[0])
            while handle.op == "Enter":
                handle = source(handle.input[0])
            assert handle.op in ("TensorArrayV3", "TensorArrayGradV3"), n.name
    frames = {source(n.input[0]).attr["frame_name"].s for n in nodes
              if n.op in ("TensorArrayReadV3", "TensorArrayWriteV3")
              and source(n.input[0]).op == "Enter"}
    assert frames == {b"rnn/while"}
    in_grad_loop = [n for n in nodes if n.op == "TensorArrayReadV3"
                    and source(n.input[0]).op == "TensorArrayGradV3"]
    assert in_grad_loop and all(n.name.startswith("gradients/rnn/while/") for n in in_grad_loop)


def test_the_nested_loops_gradients_are_nested_gradient_loops():
    nodes = committed_meta("nested").graph_def.node
    frames = {n.attr["frame_name"].s.decode() for n in nodes if n.op == "Enter"}
    assert frames == {"pairs", "pairs/rows", "gradients/pairs",
                      "gradients/pairs/body/pairs/rows"}
    ops = {n.op for n in nodes}
    assert {"StackV2", "StackPushV2", "StackPopV2", "ControlTrigger", "LoopCond"} <= ops


def test_flow_says_it_cannot_import_a_loop_graph_yet():
    tf.reset_default_graph()
    with pytest.raises(UnsupportedOpError, match="Enter .*while_loop frame"):
        tf.train.import_meta_graph(str(DATA / "lstm_loop" / "model.ckpt.meta"))
