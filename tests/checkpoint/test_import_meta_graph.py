"""`tf.train.import_meta_graph`: `.meta` files of flow and of TensorFlow rebuilt as flow ops."""

import json
from pathlib import Path

import numpy as np
import pytest

import flow as tf
from flow.framework.graph_import import UnsupportedOpError
from writer.proto import meta_graph_pb2

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def mlp(x):
    h = x
    for i, n in enumerate([16, 10]):
        w = tf.get_variable(f"w{i}", [h.get_shape()[-1], n])
        b = tf.get_variable(f"b{i}", [n], initializer=tf.random_normal_initializer())
        h = tf.matmul(h, w) + b
        h = tf.nn.relu(h) if i == 0 else h
    return h


def cnn(x):
    k = tf.get_variable("k", [3, 3, 1, 4])
    c = tf.get_variable("c", [4], initializer=tf.random_normal_initializer())
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME"), c))
    h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    h = tf.reshape(h, [-1, 4 * 4 * 4])
    return tf.matmul(h, tf.get_variable("out", [64, 10]))


def lstm(x):
    """A static_rnn LSTM: its gates are cut by a Split node (num_split outputs)."""
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    outputs, _ = tf.nn.static_rnn(cell, tf.unstack(x, 4, 1), dtype=tf.float32)
    return tf.matmul(outputs[-1], tf.get_variable("out", [6, 10]))


MODELS = {"mlp": (mlp, (5, 12)), "cnn": (cnn, (3, 8, 8, 1)), "lstm": (lstm, (3, 4, 5))}


def save_model(kind, prefix):
    """Build `kind` with a loss, save it; return (feed x, feed y, logits, loss) values."""
    build, shape = MODELS[kind]
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, *shape[1:]], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    logits = tf.identity(build(x), name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))
    tf.add_to_collection("losses", loss)
    rng = np.random.default_rng(0)
    xs, ys = rng.random(shape, dtype=np.float32), rng.integers(0, 10, shape[0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want = sess.run([logits, loss], {x: xs, y: ys})
        tf.train.Saver().save(sess, str(prefix))
    return xs, ys, want


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_flow_round_trip_gives_the_original_outputs(tmp_path, kind):
    prefix = tmp_path / "model.ckpt"
    xs, ys, (want_logits, want_loss) = save_model(kind, prefix)
    names = [v.op.name for v in tf.trainable_variables()]
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(str(prefix) + ".meta")
    graph = tf.get_default_graph()
    assert [v.op.name for v in tf.trainable_variables()] == names
    loss = tf.get_collection("losses")[0]
    with tf.Session() as sess:
        saver.restore(sess, str(prefix))
        logits, got_loss = sess.run([graph.get_tensor_by_name("logits:0"), loss],
                                    {"x:0": xs, "y:0": ys})
    np.testing.assert_array_equal(logits, want_logits)
    assert got_loss == want_loss


def test_import_scope_prefixes_names_and_restores_the_checkpoint_keys(tmp_path):
    prefix = tmp_path / "model.ckpt"
    xs, _, (want_logits, _) = save_model("mlp", prefix)
    saver = tf.train.import_meta_graph(str(prefix) + ".meta", import_scope="copy")
    graph = tf.get_default_graph()
    copied = [v.op.name for v in tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
              if v.op.name.startswith("copy/")]
    assert copied == ["copy/w0", "copy/b0", "copy/w1", "copy/b1"]
    assert tf.get_collection("losses")[1].name.startswith("copy/")
    with tf.Session() as sess:
        saver.restore(sess, str(prefix))  # keys w0, b0 ... as the checkpoint holds them
        logits = sess.run(graph.get_tensor_by_name("copy/logits:0"), {"copy/x:0": xs})
    np.testing.assert_array_equal(logits, want_logits)


def test_importing_twice_without_a_scope_names_the_clash(tmp_path):
    prefix = tmp_path / "model.ckpt"
    save_model("mlp", prefix)
    with pytest.raises(ValueError, match="node 'x' is already in the default graph.*import_scope"):
        tf.train.import_meta_graph(str(prefix) + ".meta")


def tf_mlp_logits(values, x):
    """The TF mlp fixture's forward pass in numpy, from the values TF saved."""
    hidden = np.maximum(x @ values["layer1/weights"] + values["layer1/biases"], 0)
    return hidden @ values["layer2/weights"] + values["layer2/biases"]


def test_tensorflow_mlp_meta_evaluates_and_trains_after_restore():
    expected = json.loads((DATA / "tf_ckpt" / "expected.json").read_text())["mlp/model.ckpt-2"]
    values = {k: np.array(v["values"], v["dtype"]).reshape(v["shape"])
              for k, v in expected.items()}
    prefix = str(DATA / "tf_ckpt" / "mlp" / "model.ckpt-2")
    saver = tf.train.import_meta_graph(prefix + ".meta")
    graph = tf.get_default_graph()
    assert sorted(saver._vars) == sorted(values)
    assert [v.op.name for v in tf.trainable_variables()] == [
        "layer1/weights", "layer1/biases", "layer2/weights", "layer2/biases"]
    train = tf.get_collection("train_op")[0]
    loss = graph.get_tensor_by_name("Mean:0")
    x = np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32)
    feed = {"x:0": x, "y:0": np.array([0, 1, 1, 0, 1, 0])}
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        np.testing.assert_allclose(sess.run("add_1:0", feed), tf_mlp_logits(values, x),
                                   rtol=1e-6, atol=1e-6)
        before = sess.run(loss, feed)
        for _ in range(20):  # TensorFlow's own gradient and Adam nodes, run by flow
            sess.run(train, feed)
        assert sess.run(tf.train.get_global_step()) == values["global_step"] + 20
        assert sess.run(loss, feed) < before


def test_saver_keys_of_a_renamed_tensorflow_saver_are_kept():
    prefix = str(DATA / "tf_ckpt" / "renamed" / "model.ckpt")
    saver = tf.train.import_meta_graph(prefix + ".meta")
    assert sorted(saver._vars) == ["vv1"]  # TF's Saver({"vv1": v1})
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run("v1:0"), np.ones(5, np.float32))


def digits():
    """The batches of tests/data/make_tf_layers.py: (train images, labels, eval images)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[..., None]
    return images[:64], data.target[:64].astype(np.int64), images[64:96]


def test_tensorflow_layers_meta_with_tf_cond_gives_tensorflows_logits_and_step():
    """TF's tf.layers model (conv2d, batch_normalization with a `training` placeholder, so
    tf.cond's Switch/Merge, FusedBatchNormV3, TF's gradient kernels): flow's run after restore
    gives the logits and the one-step variables TensorFlow recorded."""
    folder = DATA / "tf_layers"
    want = np.load(folder / "tf_on_tf.npz")
    images, labels, evaluation = digits()
    saver = tf.train.import_meta_graph(str(folder / "tf" / "model.ckpt.meta"))
    graph = tf.get_default_graph()
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    assert graph.get_operation_by_name("batch_normalization/cond/Merge").type == "Merge"
    with tf.Session() as sess:
        saver.restore(sess, str(folder / "tf" / "model.ckpt"))
        logits = sess.run("dense/BiasAdd:0", {"x:0": evaluation})  # training defaults False
        np.testing.assert_allclose(logits, want["logits"], rtol=1e-4, atol=1e-5)
        sess.run(tf.get_collection("train_op")[0],
                 {"x:0": images, "y:0": labels, "training:0": True})
        got = {v.op.name: sess.run(v) for v in tf.global_variables()}
    assert sorted(got) == sorted(k for k in want.files if k != "logits")
    for name, value in got.items():
        np.testing.assert_allclose(value, want[name], rtol=1e-3, atol=1e-5, err_msg=name)


def test_the_untaken_side_of_a_tf_cond_has_no_value():
    folder = DATA / "tf_layers"
    saver = tf.train.import_meta_graph(str(folder / "tf" / "model.ckpt.meta"))
    _, _, evaluation = digits()
    with tf.Session() as sess:
        saver.restore(sess, str(folder / "tf" / "model.ckpt"))
        training_side = "batch_normalization/cond/FusedBatchNormV3:0"
        assert sess.run(training_side, {"x:0": evaluation, "training:0": True}).shape == (
            32, 8, 8, 4)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Retval.0. does not have value: batch_normalization/cond/"
                                 "FusedBatchNormV3:0 is on the side of a tf.cond"):
            sess.run(training_side, {"x:0": evaluation})


def train_imported(meta, folder):
    """Restore folder/model.ckpt into `meta` imported, run its train_op as the fixture's
    TensorFlow run did; return {variable: value}."""
    saver = tf.train.import_meta_graph(meta)
    feed = np.load(folder / "feed.npz")
    train = tf.get_collection("train_op")[0]
    with tf.Session() as sess:
        saver.restore(sess, str(folder / "model.ckpt"))
        for _ in range(json.loads((folder / "tf_after.json").read_text())["steps"]):
            sess.run(train, {"x:0": feed["x"], "y:0": feed["y"]})
        return {v.op.name: sess.run(v) for v in tf.global_variables()}


@pytest.mark.parametrize("kind", ["mlp", "cnn", "deconv", "lstm", "nce"])
def test_flow_training_meta_trains_to_the_numbers_tensorflow_recorded(kind):
    folder = DATA / "tf_train" / kind
    got = train_imported(str(folder / "model.ckpt.meta"), folder)
    want = np.load(folder / "tf_after.npz")
    assert sorted(got) == sorted(want.files)
    for name, value in got.items():
        np.testing.assert_allclose(value, want[name], rtol=1e-4, atol=1e-5, err_msg=name)


def reversed_nodes(meta):
    nodes = list(meta.graph_def.node)[::-1]
    del meta.graph_def.node[:]
    meta.graph_def.node.extend(nodes)
    return meta


def test_node_order_of_the_graph_def_does_not_matter():
    """Nodes reversed (every input after its reader): training still gives TF's numbers."""
    folder = DATA / "tf_train" / "mlp"
    meta = meta_graph_pb2.MetaGraphDef.FromString((folder / "model.ckpt.meta").read_bytes())
    got = train_imported(reversed_nodes(meta), folder)
    want = np.load(folder / "tf_after.npz")
    for name, value in got.items():
        np.testing.assert_allclose(value, want[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_gradient_node_imported_before_its_forward_op_gets_a_forward_copy():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3), name="x")
    w = tf.constant(np.ones((3, 2), np.float32), name="w")
    upstream = np.full((2, 2), 2, np.float32)
    (gw,) = tf.gradients(tf.matmul(x, w), [w], grad_ys=tf.constant(upstream))
    tf.identity(gw, name="gw")
    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.CopyFrom(tf.get_default_graph().as_graph_def())
    tf.reset_default_graph()
    assert tf.train.import_meta_graph(reversed_nodes(meta)) is None  # no variables
    graph = tf.get_default_graph()
    copies = [op for op in graph.get_operations() if op.name.endswith("/forward")]
    assert [op.type for op in copies] == ["MatMul"]
    with tf.Session() as sess:
        got = sess.run("gw:0")
    np.testing.assert_array_equal(got, np.arange(6, dtype=np.float32).reshape(2, 3).T @ upstream)


def test_unknown_op_type_names_the_type_and_the_node():
    meta = meta_graph_pb2.MetaGraphDef()
    node = meta.graph_def.node.add(name="mystery", op="FancyOp")
    node.input.append("x")
    meta.graph_def.node.add(name="x", op="Placeholder")
    with pytest.raises(UnsupportedOpError, match=r"FancyOp \(node 'mystery'\)"):
        tf.train.import_meta_graph(meta)


def test_missing_file_says_what_to_pass(tmp_path):
    with pytest.raises(OSError, match="does not exist.*'model.ckpt.meta'"):
        tf.train.import_meta_graph(str(tmp_path / "nope.meta"))


def test_compat_v1_exports_it():
    assert tf.compat.v1.train.import_meta_graph is tf.train.import_meta_graph


def test_imported_graph_saves_again_and_the_copy_still_trains(tmp_path):
    folder = DATA / "tf_train" / "mlp"
    saver = tf.train.import_meta_graph(str(folder / "model.ckpt.meta"))
    with tf.Session() as sess:
        saver.restore(sess, str(folder / "model.ckpt"))
        saver.save(sess, str(tmp_path / "model.ckpt"))
    for name in ("checkpoint", "feed.npz", "tf_after.json"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    tf.reset_default_graph()
    got = train_imported(str(tmp_path / "model.ckpt.meta"), tmp_path)
    want = np.load(folder / "tf_after.npz")
    for name, value in got.items():
        np.testing.assert_allclose(value, want[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_new_layers_after_an_import_get_fresh_names():
    tf.train.import_meta_graph(str(DATA / "tf_layers" / "tf" / "model.ckpt.meta"))
    imported = {v.op.name for v in tf.global_variables()}
    x = tf.get_default_graph().get_tensor_by_name("x:0")
    with tf.name_scope("dense"):  # the imported graph's names and scopes are taken
        assert tf.identity(x).name == "dense_1/Identity:0"
    tf.layers.dense(tf.layers.flatten(x), 3)
    names = [v.op.name for v in tf.global_variables()]
    assert len(set(names)) == len(names) == len(imported) + 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())  # imported initializers run as well
        assert sess.run("dense/kernel:0").shape == (64, 10)


def summarized_model(tmp_path):
    """A pinned-device model with summaries, saved; returns (merged summary bytes, fed x)."""
    with tf.device("/cpu:0"):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.Variable(tf.random_normal([3, 2], seed=1), name="w")
        y = tf.matmul(x, w, name="y")
    tf.summary.scalar("mean_y", tf.reduce_mean(y))
    tf.summary.histogram("w", w)
    tf.summary.text("note", tf.constant("imported"))
    tf.summary.image("image", tf.reshape(tf.nn.sigmoid(y), [1, 2, 2, 1]))
    tf.random_uniform([2], maxval=5, dtype=tf.int32, name="draw")
    saver = tf.train.Saver()
    xs = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, str(tmp_path / "model.ckpt"))
        saver.export_meta_graph(str(tmp_path / "text.meta"), as_text=True)
        return sess.run(tf.summary.merge_all(), {x: xs}), xs


def test_summaries_collection_evaluates_to_the_same_bytes_from_a_text_meta(tmp_path):
    want, xs = summarized_model(tmp_path)
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(str(tmp_path / "text.meta"))
    assert [t.op.type for t in tf.get_collection(tf.GraphKeys.SUMMARIES)] == [
        "ScalarSummary", "HistogramSummary", "TensorSummaryV2", "ImageSummary"]
    with tf.Session() as sess:
        saver.restore(sess, str(tmp_path / "model.ckpt"))
        assert sess.run(tf.summary.merge_all(), {"x:0": xs}) == want
        (draw_op,) = [op for op in tf.get_default_graph().get_operations()
                      if op.type == "RandomUniformInt"]
        draw = sess.run(draw_op.outputs[0])
    assert draw.dtype == np.int32 and draw.shape == (2,)


def test_devices_are_kept_unless_cleared(tmp_path):
    summarized_model(tmp_path)
    meta = str(tmp_path / "model.ckpt.meta")
    tf.reset_default_graph()
    tf.train.import_meta_graph(meta)
    assert tf.get_default_graph().get_operation_by_name("y").device == "/device:CPU:0"
    tf.reset_default_graph()
    tf.train.import_meta_graph(meta, clear_devices=True)
    assert tf.get_default_graph().get_operation_by_name("y").device == ""


def test_a_file_that_is_no_meta_graph_is_named(tmp_path):
    path = tmp_path / "notes.meta"
    path.write_bytes(b"this is not a meta graph {")
    with pytest.raises(tf.errors.DataLossError, match="notes.meta is not a MetaGraphDef"):
        tf.train.import_meta_graph(str(path))
