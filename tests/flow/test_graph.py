"""Graph, names, scopes, shapes, dtypes and GraphDef export (tf1-semantics.md §2, SPEC §2.4)."""

import numpy as np
import pytest

import flow as tf
from flow.framework.tensor_util import make_ndarray, make_tensor_proto

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_graph")]



def test_op_names_are_uniquified_case_insensitively():
    assert tf.constant(5.0, name="c").op.name == "c"
    assert tf.constant(5.0, name="c").op.name == "c_1"
    assert tf.constant(5.0, name="C").op.name == "C_2"
    assert tf.constant(1.0, name="c_1").op.name == "c_1_1"
    v1 = tf.Variable(1.0, name="v1")
    v2 = tf.Variable(1.0, name="v1")
    assert (v1.name, v2.name, v2.op.name) == ("v1:0", "v1_1:0", "v1_1")


def test_name_scope_nesting_reentry_absolute_and_root():
    with tf.name_scope("nested") as scope:
        assert scope == "nested/"
        with tf.name_scope("inner"):
            assert tf.constant(1, name="c").op.name == "nested/inner/c"
        with tf.name_scope("inner"):
            assert tf.constant(1, name="c").op.name == "nested/inner_1/c"
        with tf.name_scope("abs/"):
            assert tf.constant(1).op.name == "abs/Const"
        with tf.name_scope(None) as root:
            assert root == "" and tf.constant(1).op.name == "Const"
    with pytest.raises(ValueError, match="'-bad' is not a valid scope name"):
        with tf.name_scope("-bad"):
            pass


def test_variable_follows_name_scope_but_get_variable_does_not():
    with tf.name_scope("a"):
        assert tf.Variable([1]).name == "a/Variable:0"
        assert tf.get_variable("b", [1]).name == "b:0"
    v = tf.Variable(tf.constant(1.0, shape=[5]), name="v1")
    names = {op.name for op in tf.get_default_graph().get_operations()}
    assert {"v1", "v1/Assign", "v1/read"} <= names
    assert v.op.type == "VariableV2" and v.value().op.type == "Identity"


def test_tensor_shape_dims_are_ints_and_print_like_tf1():
    x = tf.placeholder(tf.float32, [None, 784])
    shape = x.get_shape()
    assert str(shape) == "(?, 784)" and shape[0] is None
    assert shape[-1] == 784 and shape[-1].value == 784 and isinstance(shape[-1], int)
    assert shape.as_list() == [None, 784] and shape.ndims == 2
    assert str(tf.TensorShape([3])) == "(3,)" and str(tf.TensorShape(None)) == "<unknown>"
    assert str(tf.constant(1.0).shape) == "()"
    assert tf.TensorShape([None, 3]).is_compatible_with([7, 3])
    assert not tf.TensorShape([2, 3]).is_compatible_with([3, 3])
    assert x.name == "Placeholder:0" and str(x) == (
        'Tensor("Placeholder:0", shape=(?, 784), dtype=float32)')


def test_dtypes():
    assert tf.float32.as_numpy_dtype is np.float32
    assert tf.as_dtype("float32") is tf.float32 and tf.as_dtype(np.int64) is tf.int64
    assert tf.float32 == np.float32 and tf.float32 != tf.float64
    assert tf.float32.is_floating and tf.int32.is_integer and not tf.int32.is_floating
    assert tf.constant(1.5).dtype == tf.float32 and tf.constant(2).dtype == tf.int32
    assert tf.constant(np.float64(1)).dtype == tf.float64
    assert tf.constant("s").dtype == tf.string
    with pytest.raises(TypeError, match="Cannot convert value 'nope'"):
        tf.as_dtype("nope")


def test_constant_fills_short_values_and_rejects_long_ones():
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.constant([1, 2], shape=[4])), [1, 2, 2, 2])
        np.testing.assert_array_equal(sess.run(tf.constant(7.0, shape=[2, 2])), np.full((2, 2),
                                                                                         7.0))
    with pytest.raises(ValueError, match="Needed at most 6, but received 8"):
        tf.constant(list(range(8)), shape=[2, 3])


def test_collections_control_dependencies_and_group():
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([a]):
        b = tf.constant(2.0, name="b")
        with tf.control_dependencies(None):
            c = tf.constant(3.0, name="c")
    assert b.op.control_inputs == [a.op] and c.op.control_inputs == []
    tf.add_to_collection("things", a)
    assert tf.get_collection("things") == [a] and tf.get_collection("none") == []
    g = tf.group(a, b, name="both")
    assert g.type == "NoOp" and set(g.control_inputs) == {a.op, b.op}


def test_graphs_as_default_and_reset_rules():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(1.0)
        assert tf.get_default_graph() is g
        with pytest.raises(AssertionError, match="Do not use tf.reset_default_graph"):
            tf.reset_default_graph()
    assert c.graph is g and tf.get_default_graph() is not g
    with pytest.raises(ValueError, match="must be from the same graph"):
        tf.add(c, tf.constant(1.0) + c)
    g.finalize()
    with g.as_default(), pytest.raises(RuntimeError, match="Graph is finalized"):
        tf.constant(2.0)


def test_get_tensor_and_operation_by_name():
    x = tf.placeholder(tf.float32, name="x")
    g = tf.get_default_graph()
    assert g.get_tensor_by_name("x:0") is x and g.get_operation_by_name("x") is x.op
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("y:0")


def test_operator_overloads_build_tf_named_ops():
    x = tf.placeholder(tf.float32, [2], name="x")
    ops = [x + 1, 1 + x, x - 1, x * 2, x / 2, -x, x ** 2, x[0], x > 0]
    assert [t.op.type for t in ops] == ["Add", "Add", "Sub", "Mul", "RealDiv", "Neg", "Pow",
                                       "StridedSlice", "Greater"]
    assert ops[0].op.name == "add" and ops[2].op.name == "sub" and ops[3].op.name == "mul"
    assert (x + 1).dtype == tf.float32
    with tf.Session() as sess:
        out = sess.run(ops, {x: [3.0, -1.0]})
    expect = [[4, 0], [4, 0], [2, -2], [6, -2], [1.5, -0.5], [-3, 1], [9, 1], 3, [True, False]]
    for got, want in zip(out, expect, strict=True):
        np.testing.assert_allclose(got, want)
    with pytest.raises(TypeError, match="as a Python `bool` is not allowed"):
        bool(x)


def test_graph_def_has_tf_op_names_and_attrs():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    w = tf.Variable(tf.zeros([4, 3]), name="w")
    y = tf.matmul(x, w, transpose_b=False, name="logits")
    gd = tf.get_default_graph().as_graph_def(add_shapes=True)
    assert gd.versions.producer > 0
    nodes = {n.name: n for n in gd.node}
    assert nodes["x"].op == "Placeholder"
    assert nodes["x"].attr["dtype"].type == 1
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [-1, 4]
    assert nodes["w"].op == "VariableV2" and nodes["w"].attr["dtype"].type == 1
    assert [d.size for d in nodes["w"].attr["shape"].shape.dim] == [4, 3]
    assert nodes["w/Assign"].op == "Assign" and list(nodes["w/Assign"].input) == ["w", "zeros"]
    assert nodes["w/read"].op == "Identity" and nodes["w/read"].attr["T"].type == 1
    mm = nodes[y.op.name]
    assert mm.op == "MatMul" and list(mm.input) == ["x", "w/read"]
    assert mm.attr["transpose_a"].b is False and mm.attr["T"].type == 1
    zeros = make_ndarray(nodes["zeros"].attr["value"].tensor)
    np.testing.assert_array_equal(zeros, np.zeros((4, 3), np.float32))
    shapes = nodes[y.op.name].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shapes.dim] == [-1, 3]


def test_tensor_proto_round_trip():
    for value in [np.arange(6, dtype=np.float32).reshape(2, 3), np.full((3, 3), 2, np.int64),
                  np.array(True), np.array([b"a", b"bc"], dtype=object),
                  np.array([1.5, -2], np.float16)]:
        back = make_ndarray(make_tensor_proto(value))
        assert back.shape == value.shape
        np.testing.assert_array_equal(back, value)


def test_lists_holding_tensors_are_packed():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    rows = tf.shape(x)[0]
    y = tf.reshape(x, [rows * 2, -1])
    assert y.op.inputs[1].op.type == "Pack"
    with tf.Session() as sess:
        assert sess.run(y, {x: np.ones((3, 4))}).shape == (6, 2)


def test_gradient_nodes_are_exported_in_tensorflows_form():
    x = tf.placeholder(tf.float32, [2], name="x")
    w = tf.placeholder(tf.float32, [2], name="w")
    dw = tf.gradients(tf.reduce_sum(x * w), [w])[0]
    tf.identity(dw, name="dw")
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    grad = nodes["gradients/mul_grad/MulGrad"]
    assert grad.op == "SymbolicGradient"
    assert grad.attr["f"].func.name == "Mul"
    assert grad.attr["f"].func.attr["T"].type == tf.float32.as_datatype_enum
    assert list(grad.input) == ["x", "w", "gradients/Sum_grad/SumGrad"]  # inputs, then dy
    assert len(grad.attr["Tin"].list.type) == 3 and len(grad.attr["Tout"].list.type) == 2
    assert "fwd_type" not in grad.attr  # TF refuses attrs its op does not declare
    # flow's node only computes dw; a consumer reads it as TF's output 1 (the gradient of w)
    assert list(nodes["dw"].input) == ["gradients/mul_grad/MulGrad:1"]


def test_an_output_without_upstream_gradient_gets_a_zeros_like_stand_in():
    logits = tf.placeholder(tf.float32, [3, 5], name="logits")
    labels = tf.placeholder(tf.float32, [3, 5], name="labels")
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    tf.gradients(tf.reduce_sum(loss), [logits, labels])  # v2 differentiates the labels too
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    (grad,) = [n for n in nodes.values() if n.op == "SymbolicGradient"
               and n.attr["f"].func.name == "SoftmaxCrossEntropyWithLogits"]
    assert list(grad.input[:2]) == ["logits", "labels"] and len(grad.input) == 4
    zeros = nodes[grad.input[3]]  # nothing differentiates the backprop output
    assert zeros.op == "ZerosLike" and list(zeros.input) == [loss.op.name + ":1"]


def test_cross_entropy_gradients_leave_as_tensorflows_python_gradient():
    logits = tf.placeholder(tf.float32, [3, 5], name="logits")
    labels = tf.placeholder(tf.int64, [3], name="labels")
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    tf.gradients(tf.reduce_mean(loss), [logits])
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    name = [k for k in nodes if k.endswith("SparseSoftmaxCrossEntropyWithLogitsGrad")][0]
    mul, expand = nodes[name], nodes[name + "/ExpandDims"]
    assert mul.op == "Mul" and list(mul.input) == [expand.name, loss.op.name + ":1"]
    assert expand.op == "ExpandDims" and nodes[expand.input[1]].op == "Const"


def test_index_attrs_name_their_inputs_dtype():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    tf.reshape(x, [3, -1], name="from_list")
    tf.reshape(x, np.array([6], np.int64), name="from_int64")
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    for name, dtype in (("from_list", tf.int32), ("from_int64", tf.int64)):
        shape = nodes[nodes[name].input[1]]
        assert shape.attr["dtype"].type == nodes[name].attr["Tshape"].type == \
            dtype.as_datatype_enum


def test_graph_def_conv2d_attrs():
    images = tf.placeholder(tf.float32, [None, 8, 8, 1], name="images")
    kernel = tf.get_variable("kernel", [3, 3, 1, 4])
    tf.nn.conv2d(images, kernel, strides=[1, 2, 2, 1], padding="SAME", name="conv")
    node = {n.name: n for n in tf.get_default_graph().as_graph_def().node}["conv"]
    assert node.op == "Conv2D" and list(node.input) == ["images", "kernel/read"]
    assert list(node.attr["strides"].list.i) == [1, 2, 2, 1]
    assert node.attr["padding"].s == b"SAME" and node.attr["data_format"].s == b"NHWC"
    assert node.attr["T"].type == tf.float32.as_datatype_enum
