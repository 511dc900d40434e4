"""``Graph.as_graph_def()``: NodeDefs with TF op types and attrs (SPEC §2.4, ``graph.proto``).

Exported attrs are the names the op's row lists (``flow.kernels.STATEFUL`` or
``flow.kernels.table.OPS``); Python values become ``AttrValue``s (DType → type, TensorShape →
shape, ndarray → tensor, lists → list). ``add_shapes=True`` adds ``_output_shapes`` as
TensorFlow's FileWriter does.

Gradient nodes leave in TensorFlow's own form, so that TF imports a training graph (a
``.meta``) and can run it: ``SymbolicGradient`` with ``f`` naming the forward op and its attrs,
the forward op's N inputs followed by one upstream gradient per forward output (a
``ZerosLike`` node, ``<node>/zeros_<k>``, stands in for an output nobody differentiates), and
one output per forward input, with ``Tin``/``Tout`` their dtypes. flow's node computes only
the input gradients someone uses; a consumer's input ``grad:j`` is written as the index of
that forward input. TF runs such a node through the op's registered C++ gradient. The
cross-entropy ops and ``Conv2DBackpropInput`` (``conv2d_transpose``) have none: their
gradients leave as the nodes TF's Python gradient functions build (``_EXPANSIONS``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from flow.core import dtypes
from flow.core.tensor_shape import TensorShape
from flow.framework.tensor_util import make_tensor_proto, shape_proto
from flow.kernels.table import OPS, STATEFUL
from writer.proto import attr_value_pb2, node_def_pb2


def attr_value(value):
    """``AttrValue`` of a Python attr value, or None for values a GraphDef cannot hold."""
    av = attr_value_pb2.AttrValue()
    if isinstance(value, dtypes.DType):
        av.type = value.as_datatype_enum
    elif isinstance(value, bool | np.bool_):
        av.b = bool(value)
    elif isinstance(value, int | np.integer):
        av.i = int(value)
    elif isinstance(value, float | np.floating):
        av.f = float(value)
    elif isinstance(value, str):
        av.s = value.encode()
    elif isinstance(value, bytes):
        av.s = value
    elif isinstance(value, TensorShape):
        av.shape.CopyFrom(shape_proto(value.as_tuple()))
    elif isinstance(value, np.ndarray):
        av.tensor.CopyFrom(make_tensor_proto(value))
    elif isinstance(value, np.dtype | type):
        av.type = dtypes.as_dtype(value).as_datatype_enum
    elif isinstance(value, list | tuple):
        av.list.SetInParent()
        for v in value:
            if isinstance(v, dtypes.DType | np.dtype):
                av.list.type.append(dtypes.as_dtype(v).as_datatype_enum)
            elif isinstance(v, bool):
                av.list.b.append(v)
            elif isinstance(v, int | np.integer):
                av.list.i.append(int(v))
            elif isinstance(v, float | np.floating):
                av.list.f.append(float(v))
            elif isinstance(v, str | bytes):
                av.list.s.append(v.encode() if isinstance(v, str) else v)
            elif isinstance(v, TensorShape):
                av.list.shape.append(shape_proto(v.as_tuple()))
            else:
                return None
    else:
        return None
    return av


def exported_attr_names(op_type: str):
    """The attr names exported for ``op_type`` (None: every attr not starting with ``_``)."""
    if op_type in STATEFUL:
        return STATEFUL[op_type].attrs
    if op_type in OPS:
        return OPS[op_type].attrs
    return None


def _exported_attrs(op_type: str, attrs: dict) -> dict:
    """The attrs of an ``op_type`` node that go into its NodeDef."""
    names = exported_attr_names(op_type)
    if names is None:
        return {k: v for k, v in attrs.items() if not k.startswith("_")}
    return {k: attrs[k] for k in names if k in attrs}


def tensor_ref(t) -> str:
    """A tensor as a NodeDef input: ``name`` for output 0, else ``name:index``."""
    index = t.value_index
    if t.op.type == "SymbolicGradient":
        index = t.op.attrs["_wanted"][index]  # TF's node has an output per forward input
        expansion = _expansion(t.op)
        if expansion is not None:
            return expansion.output(t.op, index)
    return t.op.name if index == 0 else f"{t.op.name}:{index}"


def _set_attrs(nd, attrs) -> None:
    for key, value in attrs.items():
        av = attr_value(value)
        if av is not None:
            nd.attr[key].CopyFrom(av)


def _set_shapes(nd, shapes) -> None:
    av = nd.attr["_output_shapes"]
    av.list.SetInParent()
    for shape in shapes:
        av.list.shape.append(shape_proto(shape.as_tuple()))


def node_defs(op, add_shapes):
    """The ``NodeDef``s of one Operation: its own, plus the ``ZerosLike`` stand-ins a gradient
    node needs (module docstring)."""
    if op.type == "SymbolicGradient":
        return _symbolic_gradient(op, add_shapes)
    nd = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device)
    nd.input.extend(tensor_ref(t) for t in op.inputs)
    nd.input.extend("^" + c.name for c in op.control_inputs)
    _set_attrs(nd, _exported_attrs(op.type, op.attrs))
    if add_shapes and op.outputs:
        _set_shapes(nd, [t.shape for t in op.outputs])
    return [nd]


def node_def(op, add_shapes):
    """The ``NodeDef`` of one Operation (inputs ``name``/``name:1``/``^control``)."""
    return node_defs(op, add_shapes)[0]


def _node(name, op_type, inputs, attrs, shapes=None, add_shapes=False):
    nd = node_def_pb2.NodeDef(name=name, op=op_type)
    nd.input.extend(inputs)
    _set_attrs(nd, attrs)
    if add_shapes and shapes is not None:
        _set_shapes(nd, shapes)
    return nd


def _grad_parts(op):
    """(forward inputs, forward outputs, upstream gradient per output or None)."""
    attrs = op.attrs
    n_in, n_out = attrs["_n_in"], attrs["_n_out"]
    upstream = iter(op.inputs[n_in + n_out:])
    grads = [next(upstream) if m else None for m in attrs["_grad_mask"]]
    return op.inputs[:n_in], op.inputs[n_in:n_in + n_out], grads


def _xent_nodes(op, add_shapes):
    """``dlogits = ExpandDims(dloss, -1) * backprop`` (the forward op's second output)."""
    _, (_, backprop), (dloss, _) = _grad_parts(op)
    expanded = (TensorShape([*dloss.shape.as_list(), 1]) if dloss.shape.ndims is not None
                else TensorShape(None))
    return [
        _node(op.name, "Mul", [f"{op.name}/ExpandDims", tensor_ref(backprop)],
              {"T": backprop.dtype}, [backprop.shape], add_shapes),
        _node(f"{op.name}/dim", "Const", [], {"dtype": dtypes.int32,
              "value": np.array(-1, np.int32)}, [TensorShape([])], add_shapes),
        _node(f"{op.name}/ExpandDims", "ExpandDims", [tensor_ref(dloss), f"{op.name}/dim"],
              {"T": dloss.dtype, "Tdim": dtypes.int32}, [expanded], add_shapes),
    ]


def _conv_transpose_nodes(op, add_shapes):
    """TF's ``_Conv2DBackpropInputGrad``: the filter's gradient is a Conv2DBackpropFilter of
    the upstream gradient, the input's (``out_backprop``) a Conv2D of it."""
    (_, filt, dy_in), _, (grad,) = _grad_parts(op)
    conv_attrs = _exported_attrs("Conv2D", op.attrs["_fwd_attrs"])
    return [
        _node(op.name, "Conv2D", [tensor_ref(grad), tensor_ref(filt)], conv_attrs,
              [dy_in.shape], add_shapes),
        _node(f"{op.name}/filter_shape", "Shape", [tensor_ref(filt)],
              {"T": filt.dtype, "out_type": dtypes.int32}, [TensorShape([4])], add_shapes),
        _node(f"{op.name}/filter_grad", "Conv2DBackpropFilter",
              [tensor_ref(grad), f"{op.name}/filter_shape", tensor_ref(dy_in)], conv_attrs,
              [filt.shape], add_shapes),
    ]


class _Expansion(NamedTuple):
    """A gradient TF has no C++ function for, exported as the nodes TF's Python builds."""

    inputs: tuple  # the forward inputs whose gradients it computes
    nodes: object  # (op, add_shapes) -> [NodeDef]; the first is named like the op
    names: dict  # forward input index -> node name suffix ("" = the op's own name)

    def output(self, op, index):
        return op.name + self.names[index]


_EXPANSIONS = {
    "SparseSoftmaxCrossEntropyWithLogits": _Expansion((0,), _xent_nodes, {0: ""}),
    "SoftmaxCrossEntropyWithLogits": _Expansion((0,), _xent_nodes, {0: ""}),
    "Conv2DBackpropInput": _Expansion((1, 2), _conv_transpose_nodes,
                                      {1: "/filter_grad", 2: ""}),
}


def _expansion(op):
    """The expansion that exports gradient node ``op``, if one applies."""
    expansion = _EXPANSIONS.get(op.attrs["fwd_type"])
    if expansion is None or not set(op.attrs["_wanted"]) <= set(expansion.inputs):
        return None
    return expansion if op.attrs["_grad_mask"][0] else None  # its first output's grad flows


def _symbolic_gradient(op, add_shapes):
    attrs = op.attrs
    expansion = _expansion(op)
    if expansion is not None:
        nodes = expansion.nodes(op, add_shapes)
        nodes[0].input.extend("^" + c.name for c in op.control_inputs)
        return nodes
    fwd_in, fwd_out, grads = _grad_parts(op)
    zeros = [_node(f"{op.name}/zeros_{k}", "ZerosLike", [tensor_ref(t)], {"T": t.dtype},
                   [t.shape], add_shapes)
             for k, (t, g) in enumerate(zip(fwd_out, grads, strict=True)) if g is None]
    stand_ins = iter(zeros)
    inputs = [tensor_ref(t) for t in fwd_in]
    inputs += [tensor_ref(g) if g is not None else next(stand_ins).name for g in grads]
    inputs += ["^" + c.name for c in op.control_inputs]
    nd = _node(op.name, "SymbolicGradient", inputs,
               {"Tin": [t.dtype for t in (*fwd_in, *fwd_out)], "Tout": [t.dtype for t in fwd_in]},
               [t.shape for t in fwd_in], add_shapes)
    nd.attr["f"].func.name = attrs["fwd_type"]
    _set_attrs(nd.attr["f"].func, _exported_attrs(attrs["fwd_type"], attrs["_fwd_attrs"]))
    return [nd, *zeros]
