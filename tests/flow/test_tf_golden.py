"""flow against TensorFlow's own results: names and optimizer numerics recorded from
``tf.compat.v1`` (``tests/data/flow_golden/tf_golden.json``, rebuilt with ``make_tf_golden.py`` there)."""

import json
import os
import sys

import numpy as np
import pytest

import flow as tf

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "flow_golden")
sys.path.insert(0, DATA)
import tf1_scenarios  # noqa: E402

pytestmark = [pytest.mark.compat, pytest.mark.usefixtures("fresh_graph")]


@pytest.fixture(scope="module")
def golden():
    with open(os.path.join(DATA, "tf_golden.json")) as f:
        return json.load(f)


def test_names_match_tensorflow(golden):
    ours = json.loads(json.dumps(tf1_scenarios.names(tf)))  # tuples → lists, as in the file
    for i, (got, want) in enumerate(zip(ours, golden["names"], strict=True)):
        assert got == want, f"entry {i}: flow gave {got!r}, TensorFlow {want!r}"


@pytest.mark.parametrize("name", ["GradientDescent", "Momentum", "Nesterov", "Adam"])
def test_optimizer_steps_match_tensorflow(golden, name):
    ours = tf1_scenarios.optimizers(tf)[name]
    want = golden["optimizers"][name]
    for got_grad, want_grad in zip(ours["grads"], want["grads"], strict=True):
        np.testing.assert_allclose(got_grad, want_grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["w1"], want["w1"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["w2"], want["w2"], rtol=1e-5, atol=1e-6)
    assert ours["loss"] == pytest.approx(want["loss"], rel=1e-5)
