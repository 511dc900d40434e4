"""``tf.train.import_meta_graph``: a ``.meta`` (MetaGraphDef) written by flow's or
TensorFlow's Saver, rebuilt in the default graph as flow ops (TF 1.15 ``meta_graph.py``).

The GraphDef's nodes go through ``flow.framework.graph_import`` (op type by op type, as rows
of the op table), except the Saver's own nodes (the name scope of ``saver_def``'s filename
tensor, ``save/``): the returned :class:`Saver` is built anew over the imported variables,
so ``saver.restore(sess, prefix)`` then ``sess.run`` of imported tensors computes what the
original graph computed. Collections come back as TF restores them: variable collections
(``variables``, ``trainable_variables``, ``global_step`` ...) as Variables, ``node_list`` ones
(``train_op``, ``losses``, ``summaries`` ...) as the Operations / Tensors they name, the
others as their bytes / ints / floats. Control-flow contexts and saver / queue-runner protos
are not rebuilt (flow has no object for them).
"""

from __future__ import annotations

import os

from google.protobuf import message, text_format

from flow.core import errors
from flow.framework.graph import GraphKeys, get_default_graph
from flow.framework.graph_import import import_nodes, parse_input
from flow.framework.tensor_util import make_ndarray
from flow.ops.variables import variable_from_proto
from flow.train.saver import Saver
from writer.proto import meta_graph_pb2, variable_pb2

_VARIABLE_KEYS = {GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES,
                  GraphKeys.LOCAL_VARIABLES, GraphKeys.MODEL_VARIABLES,
                  GraphKeys.MOVING_AVERAGE_VARIABLES, GraphKeys.GLOBAL_STEP, "metric_variables"}
_SKIPPED_KEYS = {"cond_context", "while_context", GraphKeys.SAVERS, GraphKeys.QUEUE_RUNNERS}


def read_meta_graph(meta_graph_or_file) -> meta_graph_pb2.MetaGraphDef:
    """A MetaGraphDef proto, or the one a ``.meta`` file holds (binary or text format)."""
    if isinstance(meta_graph_or_file, meta_graph_pb2.MetaGraphDef):
        return meta_graph_or_file
    path = os.fspath(meta_graph_or_file)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise OSError(f"File {path} does not exist. import_meta_graph takes the .meta file a "
                      "Saver wrote (e.g. 'model.ckpt.meta') or a MetaGraphDef") from None
    meta = meta_graph_pb2.MetaGraphDef()
    try:
        meta.ParseFromString(data)
    except message.DecodeError:  # a text-format file (Saver.export_meta_graph(as_text=True))
        try:
            text_format.Merge(data.decode("utf-8"), meta)
        except (UnicodeDecodeError, text_format.ParseError):
            raise errors.DataLossError(None, None, f"{path} is not a MetaGraphDef (neither "
                                       "binary nor text format)") from None
    return meta


def _saver_scope(saver_def) -> str | None:
    """The name scope of the Saver's nodes (``save/``), or None when there is no SaverDef."""
    name = saver_def.filename_tensor_name
    return name.split("/")[0] + "/" if "/" in name else None


def _saved_keys(meta, scope: str) -> dict[str, str] | None:
    """{checkpoint key: node name} of the Saver's ``SaveV2`` node, or None without one."""
    nodes = {nd.name: nd for nd in meta.graph_def.node}
    save = next((nd for nd in meta.graph_def.node
                 if nd.op == "SaveV2" and nd.name.startswith(scope)), None)
    if save is None:
        return None
    names = nodes[parse_input(save.input[1])[0]]
    keys = make_ndarray(names.attr["value"].tensor).reshape(-1)
    return {(k.decode() if isinstance(k, bytes) else str(k)): parse_input(ref)[0]
            for k, ref in zip(keys, save.input[3:], strict=True)}


def _var_list(meta, scope, variables, prefix: str):
    """The Saver's var_list: the original Saver's checkpoint keys when the MetaGraphDef has
    its nodes (a ``Saver({'vv1': v})`` restores ``vv1``), else the variables' own names."""
    by_node = {var.op.name[len(prefix):]: var for var in variables}
    keys = _saved_keys(meta, scope) if scope else None
    if keys is None or not set(keys.values()) <= set(by_node):
        return {name: var for name, var in by_node.items()}
    return {key: by_node[node] for key, node in keys.items()}


def _element(graph, name: str, prefix: str):
    """A node_list entry: a Tensor (``x:0``) or an Operation (``train``)."""
    full = prefix + name
    return graph.get_tensor_by_name(full) if ":" in name else graph.get_operation_by_name(full)


def _import_collections(graph, meta, import_scope: str) -> list:
    """Fill ``graph``'s collections from ``meta``; return the imported Variables in order."""
    prefix = f"{import_scope}/" if import_scope else ""
    variables: dict[str, object] = {}
    for key in sorted(meta.collection_def):
        if key in _SKIPPED_KEYS:
            continue
        col = meta.collection_def[key]
        kind = col.WhichOneof("kind")
        if kind == "bytes_list" and key in _VARIABLE_KEYS:
            for raw in col.bytes_list.value:
                proto = variable_pb2.VariableDef.FromString(raw)
                var = variables.get(proto.variable_name)
                if var is None:
                    var = variables[proto.variable_name] = variable_from_proto(
                        proto, graph, import_scope)
                graph.add_to_collection(key, var)
        elif kind == "node_list":
            for name in col.node_list.value:
                graph.add_to_collection(key, _element(graph, name, prefix))
        elif kind is not None:
            for value in getattr(col, kind).value:
                graph.add_to_collection(key, value)
    return list(variables.values())


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Rebuild a MetaGraphDef in the default graph; return a Saver over its variables (None
    when it has none)."""
    meta = read_meta_graph(meta_graph_or_file)
    graph = get_default_graph()
    scope = _saver_scope(meta.saver_def) if meta.HasField("saver_def") else None
    nodes = [nd for nd in meta.graph_def.node if scope is None or not nd.name.startswith(scope)]
    import_nodes(graph, nodes, import_scope or "", clear_devices)
    variables = _import_collections(graph, meta, import_scope or "")
    if not variables:
        return None
    keep = meta.saver_def.max_to_keep if scope else 5
    prefix = f"{import_scope}/" if import_scope else ""
    return Saver(_var_list(meta, scope, variables, prefix), max_to_keep=keep, **kwargs)
