"""``tf.nn.static_rnn`` and ``tf.nn.dynamic_rnn`` (TF 1.15 ``rnn.py``), in scope ``rnn``, and
their bidirectional forms, in ``bidirectional_rnn/fw`` and ``bidirectional_rnn/bw``.

``static_rnn`` unrolls the cell over a Python list of time steps; ``dynamic_rnn`` runs it in
a ``tf.while_loop`` over ``TensorArray``s (time-major inside), so the number of steps may be
known only at run time. With ``sequence_length`` both copy the state through and emit zeros
past each sequence's end, as TensorFlow does, and the final state is each sequence's last.
"""

from __future__ import annotations

from flow.core import dtypes, structure
from flow.framework.build import convert_to_tensor
from flow.framework.graph import get_default_graph
from flow.ops import array_ops, control_flow_ops, math_ops
from flow.ops.scope import variable_scope
from flow.ops.tensor_array_ops import TensorArray


def _batch_size(x):
    dim = x.shape.as_list()[0] if x.shape.ndims else None
    return dim if dim is not None else array_ops.shape(x)[0]


def _output_shape(cell, batch):
    """``[batch, cell.output_size]`` when the output size is a number, else unknown."""
    size = getattr(cell, "output_size", None)
    if isinstance(size, int):
        return [batch, size]
    return None


def _initial_state(cell, initial_state, batch, dtype):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    return cell.zero_state(batch, dtypes.as_dtype(dtype))


def _select(alive, new, old):
    """Per batch row: ``new`` where the sequence is still running, else ``old``."""
    return structure.pack(new, [array_ops.where(alive, n, o) for n, o in zip(
        structure.flatten(new), structure.flatten(old), strict=True)])


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
    """``inputs``: a list of ``[batch, depth]`` tensors; returns ``(outputs, state)``."""
    if not isinstance(inputs, list | tuple) or not inputs:
        raise TypeError("inputs must be a non-empty list of [batch, depth] tensors; split a "
                        "[batch, time, depth] tensor with tf.unstack(x, axis=1).")
    inputs = [convert_to_tensor(x) for x in inputs]
    with variable_scope(scope or "rnn"):
        state = _initial_state(cell, initial_state, _batch_size(inputs[0]), dtype)
        if sequence_length is not None:
            sequence_length = array_ops.to_int32(sequence_length)
        outputs = []
        for t, x in enumerate(inputs):
            out, new_state = cell(x, state)
            if sequence_length is not None:
                alive = math_ops.less(t, sequence_length)
                out = array_ops.where(alive, out, array_ops.zeros_like(out))
                new_state = _select(alive, new_state, state)
            outputs.append(out)
            state = new_state
    return outputs, state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """``inputs``: ``[batch, time, depth]`` (``[time, batch, depth]`` if ``time_major``);
    returns ``(outputs, state)`` with outputs in the same layout."""
    inputs = convert_to_tensor(inputs)
    if inputs.shape.ndims is not None and inputs.shape.ndims < 3:
        raise ValueError(f"inputs must be [batch, time, depth] (or time-major), got shape "
                         f"{inputs.shape}")
    with variable_scope(scope or "rnn"):
        seq = inputs if time_major else array_ops.transpose(inputs, [1, 0, 2])
        steps = array_ops.shape(seq)[0]
        batch = _batch_size(seq[0]) if seq.shape.as_list()[1] is None else \
            seq.shape.as_list()[1]
        state = _initial_state(cell, initial_state, batch, dtype)
        if sequence_length is not None:
            sequence_length = array_ops.to_int32(sequence_length)
        step_shape = seq.shape.as_list()[1:]
        base = get_default_graph().get_name_scope() + "/dynamic_rnn/"  # TF's names and order
        output_ta = TensorArray(seq.dtype, size=steps, element_shape=_output_shape(
            cell, step_shape[0]), tensor_array_name=base + "output_0")
        input_ta = TensorArray(seq.dtype, size=steps, element_shape=step_shape,
                               tensor_array_name=base + "input_0").unstack(seq)

        def body(t, out_ta, state):
            x = input_ta.read(t)
            x.set_shape(step_shape)
            out, new_state = cell(x, state)
            if sequence_length is not None:
                alive = math_ops.less(t, sequence_length)
                out = array_ops.where(alive, out, array_ops.zeros_like(out))
                new_state = _select(alive, new_state, state)
            return t + 1, out_ta.write(t, out), new_state

        _, output_ta, state = control_flow_ops.while_loop(
            lambda t, *_: math_ops.less(t, steps), body,
            (array_ops.zeros([], dtypes.int32, name="time"), output_ta, state),
            parallel_iterations=parallel_iterations or 32, swap_memory=swap_memory)
        outputs = output_ta.stack()
        outputs.set_shape([seq.shape.as_list()[0], *output_ta.element_shape.as_list()]
                          if output_ta.element_shape.ndims is not None else None)
        if not time_major:
            outputs = array_ops.transpose(outputs, [1, 0, 2])
    return outputs, state


def _reverse_time(x, sequence_length, time_axis):
    if sequence_length is None:
        return array_ops.reverse(x, [time_axis])
    return array_ops.reverse_sequence(x, sequence_length, seq_axis=time_axis,
                                      batch_axis=1 - time_axis)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """``((output_fw, output_bw), (state_fw, state_bw))``: ``cell_fw`` over the inputs in
    scope ``bidirectional_rnn/fw``, ``cell_bw`` over each sequence reversed (its first
    ``sequence_length`` steps) in ``bidirectional_rnn/bw``, its outputs reversed back."""
    inputs = convert_to_tensor(inputs)
    time_axis = 0 if time_major else 1
    if sequence_length is not None:
        sequence_length = array_ops.to_int32(sequence_length)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw,
                                           dtype, parallel_iterations, swap_memory, time_major,
                                           scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_in = _reverse_time(inputs, sequence_length, time_axis)
            out_bw, state_bw = dynamic_rnn(cell_bw, reversed_in, sequence_length,
                                           initial_state_bw, dtype, parallel_iterations,
                                           swap_memory, time_major, scope=bw_scope)
    out_bw = _reverse_time(out_bw, sequence_length, time_axis)
    return (out_fw, out_bw), (state_fw, state_bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """``(outputs, state_fw, state_bw)``; each output is ``concat([fw_t, bw_t], 1)``."""
    if not isinstance(inputs, list | tuple) or not inputs:
        raise TypeError("inputs must be a non-empty list of [batch, depth] tensors; split a "
                        "[batch, time, depth] tensor with tf.unstack(x, axis=1).")
    inputs = [convert_to_tensor(x) for x in inputs]
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                          sequence_length, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            if sequence_length is None:
                reversed_in = inputs[::-1]
            else:
                seq = _reverse_time(array_ops.stack(inputs), sequence_length, 0)
                reversed_in = array_ops.unstack(seq, num=len(inputs))
            out_bw, state_bw = static_rnn(cell_bw, reversed_in, initial_state_bw, dtype,
                                          sequence_length, scope=bw_scope)
    if sequence_length is None:
        out_bw = out_bw[::-1]
    else:
        out_bw = array_ops.unstack(_reverse_time(array_ops.stack(out_bw), sequence_length, 0),
                                   num=len(inputs))
    outputs = [array_ops.concat([f, b], 1) for f, b in zip(out_fw, out_bw, strict=True)]
    return outputs, state_fw, state_bw
