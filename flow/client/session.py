"""``tf.Session`` / ``tf.InteractiveSession``: run a graph fragment on numpy arrays.

``run(fetches, feed_dict)`` follows TF 1.15 (``reference/tf1-semantics.md`` §4): nested
fetches (list, tuple, namedtuple, dict), any tensor can be fed, each op runs at most once per
call, only the ops the fetches need run, and TF's error types and texts.

Speed: a run *plan* is compiled once per (fetches, feed keys) and cached. A plan is a list of
closures in creation order (a topological order) that read and write a flat list of value
slots; constants are pre-filled into the slot template. A step of the plan is one closure
call plus the kernel itself.

State: variable values live in ``session._variable_values`` (op name → ndarray), random
streams in ``session._random_streams``; a new session starts with every variable
uninitialized.

Memory: every kernel returns fresh numpy arrays, freed when a run ends. With glibc's default
(dynamic) malloc thresholds the freed heap top goes back to the OS after each run and the next
run page-faults it in again (~7,400 faults, a third of a CNN training step's CPU time here), so
the first session asks glibc to keep freed memory (:func:`keep_freed_memory`), as TensorFlow's
and PyTorch's caching allocators do.
"""

from __future__ import annotations

import ctypes
import functools
import os
import time
import types
import warnings
from collections.abc import Mapping

import numpy as np

from flow.client import tracing
from flow.core import errors
from flow.framework.graph import (
    Graph,
    Operation,
    Tensor,
    _default_sessions,
    get_default_graph,
    get_default_session,  # noqa: F401 - tf.get_default_session is re-exported from here
    interactive_sessions,
)
from flow.kernels.control_flow import DEAD
from flow.kernels.table import OPS, STATEFUL
from flow.ops.indexed_slices import IndexedSlices, IndexedSlicesValue

_COPY_ON_FETCH = {"Const", "VariableV2"}  # and every row that writes a variable (ref_inputs)


@functools.cache
def keep_freed_memory(trim_bytes: int = 512 << 20) -> bool:
    """Have glibc keep up to ``trim_bytes`` of freed heap (and serve arrays up to 32 MiB from
    the heap) instead of returning it to the OS after every run; once per process. A no-op,
    returning False, without glibc's ``mallopt`` or when ``MALLOC_TRIM_THRESHOLD_`` /
    ``MALLOC_MMAP_THRESHOLD_`` are set (the user's choice wins)."""
    if {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"} & os.environ.keys():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, TypeError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, trim_bytes))


class _Plan:
    __slots__ = ("steps", "ops", "template", "feed_slots", "fetch_slots", "copy", "log")


def _fetch_element(graph: Graph, fetch):
    if fetch is None:
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}")
    try:
        if isinstance(fetch, Tensor | Operation | str) or hasattr(fetch, "_as_graph_element"):
            return graph.as_graph_element(fetch)
    except (KeyError, ValueError) as e:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. "
                         f"({str(e).strip(chr(39))})") from None
    raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}, must be a "
                    f"string or Tensor. (Can not convert a {type(fetch).__name__} into a Tensor "
                    f"or Operation.)")


def _flatten(graph, fetches, out):
    if isinstance(fetches, IndexedSlices):  # fetched as an IndexedSlicesValue
        _flatten(graph, [t for t in (fetches.values, fetches.indices, fetches.dense_shape)
                         if t is not None], out)
    elif isinstance(fetches, Mapping):
        for v in fetches.values():
            _flatten(graph, v, out)
    elif isinstance(fetches, list | tuple):
        for v in fetches:
            _flatten(graph, v, out)
    else:
        out.append(_fetch_element(graph, fetches))


def _rebuild(fetches, it):
    if isinstance(fetches, IndexedSlices):
        return IndexedSlicesValue(next(it), next(it),
                                  None if fetches.dense_shape is None else next(it))
    if isinstance(fetches, Mapping):
        try:
            out = type(fetches)()  # as TF: the same mapping type (OrderedDict, defaultdict …)
        except TypeError:
            out = {}
        for k, v in fetches.items():
            out[k] = _rebuild(v, it)
        return out
    if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
        return type(fetches)(*[_rebuild(v, it) for v in fetches])
    if isinstance(fetches, list):
        return [_rebuild(v, it) for v in fetches]
    if isinstance(fetches, tuple):
        return tuple(_rebuild(v, it) for v in fetches)
    return next(it)


def _step(fn, attrs, ins, outs):
    """One closure: read input slots, call ``fn(inputs, attrs)``, write output slots."""
    if len(outs) == 1:
        (o,) = outs
        if len(ins) == 1:
            (a,) = ins

            def step(v):
                v[o] = fn([v[a]], attrs)
        elif len(ins) == 2:
            a, b = ins

            def step(v):
                v[o] = fn([v[a], v[b]], attrs)
        else:
            def step(v):
                v[o] = fn([v[i] for i in ins], attrs)
        return step

    def step_n(v):
        result = fn([v[i] for i in ins], attrs)
        if outs:
            for o, r in zip(outs, result, strict=True):
                v[o] = r

    return step_n


def _push_step(stack, value):
    """The step of a ``StackPushV2`` whose output nobody reads (as a gradient loop's are)."""
    def push(v):
        v[stack].append(v[value])

    return push


def _pop_step(stack, out):
    """The step of a ``StackPopV2`` (the row's kernel, without its call)."""
    def pop(v):
        try:
            v[out] = v[stack].pop()
        except IndexError:
            OPS["StackPopV2"].forward([v[stack]], None)  # raises the row's error

    return pop


def _guard(step, checks, outs, marker):
    """A step on a branch that may be dead: it does not run when one of the ``checks`` slots
    (its maybe-dead inputs and control inputs) is dead, and then its outputs are dead; the
    ``marker`` slot says whether the op ran (for ops that have it as a control input)."""

    def guarded(v):
        for c in checks:
            if v[c] is DEAD:
                for o in outs:
                    v[o] = DEAD
                v[marker] = DEAD
                return
        step(v)
        v[marker] = DEAD if outs and all(v[o] is DEAD for o in outs) else True

    return guarded


def _maybe_dead(ops, fed) -> set:
    """The ops whose outputs can be dead at run time: those downstream of a ``Switch``,
    up to a ``Merge`` that has a live input (``flow.kernels.control_flow``)."""
    dead: set[Operation] = set()
    for op in ops:
        ins = [t.op in dead and t not in fed for t in op.inputs]
        if op.type == "Switch" and op.inputs[1].op.type == "LoopCond" or \
                op.type == "ControlTrigger":
            continue  # the frame step runs a loop's own Switch: its values are never dead
        if op.type == "Exit" and any(e.op in dead for e in op.attrs["_frame"].enters):
            dead.add(op)  # a loop on a branch that is not taken: dead as a whole
        elif op.type == "Switch" or (op.type == "Merge" and all(ins)) or (
                op.type != "Merge" and (any(ins) or any(c in dead for c in op.control_inputs))):
            dead.add(op)
    return dead


def _top_frame(frame):
    """The outermost loop around ``frame`` (itself when it is not nested)."""
    while frame.parent_frame is not None:
        frame = frame.parent_frame
    return frame


def _timed(step, op, outs, log):
    """The step of a traced run: ``step``, with its op's execution logged in the list in slot
    ``log``: its start and end (``time.time_ns``) and the values of slots ``outs`` (0: none)."""
    clock, describe = time.time_ns, tracing.describe

    def timed(v):
        start = clock()
        step(v)
        end = clock()
        v[log].append((op, start, end, describe([v[o] if o else None for o in outs])))

    return timed


def _frame_steps(frame, ops, build, slot, log=0):
    """The steps of ``ops`` (a part of loop ``frame``): one per op of this frame, one per
    inner loop (run where its last op was built), none for the loop's own bookkeeping."""
    steps = []
    for op in ops:
        inner = op.attrs["_frame"]
        if inner is frame:
            step = build(op)
        else:
            while inner.parent_frame is not frame:
                inner = inner.parent_frame
            step = _frame_step(inner, build, slot, log) if op is inner.anchor else None
        if step is not None:
            steps.append(step)
    return steps


def _frame_step(frame, build, slot, log=0):
    """One step that runs a ``tf.while_loop`` frame: the loop variables enter, then cond and
    body run while the predicate holds, then they exit. What a gradient needs from each
    iteration the body pushes on stacks (``flow.ops.while_grad``). In a traced run (``log``,
    the slot of the run's log) the loop's own ops are logged too: :func:`_traced_loop`."""
    cond_steps = _frame_steps(frame, frame.cond_ops, build, slot, log)
    body_steps = _frame_steps(frame, frame.body_ops, build, slot, log)
    if log:
        return _traced_loop(frame, cond_steps, body_steps, slot, log)
    enter_s = [slot(t) for t in frame.enters]
    merge_s = [slot(t) for t in frame.merges]
    ident_s = [slot(t) for t in frame.idents]
    next_s = [slot(t.op.inputs[0]) for t in frame.nexts]
    exit_s = [slot(t) for t in frame.exits]
    pred_s = slot(frame.pred)

    def run_loop(v):
        current = [v[s] for s in enter_s]
        if any(x is DEAD for x in current):  # on a tf.cond branch that is not taken
            current = [DEAD] * len(exit_s)
        while current and current[0] is not DEAD:
            for s, x in zip(merge_s, current, strict=True):
                v[s] = x
            for step in cond_steps:
                step(v)
            if not v[pred_s]:
                break
            for s, x in zip(ident_s, current, strict=True):
                v[s] = x
            for step in body_steps:
                step(v)
            current = [v[s] for s in next_s]
        for s, x in zip(exit_s, current, strict=True):
            v[s] = x

    return run_loop


def _traced_loop(frame, cond_steps, body_steps, slot, log):
    """``run_loop`` of :func:`_frame_step` in a traced run: the same slot moves, one at a time,
    each logged as the execution of the loop op it stands for (``Merge``, ``LoopCond``,
    ``Switch``, ``Identity``, ``NextIteration``, ``Exit``), in TensorFlow's order."""
    clock, describe = time.time_ns, tracing.describe
    enter_s = [slot(t) for t in frame.enters]
    merges = [(t.op, slot(t)) for t in frame.merges]
    loop_cond = frame.switches[0][0].op.inputs[1]
    loop_cond_op, loop_cond_s, pred_s = loop_cond.op, slot(loop_cond), slot(frame.pred)
    switches = [(f.op, slot(f), slot(t)) for f, t in frame.switches]
    idents = [(t.op, slot(t), slot(t.op.inputs[0])) for t in frame.idents
              if t.op.type == "Identity"]  # else the Switch's output is the body's view
    nexts = [(t.op, slot(t.op.inputs[0])) for t in frame.nexts]
    exits = [(t.op, slot(t)) for t in frame.exits]
    from_enter, from_next = np.int32(0), np.int32(1)  # a Merge's value_index

    def run_loop(v):
        trace = v[log]
        current = [v[s] for s in enter_s]
        if any(x is DEAD for x in current):  # on a tf.cond branch that is not taken
            current = [DEAD] * len(exits)
        index, ended = from_enter, False
        while current and current[0] is not DEAD:
            for (op, s), x in zip(merges, current, strict=True):
                start = clock()
                v[s] = x
                trace.append((op, start, clock(), describe((x, index))))
            index = from_next
            for step in cond_steps:
                step(v)
            start = clock()
            go = v[loop_cond_s] = v[pred_s]
            trace.append((loop_cond_op, start, clock(), describe((go,))))
            if not go:
                ended = True
                break
            for (op, _, s), x in zip(switches, current, strict=True):
                start = clock()
                v[s] = x
                trace.append((op, start, clock(), describe((DEAD, x))))
            for op, s, src in idents:
                start = clock()
                x = v[s] = v[src]
                trace.append((op, start, clock(), describe((x,))))
            for step in body_steps:
                step(v)
            current = []
            for op, s in nexts:
                start = clock()
                current.append(v[s])
                trace.append((op, start, clock(), describe(current[-1:])))
        if ended:
            for (op, s, _), x in zip(switches, current, strict=True):
                start = clock()
                v[s] = x
                trace.append((op, start, clock(), describe((x, DEAD))))
        for (op, s), x in zip(exits, current, strict=True):
            start = clock()
            v[s] = x
            trace.append((op, start, clock(), describe((x,))))

    return run_loop


def _bare_push(op, flat) -> bool:
    """A ``StackPushV2`` whose output nobody reads (as a gradient loop's are)."""
    return op.type == "StackPushV2" and not op.outputs[0]._consumers and all(
        f is not op.outputs[0] for f in flat)


def _run_order(ops, fed):
    """``ops`` as units in an order that runs each after what it reads: an op, or a whole
    loop (its outermost frame, whose ops may have been added after ops that read its exits,
    as a gradient adds its stacks). Ties go by creation order."""
    unit = {op: _top_frame(op.attrs["_frame"]) if op.attrs.get("_frame") else op
            for op in ops}
    deps: dict[object, set] = {}
    for op in ops:
        own = deps.setdefault(unit[op], set())
        for t in op.inputs:
            if t not in fed and t.op in unit and unit[t.op] is not unit[op]:
                own.add(unit[t.op])
        own.update(unit[c] for c in op.control_inputs if c in unit and unit[c] is not unit[op])
    first_id = {}
    for op in ops:  # ops come in creation order
        first_id.setdefault(unit[op], op._id)
    order, done, on_stack = [], set(), set()
    for first in first_id:
        stack = [(first, iter(sorted(deps[first], key=first_id.get)))]
        on_stack.add(first)
        while stack:
            u, pending = stack[-1]
            nxt = next((d for d in pending if d not in done and d not in on_stack), None)
            if nxt is None:
                stack.pop()
                on_stack.discard(u)
                if u not in done:
                    done.add(u)
                    order.append(u)
            else:
                stack.append((nxt, iter(sorted(deps[nxt], key=first_id.get))))
                on_stack.add(nxt)
    return order


class BaseSession:
    """A session over one graph; see the module docstring."""

    def __init__(self, target="", graph=None, config=None):
        if graph is not None and not isinstance(graph, Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(graph)}")
        self._graph = graph if graph is not None else get_default_graph()
        self._closed = False
        self._variable_values: dict[str, np.ndarray] = {}
        self._random_streams: dict[str, np.random.Generator] = {}
        self._resources: dict[str, object] = {}  # per-session state of stateful rows (iterators)
        self._plans: dict[tuple, _Plan] = {}
        self._contexts = None
        self.sess_str = target
        keep_freed_memory()

    graph = property(lambda self: self._graph)
    graph_def = property(lambda self: self._graph.as_graph_def())

    # -- run ----------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluate ``fetches`` (a graph element or a nest of them), feeding ``feed_dict``."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        traced = (options is not None or run_metadata is not None) and \
            tracing.check_arguments(options, run_metadata)
        graph = self._graph
        single = type(fetches) is Tensor or type(fetches) is Operation
        if single:
            if fetches.graph is not graph:
                _fetch_element(graph, fetches)  # raises: not an element of this graph
            flat = (fetches,)
        else:
            flat_list = []
            _flatten(graph, fetches, flat_list)
            flat = tuple(flat_list)
        feed_keys, feed_values = (), ()
        if feed_dict:
            feed_keys, feed_values = self._feeds(feed_dict)
        key = (flat, feed_keys, True) if traced else (flat, feed_keys)  # a traced run: its
        plan = self._plans.get(key)  # own plan, whose steps log themselves
        if plan is None:
            if not graph._ops:
                raise RuntimeError("The Session graph is empty.  Add operations to the graph "
                                   "before calling run().")
            plan = self._plans[key] = self._compile(flat, feed_keys, traced)
        vals = plan.template.copy()
        for slot, value in zip(plan.feed_slots, feed_values, strict=True):
            vals[slot] = value
        if traced:
            vals[plan.log] = log = []
        i = -1
        try:
            for i, step in enumerate(plan.steps):  # noqa: B007 - i names the failing op
                step(vals)
        except errors.OpError:
            raise
        except Exception as e:
            op = plan.ops[i]
            raise errors.InvalidArgumentError(
                None, op, f"{e}\n\t [[{{{{node {op.name}}}}} = {op.type}]]") from e
        if traced:
            tracing.record(run_metadata, log)
        results = []
        for k, (slot, copy) in enumerate(zip(plan.fetch_slots, plan.copy, strict=True)):
            r = None if slot < 0 else vals[slot]
            if r is DEAD:
                raise errors.InvalidArgumentError(
                    None, None, f"Retval[{k}] does not have value: {flat[k].name} is on the "
                    "side of a tf.cond (Switch) that this run did not take; fetch the cond's "
                    "output instead.")
            if type(r) is np.ndarray:
                if r.ndim == 0:
                    r = r[()]
                elif copy or not r.flags.writeable:  # never hand out state or a Const
                    r = r.copy()
            results.append(r)
        if single:
            return results[0]
        return _rebuild(fetches, iter(results))

    def _feeds(self, feed_dict):
        keys, values = [], []
        graph = self._graph
        for key, value in feed_dict.items():
            if type(key) is not Tensor or key.op.graph is not graph:
                try:
                    key = graph.as_graph_element(key, allow_operation=False)
                except (KeyError, ValueError, TypeError) as e:
                    raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
            if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
                raise TypeError(
                    f"The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                    f"include Python scalars, strings, lists, numpy ndarrays, or TensorHandles. "
                    f"For reference, the tensor object was {value} which was passed to the feed "
                    f"with key {key}.")
            np_type = key.dtype.as_numpy_dtype
            if type(value) is not np.ndarray or value.dtype != np_type:
                try:
                    value = np.asarray(value, dtype=np_type)
                except OverflowError:
                    raise TypeError(
                        f"Type of feed value {value} with type {type(value)} is not compatible "
                        f"with Tensor type {key.dtype}. Try explicitly setting the type of the "
                        f"feed tensor to a larger type (e.g. int64).") from None
            dims = key._shape._dims
            if dims is not None and (len(dims) != value.ndim or any(
                    d is not None and d != s for d, s in zip(dims, value.shape, strict=True))):
                raise ValueError(f"Cannot feed value of shape {value.shape!r} for Tensor "
                                 f"{key.name!r}, which has shape {str(key._shape)!r}")
            keys.append(key)
            values.append(value)
        return tuple(keys), values

    def _compile(self, flat, feed_keys, traced=False) -> _Plan:
        fed = set(feed_keys)
        needed, stack = set(), []
        for f in flat:
            if isinstance(f, Operation):
                stack.append(f)
            elif f not in fed:
                stack.append(f.op)
        while stack:
            op = stack.pop()
            if op in needed:
                continue
            needed.add(op)
            row = STATEFUL.get(op.type)
            refs = row.ref_inputs if row else ()
            for i, t in enumerate(op.inputs):
                if i not in refs and t not in fed and t.op not in needed:
                    stack.append(t.op)
            stack.extend(c for c in op.control_inputs if c not in needed)
            frame = op.attrs.get("_frame")
            if frame is not None:  # a loop frame runs as a whole
                stack.extend(o for o in _top_frame(frame).ops if o not in needed)
        units = _run_order(sorted(needed, key=lambda o: o._id), fed)
        ops = [o for u in units for o in ([u] if isinstance(u, Operation) else
                                          sorted(u.ops, key=lambda o: o._id))]

        # slot 0 is scratch: unread outputs and the place of ref inputs; feeds are 1..n
        slots: dict[Tensor, int] = {t: i + 1 for i, t in enumerate(feed_keys)}

        def slot(t):
            if t not in slots:
                slots[t] = len(slots) + 1
            return slots[t]

        plan = _Plan()
        plan.steps, plan.ops, consts = [], [], {}
        plan.log = slot(("trace log",)) if traced else 0  # a traced run's executions
        dead = _maybe_dead(ops, fed)
        markers = {op: len(slots) + 1 + i for i, op in enumerate(dead)}
        slots.update({("ran", op): m for op, m in markers.items()})
        def build_op(op):
            """The step of one op (None for a Const or NoOp the template holds)."""
            row = STATEFUL.get(op.type)
            refs = row.ref_inputs if row else ()
            ins = [0 if i in refs else slot(t) for i, t in enumerate(op.inputs)]
            outs = [0 if t in fed else slot(t) for t in op.outputs]
            if op in dead:
                checks = [] if op.type in ("Switch", "Merge") else [
                    s for s, t in zip(ins, op.inputs, strict=True) if s and t.op in dead]
                checks += [markers[c] for c in op.control_inputs if c in dead]
                if op.type == "Const":
                    fn, attrs = (lambda inputs, attrs: attrs["value"]), op.attrs
                elif op.type == "NoOp":
                    fn, attrs = (lambda inputs, attrs: ()), None
                else:
                    fn, attrs = self._kernel(op, row)
                return _guard(_step(fn, attrs, ins, outs), checks, outs, markers[op])
            if op.type == "Const":
                consts[outs[0]] = op.attrs["value"]
                return None
            if op.type == "NoOp":
                return None
            if _bare_push(op, flat):  # once per value and iteration: the list's own append,
                return _push_step(*ins)  # no kernel call
            if op.type == "StackPopV2":
                return _pop_step(ins[0], outs[0])
            fn, attrs = self._kernel(op, row)
            return _step(fn, attrs, ins, outs)

        def build_traced(op):
            """The step of one op that logs its execution (its output: a bare push's value)."""
            step = build_op(op)
            if step is None:
                return None
            outs = [slot(op.inputs[1])] if _bare_push(op, flat) else [
                0 if t in fed else slot(t) for t in op.outputs]
            return _timed(step, op, outs, plan.log)

        build = build_traced if traced else build_op
        for unit in units:
            if isinstance(unit, Operation):
                op, step = unit, build(unit)
            else:  # a loop: one step, named by its last Exit
                op, step = unit.anchor, _frame_step(unit, build, slot, plan.log)
            if step is not None:
                plan.steps.append(step)
                plan.ops.append(op)
        plan.fetch_slots = [-1 if isinstance(f, Operation) else slot(f) for f in flat]
        plan.template = [None] * (len(slots) + 1)
        for s, value in consts.items():
            plan.template[s] = value
        plan.template[0] = None
        plan.feed_slots = tuple(range(1, len(feed_keys) + 1))
        plan.copy = [isinstance(f, Tensor) and f not in fed and _copy_on_fetch(f) for f in flat]
        return plan

    def _kernel(self, op, row):
        """``(fn, attrs)`` of one op's step: its stateful kernel or its row's forward."""
        if row is not None:
            kernel = row.make(op, self)
            return (lambda inputs, attrs, k=kernel: k(inputs)), None
        if op.type in OPS:
            return OPS[op.type].forward, op.attrs
        raise errors.NotFoundError(
            None, op, f"No kernel for op type {op.type!r} (node {op.name!r}); it is in "
            f"neither flow.kernels.STATEFUL nor flow.kernels.table.OPS.")

    # -- lifecycle -------------------------------------------------------------------
    def close(self):
        self._closed = True
        self._plans.clear()

    def as_default(self):
        return _default_sessions.push(self)

    def __enter__(self):
        if self._contexts is not None:
            raise RuntimeError("Session context managers are not re-entrant. Use "
                               "`Session.as_default()` if you want to enter a session multiple "
                               "times.")
        self._contexts = [self._graph.as_default(), self.as_default()]
        for c in self._contexts:
            c.__enter__()
        return self

    def __exit__(self, *exc):
        for c in reversed(self._contexts or []):
            c.__exit__(*exc)
        self._contexts = None
        self.close()
        return False

    def __del__(self):
        self._closed = True


def _copy_on_fetch(t: Tensor) -> bool:
    op = t.op
    if op.type == "Identity" and op.inputs:
        op = op.inputs[0].op
    row = STATEFUL.get(op.type)
    return op.type in _COPY_ON_FETCH or bool(row and row.ref_inputs)


class ConfigProto:
    """``tf.ConfigProto``: accepted so TF1 scripts run; flow has no devices or thread pools."""

    def __init__(self, **fields):
        self.gpu_options = types.SimpleNamespace(allow_growth=False,
                                                 per_process_gpu_memory_fraction=1.0)
        self.__dict__.update(fields)


class Session(BaseSession):
    """``tf.Session(target='', graph=None, config=None)``."""


class InteractiveSession(BaseSession):
    """A session that installs itself (and its graph) as the default until ``close()``."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        if interactive_sessions:
            warnings.warn("An interactive session is already active. This can cause "
                          "out-of-memory errors in some cases. You must explicitly call "
                          "`InteractiveSession.close()` to release resources held by the "
                          "other session(s).", stacklevel=2)
        interactive_sessions.add(self)
        self._interactive = [self.as_default(), self._graph.as_default()]
        for c in self._interactive:
            c.__enter__()

    def close(self):
        if self._interactive:
            for c in reversed(self._interactive):
                c.__exit__(None, None, None)
            self._interactive = None
            interactive_sessions.discard(self)
        super().close()

    def __del__(self):
        pass
