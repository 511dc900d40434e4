"""Graph, Operation and Tensor: TF 1.x's dataflow graph (``tensorflow/python/framework/ops.py``).

A ``Graph`` holds Operations in creation order (which is a topological order: an op's inputs
exist before it does), TF's op-name uniquification (``c``, ``c_1``; case-insensitive keys),
the name-scope stack, control-dependency contexts, collections and the graph-level seed.
``as_graph_def()`` exports a ``GraphDef`` with TF op types and attrs (SPEC §2.4).
Behaviour follows ``reference/tf1-semantics.md`` §2 and §4.4.
"""

from __future__ import annotations

import contextlib
import re
import threading

from flow.core import dtypes
from flow.core.tensor_shape import TensorShape, as_shape
from flow.framework import graph_def
from writer.proto import graph_pb2

GRAPH_DEF_VERSION = 134  # TF 1.15's producer version


class GraphKeys:
    """Standard collection names (``tf.GraphKeys``)."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"


# ---------------------------------------------------------------- Tensor / Operation


class TensorLike:
    """What Tensor and Variable share. ``flow.ops.overloads`` adds the operators (``a + b``,
    ``x[0]``, ``-x``) when the op wrappers exist, as TF's ``math_ops`` overrides them."""

    __slots__ = ()
    __array_priority__ = 100

    def __bool__(self):
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
            "instead of `if t:` to test if a tensor is defined, and use TensorFlow ops such "
            "as tf.cond to execute subgraphs conditioned on the value of a tensor."
        )

    def __iter__(self):
        raise TypeError("'Tensor' object is not iterable.")


class Tensor(TensorLike):
    """One output of an Operation: a symbolic handle whose value exists only inside ``run``."""

    __slots__ = ("op", "value_index", "dtype", "_shape", "name", "_consumers")

    def __init__(self, op, value_index: int, dtype, shape):
        self.op = op
        self.value_index = value_index
        self.dtype = dtypes.as_dtype(dtype)
        self._shape = as_shape(shape)
        self.name = f"{op.name}:{value_index}"
        self._consumers = []

    graph = property(lambda self: self.op.graph)
    device = property(lambda self: self.op.device)
    shape = property(lambda self: self._shape)

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape):
        self._shape = self._shape.merge_with(shape)

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        return default_session_for(self, session, "tensor").run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Tensor {self.name!r} shape={self._shape} dtype={self.dtype.name}>"

    def __str__(self):
        return f'Tensor("{self.name}", shape={self._shape}, dtype={self.dtype.name})'

    __hash__ = object.__hash__

    def __eq__(self, other):  # TF1: identity, so tensors can be dict keys
        return self is other

    def __ne__(self, other):
        return self is not other


class Operation:
    """A node: ``type`` (TF op name), ``inputs``, ``attrs`` and its output Tensors."""

    __slots__ = ("graph", "name", "type", "inputs", "control_inputs", "attrs", "outputs",
                 "_id", "_traceback", "device")

    def __init__(self, graph, name, op_type, inputs, attrs, out_dtypes, out_shapes,
                 control_inputs):
        self.graph = graph
        self.name = name
        self.type = op_type
        self.inputs = tuple(inputs)
        self.control_inputs = list(control_inputs)
        self.attrs = attrs
        self._id = len(graph._ops)
        self._traceback = None
        self.device = graph._device_stack[-1] if graph._device_stack else ""
        pairs = zip(out_dtypes, out_shapes, strict=True)
        self.outputs = [Tensor(self, i, d, s) for i, (d, s) in enumerate(pairs)]

    def _set_device(self, device):
        self.device = canonical_device(device)

    def values(self):
        return tuple(self.outputs)

    def get_attr(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation {self.name!r} has no attr named {name!r}.") from None

    @property
    def node_def(self):
        return graph_def.node_def(self, add_shapes=False)

    def run(self, feed_dict=None, session=None):
        default_session_for(self, session, "operation").run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Operation {self.name!r} type={self.type}>"


# ---------------------------------------------------------------- Graph


def canonical_device(spec) -> str:
    """TF's canonical device string: ``"/cpu:0"`` → ``"/device:CPU:0"``; None/"" → ""."""
    if not spec:
        return ""
    parts = []
    for part in str(spec).strip("/").split("/"):
        key, _, rest = part.partition(":")
        if key.lower() in ("cpu", "gpu") and rest.isdigit():
            part = f"device:{key.upper()}:{rest}"
        elif key == "device":
            kind, _, index = rest.partition(":")
            part = f"device:{kind.upper()}:{index or '0'}"
        parts.append(part)
    return "/" + "/".join(parts)

_VALID_ROOT = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_VALID_NESTED = re.compile(r"^[A-Za-z0-9_.\-/>]*$")


class Graph:
    """A TensorFlow graph: ops in creation order, names, scopes, collections, seed."""

    def __init__(self):
        self._ops: list[Operation] = []
        self._ops_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation]] = []
        self._collections: dict[str, list] = {}
        self._finalized = False
        self._device_stack: list[str] = []
        self._control_flow_context = None  # a tf.cond branch being built (flow.ops)
        self.seed = None
        self._lock = threading.Lock()

    # -- names -------------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def get_name_scope(self) -> str:
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """Name scope: ``"a"`` (made unique), ``"a/b/"`` (absolute), ``None``/``""`` (root)."""
        if name:
            pattern = _VALID_NESTED if self._name_stack else _VALID_ROOT
            if not pattern.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
        old = self._name_stack
        if not name:
            new = ""
        elif name[-1] == "/":
            new = name[:-1]
        else:
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield new + "/" if new else ""
        finally:
            self._name_stack = old

    # -- ops ---------------------------------------------------------------------
    def create_op(self, op_type: str, inputs, attrs=None, name=None, dtypes_=None, shapes=None,
                  control_inputs=()):
        """Add one op. ``dtypes_``/``shapes`` give one entry per output (shapes may be None)."""
        self._check_not_finalized()
        inputs = list(inputs)
        for t in inputs:
            if t.graph is not self:
                raise ValueError(f"Tensor {t.name!r} must be from the same graph as the new "
                                 f"{op_type} op; build all ops of a model in one graph.")
        name = name or op_type
        if not _VALID_ROOT.match(name):
            raise ValueError(f"'{name}' is not a valid node name")
        name = name[:-1] if name[-1] == "/" else self.unique_name(name)
        context = self._control_flow_context
        if context is not None:  # inside a branch: outer values enter through a Switch
            inputs, control_inputs = context.enter(name, op_type, inputs, control_inputs)
        dtypes_ = list(dtypes_ or [])
        shapes = list(shapes) if shapes is not None else [None] * len(dtypes_)
        controls = [c for ctx in self._control_stack for c in ctx] + list(control_inputs)
        seen, ctrl = set(), []
        input_ops = {t.op for t in inputs}
        for c in controls:
            c = getattr(c, "op", c)
            if c not in seen and c not in input_ops:
                seen.add(c)
                ctrl.append(c)
        with self._lock:
            op = Operation(self, name, op_type, inputs, dict(attrs or {}), dtypes_, shapes, ctrl)
            self._ops.append(op)
            self._ops_by_name[name] = op
        for t in inputs:
            t._consumers.append(op)
        if context is not None:
            context.add_op(op)
        return op

    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        try:
            return self._ops_by_name[name]
        except KeyError:
            raise KeyError(f"The name {name!r} refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        return self.as_graph_element(name, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolve a Tensor, Operation, Variable or a name (``"x:0"`` / ``"train_op"``)."""
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                op_name, _, idx = obj.rpartition(":")
                op = self._ops_by_name.get(op_name)
                if op is None:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, does not exist in the graph.")
                if not idx.isdigit() or int(idx) >= len(op.outputs):
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, exists but only has "
                                   f"{len(op.outputs)} outputs.")
                return op.outputs[int(idx)]
            if allow_operation and obj in self._ops_by_name:
                return self._ops_by_name[obj]
            if obj in self._ops_by_name:
                raise ValueError(f"The name {obj!r} refers to an Operation, not a Tensor. "
                                 f"Tensor names must be of the form \"<op_name>:<output_index>\".")
            raise KeyError(f"The name {obj!r} refers to an Operation not in the graph.")
        if isinstance(obj, Tensor) and allow_tensor or isinstance(obj, Operation) and \
                allow_operation:
            if obj.graph is not self:
                raise ValueError(f"{_describe(obj)} is not an element of this graph.")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a "
                        f"{'Tensor' if allow_tensor else 'Operation'}.")

    @property
    def version(self):
        return len(self._ops)

    # -- control dependencies ------------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops made inside get these ops as control inputs; ``None`` clears the outer ones."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = []
        for c in control_inputs:
            if hasattr(c, "_as_graph_element"):
                c = c._as_graph_element()
            c = getattr(c, "op", c)
            if not isinstance(c, Operation):
                raise TypeError(f"Control input must be an Operation, a Tensor, or "
                                f"IndexedSlices: {c!r}")
            ops.append(c)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextlib.contextmanager
    def init_scope(self):
        """Outside every control-dependency and control-flow context (TF's ``init_scope``):
        where variables are made, so that one made inside a loop body or cond branch is
        created once, not per iteration or branch."""
        saved = self._control_flow_context
        self._control_flow_context = None
        try:
            with self.control_dependencies(None):
                yield
        finally:
            self._control_flow_context = saved

    # -- collections ----------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._check_not_finalized()
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for name in [names] if isinstance(names, str) else set(names):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        pattern = re.compile(scope)
        return [x for x in items if hasattr(x, "name") and pattern.match(x.name)]

    def get_all_collection_keys(self):
        return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        self._collections.pop(name, None)

    # -- finalize / default -----------------------------------------------------------
    def finalize(self):
        self._finalized = True

    finalized = property(lambda self: self._finalized)

    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def as_default(self):
        return _default_stack.get_controller(self)

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Ops made inside record ``device`` (``"/device:CPU:0"``), as TF's NodeDefs do; numpy
        runs them all on the CPU. ``None`` clears the outer device."""
        if callable(device_name_or_function):
            raise TypeError("device functions are not supported by flow; pass a device name "
                            "such as '/cpu:0'.")
        self._device_stack.append(canonical_device(device_name_or_function))
        try:
            yield
        finally:
            self._device_stack.pop()

    def colocate_with(self, op, ignore_existing=False):
        return contextlib.nullcontext()

    # -- export --------------------------------------------------------------------
    def as_graph_def(self, from_version=None, add_shapes=False):
        """The ``GraphDef`` (writer.proto.graph_pb2) with TF op types and attrs."""
        gd = graph_pb2.GraphDef()
        gd.versions.producer = GRAPH_DEF_VERSION
        for op in self._ops[from_version or 0:]:
            gd.node.extend(graph_def.node_defs(op, add_shapes))
        return gd

    graph_def_versions = property(lambda self: self.as_graph_def().versions)


def _describe(obj) -> str:
    if isinstance(obj, Tensor):
        return f"Tensor {obj}"
    return f"Operation {obj.name!r}"


# ---------------------------------------------------------------- default graph stack


class _DefaultStack(threading.local):
    """The per-thread stack of ``as_default()`` contexts over one global default graph."""

    def __init__(self):
        self.stack = []

    def get_controller(self, default):
        @contextlib.contextmanager
        def controller():
            self.stack.append(default)
            try:
                yield default
            finally:
                if self.stack and self.stack[-1] is default:
                    self.stack.pop()
                elif default in self.stack:
                    self.stack.remove(default)

        return controller()


_default_stack = _DefaultStack()
_global_graph = [Graph()]


def get_default_graph() -> Graph:
    stack = _default_stack.stack
    return stack[-1] if stack else _global_graph[0]


def reset_default_graph():
    """Make a fresh global default graph (TF: not allowed inside a graph/session nesting)."""
    if _default_stack.stack:
        hint = ("\nHint: an InteractiveSession is open and keeps its graph as the default; "
                "call its close() first.") if interactive_sessions else ""
        raise AssertionError(
            "Do not use tf.reset_default_graph() to clear nested graphs. If you need a cleared "
            "graph, exit the nesting and create a new graph." + hint)
    _global_graph[0] = Graph()


def name_scope(name, default_name=None, values=None):
    """``tf.name_scope(name, default_name=None, values=None)``: yields the scope string."""
    n = default_name if name is None else name
    graph = get_default_graph()
    if values:
        for v in values:
            g = getattr(v, "graph", None)
            if isinstance(g, Graph):
                graph = g
                break
    return graph.name_scope(n)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


# ---------------------------------------------------------------- default session


class _SessionStack(threading.local):
    """The per-thread stack of ``Session.as_default()`` contexts; the Session (``flow.client``)
    pushes itself, ``Tensor.eval`` / ``Operation.run`` read the top."""

    def __init__(self):
        self.stack = []

    def push(self, sess):
        stack = self

        class _Ctx:
            def __enter__(self):
                stack.stack.append(sess)
                return sess

            def __exit__(self, *exc):
                if stack.stack and stack.stack[-1] is sess:
                    stack.stack.pop()
                elif sess in stack.stack:
                    stack.stack.remove(sess)
                return False

        return _Ctx()


_default_sessions = _SessionStack()
interactive_sessions = set()  # the open InteractiveSessions (all threads): for hints


def get_default_session():
    stack = _default_sessions.stack
    return stack[-1] if stack else None


def default_session_for(element, session, kind):
    """The session ``Tensor.eval`` / ``Operation.run`` use, with TF's error texts."""
    noun, verb, call = ("tensor", "evaluate", "eval") if kind == "tensor" else (
        "operation", "execute", "run")
    if session is None:
        session = get_default_session()
        if session is None:
            if kind == "tensor":
                raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                                 "registered. Use `with sess.as_default()` or pass an explicit "
                                 "session to `eval(session=sess)`")
            raise ValueError("Cannot execute operation using `run()`: No default session is "
                             "registered. Use `with sess.as_default():` or pass an explicit "
                             "session to `run(session=sess)`")
        if session.graph is not element.graph:
            raise ValueError(f"Cannot use the default session to {verb} {noun}: the {noun}'s "
                             f"graph is different from the session's graph. Pass an explicit "
                             f"session to `{call}(session=sess)`.")
    elif session.graph is not element.graph:
        raise ValueError(f"Cannot use the given session to {verb} {noun}: the {noun}'s graph "
                         f"is different from the session's graph.")
    return session


def device(device_name_or_function):
    """``tf.device``: record the device on the ops made inside (see ``Graph.device``)."""
    return get_default_graph().device(device_name_or_function)
