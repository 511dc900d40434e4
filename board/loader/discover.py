"""Run discovery, as TensorBoard does it (reference/tensorboard.md §1.4).

A run is every directory under a logdir that directly holds a file whose basename contains
"tfevents" (dot-files excepted: rsync's temporaries); it is named by its path relative to the
logdir ("." for the logdir itself, names that are not UTF-8 escaped by `escape_name`).
Files of a run are read in name order. A `Tree` keeps the listing current incrementally
(`ObjectTree` for a URL). With `--logdir_spec name:path,…` each source's runs are prefixed by
its name.

A logdir may be an object-storage URL (`s3://bucket/prefix`, any fsspec protocol): its runs
come from one recursive listing of the prefix per poll (`discover_objects`), the same rule
applied to the objects' folders; an event file written as ranged objects
(`writer.object_file`) is one file there.
"""

from __future__ import annotations

import os
import time
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


def escape_name(rel: str) -> str:
    """A relative path as display text: unchanged when it is valid UTF-8 without a
    backslash; otherwise every backslash is doubled and every byte that is not UTF-8 is
    shown as `\\xNN`. Collision-free: the dir whose name is the byte 0xff after `b` is
    `b\\xff`, a dir literally named `b\\xff` is `b\\\\xff` (only escaped names hold a
    backslash, and the escaping itself can be undone)."""
    raw = rel.encode("utf-8", "surrogateescape")
    if b"\\" not in raw:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def run_name(source: Source, rel: str) -> str:
    """The run name for directory `rel` (relative to the source root, "." for itself),
    made displayable by `escape_name`."""
    rel = escape_name(rel.replace(os.sep, "/"))
    if source.name is None:
        return rel
    return source.name if rel == "." else f"{source.name}/{rel}"


def is_event_file(name: str) -> bool:
    """A file of a run: its name contains "tfevents" and it is not a dot-file (rsync and
    other copy tools write `.<name>.XXXXXX` temporaries next to the real file)."""
    return EVENT_FILE_INFIX in name and not name.startswith(".")


class _Dir(NamedTuple):
    mtime_ns: int
    key: tuple[int, int]  # (st_dev, st_ino): a directory reached twice is listed once
    subdirs: tuple[str, ...]
    files: tuple[str, ...]  # event files, sorted by name


RACY_NS = 2_000_000_000  # a listing this close to the dir's mtime is redone on the next walk


class Tree:
    """The event files under one source, kept current without re-listing every directory.

    `walk()` visits every directory but lists only those whose mtime changed (a stat each);
    `refresh(paths)` applies file-system events: each path created, deleted or moved is
    added to or removed from its parent's listing, and a new directory is walked. `take()`
    returns the event files that appeared and went since the last call. Symlinked
    directories are followed; one reached twice (a loop, or two links to one tree) is
    listed once.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.root = os.fspath(source.path)
        self._dirs: dict[str, _Dir] = {}
        self._owner: dict[tuple[int, int], str] = {}  # (dev, ino) -> the path listing it
        self._added: set[str] = set()
        self._removed: set[str] = set()
        self.links: dict[str, str] = {}  # symlinked directory listed -> its real path
        self.listed = 0  # directories listed since the last take() (observability)

    def take(self) -> tuple[set[str], set[str]]:
        """(event files added, event files removed) since the last call."""
        added, removed = self._added - self._removed, self._removed - self._added
        self._added, self._removed, self.listed = set(), set(), 0
        return added, removed

    def run_of(self, path: str) -> str:
        """The run an event file of this tree belongs to (its paths all start with root)."""
        rel = os.path.dirname(path)[len(self.root) + 1:]
        return run_name(self.source, rel or ".")

    # -- keeping the listing ------------------------------------------------------------
    def _scan(self, path: str, st: os.stat_result) -> _Dir | None:
        subdirs, files = [], []
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir():
                            subdirs.append(entry.path)
                        elif is_event_file(entry.name) and entry.is_file():
                            files.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            return None
        self.listed += 1
        mtime = st.st_mtime_ns
        if time.time_ns() - mtime < RACY_NS:
            mtime = -1  # changed just now: an entry added in the same tick could be missed
        return _Dir(mtime, (st.st_dev, st.st_ino), tuple(sorted(subdirs)), tuple(sorted(files)))

    def _set(self, path: str, entry: _Dir) -> None:
        """Install a directory's listing, noting the files that came and went."""
        old = self._dirs.get(path)
        self._dirs[path] = entry
        before = set(old.files) if old else set()
        self._added.update(f for f in entry.files if f not in before)
        self._removed.update(before.difference(entry.files))
        if old is not None:
            for sub in set(old.subdirs).difference(entry.subdirs):
                self._forget(sub)

    def _forget(self, path: str) -> None:
        """Drop a directory and everything listed under it."""
        entry = self._dirs.pop(path, None)
        if entry is None:
            return
        self._removed.update(entry.files)
        self.links.pop(path, None)
        if self._owner.get(entry.key) == path:
            del self._owner[entry.key]
        for sub in entry.subdirs:
            self._forget(sub)

    def _visit(self, path: str, seen: set[str] | None, relist: bool) -> None:
        """Walk from `path`, listing the directories whose mtime changed (all if `relist`)."""
        stack = [path]
        while stack:
            path = stack.pop()
            try:
                st = os.stat(path)
            except OSError:
                self._forget(path)
                continue
            key = (st.st_dev, st.st_ino)
            entry = self._dirs.get(path)
            if entry is not None and entry.key != key:  # replaced by another directory
                self._forget(path)
                entry = None
            if entry is None or relist or entry.mtime_ns != st.st_mtime_ns:
                if self._owner.setdefault(key, path) != path:
                    continue  # listed under another path
                entry = self._scan(path, st)
                if entry is None:
                    self._forget(path)
                    continue
                self._set(path, entry)
                if path != self.root and os.path.islink(path):
                    self.links[path] = os.path.realpath(path)
            if seen is not None:
                seen.add(path)
            stack.extend(entry.subdirs)

    def walk(self, relist: bool = False) -> None:
        """Bring the whole tree up to date (the first pass, and the polling fallback). With
        `relist`, every directory is listed again, whatever its mtime says (after a watched
        directory was made again: a reused inode number and mtime can hide the new one)."""
        seen: set[str] = set()
        if os.path.isdir(self.root):
            self._visit(self.root, seen, relist=relist)
        for path in [p for p in self._dirs if p not in seen]:
            self._forget(path)

    def refresh(self, paths) -> None:
        """Apply file-system events: each of `paths` was created, deleted, moved or written."""
        for path in sorted(paths, key=len):  # parents before their children
            if path == self.root or not os.path.isdir(self.root):
                self.walk()
                continue
            up = self._dirs.get(os.path.dirname(path))
            if up is None:
                continue  # under a directory not listed (yet: a new one is walked whole)
            parent = os.path.dirname(path)
            if os.path.isdir(path):
                if path not in up.subdirs:
                    self._dirs[parent] = up._replace(subdirs=tuple(sorted((*up.subdirs, path))))
                self._visit(path, None, relist=True)  # new, or deleted and made again
            elif is_event_file(os.path.basename(path)) and os.path.isfile(path):
                if path not in up.files:
                    self._dirs[parent] = up._replace(files=tuple(sorted((*up.files, path))))
                    self._added.add(path)
            elif path in up.files or path in up.subdirs:  # gone
                self._dirs[parent] = up._replace(
                    subdirs=tuple(p for p in up.subdirs if p != path),
                    files=tuple(p for p in up.files if p != path))
                if path in up.files:
                    self._removed.add(path)
                self._forget(path)

    def exists(self) -> bool:
        return os.path.isdir(self.root)

    def watch_roots(self) -> dict[str, str]:
        """{directory to watch: the path this tree knows it by}: the root, and the real
        directory of every symlinked directory listed (watches do not follow links)."""
        if not os.path.isdir(self.root):
            return {}
        return {os.path.realpath(self.root): self.root,
                **{real: link for link, real in self.links.items()}}

    def files(self) -> list[str]:
        """Every event file listed."""
        return [f for d in self._dirs.values() for f in d.files]



def discover_objects(source: Source) -> dict[str, dict[str, list[Piece]]]:
    """Map run name -> {event-file URL: its objects} from one listing of a URL source.

    Raises writer.storage.StorageError when the store cannot be listed (the loader reports it).
    """
    storage = storage_for(source.path)
    root = storage.path_of(source.path)
    runs: dict[str, dict[str, list[Piece]]] = {}
    files = group_pieces([o for o in storage.list(source.path)
                          if is_event_file(o.url.rsplit("/", 1)[-1])])
    for url, pieces in sorted(files.items()):
        folder = storage.path_of(url).rsplit("/", 1)[0]
        rel = "." if folder == root else folder[len(root):].lstrip("/")
        if folder != root and not folder.startswith(root + "/"):
            continue  # a sibling prefix ("runs2" when watching "runs")
        runs.setdefault(run_name(source, rel), {})[url] = pieces
    return runs


class ObjectTree:
    """The event files under an object-storage URL, with `Tree`'s interface: every `walk()`
    is one recursive listing (`discover_objects`); an event file whose objects changed
    since the last listing counts as added again, so the loader reads its new bytes.
    Raises writer.storage.StorageError when the store cannot be listed."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.root = str(source.path)
        self.pieces: dict[str, list[Piece]] = {}  # event-file URL -> its objects
        self._run: dict[str, str] = {}
        self._added: set[str] = set()
        self._removed: set[str] = set()

    def exists(self) -> bool:
        return True  # a missing bucket or prefix shows as a listing error or no runs

    def walk(self) -> None:
        found = {url: (run, pieces) for run, files in discover_objects(self.source).items()
                 for url, pieces in files.items()}
        self._removed |= self.pieces.keys() - found.keys()
        self._added |= {url for url, (_run, pieces) in found.items()
                        if self.pieces.get(url) != pieces}
        self.pieces = {url: pieces for url, (_run, pieces) in found.items()}
        self._run = {url: run for url, (run, _pieces) in found.items()}

    refresh = walk  # no file-system events for a bucket: every cycle lists it

    def take(self) -> tuple[set[str], set[str]]:
        added, removed = self._added - self._removed, self._removed - self._added
        self._added, self._removed = set(), set()
        return added, removed

    def run_of(self, url: str) -> str:
        return self._run[url]

    def watch_roots(self) -> dict[str, str]:
        return {}

    def files(self) -> list[str]:
        return list(self.pieces)
