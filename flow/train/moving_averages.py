"""``tf.train.ExponentialMovingAverage`` (TF 1.15): shadow variables ``<var>/<name>`` that
``apply()`` moves toward their variables: ``shadow -= (1 - decay) · (shadow - var)``, with
``decay = min(decay, (1 + n) / (10 + n))`` when ``num_updates`` is given."""

from __future__ import annotations

from flow.framework.build import convert_to_tensor, group
from flow.framework.graph import GraphKeys, add_to_collection, get_default_graph, name_scope
from flow.ops import math_ops
from flow.ops.variables import Variable, assign_sub, global_variables, trainable_variables


class ExponentialMovingAverage:
    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        if zero_debias:
            raise ValueError("zero_debias=True is not supported by flow; leave it False.")
        self._decay, self._num_updates, self._name = decay, num_updates, name
        self._averages: dict[str, Variable] = {}

    name = property(lambda self: self._name)

    def apply(self, var_list=None):
        """Make the shadow variables (once) and return the op that updates them all."""
        var_list = trainable_variables() if var_list is None else list(var_list)
        graph = get_default_graph()
        for var in var_list:
            if not var.dtype.is_floating:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var.op.name in self._averages:
                raise ValueError(f"Moving average already computed for: {var.op.name}")
            with graph.control_dependencies(None), name_scope(None):
                shadow = Variable(var.initialized_value(), name=self.average_name(var),
                                  trainable=False)
            self._averages[var.op.name] = shadow
            add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
        with name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                n = math_ops.cast(self._num_updates, decay.dtype)
                decay = math_ops.minimum(decay, (1.0 + n) / (10.0 + n))
            updates = []
            for var in var_list:
                shadow = self._averages[var.op.name]
                with name_scope(var.op.name + "/AssignMovingAvg") as inner:
                    delta = (shadow.value() - var.value()) * math_ops.cast(1.0 - decay,
                                                                          var.dtype)
                    updates.append(assign_sub(shadow, delta, name=inner))
            return group(*updates, name=scope)

    def average(self, var):
        return self._averages.get(var.op.name)

    def average_name(self, var):
        return f"{var.op.name}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None):
        """``{name in the checkpoint: variable}``: averaged variables read their shadow."""
        moving = trainable_variables() if moving_avg_variables is None else \
            list(moving_avg_variables)
        names = {v.op.name for v in moving}
        shadows = {id(s) for s in self._averages.values()}
        return {self.average_name(v) if v.op.name in names else v.op.name: v
                for v in global_variables() if id(v) not in shadows}
