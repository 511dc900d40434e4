"""``tf.train`` optimizers: GradientDescent, Momentum, Adam (TF 1.15 ``optimizer.py``/``adam.py``).

``minimize = compute_gradients + apply_gradients``. Slots are made lazily by the first
``apply_gradients`` through ``get_variable`` in ``variable_scope(None, default_name=
"<var>/<Optimizer>")``, so they are named ``w/Adam``, ``w/Adam_1``, ``w/Momentum`` as in TF
(and fail under a reusing scope exactly as TF's do). Update ops are ``ApplyGradientDescent``,
``ApplyMomentum`` and ``ApplyAdam`` under ``<Optimizer>/update_<var>/``; the formulas are in
``flow.kernels`` (``tf1-semantics.md`` §5.3).

An ``IndexedSlices`` gradient (``tf.gather``, ``tf.nn.embedding_lookup``) is applied sparsely
as in TF: its repeated indices summed first (``Unique`` + ``UnsortedSegmentSum``), then only
those rows updated (``SparseApplyMomentum`` ... for the ``Apply*`` of ``_apply_op``);
GradientDescent subtracts ``lr * values`` with ``ScatterSub`` (repeats add up), Adam decays
all of ``m`` and ``v`` and adds the rows with ``ScatterAdd`` (TF's ``_apply_sparse_shared``).
"""

from __future__ import annotations

from flow.core import dtypes
from flow.framework.build import convert_to_tensor, group
from flow.framework.graph import GraphKeys, get_default_graph
from flow.ops import array_ops, math_ops
from flow.ops.gradients import gradients
from flow.ops.indexed_slices import IndexedSlices
from flow.ops.init_ops import zeros_initializer
from flow.ops.scope import get_variable, variable_scope
from flow.ops.variables import (
    Variable,
    assign,
    assign_add,
    assign_sub,
    scatter_add,
    scatter_sub,
    trainable_variables,
)


class Optimizer:
    """Base class: subclasses define ``_create_slots``, ``_apply_dense`` and maybe ``_finish``."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict] = {}
        self._prepared: dict[tuple, object] = {}
        self._scope = ""
        self._non_slots: dict[tuple, Variable] = {}

    def get_name(self):
        return self._name

    # -- public API --------------------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                f"No gradients provided for any variable, check your graph for ops that do not "
                f"support gradients, between variables {[str(v) for _, v in grads_and_vars]} "
                f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        loss = convert_to_tensor(loss)
        if not loss.dtype.is_floating:
            raise ValueError(f"Invalid type {loss.dtype!r} for {loss.name}, expected: "
                             f"[tf.float32, tf.float64, tf.float16].")
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss])
        return list(zip(grads, var_list, strict=True))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[(str(g), str(v)) for g, v in grads_and_vars]}.")
        graph = get_default_graph()
        with graph.control_dependencies(None):
            self._create_slots([v for _, v in pairs])
        with graph.name_scope(name or self._name) as scope:
            self._scope = scope
            self._prepare()
            updates = []
            for grad, var in pairs:
                with graph.name_scope("update_" + var.op.name):
                    if isinstance(grad, IndexedSlices):
                        updates.append(self._apply_sparse_duplicate_indices(grad, var))
                    else:
                        updates.append(self._apply_dense(convert_to_tensor(grad), var))
            if global_step is None:
                train_op = self._finish(updates, scope)
            else:
                with graph.control_dependencies([self._finish(updates, "update")]):
                    train_op = assign_add(global_step, 1, name=scope).op
        graph.add_to_collection(GraphKeys.TRAIN_OP, train_op)
        return train_op

    def _finish(self, update_ops, name_scope):
        return group(*update_ops, name=name_scope)

    def _apply_sparse_duplicate_indices(self, grad, var):
        """Sum the values of repeated indices, then ``_apply_sparse`` (TF's default)."""
        unique_indices, positions = math_ops.unique(grad.indices)
        summed = math_ops.unsorted_segment_sum(grad.values, positions,
                                               array_ops.shape(unique_indices)[0])
        return self._apply_sparse(IndexedSlices(summed, unique_indices, grad.dense_shape), var)

    def _apply_sparse(self, grad, var):
        """The ``SparseApply*`` twin of the dense update (``_apply_op`` makes it)."""
        return self._apply_dense(grad, var)

    def _prepare(self):
        self._prepared = {}

    def _create_slots(self, var_list):
        pass

    # -- slots ----------------------------------------------------------------------------
    def get_slot(self, var, name):
        return self._slots.get(name, {}).get(var.op.name)

    def get_slot_names(self):
        return sorted(self._slots)

    def variables(self):
        slots = [v for d in self._slots.values() for v in d.values()]
        return list(self._non_slots.values()) + slots

    def _zeros_slot(self, var, slot_name, op_name, initializer=None):
        """The slot ``slot_name`` of ``var`` (``w/<op_name>``, ``w/<op_name>_1`` …), made
        once, starting at ``initializer`` (zeros by default)."""
        slots = self._slots.setdefault(slot_name, {})
        if var.op.name not in slots:
            with variable_scope(None, default_name=f"{var.op.name}/{op_name}"):
                slots[var.op.name] = get_variable(
                    "", shape=var.shape.as_list(), dtype=var.dtype,
                    initializer=initializer or zeros_initializer(), trainable=False)
        return slots[var.op.name]

    def _apply_op(self, op_type, var, inputs, attrs=None):
        """One update op (``ApplyRMSProp`` …) on ``var`` and its slots (given as Variables);
        an ``IndexedSlices`` among them makes it ``SparseApply…`` (its values, then indices)."""
        ins, extra = [], {}
        for x in [var, *inputs]:
            if isinstance(x, IndexedSlices):
                op_type = "Sparse" + op_type
                ins += [x.values, x.indices]
                extra["Tindices"] = x.indices.dtype
            else:
                ins.append(x._variable if isinstance(x, Variable) else x)
        return var.graph.create_op(op_type, ins, {"T": var.dtype, **extra, "use_locking":
                                                  self._use_locking, **(attrs or {})},
                                   op_type, [var.dtype], [var.shape])

    def _non_slot(self, name, initial_value, dtype):
        key = (name, get_default_graph())
        if key not in self._non_slots:
            self._non_slots[key] = Variable(initial_value, name=name, trainable=False,
                                            dtype=dtype)
        return self._non_slots[key]

    def _tensor(self, value, name, dtype):
        """A hyper-parameter as a tensor, made once per apply_gradients (``Adam/beta1``)."""
        key = (name, dtype)
        if key not in self._prepared:
            with get_default_graph().name_scope(self._scope):
                self._prepared[key] = convert_to_tensor(value, dtype=dtype, name=name)
        return self._prepared[key]


class GradientDescentOptimizer(Optimizer):
    """``var -= lr * grad``."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._lr = learning_rate

    def _apply_dense(self, grad, var):
        lr = self._tensor(self._lr, "learning_rate", var.dtype)
        return var.graph.create_op(
            "ApplyGradientDescent", [var._variable, lr, grad],
            {"T": var.dtype, "use_locking": self._use_locking}, "ApplyGradientDescent",
            [var.dtype], [var.shape])

    def _apply_sparse_duplicate_indices(self, grad, var):
        lr = self._tensor(self._lr, "learning_rate", var.dtype)
        return scatter_sub(var, grad.indices, grad.values * lr, use_locking=self._use_locking)


class MomentumOptimizer(Optimizer):
    """``accum = accum * momentum + grad; var -= lr * accum`` (Nesterov: see the kernel)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._lr, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "momentum")
        lr = self._tensor(self._lr, "learning_rate", var.dtype)
        mom = self._tensor(self._momentum, "momentum", var.dtype)
        return self._apply_op("ApplyMomentum", var, [accum, lr, grad, mom],
                              {"use_nesterov": self._nesterov})


class AdamOptimizer(Optimizer):
    """Adam with TF's "epsilon hat" form; slots ``m``/``v``, ``beta1_power``/``beta2_power``."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _create_slots(self, var_list):
        first = min(var_list, key=lambda v: v.op.name)
        self._non_slot("beta1_power", float(self._beta1), first.dtype)
        self._non_slot("beta2_power", float(self._beta2), first.dtype)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _powers(self):
        graph = get_default_graph()
        return self._non_slots[("beta1_power", graph)], self._non_slots[("beta2_power", graph)]

    def _apply_dense(self, grad, var):
        b1p, b2p = self._powers()
        dt = var.dtype
        inputs = [var._variable, self.get_slot(var, "m")._variable,
                  self.get_slot(var, "v")._variable, b1p.value(), b2p.value(),
                  self._tensor(self._lr, "learning_rate", dt),
                  self._tensor(self._beta1, "beta1", dt), self._tensor(self._beta2, "beta2", dt),
                  self._tensor(self._epsilon, "epsilon", dt), grad]
        return var.graph.create_op(
            "ApplyAdam", inputs, {"T": dt, "use_locking": self._use_locking,
                                  "use_nesterov": False}, "ApplyAdam", [dt], [var.shape])

    def _apply_sparse(self, grad, var):
        """TF's ``_apply_sparse_shared``: decay all of ``m``/``v``, add the rows' share."""
        b1p, b2p = self._powers()
        dt = var.dtype
        lr_t, beta1_t = self._tensor(self._lr, "learning_rate", dt), self._tensor(
            self._beta1, "beta1", dt)
        beta2_t, eps_t = self._tensor(self._beta2, "beta2", dt), self._tensor(
            self._epsilon, "epsilon", dt)
        lr = lr_t * math_ops.sqrt(1 - b2p.value()) / (1 - b1p.value())
        graph, lock = var.graph, self._use_locking
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        m_t = assign(m, m.value() * beta1_t, use_locking=lock)
        with graph.control_dependencies([m_t]):
            m_t = scatter_add(m, grad.indices, grad.values * (1 - beta1_t), use_locking=lock)
        v_t = assign(v, v.value() * beta2_t, use_locking=lock)
        with graph.control_dependencies([v_t]):
            v_t = scatter_add(v, grad.indices, (grad.values * grad.values) * (1 - beta2_t),
                              use_locking=lock)
        var_update = assign_sub(var, lr * m_t / (math_ops.sqrt(v_t) + eps_t), use_locking=lock)
        return group(var_update, m_t, v_t)

    def _finish(self, update_ops, name_scope):
        b1p, b2p = self._powers()
        graph = get_default_graph()
        with graph.control_dependencies(update_ops):
            update_beta1 = assign(b1p, b1p.value() * self._tensor(self._beta1, "beta1", b1p.dtype),
                                  use_locking=self._use_locking)
            update_beta2 = assign(b2p, b2p.value() * self._tensor(self._beta2, "beta2", b2p.dtype),
                                  use_locking=self._use_locking)
        return group(*update_ops, update_beta1, update_beta2, name=name_scope)


# ---------------------------------------------------------------- global step


def get_global_step(graph=None):
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError("There are multiple items in collection global_step. There should be "
                        "only one.")
    return found[0] if found else None


def create_global_step(graph=None):
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("global_step already exists.")
    with graph.as_default(), graph.name_scope(None):
        return get_variable(GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64,
                            initializer=zeros_initializer(), trainable=False,
                            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    step = get_global_step(graph)
    return create_global_step(graph) if step is None else step


def global_step(sess, global_step_tensor) -> int:
    return int(sess.run(global_step_tensor))
