"""Run/tag lookups shared by the plugins. A request's run and tag are only ever dictionary
keys into the store, never paths (SPEC §9)."""

from __future__ import annotations

from ..errors import NotFound
from ..store import RunData, Store

_LIST_LIMIT = 20


def _known(names) -> str:
    names = sorted(names)
    shown = ", ".join(repr(n) for n in names[:_LIST_LIMIT])
    more = f" and {len(names) - _LIST_LIMIT} more" if len(names) > _LIST_LIMIT else ""
    return f"{shown}{more}" if names else "none yet"


def require_run(store: Store, run: str) -> RunData:
    data = store.get_run(run)
    if data is None:
        raise NotFound(f"unknown run {run!r}; known runs: {_known(store.run_names())} "
                       "(see /api/runs)")
    return data


def tag_not_found(run: str, tag: str, plugin: str, known) -> NotFound:
    return NotFound(f"run {run!r} has no {plugin} tag {tag!r}; its {plugin} tags: "
                    f"{_known(known)}")
