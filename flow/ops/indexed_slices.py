"""``tf.IndexedSlices``: a sparse gradient, the rows ``indices`` of a ``dense_shape`` tensor.

The gradient of ``tf.gather`` / ``tf.nn.embedding_lookup`` with respect to the gathered
tensor is one (``flow.ops.gradients``), as in TensorFlow, so a ``[vocab, dim]`` embedding's
gradient holds only the looked-up rows; optimizers apply it to those rows (``ScatterSub``,
``SparseApplyMomentum`` ...). ``tf.convert_to_tensor`` densifies it with TF's
``UnsortedSegmentSum`` (rows named more than once add up).
"""

from __future__ import annotations

from collections import namedtuple

from flow.framework.graph import Tensor
from flow.ops import math_ops

IndexedSlicesValue = namedtuple("IndexedSlicesValue", ["values", "indices", "dense_shape"])


class IndexedSlices:
    """``values[k]`` is row ``indices[k]`` of a tensor of shape ``dense_shape``."""

    def __init__(self, values, indices, dense_shape=None):
        if not isinstance(values, Tensor) or not isinstance(indices, Tensor):
            raise TypeError(f"IndexedSlices needs Tensors for values and indices, got "
                            f"{values!r} and {indices!r}.")
        self._values, self._indices, self._dense_shape = values, indices, dense_shape

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    name = property(lambda self: self._values.name)
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)
    device = property(lambda self: self._values.device)

    def consumers(self):
        return self._values.consumers()

    def __neg__(self):
        return IndexedSlices(math_ops.negative(self._values), self._indices, self._dense_shape)

    def _to_tensor(self):
        """The dense tensor: ``UnsortedSegmentSum(values, indices, dense_shape[0])``."""
        if self._dense_shape is None:
            raise ValueError(f"Tensor conversion requested for IndexedSlices without "
                             f"dense_shape: {self!r}; give IndexedSlices a dense_shape.")
        return math_ops.unsorted_segment_sum(self._values, self._indices,
                                             self._dense_shape[0])

    def __repr__(self):
        shape = "" if self._dense_shape is None else f", dense_shape={self._dense_shape}"
        return f"IndexedSlices(indices={self._indices}, values={self._values}{shape})"

    def __str__(self):
        return repr(self)
