"""The `MetaGraphDef` a TF1 Saver writes to `P.meta` (formats.md §7): the GraphDef, the
SaverDef and the graph's collections. Pure: builds the proto, writes no file.

Collections are exported as TensorFlow does (`meta_graph.add_collection_def`): variables as
`bytes_list` of serialized `VariableDef`, operations and tensors as `node_list` of names, and
plain strings / ints / floats as `bytes_list` / `int64_list` / `float_list`. Values of any other
kind (Python objects) are left out, as TF leaves out what it cannot serialize.
"""

from __future__ import annotations

from flow.framework.graph import Operation, Tensor
from writer.proto import meta_graph_pb2, variable_pb2


def variable_def(var) -> variable_pb2.VariableDef:
    """`VariableDef` of a flow Variable (`to_proto()` when it has one)."""
    if hasattr(var, "to_proto"):
        proto = var.to_proto()
        if proto is not None:
            return proto
    proto = variable_pb2.VariableDef(variable_name=var.name,
                                     trainable=bool(getattr(var, "trainable", True)))
    initializer = getattr(var, "initializer", None)
    if initializer is not None:
        proto.initializer_name = initializer.name
    snapshot = getattr(var, "_snapshot", None)
    if snapshot is not None:
        proto.snapshot_name = snapshot.name
    initial = getattr(var, "initial_value", None)
    if initial is not None and hasattr(initial, "name"):
        proto.initial_value_name = initial.name
    return proto


def _is_variable(value) -> bool:
    return hasattr(value, "op") and getattr(value.op, "type", "") in ("VariableV2", "Variable")


def collection_def(values) -> meta_graph_pb2.CollectionDef | None:
    """The CollectionDef of a collection's values, or None if they cannot be exported."""
    if not values:
        return None
    proto = meta_graph_pb2.CollectionDef()
    if all(_is_variable(v) for v in values):
        proto.bytes_list.value.extend(variable_def(v).SerializeToString() for v in values)
    elif all(isinstance(v, Operation | Tensor) for v in values):
        proto.node_list.value.extend(v.name for v in values)
    elif all(isinstance(v, str | bytes) for v in values):
        proto.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in values)
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        proto.int64_list.value.extend(values)
    elif all(isinstance(v, float) for v in values):
        proto.float_list.value.extend(values)
    else:
        return None
    return proto


def build_meta_graph(graph, saver_def, collection_list=None) -> meta_graph_pb2.MetaGraphDef:
    """MetaGraphDef of `graph` (GraphDef with `_output_shapes`, as TF exports it)."""
    meta = meta_graph_pb2.MetaGraphDef()
    meta.meta_info_def.SetInParent()
    meta.graph_def.CopyFrom(graph.as_graph_def(add_shapes=True))
    if saver_def is not None:
        meta.saver_def.CopyFrom(saver_def)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in sorted(keys):
        proto = collection_def(graph.get_collection(key))
        if proto is not None:
            meta.collection_def[key].CopyFrom(proto)
    return meta
