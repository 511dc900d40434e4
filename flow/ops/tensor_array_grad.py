"""The gradients of the TensorArray ops as TensorFlow's ``tensor_array_grad.py`` builds them:
a read's gradient is written to the forward array's gradient array (``TensorArrayGradV3``,
one per ``tf.gradients`` call, named by its scope: ``_grad_source``), a write's gradient is
read from it, a gather's scattered into it, a scatter's gathered from it. The flows order
these ops; a gradient array adds up the writes to one index.
"""

from __future__ import annotations

from flow.ops import array_ops
from flow.ops.tensor_array_ops import TensorArray


def _grad_source(t):
    """The scope of the ``tf.gradients`` call that made ``t`` (TF's ``_GetGradSource``)."""
    parts = t.name.split("/")
    at = [i for i, p in enumerate(parts) if p.startswith("gradients")]
    if not at:
        raise ValueError(f"Expected op/tensor name to start with gradients (excluding scope), "
                         f"got: {t.name}; give tf.gradients a name that starts with "
                         f"'gradients'.")
    return "/".join(parts[:at[-1] + 1])


def _grad_array(op, dtype_attr, flow, source):
    return TensorArray(op.attrs[dtype_attr], handle=op.inputs[0], flow=flow).grad(
        source=source, flow=flow)


def _read_grad(op, grads):
    grad = grads[0]
    g = _grad_array(op, "dtype", op.inputs[2], _grad_source(grad))
    return [(2, g.write(op.inputs[1], grad).flow)]


def _barrier(op, flow):
    """``flow`` once the forward write ``op`` is done (TF's ``write_barrier``)."""
    flow_out = array_ops.identity(op.outputs[0], name="flow_out")
    with op.graph.control_dependencies([flow_out]):
        return array_ops.identity(flow, name="write_barrier")


def _write_grad(op, grads):
    source = _grad_source(grads[0])
    flow = _barrier(op, grads[0])
    g = _grad_array(op, "T", flow, source)
    grad = g.read(op.inputs[1])
    grad.set_shape(op.inputs[2].shape)
    return [(2, grad), (3, flow)]


def _gather_grad(op, grads):
    grad = grads[0]
    g = _grad_array(op, "dtype", op.inputs[2], _grad_source(grad))
    return [(2, g.scatter(op.inputs[1], grad).flow)]


def _scatter_grad(op, grads):
    source = _grad_source(grads[0])
    flow = _barrier(op, grads[0])
    g = _grad_array(op, "T", flow, source)
    grad = g.gather(op.inputs[1])
    grad.set_shape(op.inputs[2].shape)
    return [(2, grad), (3, flow)]


GRADIENTS = {"TensorArrayReadV3": _read_grad, "TensorArrayWriteV3": _write_grad,
             "TensorArrayGatherV3": _gather_grad, "TensorArrayScatterV3": _scatter_grad}
