"""``tf.gradients``: reverse-mode autodiff that adds gradient nodes to the graph.

For each op on a path from ``xs`` to ``ys`` (in reverse creation order) one
``SymbolicGradient`` node ``gradients/<op>_grad/<Type>Grad`` is added; at run time it calls the
op row's ``grad(inputs, outputs, grads, attrs)`` (``flow.kernels.table``) on the forward values.
``Graph.as_graph_def`` writes these nodes as TensorFlow's own ``SymbolicGradient`` (or, where
TF has no C++ gradient, as the nodes TF's Python gradient builds), so TF can run the graph.
``attrs["_grad_inputs"]`` (a frozenset of input indices) tells the row which input gradients
are used; it may return None for the others.
Gradients reaching a tensor along several paths are summed with ``AddN``. ``Identity``
passes its gradient through without a node; ``StopGradient`` and rows with ``grad=None`` stop
it. ``Slice`` gets TF's Python gradient (a ``Pad``: TF's C++ ``SliceGrad`` mis-pads a size of
-1). The gradient of a ``Gather``/``GatherV2`` (axis 0) with respect to its params is an
``IndexedSlices`` of the rows gathered, as TF's ``_GatherV2Grad``: ``Identity`` passes it on
(to the variable), several are concatenated, and an op that needs a dense gradient gets it
made dense (``tf.convert_to_tensor``). ``ReverseV2`` and ``ReverseSequence`` get TF's Python gradient
(the same reversal; TensorFlow cannot run a ``ReverseSequence`` ``SymbolicGradient``). The TensorArray ops get TF's Python gradients
(``flow.ops.tensor_array_grad``): ops on gradient arrays, not ``SymbolicGradient`` nodes.
An ``x`` not connected to any ``y`` gets ``None`` (TF 1.x, ``tf1-semantics.md`` §5.1).
"""

from __future__ import annotations

from flow.framework.build import convert_to_tensor
from flow.framework.graph import Tensor
from flow.kernels.table import OPS, STATEFUL
from flow.ops import array_ops, control_flow_ops, math_ops
from flow.ops.indexed_slices import IndexedSlices
from flow.ops.tensor_array_grad import GRADIENTS as TENSOR_ARRAY_GRADIENTS
from flow.ops.while_grad import while_grad

_NO_GRADIENT = {"StopGradient", "PreventGradient"}


def _as_tensor(x) -> Tensor:
    if hasattr(x, "_as_graph_element") and not isinstance(x, Tensor):
        return x._as_graph_element()
    return convert_to_tensor(x)


def _between(ys, xs):
    """Ops that lie on a path from some x to some y (through data inputs only)."""
    reach_y, stack = set(), [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in reach_y:
            continue
        reach_y.add(op)
        stack.extend(t.op for t in op.inputs)
    from_x, stack = set(), [c for x in xs for c in x._consumers]
    while stack:
        op = stack.pop()
        if op in from_x or op not in reach_y:
            continue
        from_x.add(op)
        stack.extend(c for t in op.outputs for c in t._consumers)
    return from_x


def _switch_grad(graph, op, grads):
    """A Switch's input gets the gradient of its live output: a Merge of both sides (zeros
    for a side without one, dead like that side when it is not taken)."""
    sides = [g if g is not None else array_ops.zeros_like(  # a new Switch: in a loop, as
        control_flow_ops._switch(graph, *op.inputs)[k])  # TF, not a pushed dead value
        for k, g in enumerate(grads)]
    (merged, _) = graph.create_op("Merge", sides, {"T": sides[0].dtype, "N": 2}, "cond_grad",
                                  [sides[0].dtype, "int32"], [op.inputs[0].shape, []]).outputs
    return [(0, merged)]


def _merge_grad(graph, op, grads):
    """A Merge's gradient goes to the input that was live: a Switch on the cond's pred."""
    g = grads[0]
    if g is None:
        return []
    pred = op.attrs.get("_pred")
    if pred is None:
        raise LookupError(f"no gradient for Merge {op.name!r} built outside tf.cond; build "
                          f"the branches with tf.cond.")
    outs = graph.create_op("Switch", [g, pred], {"T": g.dtype}, "cond_grad",
                           [g.dtype, g.dtype], [g.shape, g.shape]).outputs
    return list(enumerate(outs))


_CONTROL_FLOW = {"Switch": _switch_grad, "Merge": _merge_grad}


def _sum(grads, graph):
    if len(grads) == 1:
        return grads[0]
    if any(isinstance(g, IndexedSlices) for g in grads):  # TF: all as slices, concatenated
        slices = [g if isinstance(g, IndexedSlices) else _as_slices(g) for g in grads]
        index_type = slices[0].indices.dtype
        if any(s.indices.dtype != index_type for s in slices):
            slices = [IndexedSlices(s.values, math_ops.cast(s.indices, "int64"),
                                    s.dense_shape) for s in slices]
        return IndexedSlices(array_ops.concat([s.values for s in slices], 0),
                             array_ops.concat([s.indices for s in slices], 0),
                             slices[0].dense_shape)
    return math_ops.add_n(grads, name="AddN")


def _as_slices(t):
    """A dense gradient as slices naming every row (TF's ``_as_indexed_slices``)."""
    shape = array_ops.shape(t)
    return IndexedSlices(t, array_ops.range(0, shape[0]), shape)


def _dense(g):
    return convert_to_tensor(g) if isinstance(g, IndexedSlices) else g


def _slice_grad(op, grad):
    """TF's Python ``_SliceGrad``: pad the gradient back to the input's shape. (TF's C++
    ``SliceGrad`` function, which a ``SymbolicGradient`` would run, mis-pads a size of -1.)"""
    x, begin = op.inputs[0], op.inputs[1]
    shape = array_ops.stack([array_ops.rank(x), 1])
    before = array_ops.reshape(begin, shape)
    after = array_ops.reshape(array_ops.shape(x) - array_ops.shape(op.outputs[0]) - begin, shape)
    return array_ops.pad(grad, array_ops.concat([before, after], 1))


def _reverse_grad(op, grad):
    """TF's Python ``_ReverseV2Grad``: the same reversal of the gradient."""
    return array_ops.reverse(grad, op.inputs[1])


def _reverse_sequence_grad(op, grad):
    """TF's Python ``_ReverseSequenceGrad``: the same reversal of the gradient (TF's
    ``SymbolicGradient`` has none: "No gradient defined for op: ReverseSequence")."""
    return array_ops.reverse_sequence(grad, op.inputs[1], seq_axis=op.attrs["seq_dim"],
                                      batch_axis=op.attrs["batch_dim"])


_REVERSE = {"ReverseV2": _reverse_grad, "ReverseSequence": _reverse_sequence_grad}


def _gather_grad(op, grad):
    """TF's ``_GatherV2Grad`` for axis 0: the rows ``indices`` of ``params``' gradient."""
    params, indices = op.inputs[0], op.inputs[1]
    if op.type == "GatherV2":
        axis = op.inputs[2]
        value = axis.op.attrs.get("value") if axis.op.type == "Const" else None
        if value is None or int(value) != 0:
            return None
    params_shape = array_ops.shape(params)
    size = array_ops.expand_dims(array_ops.size(indices), 0)
    values_shape = array_ops.concat([size, params_shape[1:]], 0)
    values = array_ops.reshape(_dense(grad), values_shape)
    if params.shape.ndims is not None:
        values.set_shape([None, *params.shape.as_list()[1:]])
    return IndexedSlices(values, array_ops.reshape(indices, size), params_shape)


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              _within=None):
    """Symbolic d(sum of ys)/d(x) for each x in ``xs``; None for an unconnected x.
    ``_within`` (a loop) limits the ops differentiated to its body; an inner loop there, like
    a loop at the top, gets a gradient loop (``flow.ops.while_grad``)."""
    ys = [_as_tensor(y) for y in (ys if isinstance(ys, list | tuple) else [ys])]
    xs = [_as_tensor(x) for x in (xs if isinstance(xs, list | tuple) else [xs])]
    if grad_ys is not None and not isinstance(grad_ys, list | tuple):
        grad_ys = [grad_ys]
    stops = {_as_tensor(s).op for s in (stop_gradients or [])}
    graph = ys[0].graph
    pending: dict[Tensor, list] = {}
    with graph.as_default(), graph.name_scope(name):
        for i, y in enumerate(ys):
            g = grad_ys[i] if grad_ys is not None and grad_ys[i] is not None else None
            if g is None:
                g = array_ops.ones_like(y, name=f"grad_ys_{i}")
            pending.setdefault(y, []).append(convert_to_tensor(g, dtype=y.dtype))
        x_set = set(xs)
        between = _between(ys, xs)

        def wanted(t):
            return t.op in between or t in x_set

        done_frames = set()
        if _within is not None:
            between &= set(_within.body_ops)
        for op in sorted(between, key=lambda o: o._id, reverse=True):
            if op in stops or op.type in _NO_GRADIENT:
                continue
            frame = op.attrs.get("_frame")
            while frame is not None and frame.parent_frame is not _within:
                frame = frame.parent_frame
            if frame is not None and frame is not _within:  # a loop: its gradient loop,
                exit_grads = [pending.get(t) for t in frame.exits]  # made at the first of
                if frame not in done_frames and frame.back_prop and any(exit_grads):  # its
                    done_frames.add(frame)  # ops met
                    with graph.name_scope(frame.frame_name):
                        summed = [None if not g else _dense(_sum(g, graph)) for g in exit_grads]
                        for t, g in while_grad(graph, frame, summed, wanted,
                                               gradients).items():
                            pending.setdefault(t, []).append(g)
                continue
            out_grads = [pending.get(t) for t in op.outputs]
            if not any(out_grads):
                continue
            with graph.name_scope(op.name + "_grad"):
                summed = [None if not g else _sum(g, graph) for g in out_grads]
                for t, g in zip(op.outputs, summed, strict=True):
                    if t in x_set and g is not None:
                        pending[t] = [g]
                targets = [i for i, t in enumerate(op.inputs) if t.dtype.is_floating and (
                    t in x_set or (t.op in between and t.op not in stops
                                   and t.op.type not in _NO_GRADIENT))]
                if not targets:
                    continue
                if op.type == "Identity":
                    pending.setdefault(op.inputs[0], []).append(summed[0])
                    continue
                summed = [_dense(g) for g in summed]
                if op.type == "Enter":
                    pending.setdefault(op.inputs[0], []).append(summed[0])
                    continue
                if op.type == "Slice":
                    pending.setdefault(op.inputs[0], []).append(_slice_grad(op, summed[0]))
                    continue
                if op.type in _REVERSE and targets == [0]:
                    pending.setdefault(op.inputs[0], []).append(_REVERSE[op.type](op, summed[0]))
                    continue
                if op.type in ("Gather", "GatherV2") and targets == [0]:
                    sliced = _gather_grad(op, summed[0])
                    if sliced is not None:
                        pending.setdefault(op.inputs[0], []).append(sliced)
                        continue
                if op.type in _CONTROL_FLOW:
                    for i, g in _CONTROL_FLOW[op.type](graph, op, summed):
                        pending.setdefault(op.inputs[i], []).append(g)
                    continue
                if op.type in TENSOR_ARRAY_GRADIENTS:
                    for i, g in TENSOR_ARRAY_GRADIENTS[op.type](op, summed):
                        if i in targets:
                            pending.setdefault(op.inputs[i], []).append(g)
                    continue
                if op.type in STATEFUL or op.type not in OPS or OPS[op.type].grad is None:
                    continue
                mask = [g is not None for g in summed]
                attrs = {"fwd_type": op.type, "_fwd_attrs": op.attrs, "_n_in": len(op.inputs),
                         "_n_out": len(op.outputs), "_grad_mask": mask, "_wanted": targets}
                gop = graph.create_op(
                    "SymbolicGradient", [*op.inputs, *op.outputs, *[g for g in summed if g is not
                                                                   None]],
                    attrs, f"{op.type}Grad", [op.inputs[i].dtype for i in targets],
                    [op.inputs[i].shape for i in targets])
                for i, out in zip(targets, gop.outputs, strict=True):
                    pending.setdefault(op.inputs[i], []).append(out)
        result = []
        for x in xs:
            g = pending.get(x)
            result.append(None if not g else _sum(g, graph) if len(g) > 1 else g[0])
    return result
