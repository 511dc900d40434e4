"""``tf.Session`` / ``tf.InteractiveSession``: run a graph fragment on numpy arrays.

``run(fetches, feed_dict)`` follows TF 1.15 (``reference/tf1-semantics.md`` §4): nested
fetches (list, tuple, namedtuple, dict), any tensor can be fed, each op runs at most once per
call, only the ops the fetches need run, and TF's error types and texts.

Speed: a run *plan* is compiled once per (fetches, feed keys) and cached. A plan is a list of
closures in creation order (a topological order) that read and write a flat list of value
slots; constants are pre-filled into the slot template. A step of the plan is one closure
call plus the kernel itself.

Control flow: in a plan with a ``Switch`` (TF's ``tf.cond``, e.g. in an imported graph) each
step is guarded: an op with a dead input or control input (``flow.kernels.state.DEAD``, the
untaken side of a Switch) is skipped and its outputs are dead, except ``Merge``, which takes
its live input; each op's liveness has a slot for the ops that depend on it by control edge.

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
import types
import warnings
from collections.abc import Mapping

import numpy as np

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
from flow.kernels.state import DEAD
from flow.kernels.table import OPS, STATEFUL

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
    __slots__ = ("steps", "ops", "template", "feed_slots", "fetch_slots", "copy")


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
    if isinstance(fetches, Mapping):
        for v in fetches.values():
            _flatten(graph, v, out)
    elif isinstance(fetches, list | tuple):
        for v in fetches:
            _flatten(graph, v, out)
    else:
        out.append(_fetch_element(graph, fetches))


def _rebuild(fetches, it):
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


def _guarded(step, checked, outs, done, merge):
    """``step`` in a plan with control flow: skipped, its outputs and liveness slot ``done``
    DEAD, when a slot of ``checked`` is DEAD (a Merge checks only its control inputs, and is
    dead when all its inputs are)."""

    def run_if_live(v):
        if any(v[i] is DEAD for i in checked):
            for o in outs:
                v[o] = DEAD
            v[done] = DEAD
            return
        step(v)
        v[done] = DEAD if merge and v[outs[0]] is DEAD else True

    return run_if_live


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
        key = (flat, feed_keys)
        plan = self._plans.get(key)
        if plan is None:
            if not graph._ops:
                raise RuntimeError("The Session graph is empty.  Add operations to the graph "
                                   "before calling run().")
            plan = self._plans[key] = self._compile(flat, feed_keys)
        vals = plan.template.copy()
        for slot, value in zip(plan.feed_slots, feed_values, strict=True):
            vals[slot] = value
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
        results = []
        for k, (slot, copy) in enumerate(zip(plan.fetch_slots, plan.copy, strict=True)):
            r = None if slot < 0 else vals[slot]
            if r is DEAD:
                raise errors.InvalidArgumentError(
                    None, None, f"Retval[{k}] does not have value: {flat[k].name} is on the "
                    "side of a tf.cond (Switch) that this run did not take")
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

    def _compile(self, flat, feed_keys) -> _Plan:
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
        ops = sorted(needed, key=lambda o: o._id)

        # slot 0 is scratch: unread outputs and the place of ref inputs; feeds are 1..n
        slots: dict[Tensor, int] = {t: i + 1 for i, t in enumerate(feed_keys)}

        def slot(t):
            if t not in slots:
                slots[t] = len(slots) + 1
            return slots[t]

        plan = _Plan()
        plan.steps, plan.ops, consts = [], [], {}
        guarded = any(op.type == "Switch" for op in ops)
        for op in ops:
            row = STATEFUL.get(op.type)
            refs = row.ref_inputs if row else ()
            ins = [0 if i in refs else slot(t) for i, t in enumerate(op.inputs)]
            outs = [0 if t in fed else slot(t) for t in op.outputs]
            live = [i for k, i in enumerate(ins) if k not in refs]
            ctrl = [slot(c) for c in op.control_inputs] if guarded else []
            if op.type == "Const" and not ctrl:
                consts[outs[0]] = op.attrs["value"]
                continue
            if op.type == "NoOp" and not guarded:
                continue
            if row is not None:
                kernel = row.make(op, self)
                fn, attrs = (lambda inputs, attrs, k=kernel: k(inputs)), None
            elif op.type in OPS:
                fn, attrs = OPS[op.type].forward, op.attrs
            else:
                raise errors.NotFoundError(
                    None, op, f"No kernel for op type {op.type!r} (node {op.name!r}); it is in "
                    f"neither flow.kernels.STATEFUL nor flow.kernels.table.OPS.")
            step = _step(fn, attrs, ins, outs)
            if guarded:
                merge = op.type == "Merge"
                step = _guarded(step, ctrl if merge else live + ctrl, outs, slot(op), merge)
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
