"""``tf.variable_scope`` and ``tf.get_variable`` (TF 1.15 ``variable_scope.py``).

Each graph has one variable store (full name → Variable; only ``get_variable`` writes it) and,
per thread, a current ``VariableScope`` plus the counters behind ``default_name``. Reuse,
inheritance, re-entry by string and by object, and the error texts follow
``reference/tf1-semantics.md`` §1; the "already exists" error adds one hint line for the
notebook case (a cell run twice builds the model twice in the same default graph).
"""

from __future__ import annotations

import contextlib
import enum
import threading
import traceback

from flow.core import dtypes
from flow.core.tensor_shape import TensorShape, as_shape
from flow.framework.build import convert_to_tensor
from flow.framework.graph import GraphKeys, Tensor, get_default_graph
from flow.ops import init_ops
from flow.ops.variables import Variable


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE

_HINT = ("Hint: if this cell or script ran before in the same Python process (e.g. a notebook "
         "cell run twice), the earlier variables are still in the default graph: call "
         "tf.reset_default_graph() before building the model again, or open the scope with "
         "reuse=tf.AUTO_REUSE to share them.")


class VariableScope:
    """A variable scope: name (no trailing slash), reuse flag and defaults for get_variable."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope="", dtype=dtypes.float32,
                 use_resource=None, constraint=None):
        self._reuse = reuse
        self._name = name
        self._name_scope = name_scope
        self.initializer = initializer
        self.regularizer = regularizer
        self.caching_device = caching_device
        self.partitioner = partitioner
        self.custom_getter = custom_getter
        self.dtype = dtypes.as_dtype(dtype)
        self.use_resource = use_resource
        self.constraint = constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)

    def reuse_variables(self):
        """Reuse variables in this scope from now on (cannot be switched back)."""
        self._reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_dtype(self, dtype):
        self.dtype = dtypes.as_dtype(dtype)

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer

    def set_partitioner(self, partitioner):
        self.partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self.custom_getter = custom_getter

    def set_caching_device(self, caching_device):
        self.caching_device = caching_device

    def set_use_resource(self, use_resource):
        self.use_resource = use_resource

    def get_variable(self, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, use_resource=None, custom_getter=None,
                     constraint=None, **kwargs):
        full_name = f"{self._name}/{name}" if self._name else name
        graph = get_default_graph()
        with graph.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = convert_to_tensor(initializer).dtype
                if init_dtype != dtypes.as_dtype(dtype):
                    raise ValueError(f"Initializer type '{init_dtype!r}' and explicit dtype "
                                     f"'{dtypes.as_dtype(dtype)!r}' don't match.")
            initializer = self.initializer if initializer is None else initializer
            regularizer = self.regularizer if regularizer is None else regularizer
            partitioner = self.partitioner if partitioner is None else partitioner
            dtype = self.dtype if dtype is None else dtypes.as_dtype(dtype)
            reuse = AUTO_REUSE if self._reuse is AUTO_REUSE else bool(self._reuse)
            getter = _store(graph).get_variable
            custom_getter = self.custom_getter if custom_getter is None else custom_getter
            if custom_getter is not None:
                getter = _chain(custom_getter, getter)
            return getter(full_name, shape=shape, dtype=dtype, initializer=initializer,
                          regularizer=regularizer, reuse=reuse, trainable=trainable,
                          collections=collections, partitioner=partitioner,
                          validate_shape=validate_shape, constraint=constraint)


def _chain(outer, inner):
    """``outer`` called as a custom getter: ``outer(getter, name, *args, **kwargs)``."""
    return lambda name, *args, **kwargs: outer(inner, name, *args, **kwargs)


def _nest_getters(inner_scope_getter, outer_scope_getter):
    """A nested scope's custom getter runs first and calls the enclosing scope's (as TF)."""
    if outer_scope_getter is None:
        return inner_scope_getter
    return lambda getter, *args, **kwargs: inner_scope_getter(
        _chain(outer_scope_getter, getter), *args, **kwargs)


def _default_initializer(name, dtype):
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_bool or dtype.name == "string":
        return init_ops.zeros_initializer()
    raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")


class _VariableStore:
    """Full variable name (no ":0") → Variable made by ``get_variable``."""

    def __init__(self):
        self.vars = {}

    def get_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                     regularizer=None, reuse=False, trainable=None, collections=None,
                     partitioner=None, validate_shape=True, constraint=None, **kwargs):
        if partitioner is not None:
            raise NotImplementedError("partitioned variables are not supported by flow; "
                                      "create the variable without a partitioner.")
        dtype = dtypes.as_dtype(dtype)
        shape = TensorShape(None) if shape is None else as_shape(shape)
        from_value = initializer is not None and not callable(initializer)
        if from_value and shape.ndims is not None:
            raise ValueError("If initializer is a constant, do not specify shape.")
        if name in self.vars:
            if reuse is False:
                found = self.vars[name]
                tb = "".join(traceback.format_list(found.op._traceback or []))
                raise ValueError(
                    f"Variable {name} already exists, disallowed. Did you mean to set "
                    f"reuse=True or reuse=tf.AUTO_REUSE in VarScope? Originally defined at:"
                    f"\n\n{tb}\n{_HINT}")
            found = self.vars[name]
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to share variable {name}, but specified shape {shape} "
                                 f"and found shape {found.get_shape()}.")
            if not from_value and dtype != found.dtype:
                raise ValueError(f"Trying to share variable {name}, but specified dtype "
                                 f"{dtype.name} and found dtype {found.dtype.name}.")
            return found
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with "
                             f"tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                             f"VarScope?")
        if initializer is None:
            initializer = _default_initializer(name, dtype)
        if from_value:
            init_val, var_dtype = initializer, None
        else:
            if isinstance(initializer, type):
                initializer = initializer(dtype=dtype)
            if not shape.is_fully_defined():
                raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but "
                                 f"instead was {shape}.")
            dims = shape.as_list()

            def init_val():
                return initializer(dims, dtype=dtype, partition_info=None)

            var_dtype = dtype
        v = Variable(initial_value=init_val, name=name, trainable=True if trainable is None
                     else trainable, collections=collections, validate_shape=validate_shape,
                     dtype=var_dtype, constraint=constraint)
        self.vars[name] = v
        if regularizer is not None:
            graph = get_default_graph()
            with graph.name_scope(name + "/Regularizer/"):
                loss = regularizer(v)
            if loss is not None:
                graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


# ---------------------------------------------------------------- per-graph state


def _store(graph) -> _VariableStore:
    store = graph.__dict__.get("_variable_store")
    if store is None:
        store = graph.__dict__["_variable_store"] = _VariableStore()
    return store


def _state(graph):
    """This thread's current scope and default_name counters in ``graph``."""
    local = graph.__dict__.setdefault("_scope_local", threading.local())
    if not hasattr(local, "current"):
        local.current = VariableScope(False)
        local.counts = {}
    return local


def get_variable_scope() -> VariableScope:
    return _state(get_default_graph()).current


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 **kwargs):
    """``tf.get_variable``: create ``<scope>/<name>`` or, when reusing, return it."""
    return get_variable_scope().get_variable(
        name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        trainable=trainable, collections=collections, partitioner=partitioner,
        validate_shape=validate_shape, custom_getter=custom_getter, constraint=constraint)


def get_local_variable(name, shape=None, dtype=None, initializer=None, collections=None,
                       **kwargs):
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, trainable=False,
                        collections=collections, **kwargs)


def _unique_scope_name(state, prefix):
    name = f"{state.current.name}/{prefix}" if state.current.name else prefix
    if state.counts.get(name, 0) == 0:
        return prefix
    idx = 1
    while state.counts.get(f"{name}_{idx}", 0) > 0:
        idx += 1
    return f"{prefix}_{idx}"


_OVERRIDES = ("initializer", "regularizer", "caching_device", "partitioner", "custom_getter",
              "dtype", "use_resource", "constraint")


@contextlib.contextmanager
def _pure_variable_scope(graph, name_or_scope, reuse, old_name_scope, overrides):
    state = _state(graph)
    old = state.current
    if isinstance(name_or_scope, VariableScope):
        new_name = name_or_scope.name
        vs = VariableScope(name_or_scope.reuse if not reuse else reuse, name=new_name,
                           name_scope=name_or_scope.original_name_scope,
                           **{k: getattr(name_or_scope, k) for k in _OVERRIDES})
        state.counts[new_name] = state.counts.get(new_name, 0) + 1
        old_counts = dict(state.counts)
    else:
        new_name = f"{old.name}/{name_or_scope}" if old.name else name_or_scope
        vs = VariableScope(reuse or old.reuse, name=new_name,
                           name_scope=name_or_scope if old_name_scope is None else old_name_scope,
                           **{k: getattr(old, k) for k in _OVERRIDES})
        state.counts[new_name] = state.counts.get(new_name, 0) + 1
    for key, value in overrides.items():
        if value is not None and key == "custom_getter":
            vs.custom_getter = _nest_getters(value, vs.custom_getter)
        elif value is not None:
            setattr(vs, key, dtypes.as_dtype(value) if key == "dtype" else value)
    state.current = vs
    try:
        yield vs
    finally:
        if state.current is not vs:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(name_or_scope, VariableScope):
            state.counts = old_counts
        else:
            for k in state.counts:
                if k.startswith(new_name + "/"):
                    state.counts[k] = 0
        state.current = old


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None, constraint=None,
                   auxiliary_name_scope=True):
    """``tf.variable_scope``: a variable scope plus a (uniquified) name scope for ops."""
    if reuse is False:
        reuse = None  # TF: no non-inheriting scopes, False = None here
    if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
        raise ValueError("The reuse parameter must be True or False or None.")
    if default_name is None and name_or_scope is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if name_or_scope is not None and not isinstance(name_or_scope, str | VariableScope):
        raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
    graph = get_default_graph()
    for v in values or ():
        if isinstance(v, Tensor):
            graph = v.graph
            break
    overrides = {"initializer": initializer, "regularizer": regularizer,
                 "caching_device": caching_device, "partitioner": partitioner,
                 "custom_getter": custom_getter, "dtype": dtype, "use_resource": use_resource,
                 "constraint": constraint}
    with contextlib.ExitStack() as stack:
        if graph is not get_default_graph():
            stack.enter_context(graph.as_default())
        ns = None
        if not auxiliary_name_scope:
            current = graph.get_name_scope()
            ns = graph.name_scope(current + "/" if current else "")
        if name_or_scope is not None:
            ns_name = name_or_scope if isinstance(name_or_scope, str) else \
                name_or_scope.name.split("/")[-1]
            old_name_scope = None
            if ns_name or ns:
                entered = stack.enter_context(ns or graph.name_scope(ns_name))
                old_name_scope = entered if isinstance(name_or_scope, str) else \
                    name_or_scope.original_name_scope
            vs = stack.enter_context(_pure_variable_scope(graph, name_or_scope, reuse,
                                                          old_name_scope, overrides))
        else:
            if reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            entered = stack.enter_context(ns or graph.name_scope(default_name))
            unique = _unique_scope_name(_state(graph), default_name)
            vs = stack.enter_context(_pure_variable_scope(graph, unique, reuse, entered,
                                                          overrides))
        yield vs


def variable_op_scope(values, name_or_scope, default_name=None, **kwargs):
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)
