"""``tf.clip_by_norm``, ``tf.global_norm``, ``tf.clip_by_global_norm`` as TF 1.15 builds them
(``clip_by_value`` is in ``math_ops``). ``None`` entries of a list pass through as ``None``;
an ``IndexedSlices`` counts by its values and comes out as slices, as in TF."""

from __future__ import annotations

from flow.framework.build import convert_to_tensor
from flow.framework.graph import name_scope
from flow.ops import array_ops, math_ops, nn_ops
from flow.ops.indexed_slices import IndexedSlices


def _values(t):
    return t.values if isinstance(t, IndexedSlices) else convert_to_tensor(t)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(l2norm(t), clip_norm)``; an all-zero ``t`` stays zero."""
    with name_scope(name, "clip_by_norm", [t, clip_norm]) as scope:
        t = convert_to_tensor(t)
        l2sum = math_ops.reduce_sum(t * t, axes, keepdims=True)
        positive = math_ops.greater(l2sum, 0)
        safe = array_ops.where(positive, l2sum, array_ops.ones_like(l2sum))
        l2norm = array_ops.where(positive, math_ops.sqrt(safe), l2sum)
        clip = convert_to_tensor(clip_norm, dtype=t.dtype)
        return array_ops.identity(t * clip / math_ops.maximum(l2norm, clip), name=scope)


def global_norm(t_list, name=None):
    """``sqrt(sum of every tensor's squared L2 norm)``."""
    values = [_values(t) for t in t_list if t is not None]
    with name_scope(name, "global_norm", values) as scope:
        half = math_ops.reduce_sum(array_ops.stack([nn_ops.l2_loss(v) for v in values]))
        return math_ops.sqrt(half * 2.0, name=scope)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``; returns
    ``(clipped list, global_norm)``. A non-finite norm makes every entry NaN, as in TF."""
    if not isinstance(t_list, list | tuple):
        raise TypeError("t_list should be a sequence")
    t_list = list(t_list)
    with name_scope(name, "clip_by_global_norm", t_list) as scope:
        use_norm = global_norm(t_list, scope) if use_norm is None else use_norm
        clip = convert_to_tensor(clip_norm, dtype=use_norm.dtype)
        scale = clip * math_ops.minimum(1.0 / use_norm, 1.0 / clip)
        scale = scale + (use_norm - use_norm)  # NaN when the norm is not finite
        clipped = [None if t is None else _scaled(t, scale, f"{scope.rstrip('/')}_{i}")
                   for i, t in enumerate(t_list)]
    return clipped, use_norm


def _scaled(t, scale, name):
    if isinstance(t, IndexedSlices):
        return IndexedSlices(array_ops.identity(t.values * scale, name=name), t.indices,
                             t.dense_shape)
    return array_ops.identity(convert_to_tensor(t) * scale, name=name)
