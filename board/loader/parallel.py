"""Decode never-read event files (local files, or objects by ranged GETs) on a few threads
(the initial load of a logdir).

Reading, framing (writer.record.frame) and scalar decoding
(writer.scalar_events.decode_scalar_events) are numpy passes over whole file windows, which
release the GIL, so a couple of threads keep every core busy without worker processes: nothing
is copied between processes, nothing starts up, and nothing outlives the board. The loader
thread applies the results in run and file order while the threads go on with the next files;
at most ``AHEAD`` results wait to be applied, which bounds the memory of a load.

A result holds the decoded scalar columns and only the records the scalar decoder refused
(file_version, images, graphs, …) as ``bytes``.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import NamedTuple

import numpy as np

from writer.event_file import RecordTail, Window
from writer.record import HEADER_SIZE, MAX_RECORD_BYTES, Record, RecordError
from writer.scalar_events import Scalars, decode_scalar_events

WORKERS = max(1, min(4, os.cpu_count() or 1))
AHEAD = 2 * WORKERS  # decoded files waiting to be applied, at most
MERGE_ROWS = 4_000_000  # scalars of one file applied to the store in one step, at most


class Part(NamedTuple):
    fast: Scalars  # the plain scalars of one window
    slow: list[Record]  # the other records of that window, in order


class FileResult(NamedTuple):
    path: str
    offset: int  # where the next read starts
    bad_crc: int
    error: RecordError | None  # a corrupt or oversized header: the file stops there
    count: int  # records read
    parts: list[Part]  # one per window, in file order
    tail: object = None  # the reader that decoded it (an ObjectTail goes on from there)


def decode_file(path: str, max_record_bytes: int = MAX_RECORD_BYTES,
                stop: threading.Event | None = None, window: int | None = None,
                tail=None) -> FileResult:
    """Read every whole record of ``path`` and decode its plain scalars, a window at a time
    (``window`` bytes: RecordTail's default). ``tail``: the reader to use (a RecordTail of
    ``path`` by default; an ObjectTail for an event file on object storage)."""
    parts: list[Part] = []
    count = bad_crc = 0
    if tail is None:
        tail = RecordTail(path, max_record_bytes=max_record_bytes)
    try:
        for win in tail.read_frames(*([window] if window else [])):
            fr = win.frames
            bad_crc += fr.bad_crc
            count += len(fr.starts)
            if len(fr.starts):
                parts.append(decode_window(win))
            if stop is not None and stop.is_set():
                break
    finally:
        tail.close()
    return FileResult(path, tail.offset, bad_crc, tail.error, count, merge_parts(parts), tail)


def merge_parts(parts: list[Part], max_rows: int = MERGE_ROWS) -> list[Part]:
    """Consecutive parts joined into parts of up to ``max_rows`` scalars, so the store grows
    each series once per file rather than once per window (no over-allocation)."""
    groups: list[list[Part]] = []
    rows = 0
    for part in parts:
        if not groups or rows + len(part.fast.step) > max_rows:
            groups.append([])
            rows = 0
        groups[-1].append(part)
        rows += len(part.fast.step)
    return [group[0] if len(group) == 1 else _join(group) for group in groups]


def _join(parts: list[Part]) -> Part:
    index: dict[str, int] = {}
    ids = []
    for part in parts:
        remap = np.array([index.setdefault(t, len(index)) for t in part.fast.tags], np.int64)
        ids.append(remap[part.fast.tag_id] if len(remap) else part.fast.tag_id)
    cols = [np.concatenate([getattr(p.fast, name) for p in parts])
            for name in ("ok", "step", "wall_time", "value")]
    fast = Scalars(cols[0], np.concatenate(ids), list(index), *cols[1:])
    return Part(fast, [rec for p in parts for rec in p.slow])


def decode_window(win: Window) -> Part:
    """The plain scalars of a window as columns, and its other records as ``bytes``."""
    fr = win.frames
    fast = decode_scalar_events(win.buf, fr.starts, fr.lengths)
    return Part(fast, records_of(win, np.flatnonzero(~fast.ok)))


def records_of(win: Window, rows: np.ndarray | None = None) -> list[Record]:
    """Records ``rows`` (default: all) of a window, with their file offsets."""
    starts, lengths = win.frames.starts, win.frames.lengths
    if rows is not None:
        starts, lengths = starts[rows], lengths[rows]
    buf, base = win.buf, win.start - HEADER_SIZE
    return [Record(base + s, buf[s : s + n].tobytes())
            for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]


def tail_after(result: FileResult, max_record_bytes: int = MAX_RECORD_BYTES) -> RecordTail:
    """A RecordTail positioned where decoding stopped (stopped too, after an error)."""
    tail = RecordTail(result.path, offset=result.offset, max_record_bytes=max_record_bytes)
    tail.error = result.error
    return tail


class Prefetcher:
    """Decodes ``paths`` on ``WORKERS`` daemon threads, at most ``AHEAD`` ahead of ``take``.
    ``opener(path)`` makes each file's reader (default: a RecordTail of the local file)."""

    def __init__(self, paths: list[str], max_record_bytes: int = MAX_RECORD_BYTES,
                 workers: int = WORKERS, ahead: int = AHEAD, opener=None) -> None:
        self._opener = opener
        self._todo = list(reversed(paths))
        self._paths = set(paths)
        self._futures: dict[str, Future] = {}
        self._ahead = ahead
        self._max_record_bytes = max_record_bytes
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self.decoded = 0  # results taken (tests and logs)
        self._threads = [threading.Thread(target=self._work, name=f"board-decode-{i}",
                                          daemon=True) for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()
        self._fill()

    def __contains__(self, path: str) -> bool:
        return path in self._paths

    def take(self, path: str, timeout: float, on_wait=None, every: float = 0.25) -> FileResult:
        """The result for ``path``; raises what decoding raised, or TimeoutError after
        ``timeout`` seconds. While waiting, ``on_wait()`` is called every ``every`` seconds."""
        self._paths.discard(path)
        if path not in self._futures:  # taken out of order: decode it next
            self._todo.remove(path)
            self._todo.append(path)
            self._fill(extra=1)
        future = self._futures.pop(path)
        self._fill()
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = future.result(min(every, max(0.0, deadline - time.monotonic())))
                break
            except FutureTimeout:
                if time.monotonic() >= deadline:
                    raise
                if on_wait is not None:
                    on_wait()
        self.decoded += 1
        return result

    def close(self) -> None:
        """Cancel what has not started; running decodes stop after their current window."""
        self._stop.set()
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self._todo.clear()
        self._paths.clear()
        for _ in self._threads:
            self._queue.put(None)

    def _fill(self, extra: int = 0) -> None:
        while self._todo and len(self._futures) < self._ahead + extra \
                and not self._stop.is_set():
            path = self._todo.pop()
            future: Future = Future()
            self._futures[path] = future
            self._queue.put((future, path))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, path = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                tail = self._opener(path) if self._opener is not None else None
                result = decode_file(path, self._max_record_bytes, self._stop, tail=tail)
            except BaseException as exc:  # noqa: BLE001 - handed to the loader thread
                future.set_exception(exc)
            else:
                future.set_result(result)
