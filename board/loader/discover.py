"""Run discovery, as TensorBoard does it (reference/tensorboard.md §1.4).

A run is every directory under a logdir that directly holds a file whose basename contains
"tfevents"; it is named by its path relative to the logdir ("." for the logdir itself).
Files of a run are read in name order. With `--logdir_spec name:path,…` each source's
runs are prefixed by its name.

A logdir may be an object-storage URL (`s3://bucket/prefix`, any fsspec protocol): its runs
come from one recursive listing of the prefix per poll (`discover_objects`), the same rule
applied to the objects' folders; an event file written as ranged objects
(`writer.object_file`) is one file there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from writer.object_file import Piece, group_pieces
from writer.storage import is_url, storage_for

EVENT_FILE_INFIX = "tfevents"


class Source(NamedTuple):
    """One logdir to watch; `name` prefixes its runs (None for a plain --logdir)."""

    name: str | None
    path: Path | str  # a str for an object-storage URL (Path would fold its "//")


def _location(path: str) -> Path | str:
    return path if is_url(path) else Path(path).expanduser()


def parse_logdir_spec(spec: str) -> list[Source]:
    """Parse `name:path,name2:path2` (TensorBoard's --logdir_spec). A bare path is allowed."""
    sources = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, path = part.partition(":")
        # A Windows drive letter, a bare path or a bare URL has no name.
        if not sep or not name or len(name) == 1 and path.startswith("\\") or is_url(part):
            sources.append(Source(None, _location(part)))
        else:
            sources.append(Source(name, _location(path)))
    if not sources:
        raise ValueError(f"--logdir_spec {spec!r} names no directory; use name:path,name2:path2")
    return sources


def sources_for(logdir: str | os.PathLike | None, logdir_spec: str | None) -> list[Source]:
    """The directories to load, from --logdir or --logdir_spec (exactly one of them)."""
    if logdir and logdir_spec:
        raise ValueError("pass either --logdir or --logdir_spec, not both")
    if logdir_spec:
        return parse_logdir_spec(logdir_spec)
    if not logdir:
        raise ValueError("no logdir given; pass --logdir PATH (e.g. --logdir=logs/)")
    return [Source(None, _location(os.fspath(logdir)))]


def run_name(source: Source, rel: str) -> str:
    """The run name for directory `rel` (relative to the source root, "." for itself).

    Directory names that are not UTF-8 (surrogate-escaped by os.fsdecode) are shown with
    backslash escapes (`b\\xff`), so every name is valid JSON text and still unique.
    """
    rel = rel.replace(os.sep, "/")
    rel = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if source.name is None:
        return rel
    return source.name if rel == "." else f"{source.name}/{rel}"


def discover(source: Source) -> dict[str, list[str]]:
    """Map run name -> event file paths (sorted by basename) under one source.

    A missing root yields {} (it may appear later). Symlinked directories are followed
    once (a loop is cut by remembering real paths).
    """
    root = str(source.path)
    runs: dict[str, list[str]] = {}
    if not os.path.isdir(root):
        return runs
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        files = sorted(f for f in filenames if EVENT_FILE_INFIX in f)
        files = [os.path.join(dirpath, f) for f in files]
        files = [f for f in files if os.path.isfile(f)]
        if files:
            runs[run_name(source, os.path.relpath(dirpath, root))] = files
    return runs


def discover_objects(source: Source) -> dict[str, dict[str, list[Piece]]]:
    """Map run name -> {event-file URL: its objects} from one listing of a URL source.

    Raises writer.storage.StorageError when the store cannot be listed (the loader reports it).
    """
    storage = storage_for(source.path)
    root = storage.path_of(source.path)
    runs: dict[str, dict[str, list[Piece]]] = {}
    files = group_pieces([o for o in storage.list(source.path)
                          if EVENT_FILE_INFIX in o.url.rsplit("/", 1)[-1]])
    for url, pieces in sorted(files.items()):
        folder = storage.path_of(url).rsplit("/", 1)[0]
        rel = "." if folder == root else folder[len(root):].lstrip("/")
        if folder != root and not folder.startswith(root + "/"):
            continue  # a sibling prefix ("runs2" when watching "runs")
        runs.setdefault(run_name(source, rel), {})[url] = pieces
    return runs
