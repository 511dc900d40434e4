"""Text: /api/text and TensorBoard's /data/plugin/text/{tags,text} (SPEC §5b).

Every stored step of a (run, tag), each as HTML rendered on the server (board.markdown:
Markdown with raw HTML off, only http/https/mailto links; rank-1/2 tensors as tables), with
notes for what is not shown as written (bytes that are not UTF-8, a rank above 2).
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..markdown import tensor_html
from ..responses import json_response
from ..store import Store
from .lookup import require_run, tag_not_found

router = APIRouter()


def _step(item) -> dict:
    body, notes = tensor_html(item.shape, item.values)
    if item.problem:
        notes.insert(0, f"this text {item.problem}")
    return {"step": item.step, "wall_time": item.wall_time, "shape": list(item.shape),
            "html": body, "notes": notes}


def text_impl(store: Store, run: str, tag: str) -> dict:
    require_run(store, run)
    items = store.texts(run, tag)
    if not items:
        raise tag_not_found(store, run, tag, "text")
    return {"run": run, "tag": tag, "steps": [_step(item) for item in items]}


def text_tags_impl(store: Store) -> dict:
    return {name: list(tags) for name, tags in store.tag_listing("text").items()}


@router.get("/api/text", summary="Every step of one text tag, rendered as safe HTML")
def text_route(request: Request, run: str = Query(...), tag: str = Query(...)) -> Response:
    return json_response(text_impl(request.app.state.store, run, tag))


@router.get("/data/plugin/text/tags", summary="TensorBoard-compatible text tags per run")
def tb_text_tags_route(request: Request) -> Response:
    return json_response(text_tags_impl(request.app.state.store))


@router.get("/data/plugin/text/text", summary="TensorBoard-compatible text of one run/tag")
def tb_text_route(request: Request, run: str = Query(...), tag: str = Query(...)) -> Response:
    body = text_impl(request.app.state.store, run, tag)
    return json_response([{"wall_time": s["wall_time"], "step": s["step"], "text": s["html"]}
                          for s in body["steps"]])
