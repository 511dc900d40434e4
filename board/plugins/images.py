"""Images: /api/images, /api/image and TensorBoard's /data/plugin/images/tags (SPEC §5).

The store holds only where each image is (file, record offset, value index, sample index);
the encoded bytes are read on demand with `writer.event_file.read_record_at` and
`writer.events.image_bytes`, so every step stays browsable without holding PNGs in memory.
The file path comes from the store (found at discovery), never from the request.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..errors import NotFound
from ..responses import json_response
from ..store import ImageStep, Store
from .lookup import require_run, tag_not_found

router = APIRouter()


def _steps_or_404(store: Store, run: str, tag: str) -> list[ImageStep]:
    require_run(store, run)
    steps = store.images(run, tag)
    if not steps:
        raise tag_not_found(store, run, tag, "images")
    return steps


def images_impl(store: Store, run: str, tag: str) -> dict:
    """The /api/images body: every step (ascending) with its samples' sizes."""
    steps = _steps_or_404(store, run, tag)
    return {"run": run, "tag": tag, "steps": [
        {"step": s.step, "wall_time": s.wall_time,
         "samples": [{"index": x.index, "width": x.width, "height": x.height,
                      "content_type": x.content_type} for x in s.samples]}
        for s in steps]}


def image_impl(store: Store, run: str, tag: str, step: int | None, index: int) -> tuple:
    """(bytes, content_type) of one image; `step` None means the latest step."""
    from writer.event_file import read_record_at
    from writer.events import image_bytes, parse_event

    steps = _steps_or_404(store, run, tag)
    if step is None:
        chosen = steps[-1]
    else:
        chosen = next((s for s in steps if s.step == step), None)
        if chosen is None:
            near = ", ".join(str(s.step) for s in steps[-5:])
            raise NotFound(f"run {run!r} tag {tag!r} has no image at step {step}; "
                           f"latest steps: {near} (all steps: /api/images)")
    sample = next((x for x in chosen.samples if x.index == index), None)
    if sample is None:
        raise NotFound(f"step {chosen.step} of run {run!r} tag {tag!r} has no sample {index}; "
                       f"it has {len(chosen.samples)} (index 0..{len(chosen.samples) - 1})")
    try:
        event = parse_event(read_record_at(sample.path, sample.offset))
        data = image_bytes(event, sample.value_index, sample.index)
    except (OSError, ValueError) as exc:
        raise NotFound(f"the image at step {chosen.step} of run {run!r} tag {tag!r} can no "
                       f"longer be read from its event file ({type(exc).__name__})") from exc
    return data, sample.content_type or "application/octet-stream"


def tb_tags_impl(store: Store) -> dict:
    """TensorBoard's /data/plugin/images/tags: {run: {tag: {displayName, description,
    samples}}}."""
    return {name: {tag: {"displayName": tag, "description": "", "samples": samples}
                   for tag, samples in tags.items()}
            for name, tags in store.tag_listing("images").items()}


@router.get("/api/images", summary="Steps and samples of one image tag")
def images_route(request: Request, run: str = Query(...), tag: str = Query(...)) -> Response:
    return json_response(images_impl(request.app.state.store, run, tag))


@router.get("/api/image", summary="The encoded bytes of one image (latest step by default)",
            response_class=Response)
def image_route(request: Request, run: str = Query(...), tag: str = Query(...),
                step: int | None = Query(None), index: int = Query(0, ge=0)) -> Response:
    data, content_type = image_impl(request.app.state.store, run, tag, step, index)
    cache = "private, max-age=86400" if step is not None else "no-cache"
    return Response(data, media_type=content_type, headers={"Cache-Control": cache})


@router.get("/data/plugin/images/tags", summary="TensorBoard-compatible image tag listing")
def tb_tags_route(request: Request) -> Response:
    return json_response(tb_tags_impl(request.app.state.store))
