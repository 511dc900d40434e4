"""Auxiliary subgraphs (gradients, optimizer, save/restore, init, summaries) are laid out
apart from the model, to its right, so the model reads top to bottom (board/auxiliary.py)."""

from __future__ import annotations

import pytest

import flow as tf
from board.auxiliary import auxiliary_ops, by_rule, layout_apart
from board.layout import layout
from board.plugins.graphs import graph_view

pytestmark = pytest.mark.unit

MODEL = {"x", "dense", "mul", "Const", "loss"}
AUXILIARY = {"gradients", "Adam", "beta1_power", "beta2_power", "loss_1", "Merge", "init",
             "save"}


@pytest.fixture(scope="module")
def training_graph():
    """A flow model with everything a TF1 training script adds around it."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        with tf.variable_scope("dense"):
            y = tf.matmul(x, tf.get_variable("w", [4, 2]))
        loss = tf.reduce_mean(y * y, name="loss")
        tf.train.AdamOptimizer(0.01).minimize(loss)
        tf.summary.scalar("loss", loss)
        tf.summary.merge_all()
        tf.global_variables_initializer()
        tf.train.Saver()
    return graph.as_graph_def()


def box(node):
    return (node["x"] - node["width"] / 2, node["x"] + node["width"] / 2)


def test_top_level_split(training_graph):
    view = graph_view(training_graph, frozenset())
    nodes = {n["id"]: n for n in view["nodes"]}
    assert set(nodes) == MODEL | AUXILIARY
    assert {k for k, n in nodes.items() if n["auxiliary"]} == AUXILIARY


def test_auxiliary_block_sits_right_of_the_model_which_reads_downwards(training_graph):
    view = graph_view(training_graph, frozenset())
    nodes = {n["id"]: n for n in view["nodes"]}
    model_right = max(box(nodes[k])[1] for k in MODEL)
    aux_left = min(box(nodes[k])[0] for k in AUXILIARY)
    assert aux_left > model_right
    ys = [nodes[k]["y"] for k in ("x", "dense", "mul", "loss")]
    assert ys == sorted(ys) and len(set(ys)) == 4
    bridges = {(e["source"], e["target"]) for e in view["edges"] if e["bridge"]}
    assert ("loss", "gradients") in bridges and ("loss", "loss_1") in bridges
    assert ("x", "dense") not in bridges
    assert ("gradients", "Adam") in {(e["source"], e["target"]) for e in view["edges"]
                                     if not e["bridge"]}


def test_inside_a_variable_scope_slots_and_initializers_are_auxiliary(training_graph):
    view = graph_view(training_graph, frozenset({"dense", "dense/w"}))
    aux = {n["id"] for n in view["nodes"] if n["auxiliary"]}
    assert {"dense/w/Adam", "dense/w/Adam_1", "dense/w/Initializer", "dense/w/Assign"} <= aux
    assert not {"dense/w", "dense/w/read", "dense/MatMul"} & aux


@pytest.mark.parametrize(("name", "op", "expected"), [
    ("gradients_1/loss_grad/Tile", "Tile", True),
    ("train/update_w/ApplyGradientDescent", "ApplyGradientDescent", True),
    ("opt/ResourceApplyAdam", "ResourceApplyAdam", True),
    ("summaries/loss", "ScalarSummary", True),
    ("hist", "HistogramSummary", True),
    ("save_1/RestoreV2", "RestoreV2", True),
    ("layer/kernel/Momentum", "VariableV2", True),
    ("layer/kernel/Initializer/random_uniform", "Add", True),
    ("layer/kernel", "VariableV2", False),
    ("layer/kernel/read", "Identity", False),
    ("conv1/Conv2D", "Conv2D", False),
    ("Assign", "Assign", False),  # a user's tf.assign at top level is part of the model
])
def test_rules(name, op, expected):
    assert by_rule(name, op) is expected


def test_sources_and_sinks_follow_their_neighbours():
    ops = {
        "lr": ("Const", []),
        "w": ("VariableV2", []),
        "w/read": ("Identity", ["w"]),
        "train/apply": ("ApplyGradientDescent", ["w", "lr"]),
        "train/step": ("NoOp", ["^train/apply"]),
        "out": ("MatMul", ["w/read"]),
    }
    assert auxiliary_ops(ops) == {"lr", "train/apply", "train/step"}


def test_without_auxiliary_nodes_the_layout_is_unchanged():
    sizes = {"a": (60.0, 28.0), "b": (60.0, 28.0), "c": (60.0, 28.0)}
    edges = [("a", "b"), ("b", "c")]
    assert layout_apart(layout, sizes, edges, set()) == layout(sizes, edges)
