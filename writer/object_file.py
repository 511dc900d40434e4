"""An event file on object storage: appended as a series of immutable objects.

Objects cannot be appended to, so an event file ``L`` (a URL such as
``s3://b/run/events.out.tfevents.…``) is kept as objects named by the byte range of ``L``
they hold::

    L.0000000000000-0000000004512     bytes [0, 4512) of L: the first flush
    L.0000000004512-0000000009024     the second flush, …
    L.0000000000000-0000005246112     a merged object: every part whose range lies inside

Names sort in write order, each object holds whole records (a valid event file on its own:
TensorBoard reads the finished set), and a reader that knows how many bytes of ``L`` it has
read continues inside whichever object covers that offset, so it follows a merge exactly.

:class:`ObjectAppender` (behind ``EventFileWriter``) uploads each flush as one new object,
then compacts: once the parts since the last seal hold ``SEAL_BYTES`` (S3's 5 MiB minimum
part size) or number ``MAX_PARTS``, they are re-uploaded from memory as one object; every
``FANOUT`` objects of one level are merged into one of the next level: on the server
(UploadPartCopy) when the store can and all but the last are >= 5 MiB, else by download and
re-upload. Each byte is so uploaded about twice; the merged parts are then deleted.
:class:`ObjectTail` reads such a file (or any single object, as other writers leave) the
way ``RecordTail`` reads a local file.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from writer.record import (
    HEADER_SIZE,
    MAX_RECORD_BYTES,
    Decoded,
    Frames,
    RecordError,
    Window,
    decode_records,
    frame,
    frame_length,
    records_of,
)
from writer.storage import ObjectInfo, Storage, StorageError, redact_url, storage_for

SEAL_BYTES = 5 << 20  # S3's minimum size for a part joined on the server
MAX_PARTS = 2000  # flushes since the last seal before sealing anyway
FANOUT = 8  # objects of one level merged into one of the next
READ_BYTES = 16 << 20  # bytes fetched per ranged GET
_DIGITS = 13
_RANGE = re.compile(r"^(?P<file>.+)\.(?P<start>\d{13})-(?P<end>\d{13})$")
_FINGERPRINT = 16  # bytes before the read offset compared when a single object changes


class Piece(NamedTuple):
    """One object of an event file: bytes [start, end) of it."""

    url: str
    start: int
    end: int
    identity: str = ""
    ranged: bool = True  # False: a whole event file as one object (another writer's)


def object_url(file_url: str, start: int, end: int) -> str:
    return f"{file_url}.{start:0{_DIGITS}d}-{end:0{_DIGITS}d}"


def parse_object_url(url: str) -> tuple[str, int, int] | None:
    """(event-file URL, start, end) of a ranged object's URL; None for any other name."""
    m = _RANGE.match(url)
    if m is None or int(m["end"]) <= int(m["start"]):
        return None
    return m["file"], int(m["start"]), int(m["end"])


def group_pieces(objects: list[ObjectInfo]) -> dict[str, list[Piece]]:
    """Event-file URL -> its pieces (sorted by start), from one listing."""
    files: dict[str, list[Piece]] = {}
    for obj in objects:
        parsed = parse_object_url(obj.url)
        if parsed is not None and parsed[2] - parsed[1] == obj.size:
            name, start, end = parsed
            files.setdefault(name, []).append(Piece(obj.url, start, end, obj.identity))
        else:
            files.setdefault(obj.url, []).append(
                Piece(obj.url, 0, obj.size, obj.identity, ranged=False))
    for pieces in files.values():
        pieces.sort(key=lambda p: (p.start, -p.end))
    return files


def covering(pieces: list[Piece], offset: int) -> Piece | None:
    """The piece holding byte ``offset`` that reaches furthest (a merged one over its parts)."""
    best = None
    for p in pieces:
        if p.start <= offset < p.end and (best is None or p.end > best.end):
            best = p
    return best


class _Held(NamedTuple):
    url: str
    start: int
    end: int
    level: int  # 0: one flush; n: a merge of objects of level n - 1


class ObjectAppender:
    """Appends whole records to an event file on object storage (see the module docstring)."""

    def __init__(self, file_url: str):
        self.url = file_url
        self.storage: Storage = storage_for(file_url)
        self.offset = 0  # bytes of the event file durable in the store
        self.uploaded = 0  # bytes sent, merges included (benchmarks/s3.py reports it)
        self._held: list[_Held] = []  # the file's objects, in order
        self._unsealed = bytearray()  # bytes of the level-0 objects at the end of _held
        self._doomed: list[str] = []  # merged objects whose deletion failed: retried

    @property
    def objects(self) -> list[str]:
        return [h.url for h in self._held]

    def append(self, buf: bytearray) -> None:
        """Upload ``buf`` as one new object and empty it; on failure raise and keep it."""
        if not buf:
            return
        data = bytes(buf)
        end = self.offset + len(data)
        url = object_url(self.url, self.offset, end)
        self.storage.put(url, data)
        self.uploaded += len(data)
        del buf[:len(data)]
        self._held.append(_Held(url, self.offset, end, 0))
        self._unsealed += data
        self.offset = end
        self.compact(final=False)

    def compact(self, final: bool) -> None:
        """Seal and merge as the module docstring says; ``final`` seals any tail (close)."""
        try:
            parts = [h for h in self._held if h.level == 0]
            if len(parts) > 1 and (final or len(self._unsealed) >= SEAL_BYTES
                                   or len(parts) >= MAX_PARTS):
                self._replace(parts, bytes(self._unsealed))
                self._unsealed.clear()
            while self._merge_level():
                pass
            if self._doomed:
                self.storage.delete(self._doomed)
                self._doomed.clear()
        except StorageError:
            pass  # every object is still a valid part of the file: the next flush retries

    def _merge_level(self) -> bool:
        tail = self._held[-FANOUT:]
        level = tail[0].level if tail else 0
        if len(tail) < FANOUT or level == 0 or any(h.level != level for h in tail):
            return False
        big = all(h.end - h.start >= SEAL_BYTES for h in tail[:-1])
        if big and self.storage.can_join:
            self._replace(tail, None)
        elif big:
            return False  # no server-side join here: big objects stay as they are
        else:
            self._replace(tail, b"".join(self.storage.read(h.url) for h in tail))
        return True

    def _replace(self, group: list[_Held], data: bytes | None) -> None:
        """One object for ``group`` (uploaded ``data``, or joined on the server if None)."""
        start, end = group[0].start, group[-1].end
        url = object_url(self.url, start, end)
        if data is None:
            self.storage.join(url, [h.url for h in group])
        else:
            self.storage.put(url, data)
            self.uploaded += len(data)
        level = max(h.level for h in group) + 1
        i = self._held.index(group[0])
        self._held[i:i + len(group)] = [_Held(url, start, end, level)]
        self._doomed += [h.url for h in group]

    def close(self) -> None:
        self.compact(final=True)


class ObjectTail:
    """Reads an event file on object storage that may still be growing (like RecordTail).

    The caller hands it the file's pieces from each listing (``pieces``); ``read()`` fetches
    the bytes after ``offset`` with ranged GETs from whichever piece covers them. A piece
    missing between the listing and the GET (merged and deleted meanwhile) just ends this
    read: the next listing shows the merged object. A single object replaced by one whose
    bytes before ``offset`` differ (rewritten, not appended) stops the file, as a truncated
    local file does, so no point is served twice.
    """

    def __init__(self, file_url: str, offset: int = 0, *,
                 max_record_bytes: int = MAX_RECORD_BYTES):
        self.path = file_url
        self.offset = offset
        self.max_record_bytes = max_record_bytes
        self.error: RecordError | None = None
        self.pieces: list[Piece] = []
        self._identity: str | None = None
        self._fingerprint = b""
        self._storage = storage_for(file_url)

    def read(self) -> Decoded:
        """The whole records after ``offset`` (see ``read_frames``), as ``Record`` objects."""
        records, bad_crc = records_of(self.read_frames())
        return Decoded(records, self.offset, bad_crc, self.error)

    def read_frames(self):
        """Yield a ``writer.record.Window`` (numpy buffer and its frames, no Python object
        per record) for each ranged GET of whole records after ``offset``, which advances as
        windows are yielded. A failure before the first window raises ``StorageError``; after
        it, the read just ends there (the next one retries)."""

        yielded = False
        while self.error is None:
            piece = covering(self.pieces, self.offset)
            if piece is None:
                self._check_shrunk()
                break
            skip = self._check_replaced(piece)
            if self.error is not None:
                break
            start = self.offset - piece.start - skip
            try:
                buf = self._storage.read(piece.url, start, min(piece.end, start + READ_BYTES))
            except StorageError as exc:
                if exc.kind == "missing" or yielded:
                    break  # merged and deleted since the listing (the next one shows it),
                    # or the store failed after some records: keep those, retry later
                raise
            if skip:
                if buf[:skip] != self._fingerprint:
                    self._stop("was replaced by an object with other content")
                    break
                buf = buf[skip:]
            arr, fr = self._frame(buf, piece)
            used = fr.offset - self.offset
            if used == 0 and fr.error is None:
                break  # a record not yet whole
            self._fingerprint = arr[max(0, used - _FINGERPRINT):used].tobytes()
            self._identity = piece.identity
            window = Window(self.offset, arr, fr)
            self.offset = fr.offset
            self.error = fr.error
            yielded = True
            yield window

    def _frame(self, buf: bytes, piece: Piece) -> tuple[np.ndarray, Frames]:
        arr = np.frombuffer(buf, np.uint8)
        fr = frame(arr, 0, base=self.offset, max_record_bytes=self.max_record_bytes)
        if fr.offset == self.offset and fr.error is None and len(buf) >= HEADER_SIZE \
                and len(buf) == READ_BYTES:
            # One frame bigger than a window: fetch it whole if the piece holds it.
            total = frame_length(buf[:HEADER_SIZE], self.offset,
                                 max_record_bytes=self.max_record_bytes)
            if self.offset + total <= piece.end:
                at = self.offset - piece.start
                arr = np.frombuffer(self._storage.read(piece.url, at, at + total), np.uint8)
                fr = frame(arr, 0, base=self.offset, max_record_bytes=self.max_record_bytes)
        return arr, fr

    def _check_replaced(self, piece: Piece) -> int:
        """Bytes to re-fetch before ``offset`` to prove a changed single object only grew."""
        if piece.ranged or self._identity is None or piece.identity == self._identity:
            return 0
        return len(self._fingerprint)

    def _check_shrunk(self) -> None:
        whole = [p for p in self.pieces if not p.ranged]
        if whole and self.offset > 0 and max(p.end for p in whole) < self.offset:
            self._stop(f"shrank to {max(p.end for p in whole)} bytes after {self.offset} "
                       "had been read")

    def _stop(self, why: str) -> None:
        self.error = RecordError(f"{redact_url(self.path)!r} {why}: it was truncated or "
                                 "replaced, so it is no longer followed", self.offset)

    def close(self) -> None:
        """Nothing is held open between reads."""


def read_pieces(file_url: str) -> list[Piece]:
    """The pieces of one event file, from one listing of its folder."""
    folder = file_url.rsplit("/", 1)[0]
    storage = storage_for(file_url)
    want = storage.path_of(file_url)
    found = group_pieces(storage.list(folder))
    for name, pieces in found.items():
        if storage.path_of(name) == want:
            return pieces
    return []


def read_record_at(file_url: str, offset: int) -> bytes:
    """Payload of the record at ``offset`` of an event file on object storage."""
    piece = covering(read_pieces(file_url), offset)
    if piece is None:
        raise FileNotFoundError(f"no object of {redact_url(file_url)!r} holds byte {offset}")
    storage = storage_for(file_url)
    at = offset - piece.start
    header = storage.read(piece.url, at, at + HEADER_SIZE)
    total = frame_length(header, offset)
    dec = decode_records(storage.read(piece.url, at, at + total), 0, base=offset)
    if dec.bad_crc or not dec.records:
        raise RecordError(f"record at byte {offset} of {redact_url(file_url)!r} is damaged",
                          offset)
    return dec.records[0].data
