"""Graphs: /api/graph (SPEC §5).

The latest GraphDef of a run is grouped by `/`-separated name scopes, as TensorBoard does:
a collapsed scope is one node (kind "scope", with `child_count` = the ops inside it);
`expand=a,a/b` opens scopes (expanding `a/b` opens `a` too). Edges between visible nodes are
aggregated per (source, target, control) with a `count`; edges inside a collapsed scope
vanish. Positions come from board.layout (a layered layout, inputs above consumers); the
auxiliary nodes (board.auxiliary: gradients, optimizer, save, init, summaries) are laid out
apart, to the right of the model.
Layouts are cached per (run, graph version, expanded set).
"""

from __future__ import annotations

import math
import threading

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..auxiliary import auxiliary_nodes, auxiliary_ops, layout_apart
from ..errors import BadRequest, NotFound
from ..layout import layout
from ..responses import json_response
from ..store import Store
from .lookup import require_run

router = APIRouter()

CHAR_W = 7.0
OP_H = 28.0
SCOPE_H = 44.0
_CACHE_SIZE = 32
_cache_lock = threading.Lock()


def _scalar_json(x):
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    return x


def _shape(shape) -> list | str:
    if shape.unknown_rank:
        return "unknown"
    return [d.size for d in shape.dim]


def attr_json(value) -> object:
    """A short JSON-able summary of one AttrValue (tensors show dtype and shape only)."""
    from writer.proto import types_pb2

    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "type":
        return types_pb2.DataType.Name(value.type) if value.type in \
            types_pb2.DataType.values() else int(value.type)
    if kind == "shape":
        return _shape(value.shape)
    if kind == "tensor":
        t = value.tensor
        dtype = types_pb2.DataType.Name(t.dtype) if t.dtype in types_pb2.DataType.values() \
            else int(t.dtype)
        return {"dtype": dtype, "shape": _shape(t.tensor_shape)}
    if kind == "func":
        return {"func": value.func.name}
    if kind == "list":
        lv = value.list
        for name in ("s", "i", "f", "b"):
            items = getattr(lv, name)
            if len(items):
                return [_scalar_json(x) for x in items[:64]]
        if len(lv.type):
            return [types_pb2.DataType.Name(t) if t in types_pb2.DataType.values() else int(t)
                    for t in lv.type[:64]]
        if len(lv.shape):
            return [_shape(s) for s in lv.shape[:64]]
        return []
    if kind == "placeholder":
        return {"placeholder": value.placeholder}
    return _scalar_json(getattr(value, kind))


def _parse_expand(expand: str | None) -> frozenset:
    if not expand:
        return frozenset()
    opened = set()
    for scope in expand.split(","):
        scope = scope.strip().strip("/")
        if not scope:
            continue
        parts = scope.split("/")
        for i in range(1, len(parts) + 1):
            opened.add("/".join(parts[:i]))
    return frozenset(opened)


def _visible(name: str, opened: frozenset) -> str:
    """The visible id of op `name`: its outermost collapsed scope, or itself."""
    start = 0
    while True:
        cut = name.find("/", start)
        if cut < 0:
            return name
        prefix = name[:cut]
        if prefix not in opened:
            return prefix
        start = cut + 1


def graph_view(graph_def, opened: frozenset) -> dict:
    """Group a GraphDef by scope and lay it out: the /api/graph body minus `run`."""
    ops = {n.name: n for n in graph_def.node}
    nodes: dict[str, dict] = {}
    scope_children: dict[str, int] = {}
    for name in ops:
        parts = name.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            scope_children[prefix] = scope_children.get(prefix, 0) + 1
    visible = {name: _visible(name, opened) for name in ops}
    for name, node in ops.items():
        vid = visible[name]
        if vid in nodes:
            continue
        label = vid.rsplit("/", 1)[-1]
        if vid in scope_children and vid not in opened:  # a collapsed scope
            nodes[vid] = {
                "id": vid, "name": vid, "label": label, "kind": "scope", "op": None,
                "device": "", "child_count": scope_children[vid] + (vid in ops),
                "attrs": {}, "inputs": [],
                "width": max(90.0, CHAR_W * len(label) + 40), "height": SCOPE_H,
            }
        else:  # vid == name: an op whose enclosing scopes are all open
            nodes[vid] = {
                "id": vid, "name": vid, "label": label, "kind": "op", "op": node.op,
                "device": node.device, "child_count": 0,
                "attrs": {k: attr_json(v) for k, v in sorted(node.attr.items())},
                "inputs": list(node.input),
                "width": max(60.0, CHAR_W * len(label) + 20), "height": OP_H,
            }
    agg: dict[tuple[str, str, bool], int] = {}
    for name, node in ops.items():
        target = visible[name]
        for inp in node.input:
            control = inp.startswith("^")
            src_name = inp[1:] if control else inp.split(":", 1)[0]
            source = visible.get(src_name)
            if source is None or source == target:
                continue
            key = (source, target, control)
            agg[key] = agg.get(key, 0) + 1
    for (source, target, _), _count in agg.items():
        if nodes[target]["kind"] == "scope" and source not in nodes[target]["inputs"]:
            nodes[target]["inputs"].append(source)
    aux = auxiliary_nodes(visible, auxiliary_ops({k: (n.op, n.input) for k, n in ops.items()}))
    pos = layout_apart(layout, {k: (v["width"], v["height"]) for k, v in nodes.items()},
                       [(s, t) for (s, t, _c) in agg], aux)
    for k, v in nodes.items():
        v["x"], v["y"] = pos[k]
        v["auxiliary"] = k in aux
    edges = [{"source": s, "target": t, "count": c, "control": ctl,
              "bridge": (s in aux) != (t in aux)}
             for (s, t, ctl), c in sorted(agg.items())]
    return {"nodes": sorted(nodes.values(), key=lambda n: n["id"]), "edges": edges,
            "expanded": sorted(opened), "total_ops": len(ops)}


def graph_impl(store: Store, run: str, expand: str | None) -> dict:
    from writer.proto import graph_pb2

    require_run(store, run)
    graph, version = store.graph(run)
    if graph is None:
        raise NotFound(f"run {run!r} has no graph; runs with one have has_graph=true in "
                       "/api/runs")
    opened = _parse_expand(expand)
    key = (run, version, opened)
    cache = store.layout_cache
    with _cache_lock:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    try:
        graph_def = graph_pb2.GraphDef.FromString(graph)
    except Exception as exc:  # protobuf raises DecodeError (a subclass of Exception)
        raise BadRequest(f"the graph of run {run!r} cannot be decoded ({exc})") from exc
    body = {"run": run, **graph_view(graph_def, opened)}
    with _cache_lock:
        cache[key] = body
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return body


@router.get("/api/graph", summary="The run's graph grouped by name scope, laid out")
def graph_route(request: Request, run: str = Query(...),
                expand: str | None = Query(None, max_length=100_000,
                                           description="comma-separated scopes to open")
                ) -> Response:
    return json_response(graph_impl(request.app.state.store, run, expand))
