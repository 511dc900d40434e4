"""``tf.contrib``: the parts TF1 programs use most (``tf.contrib.layers``, ``tf.contrib.rnn``); every other contrib
module raises an error that names it and says flow does not implement it."""

from flow.contrib import layers, rnn
from flow.core.errors import unsupported_module

__all__ = ["layers", "rnn"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise unsupported_module(f"tf.contrib.{name}")
