"""The gradient of a ``tf.while_loop`` as TensorFlow 1.x builds it (``control_flow_state.py``,
``control_flow_grad.py``): a second loop that runs the body's gradient once per forward
iteration, last first, made of the same Enter/Merge/Switch/LoopCond/NextIteration/Exit ops,
so that the graph flow runs is the graph it exports and TensorFlow runs.

- The forward loop gains a counter (``f_count``: 0, +1 per iteration); its exit is where the
  gradient loop's counter (``b_count``) starts; the gradient loop runs while it is >= 1 and
  counts down (``index``).
- A forward value the body's gradient reads is pushed on a stack (``StackV2`` made outside
  both loops, ``StackPushV2`` at the end of each forward iteration, ordered after the
  counter) and popped in the gradient loop (``StackPopV2``, ordered after its counter), so
  each gradient iteration reads its own iteration's values. A value on a ``tf.cond`` branch
  in the body is pushed and popped only when that branch is taken: the stack handle passes a
  ``Switch`` on the (pushed) predicate.
- The gradient of each float loop variable is a loop variable of the gradient loop (it enters
  with the exit's gradient); an outer value the body reads (a weight) gets its gradient summed
  over the iterations in an accumulator loop variable (``b_acc``, starting at zeros).
- An outer value the body's gradient reads enters the gradient loop as a constant.
- A loop in another loop's body gets its gradient loop in the outer gradient loop's body. Its
  stacks are made outside every loop and hold the values of all its runs in order: its
  counter starts after the outer counter's step (so the runs push one after another), and
  the outer gradient loop's next iteration waits for its gradient loop (so they pop so).
"""

from __future__ import annotations

from flow.framework.build import constant, convert_to_tensor
from flow.ops import array_ops, math_ops
from flow.ops.control_flow_ops import WhileContext, _context, _enter, _loop_op, _merge, _switch


class GradLoop(WhileContext):
    """The gradient loop of forward loop ``fwd`` being built: through ``add_value`` (the
    ``enter`` hook) each new op reads the gradient loop's view of its inputs (popped, or
    entered as constants); ``counter_add`` is the forward counter's step the pushes follow."""

    def __init__(self, graph, fwd, outer, frame_name, counter_add):
        super().__init__(graph, outer, frame_name, fwd.parallel_iterations)
        self.fwd, self.counter_add = fwd, counter_add
        self.popped = {}  # forward tensor -> its value popped in this loop
        self.pop_syncs, self.push_syncs = [], []
        self.index = None

    def add_value(self, t, scope=None):
        """``t`` as ops of this loop read it: a forward loop's value popped, an outer value
        entered (through the outer gradient loops, which pop it if it is theirs)."""
        if t.op in self.ops or t in self.captured.values():
            return t
        fwd = self.fwd
        if t.op.type == "Enter" and t.op.attrs.get("frame_name") == fwd.frame_name and \
                t.op.attrs.get("is_constant"):
            return self.add_value(t.op.inputs[0])  # a loop invariant: its outer value
        if t.op not in fwd.ops:
            return super().add_value(t)
        if t not in self.popped:
            self.popped[t] = self._pop(t, self._push(t))
        return self.popped[t]

    def _push(self, t):
        """A stack, pushed ``t`` at the end of each forward iteration; returns the stack."""
        graph, fwd = self.graph, self.fwd
        with _context(graph, None), graph.control_dependencies(None):
            size = constant(-1, name="Const")  # outside every loop: an inner loop's values
            stack = graph.create_op("StackV2", [size], {"elem_type": t.dtype,  # of all outer
                                                        "stack_name": ""},  # iterations, in
                                    "f_acc", ["resource"], [[2]]).outputs[0]  # order
            saved, fwd._building = fwd._building, fwd.body_ops
            branch = branch_of(t, fwd)
            with _context(graph, branch if branch is not None else fwd):
                push = graph.create_op("StackPushV2", [stack, t],
                                       {"T": t.dtype, "swap_memory": False}, "StackPushV2",
                                       [t.dtype], [t.shape],
                                       control_inputs=[self.counter_add.op])
            if branch is not None:  # a dead push must not stop the counter: a trigger
                with _context(graph, fwd):
                    push = graph.create_op("ControlTrigger", [], {}, "f_sync", [], [],
                                           control_inputs=[push])
            fwd._building = saved
        self.push_syncs.append(push)
        return stack

    def _pop(self, t, stack):
        graph = self.graph  # made here even when an inner gradient loop asks for it
        with _context(graph, self), graph.control_dependencies(None):
            handle = self.add_value(stack)
            branch = branch_of(t, self.fwd)
            controls = [self.index.op]
            if branch is not None:  # popped only when the branch was taken
                handle = _switch(graph, handle, self.add_value(branch.pred))[branch.branch]
                controls = []
            pop = graph.create_op("StackPopV2", [handle], {"elem_type": t.dtype},
                                  "StackPopV2", [t.dtype], [t.shape], control_inputs=controls)
        self.pop_syncs.append(pop)
        return pop.outputs[0]


def branch_of(t, loop):
    """The innermost ``tf.cond`` branch (a ``CondContext``) inside ``loop``'s body on which
    ``t`` is computed, if any; a branch's ``Switch`` of an outer value is on that branch."""
    branch = t.op.attrs.get("_enters_branch")
    if branch is None or t.value_index != branch.branch:
        branch = t.op.attrs.get("_cond")
    outer = branch
    while outer is not None and outer is not loop:
        outer = outer.outer
    return branch if outer is loop else None  # a cond around the whole loop is not it


def _forward_counter(graph, fwd, outer_add):
    """Add ``f_count`` to forward loop ``fwd`` (its NextIteration, made last, waits for the
    pushes); returns its ``Add`` and its ``Exit``. In a loop body it starts after the outer
    counter's ``Add`` (``outer_add``): the outer iteration before, with this loop and its
    pushes, is done, so the pushes of all runs of this loop reach the stacks in order."""
    loop_cond = fwd.switches[0][0].op.inputs[1]
    with _context(graph, fwd.outer):
        with graph.control_dependencies([outer_add] if outer_add is not None else None):
            zero = constant(0, name="f_count")
        start = _enter(graph, zero, fwd.frame_name, False, fwd.parallel_iterations)
    fwd.captured[start] = start  # already in the frame
    with _context(graph, fwd):
        saved, fwd._building = fwd._building, None
        merge = _merge(graph, [start, start])[0]
        switch = _switch(graph, merge, loop_cond)
        fwd._building = fwd.body_ops
        add = math_ops.add(switch[1], constant(1, name="Add/y"), name="Add")
        fwd._building = None
        done = _loop_op(graph, "Exit", switch[0], name="f_count")
        fwd._building = saved
    fwd.enters.append(start)
    fwd.merges.append(merge)
    fwd.switches.append(switch)
    fwd.idents.append(switch[1])
    fwd.exits.append(done)
    return add, done


def _next_iteration(graph, merge, value, control_inputs=()):
    """The ``NextIteration`` of ``value``, made the second input of loop ``merge``."""
    nxt = graph.create_op("NextIteration", [value], {"T": value.dtype}, "NextIteration",
                          [value.dtype], [value.shape], control_inputs=control_inputs)
    nxt = nxt.outputs[0]
    merge.op.inputs[0]._consumers.remove(merge.op)
    merge.op.inputs = (merge.op.inputs[0], nxt)
    nxt._consumers.append(merge.op)
    return nxt


def while_grad(graph, fwd, exit_grads, wanted, gradients):
    """``{tensor: gradient}`` for the values entering loop ``fwd``: its float loop variables'
    ``Enter`` outputs and the ``Enter`` outputs of the outer values it reads that ``wanted``
    accepts, from the gradients of its exits (None: zeros). ``gradients`` differentiates the
    body (``flow.ops.gradients.gradients``)."""
    parent = fwd.parent_frame  # in a loop: what this adds to it runs before this loop
    if parent is not None:
        saved, parent._building = parent._building, []
    try:
        return _while_grad(graph, fwd, exit_grads, wanted, gradients)
    finally:
        if parent is not None:
            added, parent._building = parent._building, saved
            at = parent.body_ops.index(fwd.anchor)
            parent.body_ops[at:at] = added


def _while_grad(graph, fwd, exit_grads, wanted, gradients):
    var_index = [i for i, t in enumerate(fwd.idents) if t.dtype.is_floating]
    captured = [(t.op.inputs[0], t) for key, t in fwd.captured.items()
                if key is not t and t.dtype.is_floating and wanted(t.op.inputs[0])]
    outer = graph._control_flow_context
    counter_add, counter_exit = _forward_counter(graph, fwd, getattr(outer, "counter_add", None))
    frame = graph.get_name_scope() or "gradients"
    grad = GradLoop(graph, fwd, outer, frame, counter_add)
    pi = fwd.parallel_iterations
    with _context(graph, outer):
        one = constant(1, name="b_count")
        starts = [_enter(graph, counter_exit, frame, False, pi)]
        for i in var_index:
            g = exit_grads[i]
            g = array_ops.zeros_like(fwd.exits[i]) if g is None else g
            starts.append(_enter(graph, g, frame, False, pi))
        starts += [_enter(graph, array_ops.zeros_like(o, name="b_acc"), frame, False, pi)
                   for o, _ in captured]
    grad.captured.update({s: s for s in starts})
    with _context(graph, grad):
        merges = [_merge(graph, [s, s])[0] for s in starts]
        grad.pivot, grad._building = merges[0], grad.cond_ops
        pred = math_ops.greater_equal(merges[0], one)
        grad._building = None
        loop_cond = graph.create_op("LoopCond", [pred], {}, "b_count", ["bool"],
                                    [()]).outputs[0]
        switches = [_switch(graph, m, loop_cond) for m in merges]
        idents = [s[1] for s in switches]
        grad.pivot, grad._building = idents[0], grad.body_ops
        grad.index = math_ops.subtract(idents[0], grad.add_value(one))
        n = len(var_index)
        ys = [fwd.nexts[i].op.inputs[0] for i in var_index]
        xs = [fwd.idents[i] for i in var_index] + [t for _, t in captured]
        dxs = gradients(ys, xs, grad_ys=idents[1:1 + n], name="body",
                        _within=fwd) if ys else [None] * len(xs)
        # sliced gradients (a gather in the body) are summed over iterations as dense values
        dxs = [None if d is None else convert_to_tensor(d) for d in dxs]
        values = [grad.index]
        values += [array_ops.zeros_like(g) if d is None else d
                   for g, d in zip(idents[1:1 + n], dxs[:n], strict=True)]
        values += [acc if d is None else math_ops.add(acc, d)
                   for acc, d in zip(idents[1 + n:], dxs[n:], strict=True)]
        grad._building = None
        sync = graph.create_op("ControlTrigger", [], {}, "b_sync", [], [],
                               control_inputs=grad.pop_syncs)  # live even when a pop is dead
        nexts = [_next_iteration(graph, merges[0], values[0], [sync])]
        nexts += [_next_iteration(graph, m, v)
                  for m, v in zip(merges[1:], values[1:], strict=True)]
        exits = [_loop_op(graph, "Exit", s[0]) for s in switches]
    if isinstance(outer, GradLoop):  # the next run of this loop pops after this one is done
        outer.pop_syncs.append(exits[0].op)
    with _context(graph, fwd):
        fwd.nexts.append(_next_iteration(graph, fwd.merges[-1], counter_add,
                                         grad.push_syncs))
    grad.enters, grad.merges, grad.switches, grad.idents = starts, merges, switches, idents
    grad.nexts, grad.exits, grad.pred = nexts, exits, pred
    grad.back_prop, grad.anchor = True, exits[-1].op
    graph.add_to_collection("while_context", grad)
    result = {fwd.enters[i]: exits[1 + k] for k, i in enumerate(var_index)}
    result.update({t: exits[1 + n + k] for k, (_, t) in enumerate(captured)
                   if dxs[n + k] is not None})
    return result
