"""File-system events under the logdirs, collected as a set of changed paths (`watchdog`:
inotify on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows).

Paths arrive as `str` decoded with the file-system encoding's surrogate escapes, so a
directory whose name is not UTF-8 is reported like any other. Watches do not follow
symlinks (a link loop would make the watch library walk it to the OS's depth limit): each
symlinked directory the tree lists is watched at its real path, and its events are
translated back to the path the tree knows. When the set of pending paths grows past
MAX_PENDING (a big copy), it collapses to "everything": the loader walks the whole tree once.
"""

from __future__ import annotations

import logging
import os
import threading

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

log = logging.getLogger("board.loader")

MAX_PENDING = 10_000
# What the loader needs; leaving out opens, reads and closes (ours included) keeps the
# kernel's event queue from overflowing while thousands of files are read.
EVENTS = [FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
          DirCreatedEvent, DirDeletedEvent, DirMovedEvent]


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class _Handler(FileSystemEventHandler):
    """Events of one watched directory, reported under the path the tree knows it by."""

    def __init__(self, watcher: Watcher, real: str, alias: str) -> None:
        self._watcher, self._real, self._alias = watcher, real, alias

    def _known(self, path) -> str:
        path = os.fsdecode(path)
        if self._real != self._alias and (path == self._real
                                          or path.startswith(self._real + os.sep)):
            return self._alias + path[len(self._real):]
        return path

    def on_any_event(self, event) -> None:
        if isinstance(event, (DirDeletedEvent, DirMovedEvent)) and \
                os.fsdecode(event.src_path) == self._real:
            self._watcher.lost(self._real, self._alias)  # its watch ended with it
        paths = [self._known(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(self._known(event.dest_path))
        self._watcher.report(paths)


class Watcher:
    """Collects the paths created, deleted, moved or written under the watched directories."""

    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._overflow = False
        self._observer = Observer()
        # (real, alias) -> (watchdog's watch, (st_dev, st_ino) of the directory watched)
        self._watches: dict[tuple[str, str], tuple[object, tuple[int, int]]] = {}
        self.failed = False  # True once watching failed: the loader polls instead
        self._lost: set[tuple[str, str]] = set()  # watched directories deleted or moved away

    def sync(self, wanted: dict[str, str]) -> bool:
        """Watch exactly `wanted` ({real directory: the path the tree knows it by}); a
        directory deleted and made again (another inode) is watched anew. Returns True if
        the watches changed (what happened before a new watch began is then found by one
        more walk). A failure (e.g. the inotify watch limit) is logged once and leaves the
        loader polling."""
        if self.failed:
            return False
        changed = False
        with self._lock:
            lost, self._lost = self._lost, set()
        for key, (handle, ident) in list(self._watches.items()):
            # A directory made again can reuse the inode number: its deletion says it all.
            if wanted.get(key[0]) != key[1] or _identity(key[0]) != ident or key in lost:
                del self._watches[key]
                changed = True
                try:
                    self._observer.unschedule(handle)
                except (KeyError, OSError):
                    pass  # its emitter already ended with the directory
        for real, alias in sorted(wanted.items()):
            ident = _identity(real)
            if (real, alias) in self._watches or ident is None:
                continue
            try:
                handle = self._observer.schedule(_Handler(self, real, alias), real,
                                                 recursive=True, event_filter=EVENTS)
                if not self._observer.is_alive():
                    self._observer.start()
            except Exception as exc:  # noqa: BLE001 - OSError (limits) or a platform refusal
                log.warning("watching %s failed (%s); polling every cycle instead", alias, exc)
                self.failed = True
                return False
            self._watches[(real, alias)] = (handle, ident)
            changed = True
        return changed

    def alive(self) -> bool:
        """Whether events are being reported (the loader walks every cycle otherwise)."""
        return bool(self._watches) and not self.failed and self._observer.is_alive()

    def covers(self, real: str) -> bool:
        """Whether the directory `real` is watched."""
        return any(r == real for r, _ in self._watches)

    def lost(self, real: str, alias: str) -> None:
        """The watched directory `real` was deleted or moved away: watch it anew."""
        with self._lock:
            self._lost.add((real, alias))

    def report(self, paths: list[str]) -> None:
        with self._lock:
            if not self._overflow:
                self._pending.update(paths)
                if len(self._pending) > MAX_PENDING:
                    self._overflow, self._pending = True, set()
        self._wake.set()

    def take(self) -> set[str] | None:
        """The paths changed since the last call, or None if they were too many to keep."""
        with self._lock:
            pending, overflow = self._pending, self._overflow
            self._pending, self._overflow = set(), False
        return None if overflow else pending

    def stop(self) -> None:
        if self._observer.is_alive():
            self._observer.stop()
            self._observer.join(2.0)
