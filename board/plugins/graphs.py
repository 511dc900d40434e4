"""Graphs: /api/graph, /api/graph/run_metadata and TensorBoard's /data/plugin/graphs routes
(SPEC §5).

The latest GraphDef of a run is grouped by `/`-separated name scopes, as TensorBoard does:
a collapsed scope is one node (kind "scope", with `child_count` = the ops inside it);
`expand=a,a/b` opens scopes (expanding `a/b` opens `a` too). Edges between visible nodes are
aggregated per (source, target, control) with a `count`; edges inside a collapsed scope
vanish. Positions come from board.layout (a layered layout, inputs above consumers); the
auxiliary nodes (board.auxiliary: gradients, optimizer, save, init, summaries) are laid out
apart, to the right of the model.
Grouping is linear in the length of the names; `expand` is bounded (scopes, characters); a
view with more nodes or edges than one layout may take is a clear 400 ("graph too large to
lay out"). Encoded layouts are cached per (run, graph version, expanded set) in a cache
bounded in bytes (`new_layout_cache`, one per app).

Traced runs (`Event.tagged_run_metadata`) are served per op as the store keeps them
(board.run_metadata); the page maps op names to the visible nodes and sums scopes.
TensorBoard's `/data/plugin/graphs/run_metadata` re-reads the record from its event file
(path and offset from the store) and answers the RunMetadata in text format, as TensorBoard.
"""

from __future__ import annotations

import hashlib
import math
from functools import partial

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..auxiliary import auxiliary_nodes, auxiliary_ops, layout_apart
from ..cache import EncodedCache
from ..errors import BadRequest, NotFound
from ..layout import layout
from ..responses import json_bytes, json_response
from ..run_metadata import stats_json
from ..store import Store
from .lookup import require_run, run_metadata_not_found

router = APIRouter()

CHAR_W = 7.0
OP_H = 28.0
SCOPE_H = 44.0
MAX_EXPAND_CHARS = 32_768
MAX_EXPAND_SCOPES = 256
MAX_SCOPE_CHARS = 1024
MAX_LAYOUT_NODES = 5000
MAX_LAYOUT_EDGES = 20_000
LAYOUT_SECONDS = 2.0  # ordering sweeps stop here (the layout keeps the best order so far)
LAYOUT_CACHE_BYTES = 64 << 20


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


def parse_expand(expand: str | None) -> tuple[str, ...]:
    """The scopes `expand=a,b/c` asks to open: stripped, without repeats, sorted; at most
    MAX_EXPAND_SCOPES of at most MAX_SCOPE_CHARS each (a 400 past either)."""
    if not expand:
        return ()
    scopes = {s.strip().strip("/") for s in expand.split(",")} - {""}
    if len(scopes) > MAX_EXPAND_SCOPES:
        raise BadRequest(f"expand lists {len(scopes)} scopes; open at most "
                         f"{MAX_EXPAND_SCOPES} at a time")
    longest = max(scopes, key=len, default="")
    if len(longest) > MAX_SCOPE_CHARS:
        raise BadRequest(f"expand holds a scope of {len(longest)} characters "
                         f"({longest[:40]!r}…); a scope name may have at most "
                         f"{MAX_SCOPE_CHARS}")
    return tuple(sorted(scopes))


class ScopeTree:
    """The `/`-separated name scopes of a graph's ops as a tree of interned ids.

    Building it and finding an op's visible node are linear in the length of the names: a
    name 20,000 scopes deep costs 20,000 dictionary steps, not 20,000 prefix strings.
    """

    def __init__(self, names) -> None:
        self.ids: dict[tuple[int, str], int] = {}
        self.counts: list[int] = [0]  # ops inside each scope (any depth); id 0 is the root
        for name in names:
            parent = 0
            for part in name.split("/")[:-1]:
                parent = self._intern(parent, part)
                self.counts[parent] += 1

    def _intern(self, parent: int, part: str) -> int:
        sid = self.ids.get((parent, part))
        if sid is None:
            sid = self.ids[(parent, part)] = len(self.counts)
            self.counts.append(0)
        return sid

    def open(self, scopes) -> dict[int, str]:
        """Ids and names of the scopes `scopes` open (each with its enclosing scopes) that
        exist in the graph; a name that does not is ignored."""
        opened: dict[int, str] = {}
        for scope in scopes:
            parent, end = 0, 0
            for part in scope.split("/"):
                parent = self.ids.get((parent, part))
                end += len(part)
                if parent is None:
                    break
                if parent not in opened:
                    opened[parent] = scope[:end]
                end += 1
        return opened

    def visible(self, name: str, opened) -> tuple[str, int | None]:
        """The visible id of op `name` (its outermost collapsed scope, or itself) and the
        scope id of that node (None for an op that is no scope)."""
        parts = name.split("/")
        parent, end = 0, 0
        for part in parts[:-1]:
            parent = self.ids[(parent, part)]
            end += len(part)
            if parent not in opened:
                return name[:end], parent
            end += 1
        return name, self.ids.get((parent, parts[-1]))


class GraphTooLarge(BadRequest):
    """A view of the graph with more nodes or edges than one layout may take."""


def graph_view(graph_def, scopes=()) -> dict:
    """Group a GraphDef by scope (opening `scopes`) and lay it out: the /api/graph body
    minus `run`. Linear in the size of the graph up to the layout, whose input is bounded
    (MAX_LAYOUT_NODES, MAX_LAYOUT_EDGES) and whose ordering sweeps stop at LAYOUT_SECONDS."""
    ops = {n.name: n for n in graph_def.node}
    tree = ScopeTree(ops)
    opened = tree.open(scopes)
    nodes: dict[str, dict] = {}
    visible: dict[str, str] = {}
    for name, node in ops.items():
        vid, sid = tree.visible(name, opened)
        visible[name] = vid
        if vid in nodes:
            continue
        label = vid.rsplit("/", 1)[-1]
        if sid is not None and sid not in opened:  # a collapsed scope
            nodes[vid] = {
                "id": vid, "name": vid, "label": label, "kind": "scope", "op": None,
                "device": "", "child_count": tree.counts[sid] + (vid in ops),
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
    scope_inputs: dict[str, dict[str, None]] = {}
    for source, target, _ in agg:
        if nodes[target]["kind"] == "scope":
            scope_inputs.setdefault(target, {})[source] = None
    for target, sources in scope_inputs.items():
        nodes[target]["inputs"] = list(sources)
    if len(nodes) > MAX_LAYOUT_NODES or len(agg) > MAX_LAYOUT_EDGES:
        raise GraphTooLarge(
            f"graph too large to lay out: this view has {len(nodes)} nodes and {len(agg)} "
            f"edges (at most {MAX_LAYOUT_NODES} and {MAX_LAYOUT_EDGES}); expand a scope "
            "at a time instead of many (a graph without name scopes this large cannot be "
            "shown)")
    aux = auxiliary_nodes(visible, auxiliary_ops({k: (n.op, n.input) for k, n in ops.items()}))
    pos = layout_apart(partial(layout, seconds=LAYOUT_SECONDS),
                       {k: (v["width"], v["height"]) for k, v in nodes.items()},
                       [(s, t) for (s, t, _c) in agg], aux)
    for k, v in nodes.items():
        v["x"], v["y"] = pos[k]
        v["auxiliary"] = k in aux
    edges = [{"source": s, "target": t, "count": c, "control": ctl,
              "bridge": (s in aux) != (t in aux)}
             for (s, t, ctl), c in sorted(agg.items())]
    return {"nodes": sorted(nodes.values(), key=lambda n: n["id"]), "edges": edges,
            "expanded": sorted(opened.values()), "total_ops": len(ops)}


def graph_bytes(store: Store, run: str, scopes: tuple[str, ...]) -> bytes:
    """The /api/graph body of `run` with `scopes` open, as JSON bytes."""
    from writer.proto import graph_pb2  # protobuf's generated module loads on first use

    graph, _version = store.graph(run)
    try:
        graph_def = graph_pb2.GraphDef.FromString(graph)
    except Exception as exc:  # protobuf raises DecodeError (a subclass of Exception)
        raise BadRequest(f"the graph of run {run!r} cannot be decoded ({exc})") from exc
    return json_bytes({"run": run, **graph_view(graph_def, scopes)})


@router.get("/api/graph", summary="The run's graph grouped by name scope, laid out")
def graph_route(request: Request, run: str = Query(...),
                expand: str | None = Query(None, max_length=MAX_EXPAND_CHARS,
                                           description="comma-separated scopes to open")
                ) -> Response:
    store: Store = request.app.state.store
    scopes = parse_expand(expand)
    require_run(store, run)
    graph, version = store.graph(run)
    if graph is None:
        raise NotFound(f"run {run!r} has no graph; runs with one have has_graph=true in "
                       "/api/runs")
    digest = hashlib.sha256("\n".join(scopes).encode("utf-8", "surrogatepass")).digest()
    return request.app.state.layout_cache.respond(
        request, ("graph", run, version, digest), lambda: graph_bytes(store, run, scopes))


def new_layout_cache() -> EncodedCache:
    """The app's cache of laid-out graphs (encoded bodies), bounded in bytes."""
    return EncodedCache(LAYOUT_CACHE_BYTES, admit_first=True)


def _run_stats(store: Store, run: str, tag: str):
    require_run(store, run)
    stats = store.run_metadata(run, tag)
    if stats is None:
        raise run_metadata_not_found(store, run, tag)
    return stats


@router.get("/api/graph/run_metadata",
            summary="One traced Session.run: per op its compute time and memory")
def run_metadata_route(request: Request, run: str = Query(...), tag: str = Query(...)
                       ) -> Response:
    return json_response(stats_json(run, _run_stats(request.app.state.store, run, tag)))


def tb_run_metadata_text(store: Store, run: str, tag: str) -> str:
    """The RunMetadata of (run, tag) in protobuf text format, read again from its file."""
    from google.protobuf import text_format

    from writer.event_file import read_record_at
    from writer.events import parse_event
    from writer.proto import config_pb2

    stats = _run_stats(store, run, tag)
    try:
        event = parse_event(read_record_at(stats.path, stats.offset))
        meta = config_pb2.RunMetadata.FromString(event.tagged_run_metadata.run_metadata)
    except Exception as exc:  # OSError, EventParseError, DecodeError: the file changed
        raise NotFound(f"run metadata {tag!r} of run {run!r} can no longer be read from its "
                       f"event file ({type(exc).__name__})") from exc
    return text_format.MessageToString(meta)


@router.get("/data/plugin/graphs/run_metadata",
            summary="TensorBoard-compatible RunMetadata of one traced run (text format)",
            response_class=Response)
def tb_run_metadata_route(request: Request, run: str = Query(...), tag: str = Query(...)
                          ) -> Response:
    text = tb_run_metadata_text(request.app.state.store, run, tag)
    return Response(text, media_type="text/x-protobuf")


@router.get("/data/plugin/graphs/info", summary="TensorBoard-compatible graph listing")
def tb_info_route(request: Request) -> Response:
    store: Store = request.app.state.store
    body = {}
    for run in store.run_names():
        tags = store.run_metadata_tags(run)
        if store.has_graph(run) or tags:
            body[run] = {"run": run, "run_graph": store.has_graph(run), "tags": {
                tag: {"tag": tag, "conceptual_graph": False, "op_graph": False,
                      "profile": True} for tag in tags}}
    return json_response(body)
