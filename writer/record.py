"""TFRecord framing: pure functions over bytes, no I/O.

Format: formats.md §1.3 (TF ``record_writer.h``). Each record is::

    uint64 LE  length N
    uint32 LE  mask(crc32c(the 8 length bytes))
    N bytes    payload (for event files: one serialized Event)
    uint32 LE  mask(crc32c(payload))

Records are concatenated with no file header and no padding. Readers of event files must
expect a file that is still being written, so a short tail is "not written yet": framing
reports where it stopped and the caller resumes from that offset once more bytes have arrived.

:func:`frame` frames a whole buffer with numpy: every byte position whose 8 length bytes could
be a header (the top four are zero) is a candidate, the length CRCs of all candidates are
checked at once, and the chain of records is followed from the first one by array lookups;
only a break in the chain (the tail, a corrupt header, a record longer than 4 GiB) is looked at
one record at a time. :func:`decode_records` is the same framing with the payloads returned as
``bytes``.

A length above ``max_record_bytes`` (default :data:`MAX_RECORD_BYTES`) is treated like a
corrupt header: nothing after it is read, and nothing is allocated for it. Real records (images,
graphs) stay far below it; a damaged or hostile header claiming gigabytes would otherwise make a
reader wait for, or allocate, bytes that will never be real.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from writer.crc import crc32c, crc32c_rows, crc32c_u64, mask

HEADER_SIZE = 12
FOOTER_SIZE = 4
FRAME_OVERHEAD = HEADER_SIZE + FOOTER_SIZE
MAX_RECORD_BYTES = 256 << 20
_HEADER = struct.Struct("<QI")
_LEN = struct.Struct("<Q")
_U32 = struct.Struct("<I")


class RecordError(ValueError):
    """A frame whose length header is corrupt: nothing after ``offset`` can be trusted."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


class Record(NamedTuple):
    offset: int  # where the frame starts
    data: bytes  # the payload


class Decoded(NamedTuple):
    records: list[Record]
    offset: int  # where decoding stopped: the start of the first frame not returned
    bad_crc: int  # records skipped because their payload CRC did not match
    error: RecordError | None  # a bad length CRC: the stream stops at ``offset``


class Frames(NamedTuple):
    """The good records of a buffer, as columns (positions relative to the buffer)."""

    starts: np.ndarray  # int64: where each payload starts
    lengths: np.ndarray  # int64: payload sizes
    offset: int  # absolute: the start of the first frame not framed (resume here)
    bad_crc: int  # records dropped because their payload CRC did not match
    error: RecordError | None  # a corrupt or oversized header at ``offset``: stop there


class Window(NamedTuple):
    """A stretch of a file read in one go: its bytes and the frames found in them."""

    start: int  # file position of buf[0]
    buf: np.ndarray  # uint8
    frames: Frames


def records_of(windows) -> tuple[list[Record], int]:
    """The ``Record`` objects of successive windows, and the CRC failures they counted."""
    records: list[Record] = []
    bad_crc = 0
    for win in windows:
        fr = win.frames
        raw = win.buf.tobytes() if len(fr.starts) else b""
        records.extend(Record(win.start + s - HEADER_SIZE, raw[s : s + n])
                       for s, n in zip(fr.starts.tolist(), fr.lengths.tolist(), strict=True))
        bad_crc += fr.bad_crc
    return records, bad_crc


# Length headers repeat (every scalar event of a run has nearly the same size), so their
# masked CRCs are memoised. Bounded: only small lengths are cached.
_LEN_CRC_CACHE: dict[int, int] = {}
_LEN_CRC_CACHE_MAX = 1 << 16


def length_crc(length: int) -> int:
    """Masked CRC32C of the 8-byte little-endian ``length`` header field."""
    cached = _LEN_CRC_CACHE.get(length)
    if cached is None:
        cached = mask(crc32c(_LEN.pack(length)))
        if length < _LEN_CRC_CACHE_MAX:
            _LEN_CRC_CACHE[length] = cached
    return cached


def encode_record(data: bytes) -> bytes:
    """Frame one payload as a TFRecord (header + payload + footer)."""
    n = len(data)
    return b"".join((_HEADER.pack(n, length_crc(n)), data, _U32.pack(mask(crc32c(data)))))


def check_max_record_bytes(value: int) -> int:
    """Validate a record size cap (a CLI flag): a positive int, returned unchanged."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_record_bytes must be a positive number of bytes, got {value!r}; "
                         f"the default is {MAX_RECORD_BYTES} (256 MiB)")
    return value


def _header_error(offset: int, length: int, stored: int, max_record_bytes: int
                  ) -> RecordError | None:
    expected = length_crc(length)
    if expected != stored:
        return RecordError(
            f"corrupt record header at byte {offset}: the length CRC does not match; the "
            "rest of this file cannot be read", offset)
    if length > max_record_bytes:
        return RecordError(
            f"record at byte {offset} claims {length} bytes, more than the limit of "
            f"{max_record_bytes} (--max_record_bytes); the file is treated as corrupt from "
            "here", offset)
    return None


def _as_array(buf) -> np.ndarray:
    if isinstance(buf, np.ndarray):
        if buf.dtype != np.uint8 or buf.ndim != 1:
            raise ValueError(f"expected a 1-D uint8 array, got {buf.dtype} with shape {buf.shape}")
        return buf
    return np.frombuffer(buf, np.uint8)


def _words(buf: np.ndarray) -> np.ndarray:
    """``words[i]`` = the little-endian uint32 at byte i (an unaligned strided view, no copy)."""
    n = max(len(buf) - 3, 0)
    return np.ndarray((n,), "<u4", buf, 0, (1,)) if n else np.empty(0, "<u4")


_BLOCK = 512 << 10  # header positions examined per numpy pass: bounds the temporaries


def _candidates(buf: np.ndarray, words: np.ndarray, lo: int, hi: int, max_record_bytes: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Header positions in [lo, hi) with a valid length CRC whose whole frame is in ``buf``.

    ``hi + 7 < len(buf)`` is the caller's promise.
    """
    last = len(buf) - FRAME_OVERHEAD  # a frame starting later cannot be whole
    zero = buf[lo + 4 : hi + 7] == 0
    pair = zero[:-1] & zero[1:]
    pos = np.flatnonzero(pair[:-2] & pair[2:]) + lo  # bytes pos+4 .. pos+7 are zero
    length = words[pos]
    fits = (length <= min(max_record_bytes, 0xFFFFFFFF)) & (length.astype(np.int64) <= last - pos)
    pos, length = pos[fits], length[fits]
    ok = mask(crc32c_u64(length)) == words[pos + 8]
    return pos[ok], length[ok].astype(np.int64)


def frame(buf, offset: int = 0, *, base: int = 0,
          max_record_bytes: int = MAX_RECORD_BYTES) -> Frames:
    """Frame every whole record in ``buf[offset:]`` (bytes-like or a 1-D uint8 array).

    - A partial tail (fewer bytes than the header or than the length announces): stop there;
      ``Frames.offset`` is that frame's start, to resume from once more bytes are in.
    - A bad payload CRC: the record is left out and counted in ``bad_crc``.
    - A bad length CRC, or a length above ``max_record_bytes``: stop; ``error`` names the
      offset. Nothing after it can be framed.

    ``base`` is added to ``offset`` and ``error.offset`` (the file position of ``buf[0]``);
    ``starts`` stay relative to ``buf``.
    """
    arr = _as_array(buf)
    n = len(arr)
    if offset < 0 or offset > n:
        raise ValueError(f"offset {offset} is outside the buffer of {n} bytes")
    words = _words(arr)
    taken: list[tuple[int, int] | tuple[np.ndarray, np.ndarray]] = []
    error = None
    pos = offset
    hi = offset  # candidates are known for [.., hi)
    cand = nxt = breaks = np.empty(0, np.int64)
    cand_len = cand
    while True:
        if pos >= hi and n - pos >= FRAME_OVERHEAD:
            hi = min(pos + _BLOCK, n - FRAME_OVERHEAD + 1)
            cand, cand_len = _candidates(arr, words, pos, hi, max_record_bytes)
            nxt = cand + FRAME_OVERHEAD + cand_len
            # the chain does not go from cand[breaks[i]] to cand[breaks[i] + 1]
            breaks = np.flatnonzero(nxt[:-1] != cand[1:])
        k = int(np.searchsorted(cand, pos))
        if k < len(cand) and cand[k] == pos:  # a run of linked candidates from pos
            j = int(np.searchsorted(breaks, k))
            b = int(breaks[j]) if j < len(breaks) else len(cand) - 1
            taken.append((cand[k : b + 1], cand_len[k : b + 1]))
            pos = int(nxt[b])
            continue
        if n - pos < HEADER_SIZE:
            break  # not written yet
        length, stored = _HEADER.unpack_from(arr, pos)
        error = _header_error(base + pos, length, stored, max_record_bytes)
        if error is not None or pos + FRAME_OVERHEAD + length > n:
            break  # corrupt, or not written yet
        taken.append((pos, length))  # a frame the candidates missed (4 GiB or more)
        pos += FRAME_OVERHEAD + length
    starts, lengths = _gather(taken)
    starts += HEADER_SIZE
    good = mask(crc32c_rows(arr, starts, lengths)) == words[starts + lengths] \
        if len(starts) else np.ones(0, bool)
    bad = len(good) - int(np.count_nonzero(good))
    if bad:
        starts, lengths = starts[good], lengths[good]
    return Frames(starts, lengths, base + pos, bad, error)


def _gather(taken) -> tuple[np.ndarray, np.ndarray]:
    if not taken:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = [np.atleast_1d(np.asarray(s, np.int64)) for s, _ in taken]
    lengths = [np.atleast_1d(np.asarray(n, np.int64)) for _, n in taken]
    return np.concatenate(starts), np.concatenate(lengths)


def decode_records(buf: bytes | bytearray | memoryview, offset: int = 0, *, base: int = 0,
                   max_record_bytes: int = MAX_RECORD_BYTES) -> Decoded:
    """Decode every whole record in ``buf[offset:]``; the rules are :func:`frame`'s.

    ``base`` is added to every reported offset (the file position of ``buf[0]``), so callers
    reading a window of a file get absolute offsets.
    """
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    fr = frame(buf, offset, base=base, max_record_bytes=max_record_bytes)
    records = [Record(base + s - HEADER_SIZE, buf[s : s + n])
               for s, n in zip(fr.starts.tolist(), fr.lengths.tolist(), strict=True)]
    return Decoded(records, fr.offset, fr.bad_crc, fr.error)


def frame_length(header: bytes, offset: int = 0, *,
                 max_record_bytes: int = MAX_RECORD_BYTES) -> int:
    """Total frame size announced by a 12-byte header; RecordError on a bad or oversized one."""
    if len(header) < HEADER_SIZE:
        raise RecordError(f"record header at byte {offset} is truncated ({len(header)} of 12 bytes)", offset)
    length, stored = _HEADER.unpack_from(header)
    error = _header_error(offset, length, stored, max_record_bytes)
    if error is not None:
        raise error
    return HEADER_SIZE + length + FOOTER_SIZE
