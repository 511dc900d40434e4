"""Run/tag lookups shared by the plugins. A request's run and tag are only ever dictionary
keys into the store, never paths (SPEC §9)."""

from __future__ import annotations

from ..errors import NotFound
from ..store import Store

_LIST_LIMIT = 20


def _known(names) -> str:
    names = sorted(names)
    shown = ", ".join(repr(n) for n in names[:_LIST_LIMIT])
    more = f" and {len(names) - _LIST_LIMIT} more" if len(names) > _LIST_LIMIT else ""
    return f"{shown}{more}" if names else "none yet"


def require_run(store: Store, run: str) -> None:
    """Raise NotFound (listing the known runs) unless the store knows `run`."""
    if not store.has_run(run):
        raise NotFound(f"unknown run {run!r}; known runs: {_known(store.run_names())} "
                       "(see /api/runs)")


def tag_not_found(store: Store, run: str, tag: str, plugin: str) -> NotFound:
    """The 404 for a run without `tag`; `plugin` is "scalars", "images", "histograms"
    or "text"."""
    kind = plugin.rstrip("s")
    return NotFound(f"run {run!r} has no {kind} tag {tag!r}; its {kind} tags: "
                    f"{_known(store.tags(run, plugin))}")


def run_metadata_not_found(store: Store, run: str, tag: str) -> NotFound:
    """The 404 for a run without the run metadata tag `tag`."""
    return NotFound(f"run {run!r} has no run metadata tag {tag!r}; its run metadata tags: "
                    f"{_known(store.run_metadata_tags(run))} (written by "
                    "FileWriter.add_run_metadata)")
