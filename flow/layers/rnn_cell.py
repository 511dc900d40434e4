"""``tf.nn.rnn_cell`` / ``tf.contrib.rnn``: TF 1.15's RNN cells, with TF's variable names.

A cell makes its variables on its first call, in ``variable_scope(None,
default_name=<cell>)`` under the caller's scope (``rnn/basic_lstm_cell/kernel``, ``bias``;
``rnn/multi_rnn_cell/cell_0/...``; ``rnn/gru_cell/gates/kernel``), as TF's ``Layer`` does, and
reuses them on every later call (each time step). The math is TF's: one ``kernel`` over
``concat([inputs, h])`` whose output splits into the gates ``i, j, f, o`` (LSTM) or ``r, u``
(GRU), ``forget_bias`` added to ``f``.
"""

from __future__ import annotations

import collections

from flow.core import dtypes
from flow.framework.build import convert_to_tensor
from flow.framework.graph import get_default_graph
from flow.layers.core import layer_scope
from flow.ops import array_ops, init_ops, math_ops, nn_ops
from flow.ops.scope import get_variable

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "LSTMStateTuple"]

LSTMStateTuple = collections.namedtuple("LSTMStateTuple", ("c", "h"))


def _zeros(size, batch, dtype):
    if isinstance(size, LSTMStateTuple):
        return LSTMStateTuple(_zeros(size.c, batch, dtype), _zeros(size.h, batch, dtype))
    if isinstance(size, tuple):
        return tuple(_zeros(s, batch, dtype) for s in size)
    zeros = array_ops.zeros(array_ops.stack([batch, size]) if not isinstance(batch, int)
                            else [batch, size], dtype=dtype)
    zeros.set_shape([batch if isinstance(batch, int) else None, size])  # as TF's zero_state
    return zeros


def _last_dim(t, what):
    dim = t.shape.as_list()[-1] if t.shape.ndims else None
    if dim is None:
        raise ValueError(f"{what}: the last dimension of the inputs must be known, got shape "
                         f"{t.shape}; give the placeholder a full feature size.")
    return dim


class RNNCell:
    """An RNN cell: ``output, new_state = cell(inputs, state)``."""

    _default_name = "rnn_cell"

    def __init__(self, reuse=None, name=None, dtype=None):
        self._reuse, self._name, self._dtype = reuse, name, dtype
        self._scope_name = None

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def zero_state(self, batch_size, dtype):
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return _zeros(self.state_size, batch_size, dtypes.as_dtype(dtype))

    def __call__(self, inputs, state, scope=None):
        inputs = convert_to_tensor(inputs)
        if self._scope_name is None:
            with layer_scope(scope or self._name, self._default_name, self._reuse) as vs:
                self._scope_name = vs.name
                self.build(inputs)
                return self.call(inputs, state)
        with get_default_graph().name_scope(self._scope_name + "/"):
            return self.call(inputs, state)

    def _weight(self, name, shape, dtype, initializer=None):
        return get_variable(name, shape, dtype=dtype, initializer=initializer)


class BasicRNNCell(RNNCell):
    """``h' = activation(concat([x, h]) @ kernel + bias)``."""

    _default_name = "basic_rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None):
        super().__init__(reuse, name, dtype)
        self._num_units, self._activation = int(num_units), activation or math_ops.tanh

    def build(self, inputs):
        depth = _last_dim(inputs, "BasicRNNCell")
        self._kernel = self._weight("kernel", [depth + self._num_units, self._num_units],
                                    inputs.dtype)
        self._bias = self._weight("bias", [self._num_units], inputs.dtype,
                                  init_ops.zeros_initializer())

    def call(self, inputs, state):
        gate = nn_ops.bias_add(math_ops.matmul(array_ops.concat([inputs, state], 1),
                                               self._kernel), self._bias)
        out = self._activation(gate)
        return out, out


class BasicLSTMCell(RNNCell):
    """TF's basic LSTM: ``c' = c·σ(f + forget_bias) + σ(i)·act(j)``, ``h' = act(c')·σ(o)``."""

    _default_name = "basic_lstm_cell"

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None):
        super().__init__(reuse, name, dtype)
        self._num_units, self._forget_bias = int(num_units), float(forget_bias)
        self._state_is_tuple, self._activation = state_is_tuple, activation or math_ops.tanh

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    def build(self, inputs):
        depth = _last_dim(inputs, "BasicLSTMCell")
        self._kernel = self._weight("kernel", [depth + self._num_units, 4 * self._num_units],
                                    inputs.dtype)
        self._bias = self._weight("bias", [4 * self._num_units], inputs.dtype,
                                  init_ops.zeros_initializer())

    def call(self, inputs, state):
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = array_ops.split(state, 2, axis=1)
        gates = nn_ops.bias_add(math_ops.matmul(array_ops.concat([inputs, h], 1),
                                                self._kernel), self._bias)
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        new_c = c * math_ops.sigmoid(f + self._forget_bias) + \
            math_ops.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else \
            array_ops.concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(RNNCell):
    """TF's ``LSTMCell``: optional peepholes (``w_f_diag``, ``w_i_diag``, ``w_o_diag``),
    ``cell_clip``, and a projection ``projection/kernel`` to ``num_proj`` (with ``proj_clip``)."""

    _default_name = "lstm_cell"

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None):
        super().__init__(reuse, name, dtype)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise ValueError("num_unit_shards and num_proj_shards are deprecated in TF and "
                             "not supported by flow; leave them None.")
        self._num_units, self._use_peepholes = int(num_units), use_peepholes
        self._cell_clip, self._initializer = cell_clip, initializer
        self._num_proj, self._proj_clip = num_proj, proj_clip
        self._forget_bias, self._state_is_tuple = float(forget_bias), state_is_tuple
        self._activation = activation or math_ops.tanh

    @property
    def state_size(self):
        out = self._num_proj or self._num_units
        return LSTMStateTuple(self._num_units, out) if self._state_is_tuple else \
            self._num_units + out

    output_size = property(lambda self: self._num_proj or self._num_units)

    def build(self, inputs):
        depth, n = _last_dim(inputs, "LSTMCell"), self._num_units
        h_depth = self._num_proj or n
        self._kernel = self._weight("kernel", [depth + h_depth, 4 * n], inputs.dtype,
                                    self._initializer)
        self._bias = self._weight("bias", [4 * n], inputs.dtype, init_ops.zeros_initializer())
        if self._use_peepholes:
            self._w_f, self._w_i, self._w_o = (
                self._weight(k, [n], inputs.dtype, self._initializer)
                for k in ("w_f_diag", "w_i_diag", "w_o_diag"))
        if self._num_proj is not None:
            with layer_scope("projection", "projection"):
                self._proj = self._weight("kernel", [n, self._num_proj], inputs.dtype,
                                          self._initializer)

    def call(self, inputs, state):
        n = self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, n])
            m_prev = array_ops.slice(state, [0, n], [-1, self._num_proj or n])
        lstm = nn_ops.bias_add(math_ops.matmul(array_ops.concat([inputs, m_prev], 1),
                                               self._kernel), self._bias)
        i, j, f, o = array_ops.split(lstm, 4, axis=1)
        if self._use_peepholes:
            c = math_ops.sigmoid(f + self._forget_bias + self._w_f * c_prev) * c_prev + \
                math_ops.sigmoid(i + self._w_i * c_prev) * self._activation(j)
        else:
            c = math_ops.sigmoid(f + self._forget_bias) * c_prev + \
                math_ops.sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = math_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = math_ops.sigmoid(o + self._w_o * c) * self._activation(c)
        else:
            m = math_ops.sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            m = math_ops.matmul(m, self._proj)
            if self._proj_clip is not None:
                m = math_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else \
            array_ops.concat([c, m], 1)
        return m, new_state


class GRUCell(RNNCell):
    """TF's GRU: ``r, u = σ(concat([x, h]) @ gates/kernel + gates/bias)`` (bias starts at 1),
    ``c = act(concat([x, r·h]) @ candidate/kernel + candidate/bias)``, ``h' = u·h + (1-u)·c``."""

    _default_name = "gru_cell"

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None):
        super().__init__(reuse, name, dtype)
        self._num_units, self._activation = int(num_units), activation or math_ops.tanh
        self._kernel_init, self._bias_init = kernel_initializer, bias_initializer

    def build(self, inputs):
        depth, n = _last_dim(inputs, "GRUCell"), self._num_units
        with layer_scope("gates", "gates"):
            self._gate_kernel = self._weight("kernel", [depth + n, 2 * n], inputs.dtype,
                                             self._kernel_init)
            self._gate_bias = self._weight("bias", [2 * n], inputs.dtype, self._bias_init or
                                           init_ops.constant_initializer(1.0))
        with layer_scope("candidate", "candidate"):
            self._cand_kernel = self._weight("kernel", [depth + n, n], inputs.dtype,
                                             self._kernel_init)
            self._cand_bias = self._weight("bias", [n], inputs.dtype, self._bias_init or
                                           init_ops.zeros_initializer())

    def call(self, inputs, state):
        gates = math_ops.sigmoid(nn_ops.bias_add(math_ops.matmul(
            array_ops.concat([inputs, state], 1), self._gate_kernel), self._gate_bias))
        r, u = array_ops.split(gates, 2, axis=1)
        candidate = nn_ops.bias_add(math_ops.matmul(
            array_ops.concat([inputs, r * state], 1), self._cand_kernel), self._cand_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Cells stacked: cell ``k`` runs in scope ``cell_k`` on the output of cell ``k-1``."""

    _default_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not state_is_tuple:
            raise ValueError("flow's MultiRNNCell keeps states as a tuple; pass "
                             "state_is_tuple=True (TF deprecates False).")
        self._cells = list(cells)

    state_size = property(lambda self: tuple(c.state_size for c in self._cells))
    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        return tuple(c.zero_state(batch_size, dtype) for c in self._cells)

    def __call__(self, inputs, state, scope=None):
        if self._scope_name is None:
            with layer_scope(scope, self._default_name) as vs:
                self._scope_name = vs.name
                return self._run(inputs, state)
        with get_default_graph().name_scope(self._scope_name + "/"):
            return self._run(inputs, state)

    def _run(self, inputs, state):
        out, new_states = inputs, []
        for k, cell in enumerate(self._cells):
            if cell._scope_name is None:
                with layer_scope(f"cell_{k}", f"cell_{k}"):
                    out, s = cell(out, state[k])
            else:
                out, s = cell(out, state[k])
            new_states.append(s)
        return out, tuple(new_states)


class DropoutWrapper(RNNCell):
    """Dropout on a cell's inputs, outputs and new state (``*_keep_prob``, floats or
    tensors); the wrapped cell's variables keep their names."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__()
        if variational_recurrent:
            raise ValueError("variational_recurrent=True is not supported by flow's "
                             "DropoutWrapper; use the default per-step dropout.")
        for name, p in (("input", input_keep_prob), ("output", output_keep_prob),
                        ("state", state_keep_prob)):
            if isinstance(p, float | int) and not 0.0 < p <= 1.0:
                raise ValueError(f"Parameter {name}_keep_prob must be between 0 and 1: {p}")
        self._cell, self._seed = cell, seed
        self._keep = (input_keep_prob, output_keep_prob, state_keep_prob)

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    def _drop(self, value, keep):
        if isinstance(keep, float | int) and keep == 1:
            return value
        if isinstance(value, LSTMStateTuple):  # TF's default: an LSTM's c is never dropped
            return LSTMStateTuple(value.c, self._drop(value.h, keep))
        if isinstance(value, tuple):
            return type(value)(*[self._drop(v, keep) for v in value]) if hasattr(
                value, "_fields") else tuple(self._drop(v, keep) for v in value)
        return nn_ops.dropout(value, keep_prob=keep, seed=self._seed)

    def __call__(self, inputs, state, scope=None):
        keep_in, keep_out, keep_state = self._keep
        out, new_state = self._cell(self._drop(convert_to_tensor(inputs), keep_in), state,
                                    scope)
        return self._drop(out, keep_out), self._drop(new_state, keep_state)
