"""``Graph.as_graph_def()``: NodeDefs with TF op types and attrs (SPEC §2.4, ``graph.proto``).

Exported attrs are the names the op's row lists (``flow.kernels.CORE`` or
``flow.ops.registry.OPS``); Python values become ``AttrValue``s (DType → type, TensorShape →
shape, ndarray → tensor, lists → list). ``add_shapes=True`` adds ``_output_shapes`` as
TensorFlow's FileWriter does.
"""

from __future__ import annotations

import numpy as np

from flow import dtypes
from flow.framework.tensor_util import make_tensor_proto, shape_proto
from flow.kernels import CORE
from flow.ops.registry import OPS
from flow.tensor_shape import TensorShape
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
    if op_type in CORE:
        return CORE[op_type].attrs
    if op_type in OPS:
        return OPS[op_type].attrs
    return None


def _exported_attrs(op):
    names = exported_attr_names(op.type)
    if names is None:
        return {k: v for k, v in op.attrs.items() if not k.startswith("_")}
    return {k: op.attrs[k] for k in names if k in op.attrs}


def node_def(op, add_shapes):
    """The ``NodeDef`` of one Operation (inputs ``name``/``name:1``/``^control``)."""
    nd = node_def_pb2.NodeDef(name=op.name, op=op.type)
    nd.input.extend(t.op.name if t.value_index == 0 else t.name for t in op.inputs)
    nd.input.extend("^" + c.name for c in op.control_inputs)
    for key, value in _exported_attrs(op).items():
        av = attr_value(value)
        if av is not None:
            nd.attr[key].CopyFrom(av)
    if add_shapes and op.outputs:
        av = nd.attr["_output_shapes"]
        av.list.SetInParent()
        for t in op.outputs:
            av.list.shape.append(shape_proto(t.shape.as_tuple()))
    return nd
