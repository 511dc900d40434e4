"""A tf.layers model's checkpoints interchange with TensorFlow both ways.

Fixtures (tests/data/tf_layers/, made by tests/data/make_tf_layers.py): a conv2d +
batch_normalization + dense model trained with Adam by flow (`flow/`) and by TensorFlow
(`tf/`), and what TensorFlow computed after restoring each (`tf_on_flow.npz`, `tf_on_tf.npz`):
the evaluation logits and every variable after one more training step. tests/data/tf_lstm/
holds the same for an LSTM over the digits' rows (`BasicLSTMCell` under `tf.nn.static_rnn`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import flow as tf
from writer.proto import meta_graph_pb2, variable_pb2

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA))  # only for this import: tests/data/torch is no torch package
try:
    from make_tf_layers import (  # the recorder's own models
        OUT,
        OUT_LSTM,
        build,
        build_lstm,
        continue_from,
    )
finally:
    sys.path.remove(str(DATA))

pytestmark = pytest.mark.usefixtures("fresh_graph")


@pytest.fixture
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _keys(prefix: Path) -> dict:
    return dict(tf.train.list_variables(str(prefix)))


def test_flow_saves_the_keys_and_shapes_tensorflow_saves():
    flow_keys, tf_keys = _keys(OUT / "flow" / "model.ckpt"), _keys(OUT / "tf" / "model.ckpt")
    assert flow_keys == tf_keys
    assert {"conv2d/kernel", "batch_normalization/moving_variance", "dense/bias",
            "dense/kernel/Adam_1", "batch_normalization/gamma/Adam", "beta1_power"} <= set(flow_keys)


def test_flows_lstm_checkpoint_has_tensorflows_keys_and_shapes():
    flow_keys = _keys(OUT_LSTM / "flow" / "model.ckpt")
    assert flow_keys == _keys(OUT_LSTM / "tf" / "model.ckpt")
    assert flow_keys["rnn/basic_lstm_cell/kernel"] == [8 + 16, 4 * 16]
    assert flow_keys["rnn/basic_lstm_cell/bias"] == [4 * 16]
    assert {"rnn/basic_lstm_cell/kernel/Adam", "rnn/basic_lstm_cell/bias/Adam_1",
            "dense/kernel", "beta2_power"} <= set(flow_keys)


MODELS = {"layers": (OUT, build), "lstm": (OUT_LSTM, build_lstm)}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("source", ["tf", "flow"])
def test_flow_continues_from_a_checkpoint_as_tensorflow_does(source, model):
    """From TF's checkpoint: flow reads TF's; from flow's: TF read flow's (its recorded numbers)
    and flow agrees with them."""
    out, make = MODELS[model]
    theirs = np.load(out / f"tf_on_{source}.npz")
    ours = continue_from(tf, out / source / "model.ckpt", make)
    assert sorted(ours) == sorted(theirs.files)
    np.testing.assert_allclose(ours["logits"], theirs["logits"], rtol=1e-4, atol=1e-5)
    for name in theirs.files:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-3, atol=1e-5, err_msg=name)


def _collection(path: Path, key: str) -> list[str]:
    """The variable names of one collection of a ``.meta`` file."""
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(path.read_bytes())
    return [variable_pb2.VariableDef.FromString(v).variable_name
            for v in meta.collection_def[key].bytes_list.value]


@pytest.mark.parametrize("out", [OUT, OUT_LSTM], ids=["layers", "lstm"])
@pytest.mark.parametrize("key", ["trainable_variables", "variables"])
def test_the_meta_graphs_list_the_same_variables(key, out):
    flow_names = _collection(out / "flow" / "model.ckpt.meta", key)
    assert flow_names == _collection(out / "tf" / "model.ckpt.meta", key)
    if out is OUT:
        assert "batch_normalization/moving_mean:0" in _collection(
            OUT / "tf" / "model.ckpt.meta", "variables")
    else:
        assert "rnn/basic_lstm_cell/kernel:0" in flow_names
