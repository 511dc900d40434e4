"""Shared fixtures of the flow tests."""

import pytest

import flow as tf


@pytest.fixture
def fresh_graph():
    """Each test builds in a new default graph (flow's graph is process-global, as TF's)."""
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
