"""``tf.cond``, ``tf.case`` and ``tf.while_loop`` in TensorFlow 1.x's graph form
(``control_flow_ops.py``).

Both branches are built into the graph, under the cond's name scope, each inside a
:class:`CondContext`: a value from outside a branch enters it through a ``Switch`` on the
predicate (made once per value and branch), an op without inputs gets a control input on the
branch's pivot (``switch_t`` / ``switch_f``), and each branch result leaves through a
``Merge``. At run time the branch not taken is dead (``flow.kernels.control_flow``) and none
of its ops run; gradients go back through the taken branch only (``flow.ops.gradients``).

A loop is a :class:`WhileContext` frame: each loop variable enters through ``Enter`` into a
``Merge`` (with the ``NextIteration`` of the body's result), ``cond`` gives ``LoopCond``,
a ``Switch`` sends the value to the body (``Identity``) or out (``Exit``); outer values the
loop reads enter through constant ``Enter`` nodes. The Session runs a frame as one step (an
inner loop as one step of the outer body). The gradient is a second loop of the same ops
(``flow.ops.while_grad``).
"""

from __future__ import annotations

import contextlib

from flow.core import structure
from flow.core.tensor_shape import as_shape
from flow.framework.build import convert_to_tensor
from flow.framework.graph import Operation, Tensor, get_default_graph
from flow.kernels.table import STATEFUL
from flow.ops import array_ops, math_ops
from flow.ops.tensor_array_ops import TensorArray


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

    def add_op(self, op):
        self.ops.add(op)
        op.attrs.setdefault("_cond", self)  # the innermost branch the op is on
        if self.outer is not None:  # a cond inside a loop body belongs to the loop too
            self.outer.add_op(op)

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
                switch.attrs["_enters_branch"] = self
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


# ---------------------------------------------------------------- while_loop


class WhileContext:
    """A ``tf.while_loop`` frame being built and, afterwards, its parts for the Session: the
    loop-variable ``enters``, ``merges``, ``switches``, ``idents`` (a body's view of the
    variables), ``nexts`` and ``exits``, the ``pred`` tensor, the ops of ``cond_ops`` and
    ``body_ops`` in creation order, and the ``Enter`` of every outer value it reads
    (``captured``: outer tensor -> Enter output)."""

    def __init__(self, graph, outer, frame_name, parallel_iterations):
        self.graph, self.outer, self.frame_name = graph, outer, frame_name
        self.parallel_iterations = parallel_iterations
        self.ops: set[Operation] = set()
        self.captured: dict[Tensor, Tensor] = {}
        self._building: list[Operation] | None = None
        self.pivot = None
        self.cond_ops, self.body_ops = [], []
        parent = outer
        while parent is not None and not isinstance(parent, WhileContext):
            parent = parent.outer
        self.parent_frame = parent  # the loop this one is nested in, if any

    def enter(self, name, op_type, inputs, control_inputs):
        row = STATEFUL.get(op_type)
        refs = row.ref_inputs if row else ()
        inputs = [t if i in refs else self.add_value(t) for i, t in enumerate(inputs)]
        if not inputs and self.pivot is not None:
            control_inputs = [*control_inputs, self.pivot.op]
        return inputs, control_inputs

    def add_op(self, op):
        self.ops.add(op)
        op.attrs.setdefault("_frame", self)  # the innermost loop the op is in
        if self._building is not None:
            self._building.append(op)
        if self.outer is not None:  # an inner loop is part of the outer loop's body
            self.outer.add_op(op)

    def add_value(self, t: Tensor, scope=None) -> Tensor:
        if t.op in self.ops or t in self.captured.values():
            return t
        if t not in self.captured:
            outer_value = self.outer.add_value(t) if self.outer is not None else t
            with _context(self.graph, self.outer):
                self.captured[t] = _enter(self.graph, outer_value, self.frame_name, True,
                                          self.parallel_iterations)
        return self.captured[t]


def _enter(graph, t, frame_name, is_constant, parallel_iterations, shape=None):
    return graph.create_op(
        "Enter", [t], {"T": t.dtype, "frame_name": frame_name, "is_constant": is_constant,
                       "parallel_iterations": parallel_iterations}, "Enter", [t.dtype],
        [t.shape if shape is None else shape]).outputs[0]


def _loop_op(graph, op_type, t, name=None, shape=None):
    return graph.create_op(op_type, [t], {"T": t.dtype}, name or op_type, [t.dtype],
                           [t.shape if shape is None else shape]).outputs[0]


def _check_body_shape(var, before, after):
    if not after.is_compatible_with(before) or (
            before.ndims is not None and after.ndims is None):
        raise ValueError(
            f"Input tensor '{var.name}' enters the loop with shape {before}, but has shape "
            f"{after} after one iteration. To allow the shape to vary across iterations, use "
            f"the `shape_invariants` argument of tf.while_loop to specify a less-specific "
            f"shape.")


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """``tf.while_loop``: repeat ``body`` while ``cond`` holds, in TF's Enter/Merge/Switch/
    LoopCond/NextIteration/Exit form. ``loop_vars`` may be nested; ``shape_invariants``
    (same nesting) lets shapes change between iterations; ``maximum_iterations`` caps the
    count as TF does (an extra counter variable); ``back_prop=False`` stops gradients;
    ``parallel_iterations`` and ``swap_memory`` are recorded / accepted (numpy runs the
    iterations one after another)."""
    if not callable(cond):
        raise TypeError(f"cond must be callable, got {cond!r}")
    if not callable(body):
        raise TypeError(f"body must be callable, got {body!r}")
    if isinstance(loop_vars, list | tuple) and not loop_vars:
        raise ValueError("No loop variables provided; give at least one tensor in loop_vars.")
    if parallel_iterations < 1:
        raise TypeError(f"parallel_iterations must be a positive integer, got "
                        f"{parallel_iterations}")
    if maximum_iterations is not None:
        limit = convert_to_tensor(maximum_iterations, name="maximum_iterations")
        inner_cond, inner_body, single = cond, body, not isinstance(loop_vars, list | tuple)
        invariants = shape_invariants

        def cond(i, lv):
            return math_ops.logical_and(i < limit, inner_cond(*([lv] if single else lv)))

        def body(i, lv):
            out = inner_body(*([lv] if single else lv))
            return i + 1, out

        counter = array_ops.zeros([], dtype=limit.dtype)
        loop_vars = (counter, loop_vars)
        shape_invariants = None if invariants is None else (counter.shape, invariants)
        _, result = while_loop(cond, body, loop_vars, shape_invariants, parallel_iterations,
                               back_prop, swap_memory, name, None, True)
        return result if return_same_structure or not (
            isinstance(result, list | tuple) and len(result) == 1) else result[0]
    graph = get_default_graph()
    with graph.name_scope(name or "while") as scope:
        frame = scope.rstrip("/")
        leaves = structure.flatten(loop_vars)
        flat_vars = [_flow_of(v) for v in leaves]
        if shape_invariants is None:
            shapes = [v.shape for v in flat_vars]
        else:
            shapes = [as_shape(s) for s in structure.flatten_up_to(loop_vars,
                                                                   shape_invariants)]
            for v, s in zip(flat_vars, shapes, strict=True):
                if not v.shape.is_compatible_with(s) or not s.is_compatible_with(v.shape):
                    raise ValueError(f"The shape invariant specified for {v.name} is not "
                                     f"compatible with the initial shape of the loop "
                                     f"variable. It enters the loop with shape {v.shape}, "
                                     f"but the specified shape invariant is {s}.")
        outer = graph._control_flow_context
        if outer is not None:
            flat_vars = [outer.add_value(v) for v in flat_vars]
        ctx = WhileContext(graph, outer, frame, parallel_iterations)
        enters = [_enter(graph, v, frame, False, parallel_iterations, s)
                  for v, s in zip(flat_vars, shapes, strict=True)]
        with _context(graph, ctx):
            ctx.captured.update({e: e for e in enters})  # already in the frame
            merges = [_merge(graph, [e, e])[0] for e in enters]
            for m, s in zip(merges, shapes, strict=True):
                m._shape = s
            ctx.pivot, ctx._building = merges[0], ctx.cond_ops
            pred = convert_to_tensor(cond(*_as_args(loop_vars, _like(leaves, merges))))
            if pred.dtype.name != "bool" or pred.shape.ndims not in (None, 0):
                raise TypeError(f"cond of a while_loop must return a scalar tf.bool, got "
                                f"{pred}")
            ctx._building = None
            loop_cond = graph.create_op("LoopCond", [pred], {}, "LoopCond", ["bool"],
                                        [()]).outputs[0]
            switches = [_switch(graph, m, loop_cond) for m in merges]
            idents = [array_ops.identity(s[1]) for s in switches]
            ctx.pivot, ctx._building = idents[0], ctx.body_ops
            result = body(*_as_args(loop_vars, _like(leaves, idents)))
            if not isinstance(loop_vars, list | tuple) and isinstance(result, list | tuple) \
                    and len(result) == 1:
                result = result[0]
            out_leaves = structure.flatten(result)
            flat_out = [_flow_of(r) for r in out_leaves]
            if len(flat_out) != len(flat_vars):
                raise ValueError(f"body of a while_loop must return as many values as there "
                                 f"are loop_vars: {len(flat_vars)} loop_vars, "
                                 f"{len(flat_out)} returned ({result!r}).")
            for v, out, s in zip(flat_vars, flat_out, shapes, strict=True):
                if v.dtype != out.dtype:
                    raise ValueError(f"body of a while_loop returned {out.dtype.name} for "
                                     f"loop variable {v.name} of type {v.dtype.name}; keep "
                                     f"each variable's dtype.")
                _check_body_shape(v, s, out.shape)
            leaves = [o if isinstance(o, TensorArray) else v
                      for v, o in zip(leaves, out_leaves, strict=True)]
            ctx._building = None
            nexts = [_loop_op(graph, "NextIteration", o) for o in flat_out]
            for m, n in zip(merges, nexts, strict=True):
                m.op.inputs = (m.op.inputs[0], n)
                m.op.inputs[0]._consumers.remove(m.op)
                n._consumers.append(m.op)
            exits = [_loop_op(graph, "Exit", s[0], shape=sh)
                     for s, sh in zip(switches, shapes, strict=True)]
        ctx.enters, ctx.merges, ctx.switches = enters, merges, switches
        ctx.idents, ctx.nexts, ctx.exits, ctx.pred = idents, nexts, exits, pred
        ctx.back_prop, ctx.anchor = back_prop, exits[-1].op  # an outer loop runs it there
        graph.add_to_collection("while_context", ctx)
    packed = structure.pack(loop_vars, _like(leaves, exits))
    if not return_same_structure and isinstance(packed, list | tuple) and len(packed) == 1:
        return packed[0]
    return packed


def _flow_of(value) -> Tensor:
    """A loop variable as the tensor that carries it (a TensorArray's flow)."""
    return value.flow if isinstance(value, TensorArray) else convert_to_tensor(value)


def _like(leaves, tensors):
    """``tensors`` as the loop variables ``leaves`` were: TensorArrays over them again."""
    return [v._with_flow(t) if isinstance(v, TensorArray) else t
            for v, t in zip(leaves, tensors, strict=True)]


def _as_args(loop_vars, flat):
    packed = structure.pack(loop_vars, flat)
    return list(packed) if isinstance(loop_vars, list | tuple) and not hasattr(
        loop_vars, "_fields") else [packed]
