"""`train.Saver` save/restore with `import flow as tf` (tf1-semantics.md §7 and §10)."""

import os

import ckpt_golden as golden
import numpy as np
import pytest

import flow as tf
from flow.checkpoint import bundle, reader, sstable
from writer.proto import meta_graph_pb2, variable_pb2

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def blog_graph(fill):
    """The blog's v1 (constant `fill`, [5]) and v2 (truncated normal, [3, 2])."""
    v1 = tf.Variable(tf.constant(fill, shape=[5]), name="v1")
    v2 = tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    return v1, v2


# --- the blog's snippets (tf1-semantics.md §10) ---------------------------------------------

def test_blog_save_writes_the_four_files(tmp_path):
    v1, v2 = blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model.ckpt"))
        want_v2 = sess.run(v2)
    assert path == str(tmp_path / "model.ckpt")
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.ckpt.data-00000-of-00001",
                                            "model.ckpt.index", "model.ckpt.meta"]
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt"\nall_model_checkpoint_paths: "model.ckpt"\n')
    ckpt = reader.load_checkpoint(path)
    assert ckpt.get_variable_to_shape_map() == {"v1": [5], "v2": [3, 2]}
    assert ckpt.get_tensor("v1").tolist() == [1.0] * 5
    assert golden.same(ckpt.get_tensor("v2"), want_v2)


def test_blog_restore_overwrites_initialized_values(tmp_path):
    """The blog: v1 prints [1 1 1 1 1], then [0 0 0 0 0] after restoring its zeros."""
    v1, v2 = blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v1).tolist() == [1.0] * 5
        saver.restore(sess, golden.path("blog/model.ckpt"))
        assert sess.run(v1).tolist() == [0.0] * 5
        assert golden.same(sess.run(v2), golden.tensors("blog/model.ckpt")["v2"])


def test_blog_renaming_dict_saves_under_the_dict_key(tmp_path):
    v1, _ = blog_graph(1.0)
    saver = tf.train.Saver({"vv1": v1})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, str(tmp_path / "model.ckpt"))
    assert reader.list_variables(str(tmp_path)) == [("vv1", [5])]
    # and a second program restores key vv1 into its v1
    tf.reset_default_graph()
    v1, _ = blog_graph(0.0)
    saver = tf.train.Saver({"vv1": v1})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v1).tolist() == [0.0] * 5
        saver.restore(sess, str(tmp_path / "model.ckpt"))
        assert sess.run(v1).tolist() == [1.0] * 5


def test_blog_renaming_dict_restores_tensorflows_checkpoint():
    v1, _ = blog_graph(0.0)
    saver = tf.train.Saver({"vv1": v1})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.restore(sess, golden.path("renamed/model.ckpt"))
        assert sess.run(v1).tolist() == [1.0] * 5


def test_blog_missing_key_is_not_found_with_closest_keys():
    v1, _ = blog_graph(0.0)
    saver = tf.train.Saver({"vv": v1})
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError) as info:
        saver.restore(sess, golden.path("renamed/model.ckpt"))
    msg = str(info.value)
    assert msg.startswith("Restoring from checkpoint failed. This is most likely due to a "
                          "Variable name or other graph key that is missing from the checkpoint.")
    assert "Key vv not found in checkpoint " + golden.path("renamed/model.ckpt") in msg
    assert "Closest keys in the checkpoint: vv1" in msg
    assert "tf.train.Saver({'name_in_checkpoint': variable})" in msg


def test_auto_named_variable_near_miss_lists_unused_keys():
    """tf1-semantics §9.4: auto names shift (Variable_2 asked, Variable_1 there)."""
    tf.Variable(np.int32([0, 0, 0, 0]), name="Variable_2")
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError) as info:
        tf.train.Saver().restore(sess, golden.path("dtypes/model.ckpt"))
    msg = str(info.value)
    assert "Key Variable_2 not found in checkpoint" in msg
    assert "Closest keys in the checkpoint: Variable_1, Variable" in msg
    assert "Checkpoint keys no variable asked for: Variable, Variable_1, b," in msg


# --- restoring TensorFlow's checkpoints exactly -------------------------------------------

def test_restore_every_dtype_written_by_tensorflow():
    want = golden.tensors("dtypes/model.ckpt")
    variables = {}
    for name, value in want.items():
        zero = np.zeros(value.shape, value.dtype) if value.dtype != object else \
            np.full(value.shape, b"", dtype=object)
        variables[name] = tf.Variable(zero, name=name.replace("/", "_"))
    saver = tf.train.Saver(variables)
    with tf.Session() as sess:
        saver.restore(sess, golden.path("dtypes/model.ckpt"))  # no initializer needed
        for name, var in variables.items():
            assert golden.same(np.asarray(sess.run(var), dtype=want[name].dtype), want[name]), name


def test_restore_tensorflow_adam_mlp_into_the_same_flow_model():
    want = golden.tensors("mlp/model.ckpt-2")
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    with tf.variable_scope("layer1"):
        w1 = tf.get_variable("weights", [4, 3])
        b1 = tf.get_variable("biases", [3], initializer=tf.constant_initializer(0.1))
    with tf.variable_scope("layer2"):
        w2 = tf.get_variable("weights", [3, 2])
        b2 = tf.get_variable("biases", [2], initializer=tf.zeros_initializer())
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    step = tf.train.get_or_create_global_step()
    tf.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
    saver = tf.train.Saver()
    assert sorted(saver._keys) == sorted(want)
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(str(golden.ROOT / "mlp")))
        for var in tf.global_variables():
            assert golden.same(np.asarray(sess.run(var)), want[var.op.name]), var.op.name


# --- round trips and files --------------------------------------------------------------------

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "bool", "complex64", "complex128"]


def test_every_flow_dtype_round_trips(tmp_path):
    values = {name: (np.arange(-4, 8) % 5).astype(name).reshape(2, 6) for name in DTYPES}
    values["string"] = np.array([[b"a", b""], [b"\xff\x00", "\u00e9".encode()]], dtype=object)
    values["scalar"] = np.float64(2.5)
    made = {n: tf.Variable(v, name=n) for n, v in values.items()}
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "all"))
    tf.reset_default_graph()
    fresh = {n: tf.Variable(np.zeros_like(v) if v.dtype != object else
                            np.full(v.shape, b"-", dtype=object), name=n)
             for n, v in values.items()}
    assert made.keys() == fresh.keys()
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, prefix)
        for name, var in fresh.items():
            assert var.dtype == tf.as_dtype(values[name].dtype)
            assert golden.same(np.asarray(sess.run(var), values[name].dtype), values[name]), name


def test_global_step_in_prefix_and_max_to_keep(tmp_path):
    step = tf.train.get_or_create_global_step()
    bump = tf.assign_add(step, 1)
    saver = tf.train.Saver(max_to_keep=2)
    prefixes = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(bump)
            prefixes.append(saver.save(sess, str(tmp_path / "model.ckpt"), global_step=step))
    assert prefixes == [str(tmp_path / f"model.ckpt-{i}") for i in (1, 2, 3, 4)]
    assert saver.last_checkpoints == prefixes[2:]
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint", "model.ckpt-3.data-00000-of-00001", "model.ckpt-3.index",
        "model.ckpt-3.meta", "model.ckpt-4.data-00000-of-00001", "model.ckpt-4.index",
        "model.ckpt-4.meta"]
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt-4"\n'
        'all_model_checkpoint_paths: "model.ckpt-3"\n'
        'all_model_checkpoint_paths: "model.ckpt-4"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefixes[-1]
    assert reader.load_checkpoint(str(tmp_path)).get_tensor("global_step") == 4
    assert bundle.decode_index((tmp_path / "model.ckpt-4.index").read_bytes())[1][
        "global_step"].dtype == tf.int64.as_datatype_enum


def test_int_global_step_padding_and_resaving_a_prefix(tmp_path):
    tf.Variable(1.0, name="w")
    saver = tf.train.Saver(max_to_keep=None, pad_step_number=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a = saver.save(sess, str(tmp_path / "m"), global_step=7, write_meta_graph=False)
        b = saver.save(sess, str(tmp_path / "m"), global_step=8, write_meta_graph=False)
    assert a.endswith("m-00000007") and b.endswith("m-00000008")
    assert os.path.exists(a + ".index") and not os.path.exists(a + ".meta")
    assert (tmp_path / "checkpoint").read_text().count("all_model_checkpoint_paths") == 1


def test_keep_checkpoint_every_n_hours_keeps_old_files_out_of_the_state(tmp_path):
    tf.Variable(1.0, name="w")
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=0.0)  # keep every one
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".index")) == [
        "m-0.index", "m-1.index", "m-2.index"]
    assert saver.last_checkpoints == [str(tmp_path / "m-2")]


def test_relative_save_path_gives_relative_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    tf.Variable(1.0, name="w")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert tf.train.Saver().save(sess, "run/model.ckpt", global_step=3) == "run/model.ckpt-3"
    assert 'model_checkpoint_path: "model.ckpt-3"' in (tmp_path / "run/checkpoint").read_text()
    assert tf.train.latest_checkpoint("run") == os.path.join("run", "model.ckpt-3")


def test_meta_graph_holds_graph_saver_def_and_collections(tmp_path):
    v1, _ = blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "model.ckpt"))
    meta = meta_graph_pb2.MetaGraphDef.FromString(open(prefix + ".meta", "rb").read())
    sd = meta.saver_def
    assert (sd.filename_tensor_name, sd.save_tensor_name, sd.restore_op_name) == (
        "save/Const:0", "save/control_dependency:0", "save/restore_all")
    assert (sd.max_to_keep, sd.keep_checkpoint_every_n_hours, sd.version) == (5, 10000.0, 2)
    nodes = {n.name: n for n in meta.graph_def.node}
    assert nodes["v1"].op == "VariableV2"
    assert nodes["save/SaveV2"].op == "SaveV2" and nodes["save/RestoreV2"].op == "RestoreV2"
    assert list(nodes["save/SaveV2/tensor_names"].attr["value"].tensor.string_val) == [b"v1", b"v2"]
    assert nodes["save/restore_all"].input == ["^save/Assign", "^save/Assign_1"]
    assert nodes["save/Assign"].input[:2] == ["v1", "save/RestoreV2"]
    variables = [variable_pb2.VariableDef.FromString(b)
                 for b in meta.collection_def["variables"].bytes_list.value]
    assert [v.variable_name for v in variables] == ["v1:0", "v2:0"]
    assert "trainable_variables" in meta.collection_def


def test_a_second_saver_uses_the_next_name_scope():
    v1, v2 = blog_graph(1.0)
    tf.train.Saver()
    second = tf.train.Saver([v2])
    assert second.saver_def.restore_op_name == "save_1/restore_all"
    assert second.saver_def.filename_tensor_name == "save_1/Const:0"


# --- errors ----------------------------------------------------------------------------------

def test_shape_mismatch_shows_both_shapes_and_the_variable():
    v1 = tf.Variable(tf.zeros([3]), name="v1")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.train.Saver().restore(sess, golden.path("blog/model.ckpt"))
    msg = str(info.value)
    assert "Assign requires shapes of both tensors to match. lhs shape= [3] rhs shape= [5]" in msg
    assert "Variable 'v1' has shape [3] in the graph, but key 'v1' in checkpoint" in msg
    del v1


def test_reshape_true_allows_same_element_count():
    v2 = tf.Variable(tf.zeros([6]), name="v2")
    with tf.Session() as sess:
        tf.train.Saver([v2], reshape=True).restore(sess, golden.path("blog/model.ckpt"))
        want = golden.tensors("blog/model.ckpt")["v2"].reshape(6)
        assert golden.same(sess.run(v2), want)


def test_dtype_mismatch_shows_both_dtypes():
    tf.Variable(tf.zeros([5], dtype=tf.float64), name="v1")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.train.Saver().restore(sess, golden.path("blog/model.ckpt"))
    assert "expected dtype double does not equal original dtype float" in str(info.value)
    assert "'v1' is float64 in the graph but float32 in checkpoint" in str(info.value)


def test_failed_restore_changes_no_variable(tmp_path):
    v1 = tf.Variable(tf.constant(7.0, shape=[5]), name="v1")
    v3 = tf.Variable(1.0, name="v3")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.NotFoundError):
            tf.train.Saver().restore(sess, golden.path("blog/model.ckpt"))
        assert sess.run(v1).tolist() == [7.0] * 5 and sess.run(v3) == 1.0


def test_variables_outside_the_saver_stay_uninitialized():
    v1, v2 = blog_graph(1.0)
    with tf.Session() as sess:
        tf.train.Saver([v1]).restore(sess, golden.path("blog/model.ckpt"))
        assert sess.run(v1).tolist() == [0.0] * 5
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v2"):
            sess.run(v2)


def test_restore_path_errors(tmp_path):
    blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="Can't load save_path when it is None."):
            saver.restore(sess, None)
        with pytest.raises(ValueError, match="not a valid checkpoint: .*nope"):
            saver.restore(sess, str(tmp_path / "nope"))
        with pytest.raises(ValueError, match="without the file suffix"):
            saver.restore(sess, golden.path("blog/model.ckpt") + ".index")
        with pytest.raises(ValueError, match="it is a directory"):
            saver.restore(sess, str(golden.ROOT / "blog"))


def test_corrupt_checkpoint_names_the_tensor(tmp_path):
    v1, v2 = blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "m"))
        data = prefix + ".data-00000-of-00001"
        raw = bytearray(open(data, "rb").read())
        raw[-1] ^= 0x10  # the last tensor in key order: v2
        open(data, "wb").write(bytes(raw))
        with pytest.raises(tf.errors.DataLossError, match="'v2': checksum mismatch"):
            saver.restore(sess, prefix)


def test_constructor_errors():
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    assert tf.train.Saver(allow_empty=True).saver_def is None
    v1, v2 = blog_graph(1.0)
    with pytest.raises(ValueError, match="At least two variables have the same name: v1"):
        tf.train.Saver([v1, v1])
    with pytest.raises(TypeError, match="should be passed in a dict or a list"):
        tf.train.Saver(v1)
    with pytest.raises(TypeError, match="not a Variable"):
        tf.train.Saver({"x": tf.constant(1.0)})


def test_save_errors(tmp_path):
    blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError, match="Parent directory of .* doesn't exist, can't save."):
            saver.save(sess, str(tmp_path / "missing" / "model.ckpt"))
        with pytest.raises(TypeError, match="'sess' must be a Session"):
            saver.save("not a session", str(tmp_path / "m"))
        with pytest.raises(ValueError, match="must not contain path components"):
            saver.save(sess, str(tmp_path / "m"), latest_filename="a/b")
    assert os.listdir(tmp_path) == []


def test_failed_save_leaves_the_previous_checkpoint_as_latest(tmp_path):
    blog_graph(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = saver.save(sess, str(tmp_path / "m"), global_step=1)
        os.mkdir(tmp_path / "m-2.meta")  # the meta file cannot be written
        with pytest.raises(OSError):
            saver.save(sess, str(tmp_path / "m"), global_step=2)
    assert tf.train.latest_checkpoint(str(tmp_path)) == first
    assert not [n for n in os.listdir(tmp_path) if "tempstate" in n]


def test_saving_uninitialized_variables_writes_nothing(tmp_path):
    blog_graph(1.0)
    with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError):
        tf.train.Saver().save(sess, str(tmp_path / "m"))
    assert os.listdir(tmp_path) == []


def test_flow_checkpoint_structure(tmp_path):
    """What TF's BundleReader checks: header, sorted keys, contiguous data, masked CRCs."""
    blog_graph(1.0)
    tf.Variable(np.array([b"x", b"yz"], dtype=object), name="names")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "m"))
    index = open(prefix + ".index", "rb").read()
    data = open(prefix + ".data-00000-of-00001", "rb").read()
    items = sstable.read_table(index)
    assert items[0] == (b"", bytes.fromhex("08011a020801"))
    assert [k for k, _ in items[1:]] == [b"names", b"v1", b"v2"]
    _, entries = bundle.decode_index(index)
    offset = 0
    for name, entry in sorted(entries.items()):
        assert entry.offset == offset and entry.shard_id == 0
        bundle.decode_tensor(entry, data[offset:offset + entry.size], name)  # checks the CRC
        offset += entry.size
    assert offset == len(data)
    assert sstable.build_table(items) == index


def test_blog_section3_verbatim_with_interactive_session(tmp_path):
    """The blog's own lines: InteractiveSession, init op, Saver(), save, then restore."""
    v1 = tf.Variable(tf.constant(1.0, shape=[5]), name="v1")
    tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    init_op = tf.global_variables_initializer()
    sess = tf.InteractiveSession()
    try:
        saver = tf.train.Saver()
        sess.run(init_op)
        save_path = saver.save(sess, str(tmp_path / "model.ckpt"))
        sess.run(v1.assign(tf.zeros([5])))
        saver.restore(sess, save_path)
        assert sess.run(v1).tolist() == [1.0] * 5
    finally:
        sess.close()
    assert tf.train.list_variables(str(tmp_path)) == [("v1", [5]), ("v2", [3, 2])]
    ckpt = tf.train.load_checkpoint(str(tmp_path))
    assert ckpt.get_variable_to_dtype_map() == {"v1": tf.float32, "v2": tf.float32}
    assert tf.train.checkpoint_exists(save_path)
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == save_path


def test_meta_graph_save_nodes_and_saver_def_match_tensorflows(tmp_path):
    """The blog model's .meta from flow vs the one TensorFlow wrote (tests/data/tf_ckpt/blog):
    same SaverDef, same `save/*` nodes (name, op, inputs), same collections of VariableDefs."""
    def save_nodes(meta):
        return [(n.name, n.op, list(n.input)) for n in meta.graph_def.node
                if n.name.startswith("save")]

    theirs = meta_graph_pb2.MetaGraphDef.FromString(
        open(golden.path("blog/model.ckpt") + ".meta", "rb").read())
    blog_graph(0.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
    ours = meta_graph_pb2.MetaGraphDef.FromString(open(prefix + ".meta", "rb").read())
    assert ours.saver_def == theirs.saver_def
    assert save_nodes(ours) == save_nodes(theirs)
    assert sorted(ours.collection_def) == sorted(theirs.collection_def)
    for key in ("variables", "trainable_variables"):
        assert [variable_pb2.VariableDef.FromString(b) for b in
                ours.collection_def[key].bytes_list.value] == \
            [variable_pb2.VariableDef.FromString(b) for b in
             theirs.collection_def[key].bytes_list.value]
