"""``tf.cond`` and ``tf.case`` in TensorFlow 1.x's graph form (``control_flow_ops.py``).

Both branches are built into the graph, under the cond's name scope, each inside a
:class:`CondContext`: a value from outside a branch enters it through a ``Switch`` on the
predicate (made once per value and branch), an op without inputs gets a control input on the
branch's pivot (``switch_t`` / ``switch_f``), and each branch result leaves through a
``Merge``. At run time the branch not taken is dead (``flow.kernels.control_flow``) and none
of its ops run; gradients go back through the taken branch only (``flow.ops.gradients``).
"""

from __future__ import annotations

import contextlib

from flow.core import structure
from flow.framework.build import convert_to_tensor
from flow.framework.graph import Operation, Tensor, get_default_graph
from flow.kernels.table import STATEFUL
from flow.ops import array_ops


class CondContext:
    """The branch of a cond being built: ``pred`` (a bool tensor), ``branch`` 0 (false) or 1
    (true), its ``pivot`` and the ops made inside it."""

    def __init__(self, graph, pred, pivot, branch, outer):
        self.graph, self.pred, self.pivot, self.branch = graph, pred, pivot, branch
        self.outer = outer
        self.ops: set[Operation] = set()
        self._entered: dict[Tensor, Tensor] = {}  # outer value -> its Switch output here
        self._inside = {pivot}  # tensors of outer ops that belong to this branch

    def enter(self, name, op_type, inputs, control_inputs):
        """The inputs of new op ``name`` in this branch and its control inputs: outer values
        switched (``<name>/Switch``), except the variables a stateful op writes."""
        row = STATEFUL.get(op_type)
        refs = row.ref_inputs if row else ()
        inputs = [t if i in refs else self.add_value(t, name) for i, t in enumerate(inputs)]
        if not inputs:
            control_inputs = [*control_inputs, self.pivot.op]
        return inputs, control_inputs

    def add_value(self, t: Tensor, scope=None) -> Tensor:
        if t.op in self.ops or t in self._inside:
            return t
        if t not in self._entered:
            outer_value = self.outer.add_value(t, scope) if self.outer is not None else t
            where = self.graph.name_scope(scope + "/") if scope else contextlib.nullcontext()
            with _context(self.graph, self.outer), where:
                switch = self.graph.create_op(
                    "Switch", [outer_value, self.pred], {"T": t.dtype}, "Switch",
                    [t.dtype, t.dtype], [t.shape, t.shape])
            self._entered[t] = switch.outputs[self.branch]
            self._inside.add(self._entered[t])
        return self._entered[t]


class _context:
    """Make ``context`` the graph's control-flow context while the block runs."""

    def __init__(self, graph, context):
        self.graph, self.context = graph, context

    def __enter__(self):
        self.saved, self.graph._control_flow_context = self.graph._control_flow_context, \
            self.context

    def __exit__(self, *exc):
        self.graph._control_flow_context = self.saved


def _switch(graph, data, pred, name="Switch"):
    return graph.create_op("Switch", [data, pred], {"T": data.dtype}, name,
                           [data.dtype, data.dtype], [data.shape, data.shape]).outputs


def _merge(graph, values, name="Merge", pred=None):
    shapes = [v.shape for v in values]
    same = all(s.as_tuple() == shapes[0].as_tuple() for s in shapes)
    op = graph.create_op("Merge", values, {"T": values[0].dtype, "N": len(values),
                                           "_pred": pred}, name,
                         [values[0].dtype, "int32"], [shapes[0] if same else None, []])
    return op.outputs


def merge(inputs, name=None):
    """``tf.merge`` (``control_flow_ops.merge``): the one live input and its index."""
    inputs = [convert_to_tensor(x) for x in inputs]
    return tuple(_merge(inputs[0].graph, inputs, name or "Merge"))


def _build_branch(graph, fn, context, strict):
    with _context(graph, context):
        result = fn()
        if result is None:
            raise ValueError("true_fn and false_fn must have a return value; a branch that "
                             "only runs ops can return tf.no_op() or a tensor.")
        flat = structure.flatten(result)
        out = []
        for value in flat:
            if isinstance(value, Operation):  # TF: a branch's op becomes its pivot, after it
                with graph.control_dependencies([value]):
                    out.append(array_ops.identity(context.pivot))
            else:
                out.append(array_ops.identity(convert_to_tensor(value)))
    if not strict and isinstance(result, list | tuple) and len(result) == 1 and \
            not hasattr(result, "_fields"):
        result = result[0]
    return result, out


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """``tf.cond``: ``true_fn()`` if ``pred`` else ``false_fn()``, both built, one run."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn):
        raise TypeError(f"true_fn must be callable, got {true_fn!r}; pass a function such as "
                        f"lambda: x + 1.")
    if not callable(false_fn):
        raise TypeError(f"false_fn must be callable, got {false_fn!r}; pass a function such "
                        f"as lambda: x - 1.")
    graph = getattr(pred, "graph", None) or get_default_graph()
    with graph.as_default(), graph.name_scope(name or "cond"):
        pred = convert_to_tensor(pred)
        if pred.dtype.name != "bool" or pred.shape.ndims not in (None, 0):
            raise TypeError(f"pred must be a scalar tf.bool tensor, got {pred}; compare "
                            f"first, e.g. tf.less(x, y).")
        outer = graph._control_flow_context
        if outer is not None:
            pred = outer.add_value(pred)
        p_false, p_true = _switch(graph, pred, pred)
        pivot_t = array_ops.identity(p_true, name="switch_t")
        pivot_f = array_ops.identity(p_false, name="switch_f")
        pred_id = array_ops.identity(pred, name="pred_id")
        ctx_t = CondContext(graph, pred_id, pivot_t, 1, outer)
        ctx_f = CondContext(graph, pred_id, pivot_f, 0, outer)
        res_t, out_t = _build_branch(graph, true_fn, ctx_t, strict)
        res_f, out_f = _build_branch(graph, false_fn, ctx_f, strict)
        if structure.pack(res_t, [0] * len(out_t)) != structure.pack(res_f, [0] * len(out_f)):
            raise ValueError(f"Outputs of true_fn and false_fn must have the same structure: "
                             f"{res_t!r} vs {res_f!r}")
        merged = []
        for t, f in zip(out_t, out_f, strict=True):
            if t.dtype != f.dtype:
                raise ValueError(f"Outputs of true_fn and false_fn must have the same type: "
                                 f"{t.dtype.name}, {f.dtype.name}")
            merged.append(_merge(graph, [f, t], pred=pred_id)[0])
    return structure.pack(res_t, merged)


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """``tf.case``: the fn of the first true predicate (in order), else ``default``; with
    ``default=None`` the last pair's fn is the default, as in TF 1.15."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else \
        list(pred_fn_pairs)
    if not pairs:
        raise ValueError("pred_fn_pairs must not be empty; give at least one (pred, fn) pair.")
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2 or not callable(pair[1]):
            raise TypeError(f"Each entry in pred_fn_pairs must be a 2-tuple (pred, fn) with a "
                            f"callable fn, got {pair!r}")
    if default is None:
        *pairs, (_, default) = pairs
    if default is not None and not callable(default):
        raise TypeError(f"default must be callable, got {default!r}")

    def chain(rest):
        if not rest:
            return default()
        (pred, fn), *tail = rest
        return cond(pred, fn, lambda: chain(tail), strict=strict)

    graph = get_default_graph()
    with graph.name_scope(name):
        return chain(pairs)
