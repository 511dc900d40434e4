"""``tf.train`` RMSProp, Adagrad, Adadelta, Ftrl and ProximalGradientDescent (TF 1.15).

Slots and hyper-parameter names are TF's (``w/RMSProp`` holds ``rms``, ``w/RMSProp_1`` the
momentum; ``w/Adagrad``; ``w/Adadelta``/``w/Adadelta_1``; ``w/Ftrl``/``w/Ftrl_1``), so
checkpoints interchange; the update formulas are the ``Apply*`` rows of ``flow.kernels.state``.
"""

from __future__ import annotations

from flow.ops.init_ops import constant_initializer, ones_initializer
from flow.train.optimizers import Optimizer


class RMSPropOptimizer(Optimizer):
    """``ms += (g² - ms)(1 - decay); mom = momentum·mom + lr·g/√(ms + ε); var -= mom``;
    ``centered`` subtracts the mean gradient's square from ``ms``."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "rms", self._name, ones_initializer())
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad, var):
        dt = var.dtype
        hyper = [self._tensor(self._lr, "learning_rate", dt),
                 self._tensor(self._decay, "decay", dt),
                 self._tensor(self._momentum, "momentum", dt),
                 self._tensor(self._epsilon, "epsilon", dt), grad]
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return self._apply_op("ApplyCenteredRMSProp", var,
                                  [self.get_slot(var, "mg"), rms, mom, *hyper])
        return self._apply_op("ApplyRMSProp", var, [rms, mom, *hyper])


class AdagradOptimizer(Optimizer):
    """``accum += g²; var -= lr·g/√accum``; ``accum`` starts at ``initial_accumulator_value``."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._lr, self._initial = learning_rate, initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accumulator", self._name, constant_initializer(self._initial))

    def _apply_dense(self, grad, var):
        return self._apply_op("ApplyAdagrad", var, [
            self.get_slot(var, "accumulator"), self._tensor(self._lr, "learning_rate", var.dtype),
            grad], {"update_slots": True})


class AdadeltaOptimizer(Optimizer):
    """Zeiler's Adadelta with TF's ``lr`` factor on the update."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _apply_dense(self, grad, var):
        dt = var.dtype
        return self._apply_op("ApplyAdadelta", var, [
            self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
            self._tensor(self._lr, "lr", dt), self._tensor(self._rho, "rho", dt),
            self._tensor(self._epsilon, "epsilon", dt), grad])


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013) as TF's ``ApplyFtrl`` / ``ApplyFtrlV2``."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value {initial_accumulator_value} needs to "
                             f"be positive")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power} needs to be <= 0.0")
        for what, value in (("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength",
                             l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"{what} {value} needs to be positive or zero")
        super().__init__(use_locking, name)
        self._lr, self._lr_power = learning_rate, learning_rate_power
        self._initial = initial_accumulator_value
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._shrinkage = l2_shrinkage_regularization_strength
        self._accum_name, self._linear_name = accum_name, linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._accum_name or self._name,
                             constant_initializer(self._initial))
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _apply_dense(self, grad, var):
        dt = var.dtype
        ins = [self.get_slot(var, "accum"), self.get_slot(var, "linear"), grad,
               self._tensor(self._lr, "learning_rate", dt),
               self._tensor(self._l1, "l1_regularization_strength", dt),
               self._tensor(self._l2, "l2_regularization_strength", dt)]
        power = self._tensor(self._lr_power, "learning_rate_power", dt)
        if self._shrinkage == 0.0:
            return self._apply_op("ApplyFtrl", var, [*ins, power])
        shrink = self._tensor(self._shrinkage, "l2_shrinkage_regularization_strength", dt)
        return self._apply_op("ApplyFtrlV2", var, [*ins, shrink, power])


class ProximalGradientDescentOptimizer(Optimizer):
    """A gradient step, then the proximal step of the L1 and L2 penalties."""

    def __init__(self, learning_rate, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False,
                 name="ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._lr, self._l1, self._l2 = (learning_rate, l1_regularization_strength,
                                        l2_regularization_strength)

    def _apply_dense(self, grad, var):
        dt = var.dtype
        return self._apply_op("ApplyProximalGradientDescent", var, [
            self._tensor(self._lr, "learning_rate", dt),
            self._tensor(self._l1, "l1_regularization_strength", dt),
            self._tensor(self._l2, "l2_regularization_strength", dt), grad])
