"""GraphDef → Operations: the inverse of ``flow.framework.graph_def`` (``import_meta_graph``).

Each NodeDef becomes one Operation of the same TF op type, which must be a row of the op
table (``OPS`` or ``STATEFUL``): its attrs are turned back into the Python values the rows use
(``type`` → DType, ``shape`` → TensorShape, ``tensor`` → ndarray, ``s`` → str), its inputs
(``name``, ``name:1``, ``^control``) are looked up among the nodes already imported, its
output dtypes come from the row and its shapes from ``_output_shapes`` (or the row's shape
rule). Nodes are imported in dependency order, whatever their order in the GraphDef.

A ``SymbolicGradient`` node (the form ``graph_def`` exports flow's gradients in: the forward
op's inputs, one upstream gradient per forward output, ``f`` naming the forward op type and
attrs) becomes flow's own gradient node again: its forward outputs are those of the forward op
that reads the same inputs (or of a copy, ``<node>/forward``, when the graph has none), and it
computes only the input gradients some node reads.

TF's ``tf.cond`` nodes (``Switch``/``Merge``) are rows too (the Session runs only the taken
side). Before any node is added, every op type is checked: a type flow has no row for,
flow's iterator nodes, whose Python dataset a GraphDef does not carry, and the nodes of a
``while_loop`` frame (``Enter``/``Exit``/``NextIteration``/``LoopCond``: flow runs its own
loops but does not rebuild one from a GraphDef) raise :class:`UnsupportedOpError` naming
each such type and a node using it.
"""

from __future__ import annotations

import numpy as np

from flow.core import dtypes
from flow.core.tensor_shape import TensorShape
from flow.framework.graph import Graph
from flow.framework.tensor_util import make_ndarray
from flow.kernels.table import OPS, STATEFUL

# Rows whose nodes hold Python objects (a gradient's forward row, a dataset) a GraphDef lacks.
_NOT_IMPORTABLE = {
    "MakeIterator": "a tf.data iterator's dataset is Python state a GraphDef does not hold",
    "IteratorGetNext": "a tf.data iterator's dataset is Python state a GraphDef does not hold",
    **dict.fromkeys(("Enter", "Exit", "NextIteration", "LoopCond"), (
        "a tf.while_loop frame (and a loop's gradient loop) is not rebuilt from a GraphDef "
        "yet")),
}


def _strings(attrs, inputs):
    return [dtypes.string]


# output dtypes of the stateful rows that neither carry a ``dtype`` attr nor write a variable
_STATEFUL_DTYPES = {
    "Switch": lambda attrs, inputs: [inputs[0].dtype] * 2,
    "Merge": lambda attrs, inputs: [inputs[0].dtype, dtypes.int32],
    "RandomUniformInt": lambda attrs, inputs: [attrs["Tout"]],
    "ScalarSummary": _strings, "ImageSummary": _strings, "HistogramSummary": _strings,
    "MergeSummary": _strings, "TensorSummaryV2": _strings,
}


class UnsupportedOpError(ValueError):
    """A GraphDef holds op types flow cannot rebuild."""


def _shape(proto) -> TensorShape:
    if proto.unknown_rank:
        return TensorShape(None)
    return TensorShape([d.size if d.size >= 0 else None for d in proto.dim])


def python_attr(av):
    """The Python value of an ``AttrValue`` (inverse of ``graph_def.attr_value``)."""
    kind = av.WhichOneof("value")
    if kind == "type":
        return dtypes.as_dtype(av.type)
    if kind == "shape":
        return _shape(av.shape)
    if kind == "tensor":
        return make_ndarray(av.tensor)
    if kind == "s":
        try:
            return av.s.decode()
        except UnicodeDecodeError:
            return av.s
    if kind in ("b", "i", "f"):
        return getattr(av, kind)
    if kind == "list":
        lst = av.list
        if lst.type:
            return [dtypes.as_dtype(t) for t in lst.type]
        if lst.shape:
            return [_shape(s) for s in lst.shape]
        if lst.s:
            return [s.decode() for s in lst.s]
        for field in ("i", "f", "b"):
            if getattr(lst, field):
                return list(getattr(lst, field))
        return []
    return None  # func / placeholder attrs: no row of flow reads them


def parse_input(ref: str) -> tuple[str, int, bool]:
    """(node name, output index, is control input) of a NodeDef input string."""
    if ref.startswith("^"):
        return ref[1:], 0, True
    name, _, index = ref.partition(":")
    return name, int(index or 0), False


def check_supported(nodes) -> None:
    """Raise :class:`UnsupportedOpError` listing every op type of ``nodes`` flow cannot run."""
    bad: dict[str, str] = {}
    for nd in nodes:
        op_type = nd.op
        if op_type == "SymbolicGradient":  # runs the gradient of the row ``f`` names
            op_type = nd.attr["f"].func.name
            if op_type in OPS and OPS[op_type].grad is not None:
                continue
            op_type = f"SymbolicGradient of {op_type}"
        supported = op_type in OPS or op_type in STATEFUL
        if (op_type in _NOT_IMPORTABLE or not supported) and op_type not in bad:
            bad[op_type] = nd.name
    if bad:
        lines = [f"  {op} (node {name!r}): "
                 + _NOT_IMPORTABLE.get(op, "no row of flow.kernels.table runs this op type")
                 for op, name in bad.items()]
        raise UnsupportedOpError(
            "cannot import the graph: flow has no kernel for these op types\n"
            + "\n".join(lines)
            + "\nflow imports graphs of its op table's rows (flow.kernels.table: placeholders, "
              "variables, the math and nn ops, tf.cond's Switch/Merge, the gradient kernels "
              "of those); rebuild the model with flow ops and restore its checkpoint instead.")


def _ordered(nodes):
    """``nodes`` with every node after the nodes it reads (data and control inputs)."""
    by_name = {nd.name: nd for nd in nodes}
    done, order = set(), []
    for root in nodes:
        stack = [(root, False)]
        while stack:
            nd, expanded = stack.pop()
            if nd.name in done:
                continue
            if expanded:
                done.add(nd.name)
                order.append(nd)
                continue
            stack.append((nd, True))
            for ref in nd.input:
                dep = by_name.get(parse_input(ref)[0])
                if dep is not None and dep.name not in done:
                    stack.append((dep, False))
    return order


def _out_dtypes_of(op_type, attrs, inputs) -> list:
    """The output dtypes of an ``OPS`` row's node."""
    row = OPS[op_type]
    if row.dtype is not None:
        return [dtypes.as_dtype(d) for d in row.dtype(
            [np.dtype(t.dtype.as_numpy_dtype) for t in inputs], attrs)]
    return [inputs[0].dtype] * row.num_outputs


def _out_dtypes(nd, attrs, inputs) -> list:
    """The output dtypes of a node of op type ``nd.op`` (a row of ``OPS`` or ``STATEFUL``)."""
    if nd.op in OPS:
        return _out_dtypes_of(nd.op, attrs, inputs)
    if nd.op in _STATEFUL_DTYPES:
        return _STATEFUL_DTYPES[nd.op](attrs, inputs)
    if "dtypes" in attrs and nd.op != "SaveV2":
        return list(attrs["dtypes"])
    if "dtype" in attrs:
        return [attrs["dtype"]]
    if STATEFUL[nd.op].ref_inputs:
        return [inputs[0].dtype]
    return []


def _out_shapes(nd, attrs, inputs, n: int) -> list:
    shapes = nd.attr.get("_output_shapes")
    if shapes is not None and len(shapes.list.shape) == n:
        return [_shape(s) for s in shapes.list.shape]
    if nd.op in OPS:
        return [TensorShape(s) for s in OPS[nd.op].shape([t.shape.as_tuple() for t in inputs],
                                                          attrs)]
    if nd.op == "Const":
        return [TensorShape(np.shape(attrs["value"]))]
    if "shape" in attrs and n == 1:
        return [attrs["shape"]]
    if STATEFUL[nd.op].ref_inputs and n == 1:
        return [inputs[0].shape]
    return [TensorShape(None)] * n


def _const_inputs(op_type, inputs) -> dict:
    """``_const_inputs`` of an OPS row (the values of its constant inputs, for shape rules)."""
    consts = {}
    row = OPS[op_type]
    for i in sorted({k % len(inputs) for k in row.const_inputs} if inputs else ()):
        if inputs[i].op.type == "Const":
            consts[i] = inputs[i].op.attrs["value"]
    return consts


def import_nodes(graph: Graph, nodes, import_scope: str = "", clear_devices: bool = False):
    """Add the NodeDefs ``nodes`` to ``graph`` (names prefixed ``import_scope/``); return
    {NodeDef name: Operation}."""
    nodes = list(nodes)
    check_supported(nodes)
    prefix = f"{import_scope}/" if import_scope else ""
    clash = [nd.name for nd in nodes if prefix + nd.name in graph._ops_by_name]
    if clash:
        raise ValueError(f"cannot import the graph: node {prefix + clash[0]!r} is already in "
                         "the default graph; import into a fresh graph (tf.reset_default_graph()"
                         " or `with tf.Graph().as_default():`) or pass import_scope=")
    used = _used_outputs(nodes)
    ops = {}
    for nd in _ordered(nodes):
        inputs, controls = [], []
        for ref in nd.input:
            name, index, control = parse_input(ref)
            if name not in ops:
                raise ValueError(f"cannot import node {nd.name!r}: its input {ref!r} names no "
                                 "node of the graph")
            if control:
                controls.append(ops[name])
            else:
                inputs.append(_output(ops[name], index))
        if nd.op == "SymbolicGradient":
            op = _gradient_op(graph, nd, inputs, controls, prefix + nd.name,
                              sorted(used.get(nd.name, {0})))
        else:
            op = _node_op(graph, nd, inputs, controls, prefix + nd.name)
        _mark_used(graph, op.name)
        if nd.device and not clear_devices:
            op._set_device(nd.device)
        ops[nd.name] = op
    return ops


def _node_op(graph, nd, inputs, controls, name):
    """The Operation of NodeDef ``nd`` (a row of the op table) named ``name``."""
    attrs = {k: python_attr(v) for k, v in nd.attr.items() if k != "_output_shapes"}
    _add_const_inputs(nd.op, attrs, inputs)
    out_dtypes = _out_dtypes(nd, attrs, inputs)
    shapes = _out_shapes(nd, attrs, inputs, len(out_dtypes))
    return graph.create_op(nd.op, inputs, attrs, name=name + "/", dtypes_=out_dtypes,
                           shapes=shapes, control_inputs=controls)


def _mark_used(graph, name: str) -> None:
    """Mark ``name`` and its name scopes used, so later ops and scopes get fresh names."""
    parts = name.lower().split("/")
    for k in range(1, len(parts) + 1):
        key = "/".join(parts[:k])
        graph._names_in_use[key] = max(graph._names_in_use.get(key, 0), 1)


def _add_const_inputs(op_type, attrs, inputs) -> None:
    if op_type in OPS and OPS[op_type].const_inputs:
        consts = _const_inputs(op_type, inputs)
        if consts:
            attrs["_const_inputs"] = consts


def _used_outputs(nodes) -> dict[str, set]:
    """{node name: the output indices other nodes read}."""
    used: dict[str, set] = {}
    for nd in nodes:
        for ref in nd.input:
            name, index, control = parse_input(ref)
            if not control:
                used.setdefault(name, set()).add(index)
    return used


def _output(op, index: int):
    """Output ``index`` of an imported node; a gradient node's index is a forward input's."""
    if op.type == "SymbolicGradient":
        index = op.attrs["_wanted"].index(index)
    return op.outputs[index]


def _forward_op(graph, fwd_type, attrs, fwd_inputs, name):
    """The op of type ``fwd_type`` reading ``fwd_inputs``, or a copy of it named ``name``."""
    if fwd_inputs:
        for op in fwd_inputs[0]._consumers:
            if op.type == fwd_type and list(op.inputs) == list(fwd_inputs):
                return op
    row = OPS[fwd_type]
    shapes = row.shape([t.shape.as_tuple() for t in fwd_inputs], attrs)
    out_dtypes = _out_dtypes_of(fwd_type, attrs, fwd_inputs)
    return graph.create_op(fwd_type, fwd_inputs, attrs, name=name + "/",
                           dtypes_=out_dtypes, shapes=[TensorShape(s) for s in shapes])


def _gradient_op(graph, nd, inputs, controls, name, wanted):
    """flow's gradient node for a ``SymbolicGradient`` NodeDef (module docstring)."""
    n_in = len(nd.attr["Tout"].list.type)
    fwd_type = nd.attr["f"].func.name
    fwd_attrs = {k: python_attr(v) for k, v in nd.attr["f"].func.attr.items()}
    fwd_inputs = inputs[:n_in]
    _add_const_inputs(fwd_type, fwd_attrs, fwd_inputs)
    forward = _forward_op(graph, fwd_type, fwd_attrs, fwd_inputs, name + "/forward")
    grads = inputs[n_in:]
    attrs = {"fwd_type": fwd_type, "_fwd_attrs": forward.attrs, "_n_in": n_in,
             "_n_out": len(forward.outputs), "_grad_mask": [True] * len(grads),
             "_wanted": tuple(wanted)}
    return graph.create_op("SymbolicGradient", [*fwd_inputs, *forward.outputs, *grads], attrs,
                           name=name + "/", dtypes_=[fwd_inputs[i].dtype for i in wanted],
                           shapes=[fwd_inputs[i].shape for i in wanted],
                           control_inputs=controls)
