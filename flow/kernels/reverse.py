"""Reversal rows of the op table (TF 1.15 ``ReverseV2``, ``ReverseSequence``): pure numpy.

``ReverseV2`` flips the given axes; ``ReverseSequence`` flips, for each batch entry ``b``,
only the first ``seq_lengths[b]`` entries along ``seq_dim`` (what a backward RNN reads).
Each is its own inverse, so its gradient is the same reversal of the upstream gradient.
"""

from __future__ import annotations

import numpy as np

from flow.kernels.common import same_shape
from flow.kernels.table import OpDef, register


def _axes(x, axis):
    return tuple(int(a) % x.ndim for a in np.reshape(axis, -1))


def _reverse(inputs, attrs):
    x, axis = inputs
    return np.flip(x, _axes(x, axis)).copy()


def _reverse_grad(inputs, outputs, grads, attrs):
    return [np.flip(grads[0], _axes(grads[0], inputs[1])).copy(), None]


def _reverse_sequence(inputs, attrs):
    x, lengths = inputs
    seq, batch = int(attrs["seq_dim"]), int(attrs["batch_dim"])
    if lengths.shape != (x.shape[batch],):
        raise ValueError(f"Length of seq_lengths != input.dims({batch}), ({lengths.shape[0]} "
                         f"vs. {x.shape[batch]})")
    if np.any(lengths > x.shape[seq]) or np.any(lengths < 0):
        raise ValueError(f"seq_lengths must be in [0, {x.shape[seq]}] (input.dims({seq})), got "
                         f"{lengths.tolist()}")
    steps = np.arange(x.shape[seq])
    index = np.where(steps[None, :] < lengths[:, None], lengths[:, None] - 1 - steps[None, :],
                     steps[None, :])  # [batch, time]: which step each output step reads
    shape = [1] * x.ndim
    shape[batch], shape[seq] = x.shape[batch], x.shape[seq]
    order = np.argsort([batch, seq])
    index = np.transpose(index, order) if batch > seq else index
    return np.take_along_axis(x, index.reshape(shape), seq)


def _reverse_sequence_grad(inputs, outputs, grads, attrs):
    return [_reverse_sequence([grads[0], inputs[1]], attrs), None]


register(OpDef("ReverseV2", _reverse, _reverse_grad, same_shape, attrs=("Tidx", "T"),
               const_inputs=(1,)))
register(OpDef("ReverseSequence", _reverse_sequence, _reverse_sequence_grad, same_shape,
               attrs=("seq_dim", "batch_dim", "T", "Tlen")))
