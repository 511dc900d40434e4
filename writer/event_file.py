"""The one module that does file I/O for event files (formats.md §1.3, §2).

- :class:`RecordTail` reads a TFRecord file that may still be growing and returns the whole
  records that arrived since the last call.
- :func:`read_record_at` re-reads one record by offset (images are fetched on demand).
- :class:`EventFileWriter` appends framed records for :class:`writer.SummaryWriter`.

Durability choice: ``flush()`` hands every accepted byte to the operating system with
``os.write`` before it returns. From then on the data survives a crash of the process and is
visible to any reader (the board tails files through the same page cache). It does not
``fsync`` on every flush: that costs milliseconds per call on real disks and protects only
against a power loss or kernel crash. TensorBoard's Python writer (used by
``torch.utils.tensorboard``) makes the same choice; TF's C++ ``EventsWriter`` syncs on every
flush. ``close()`` (and ``flush(fsync=True)``) also fsync, once.
"""

from __future__ import annotations

import atexit
import errno
import os
import sys
import threading
import weakref

import numpy as np

from writer import object_file
from writer.record import (
    HEADER_SIZE,
    MAX_RECORD_BYTES,
    Decoded,
    Frames,
    RecordError,
    Window,
    frame,
    frame_length,
    records_of,
)
from writer.storage import StorageError, is_url, local_path, redact_url

_READ_CHUNK = 4 << 20
_OBJECT_MAX_BYTES = 8 << 20  # buffered before an upload on object storage without flush()


class EventFileError(OSError):
    """An event file could not be created or written; the message says which and why."""


class RecordTail:
    """Incremental reader over a TFRecord file that another process may still be appending to.

    ``read()`` returns the whole records that arrived since the previous call, with absolute
    file offsets, and advances ``offset`` past them. ``read_frames()`` is the same read as
    numpy windows (the buffer and its :class:`writer.record.Frames`), with no Python object per
    record. A partial tail is left for the next call. After a corrupt length header, a length
    above ``max_record_bytes``, or if the file shrinks below ``offset`` (truncated or replaced),
    the file is stopped: ``error`` is set and every later read returns no records. A missing
    file raises ``FileNotFoundError``.

    Memory: a read holds one window of at most 4 MiB, or one record if it is bigger; it never
    allocates more than the file holds past ``offset``.
    """

    def __init__(self, path: str | os.PathLike, offset: int = 0, *,
                 max_record_bytes: int = MAX_RECORD_BYTES):
        self.path = os.fspath(path)
        self.offset = offset
        self.max_record_bytes = max_record_bytes
        self.error: RecordError | None = None
        self._file = None

    def read(self) -> Decoded:
        records, bad_crc = records_of(self.read_frames())
        return Decoded(records, self.offset, bad_crc, self.error)

    def read_frames(self, window: int = _READ_CHUNK):
        """Yield a :class:`Window` for each stretch of new whole records (see ``frame``).

        ``frames.starts`` index into ``buf`` (a ``uint8`` array) whose first byte is at file
        position ``start``. ``offset`` and ``error`` advance as windows are yielded.
        """
        if self.error is not None:
            return
        if self._file is None:
            self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 - kept open between reads
        f = self._file
        size = os.fstat(f.fileno()).st_size
        if size < self.offset:
            self.error = RecordError(
                f"the file shrank to {size} bytes after {self.offset} had been read: it was "
                "truncated or replaced, so it is no longer followed",
                self.offset,
            )
            return
        while size - self.offset >= HEADER_SIZE:
            start = self.offset
            buf = _read_at(f, start, min(size - start, window))
            fr = frame(buf, base=start, max_record_bytes=self.max_record_bytes)
            if fr.offset == start and fr.error is None:
                # Nothing whole in the window: either a partial tail, or one frame bigger
                # than the window. Read that frame whole only if the file already holds it.
                try:
                    total = frame_length(buf[:HEADER_SIZE].tobytes(), start,
                                         max_record_bytes=self.max_record_bytes)
                except RecordError as exc:
                    fr = Frames(fr.starts, fr.lengths, start, 0, exc)
                else:
                    if total > size - start:
                        break
                    buf = _read_at(f, start, total)
                    fr = frame(buf, base=start, max_record_bytes=self.max_record_bytes)
            self.offset = fr.offset
            self.error = fr.error
            yield Window(start, buf, fr)
            if fr.error is not None:
                break

    def close(self) -> None:
        """Close the file handle; a later ``read()`` reopens the file and seeks back."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_at(f, offset: int, n: int) -> np.ndarray:
    """Exactly ``n`` bytes at ``offset`` (fewer only if the file shrank meanwhile)."""
    buf = np.empty(n, np.uint8)
    f.seek(offset)
    got = f.readinto(memoryview(buf))
    while got < n:
        more = f.readinto(memoryview(buf)[got:])
        if not more:
            return buf[:got]
        got += more
    return buf


def read_records(path: str | os.PathLike) -> Decoded:
    """Every whole record of a file, in one call (a convenience over :class:`RecordTail`)."""
    with RecordTail(path) as tail:
        return tail.read()


def read_record_at(path: str | os.PathLike, offset: int, *,
                   max_record_bytes: int = MAX_RECORD_BYTES) -> bytes:
    """Payload of the record whose frame starts at ``offset``; RecordError if it is damaged."""
    if is_url(path):
        return object_file.read_record_at(path, offset)
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(offset)
        header = f.read(HEADER_SIZE)
        total = frame_length(header, offset, max_record_bytes=max_record_bytes)
        if offset + total > size:
            raise RecordError(
                f"record at byte {offset} of {os.fspath(path)!r} needs {total} bytes but the "
                f"file ends after {size - offset}",
                offset,
            )
        f.seek(offset)
        data = f.read(total)
    fr = frame(data, max_record_bytes=max_record_bytes)
    if fr.bad_crc or not len(fr.starts):
        raise RecordError(
            f"record at byte {offset} of {os.fspath(path)!r} has a bad payload CRC", offset
        )
    return data[HEADER_SIZE : HEADER_SIZE + int(fr.lengths[0])]


# Writers not yet closed, flushed and closed at interpreter exit.
_OPEN_WRITERS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all_at_exit() -> None:
    for w in list(_OPEN_WRITERS):
        try:
            w.close()
        except OSError:
            pass


def _forget_parent_buffers() -> None:
    # A forked child inherits the parent's buffered records; the parent writes them, so the
    # child must not (at its exit, or on its first flush). Its lock may have been held by
    # another thread at fork time, so it gets a fresh one.
    for w in list(_OPEN_WRITERS):
        w._lock = threading.Lock()
        w._buf.clear()
        w._pending = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_buffers)


def _explain(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full; free some space, then call flush() again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the location is not writable; choose a logdir you can write to"
    return "check that the path exists and is writable"


class EventFileWriter:
    """Thread-safe appender of framed records to one file.

    Records are appended under a lock to an in-memory ``bytearray`` and handed to the OS when
    more than ``max_queue`` records are waiting, when the buffer passes ``max_bytes``, on
    ``flush()``, every ``flush_secs`` by a daemon timer, and on ``close()`` (an interpreter
    exit closes writers that are still open). A write that fails (disk full) raises
    :class:`EventFileError` and keeps the unwritten bytes, so nothing accepted is dropped;
    the next ``flush()`` retries. Only whole records are buffered, so a process that dies
    leaves at most one torn record at the end of the file.

    A ``path`` on object storage (``s3://…``, see ``writer.object_file``) is written as one
    new object per drain: there, records are uploaded on ``flush()``, every ``flush_secs``,
    past 8 MiB and on ``close()``, not per ``max_queue`` records (each would be an object).
    A failed upload raises the same way and keeps the records for the next ``flush()``.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        max_queue: int = 10,
        flush_secs: float = 120,
        max_bytes: int = 1 << 20,
    ):
        self.path = os.fspath(path)
        if max_queue < 0:
            raise ValueError(f"max_queue must be >= 0, got {max_queue!r}")
        if not (isinstance(flush_secs, (int, float)) and flush_secs > 0):
            raise ValueError(
                f"flush_secs must be a positive number of seconds (inf: no timer), got {flush_secs!r}"
            )
        self._objects = None
        if is_url(self.path):
            self._fd = None
            self._objects = object_file.ObjectAppender(self.path)
            max_queue, max_bytes = sys.maxsize, _OBJECT_MAX_BYTES
        else:
            self.path = local_path(self.path)
        try:
            if self._objects is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise EventFileError(
                exc.errno, f"cannot create event file {self.path!r}: {exc.strerror}; {_explain(exc)}"
            ) from exc
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._pending = 0
        self._max_queue = max_queue
        self._max_bytes = max_bytes
        self._closed = False
        self._stop = threading.Event()
        _OPEN_WRITERS.add(self)
        if flush_secs != float("inf"):
            threading.Thread(
                target=_flush_periodically, args=(weakref.ref(self), self._stop, flush_secs),
                name=f"numboard-flush:{os.path.basename(self.path)}", daemon=True,
            ).start()

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, framed: bytes) -> None:
        """Append one or more whole framed records (see ``record.encode_record``)."""
        with self._lock:
            if self._closed:
                raise ValueError(f"event file {self.path!r} is closed; open a new writer")
            self._buf += framed
            self._pending += 1
            if self._pending > self._max_queue or len(self._buf) >= self._max_bytes:
                self._drain()

    def flush(self, fsync: bool = False) -> None:
        """Return once every record accepted so far has been handed to the OS."""
        with self._lock:
            if self._closed:
                return
            self._drain()
            if fsync and self._fd is not None:
                _fsync(self._fd, self.path)

    def __del__(self):
        # A writer dropped without close() still gets its buffered records written.
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing can be raised from a finaliser
            pass

    def close(self) -> None:
        """Flush, fsync and close. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._stop.set()
            try:
                self._drain()
                if self._objects is not None:
                    self._objects.close()
                else:
                    _fsync(self._fd, self.path)
            finally:
                if not self._buf:
                    self._closed = True
                    if self._fd is not None:
                        os.close(self._fd)
                    _OPEN_WRITERS.discard(self)

    def _drain(self) -> None:
        buf = self._buf
        if self._objects is not None and buf:
            try:
                self._objects.append(buf)
            except StorageError as exc:
                raise EventFileError(
                    errno.EIO,
                    f"could not upload {len(buf)} bytes of events to {redact_url(self.path)!r}: "
                    f"{exc}. The events stay in memory and the next flush() uploads them; do "
                    "not add them again.",
                ) from None
        while buf:
            try:
                n = os.write(self._fd, buf)
            except OSError as exc:
                raise EventFileError(
                    exc.errno,
                    f"could not write {len(buf)} bytes of events to {self.path!r}: "
                    f"{exc.strerror}; {_explain(exc)}. The events stay in memory and the next "
                    "flush() writes them; do not add them again.",
                ) from exc
            del buf[:n]
        self._pending = 0

    def _timer_flush(self) -> None:
        # A failure here (disk full) keeps the bytes; the next write past max_queue, flush()
        # or close() retries and raises in the caller's thread.
        with self._lock:
            if self._closed or not self._buf:
                return
            try:
                self._drain()
            except EventFileError:
                pass


def _fsync(fd: int, path: str) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOTSUP):
            return  # a pipe or device: nothing to sync
        raise EventFileError(exc.errno, f"could not sync {path!r}: {exc.strerror}; {_explain(exc)}") from exc


def _flush_periodically(ref, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        w = ref()
        if w is None:
            return
        w._timer_flush()
        del w
