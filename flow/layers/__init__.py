"""``tf.layers``: TensorFlow 1.15's functional layers, with TF's variable and op names.

A layer opens ``variable_scope(name or None, default_name=<layer>)``, so its variables are
``dense/kernel``, ``dense_1/bias``, ``conv2d/kernel``, ``batch_normalization/moving_mean`` …
exactly as TensorFlow names them, and checkpoints interchange. ``reuse=True`` with a ``name``
shares the variables of the layer of that name.
"""

from flow.layers.convolutional import (
    average_pooling2d,
    conv2d,
    conv2d_transpose,
    max_pooling2d,
)
from flow.layers.core import dense, dropout, flatten
from flow.layers.normalization import batch_normalization

__all__ = ["average_pooling2d", "batch_normalization", "conv2d", "conv2d_transpose", "dense",
           "dropout", "flatten", "max_pooling2d"]
