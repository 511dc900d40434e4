"""``tf.Variable`` (TF1 reference variables), assign ops and variable collections.

A Variable is three ops, named as TF names them (``reference/tf1-semantics.md`` §2):
``v`` (``VariableV2``: the state), ``v/Assign`` (its initializer, assigning the initial value)
and ``v/read`` (``Identity``: what other ops consume). Its value lives in a Session.

API for code that moves variable values in and out of a session (e.g. ``train.Saver``):

- ``tf.global_variables()`` → the Variables of the default graph, in creation order;
  ``v.op.name`` (``"conv1/weights"``), ``v.name`` (``"conv1/weights:0"``), ``v.shape``
  (TensorShape), ``v.dtype`` (flow DType; ``.as_numpy_dtype``).
- read: ``sess.run(v)`` (a copy) — raises ``FailedPreconditionError`` when uninitialized.
- write: ``v.load(value, sess)`` runs the initializer with ``value`` fed (dtype converted,
  shape checked against ``v.shape``); or set ``sess._variable_values[v.op.name] = array``
  directly (the array must have the variable's dtype and shape; the session then owns it).
- ``v.to_proto()`` → ``VariableDef`` for a MetaGraphDef's collections.
"""

from __future__ import annotations

import os
import traceback

from flow.core import dtypes
from flow.core.tensor_shape import as_shape
from flow.framework.build import convert_to_tensor, group, no_op
from flow.framework.graph import (
    GraphKeys,
    Operation,
    Tensor,
    TensorLike,
    default_session_for,
    get_default_graph,
)
from writer.proto import variable_pb2

_FLOW_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_traceback(limit=5):
    """Up to ``limit`` frames outside ``flow/``, most recent first ("Originally defined at")."""
    frames = [f for f in traceback.extract_stack()[::-1]
              if not os.path.abspath(f.filename).startswith(_FLOW_DIR + os.sep)]
    return frames[:limit]


class Variable(TensorLike):
    """``tf.Variable(initial_value, trainable=True, collections=None, name=None, dtype=None)``."""

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, list | tuple | set):
            raise ValueError(f"collections argument to Variable constructor must be a list, "
                             f"tuple, or set. Got {collections} of type {type(collections)}")
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        graph = get_default_graph()
        self.trainable = trainable
        self.constraint = constraint
        with graph.init_scope(), graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"):
                    initial = convert_to_tensor(initial_value(), dtype=dtype,
                                                name="initial_value")
            else:
                initial = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            var_shape = initial.shape if validate_shape else as_shape(shape)
            if validate_shape and not var_shape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: {initial}")
            dt = initial.dtype
            var_op = graph.create_op("VariableV2", [], {
                "shape": var_shape, "dtype": dt, "container": "", "shared_name": ""},
                scope, [dt], [var_shape])
            var_op._traceback = _user_traceback()
            self._variable = var_op.outputs[0]
            self._initial_value = initial
            self._initializer_op = graph.create_op(
                "Assign", [self._variable, initial],
                {"T": dt, "validate_shape": validate_shape, "use_locking": True}, "Assign",
                [dt], [var_shape])
            self._snapshot = graph.create_op("Identity", [self._variable], {"T": dt}, "read",
                                             [dt], [var_shape]).outputs[0]
        for key in collections:
            graph.add_to_collection(key, self)

    # -- identity ------------------------------------------------------------------
    op = property(lambda self: self._variable.op)
    name = property(lambda self: self._variable.name)
    dtype = property(lambda self: self._variable.dtype)
    shape = property(lambda self: self._variable.shape)
    graph = property(lambda self: self._variable.graph)
    device = property(lambda self: "")
    initializer = property(lambda self: self._initializer_op)
    initial_value = property(lambda self: self._initial_value)

    def get_shape(self):
        return self._variable.shape

    def _as_graph_element(self):
        return self._variable

    def _to_tensor(self):
        return self._snapshot

    def value(self) -> Tensor:
        return self._snapshot

    def read_value(self) -> Tensor:
        return self._snapshot

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}_ref>")

    __hash__ = object.__hash__

    # -- values in a session --------------------------------------------------------------
    def eval(self, session=None):
        return default_session_for(self._variable, session, "tensor").run(self._variable)

    def load(self, value, session=None):
        """Set the variable's value in ``session`` (default: the default session)."""
        sess = default_session_for(self._variable, session, "tensor")
        sess.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    def initialized_value(self):
        return self._initial_value

    # -- state ops ----------------------------------------------------------------------
    def assign(self, value, use_locking=False, name=None, read_value=True):
        return assign(self, value, use_locking=use_locking, name=name)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return assign_add(self, delta, use_locking=use_locking, name=name)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return assign_sub(self, delta, use_locking=use_locking, name=name)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        """Subtract an ``IndexedSlices`` from the rows it names (``ScatterSub``)."""
        return scatter_sub(self, sparse_delta.indices, sparse_delta.values, use_locking, name)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return scatter_add(self, sparse_delta.indices, sparse_delta.values, use_locking, name)

    def to_proto(self, export_scope=None):
        return variable_pb2.VariableDef(
            variable_name=self.name, initial_value_name=self._initial_value.name,
            initializer_name=self._initializer_op.name, snapshot_name=self._snapshot.name,
            trainable=bool(self.trainable))


VariableV1 = Variable


def variable_from_proto(proto, graph, import_scope: str = "") -> Variable:
    """The Variable a ``VariableDef`` describes, over ops already in ``graph`` (its names
    prefixed ``import_scope/``), as TF's ``Variable(variable_def=..., import_scope=...)``."""
    prefix = f"{import_scope}/" if import_scope else ""
    var = Variable.__new__(Variable)
    var._variable = graph.get_tensor_by_name(prefix + proto.variable_name)
    if var._variable.op.type not in ("VariableV2", "Variable"):
        raise ValueError(f"VariableDef names {proto.variable_name!r}, a "
                         f"{var._variable.op.type} node, not a variable")
    var._initializer_op = graph.get_operation_by_name(prefix + proto.initializer_name)
    var._snapshot = (graph.get_tensor_by_name(prefix + proto.snapshot_name)
                     if proto.snapshot_name else var._variable)
    var._initial_value = (graph.get_tensor_by_name(prefix + proto.initial_value_name)
                          if proto.initial_value_name else var._initializer_op.inputs[1])
    var.trainable = proto.trainable
    var.constraint = None
    return var


def _ref(ref) -> Tensor:
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor) and ref.op.type == "VariableV2":
        return ref
    raise TypeError(f"Assignment needs a Variable, got {ref!r}; create one with tf.Variable or "
                    f"tf.get_variable.")


def _state_op(op_type, ref, value, attrs, name):
    var = _ref(ref)
    value = convert_to_tensor(value, dtype=var.dtype)
    if attrs.get("validate_shape", True) and not var.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes {var.shape} and {value.shape} are incompatible: cannot "
                         f"{op_type} a value of shape {value.shape} to variable "
                         f"{var.op.name!r} of shape {var.shape}")
    attrs = {"T": var.dtype, **attrs}
    return var.graph.create_op(op_type, [var, value], attrs, name or op_type, [var.dtype],
                               [var.shape]).outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None) -> Tensor:
    """``tf.assign``: store ``value`` in the variable; the result is the new value."""
    validate = True if validate_shape is None else bool(validate_shape)
    return _state_op("Assign", ref, value, {"validate_shape": validate,
                                             "use_locking": bool(use_locking)}, name)


def assign_add(ref, value, use_locking=None, name=None) -> Tensor:
    return _state_op("AssignAdd", ref, value, {"use_locking": bool(use_locking)}, name)


def assign_sub(ref, value, use_locking=None, name=None) -> Tensor:
    return _state_op("AssignSub", ref, value, {"use_locking": bool(use_locking)}, name)


def _scatter(op_type, ref, indices, updates, use_locking, name):
    var = _ref(ref)
    indices = convert_to_tensor(indices)
    if indices.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"{op_type}: indices must be int32 or int64, got {indices.dtype.name}; "
                        f"cast them with tf.cast.")
    updates = convert_to_tensor(updates, dtype=var.dtype)
    attrs = {"T": var.dtype, "Tindices": indices.dtype, "use_locking": bool(use_locking)}
    return var.graph.create_op(op_type, [var, indices, updates], attrs, name or op_type,
                               [var.dtype], [var.shape]).outputs[0]


def scatter_add(ref, indices, updates, use_locking=False, name=None) -> Tensor:
    """``tf.scatter_add``: ``ref[indices[k]] += updates[k]`` (repeated indices add up)."""
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref, indices, updates, use_locking=False, name=None) -> Tensor:
    """``tf.scatter_sub``: ``ref[indices[k]] -= updates[k]``."""
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


def scatter_update(ref, indices, updates, use_locking=True, name=None) -> Tensor:
    """``tf.scatter_update``: ``ref[indices[k]] = updates[k]``."""
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


# ---------------------------------------------------------------- collections


def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list, name="init") -> Operation:
    """A ``NoOp`` that runs every initializer of ``var_list`` (only those existing now)."""
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer() -> Operation:
    return variables_initializer(global_variables())


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables())


initialize_all_variables = global_variables_initializer
all_variables = global_variables


def is_variable_initialized(variable, session) -> bool:
    return _ref(variable).op.name in session._variable_values


def report_uninitialized(var_list, session) -> list[str]:
    """Names of the variables in ``var_list`` that have no value in ``session``."""
    return [v.op.name for v in var_list if v.op.name not in session._variable_values]
