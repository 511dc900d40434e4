"""TFRecord framing: pure functions over bytes, no I/O.

Format: formats.md §1.3 (TF ``record_writer.h``). Each record is::

    uint64 LE  length N
    uint32 LE  mask(crc32c(the 8 length bytes))
    N bytes    payload (for event files: one serialized Event)
    uint32 LE  mask(crc32c(payload))

Records are concatenated with no file header and no padding. Readers of event files must
expect a file that is still being written, so :func:`decode_records` treats a short tail as
"not written yet" and reports where it stopped; the caller resumes from that offset once more
bytes have arrived.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from writer.crc import MASK_DELTA, crc32c

HEADER_SIZE = 12
FOOTER_SIZE = 4
_HEADER = struct.Struct("<QI")
_LEN = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_MASK32 = 0xFFFFFFFF


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


# Length headers repeat (every scalar event of a run has nearly the same size), so their
# masked CRCs are memoised. Bounded: lengths are at most 2**64 distinct values but we only
# cache small ones.
_LEN_CRC_CACHE: dict[int, int] = {}
_LEN_CRC_CACHE_MAX = 1 << 16


def _masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & _MASK32


def length_crc(length: int) -> int:
    """Masked CRC32C of the 8-byte little-endian ``length`` header field."""
    cached = _LEN_CRC_CACHE.get(length)
    if cached is None:
        cached = _masked(_LEN.pack(length))
        if length < _LEN_CRC_CACHE_MAX:
            _LEN_CRC_CACHE[length] = cached
    return cached


def encode_record(data: bytes) -> bytes:
    """Frame one payload as a TFRecord (header + payload + footer)."""
    n = len(data)
    return b"".join((_HEADER.pack(n, length_crc(n)), data, _U32.pack(_masked(data))))


def decode_records(buf: bytes | bytearray | memoryview, offset: int = 0, *, base: int = 0) -> Decoded:
    """Decode every whole record in ``buf[offset:]``.

    - A partial tail (fewer bytes than the header or than the length announces): stop there;
      ``Decoded.offset`` is that frame's start, to resume from once more bytes are in.
      A length larger than what is left is such a tail: nothing is allocated for it.
    - A bad payload CRC: the record is skipped and counted in ``bad_crc``.
    - A bad length CRC: stop; ``error`` names the offset. The length cannot be trusted, so
      nothing after it can be framed.

    ``base`` is added to every reported offset (the file position of ``buf[0]``), so callers
    reading a window of a file get absolute offsets.
    """
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    if offset < 0 or offset > len(buf):
        raise ValueError(f"offset {offset} is outside the buffer of {len(buf)} bytes")
    size = len(buf)
    records: list[Record] = []
    append = records.append
    new_record = tuple.__new__  # Record(...) without its Python-level __new__ frame
    unpack_header = _HEADER.unpack_from
    unpack_u32 = _U32.unpack_from
    cache = _LEN_CRC_CACHE
    bad_crc = 0
    error = None
    while size - offset >= HEADER_SIZE:
        length, stored_len_crc = unpack_header(buf, offset)
        expected = cache.get(length)
        if expected is None:
            expected = length_crc(length)
        if expected != stored_len_crc:
            error = RecordError(
                f"corrupt record header at byte {base + offset}: the length CRC does not "
                "match; the rest of this file cannot be read",
                base + offset,
            )
            break
        start = offset + HEADER_SIZE
        end = start + length
        if end + FOOTER_SIZE > size:
            break  # not written yet
        data = buf[start:end]
        crc = crc32c(data)
        if ((((crc >> 15) | (crc << 17)) + MASK_DELTA) & _MASK32) == unpack_u32(buf, end)[0]:
            append(new_record(Record, (base + offset, data)))
        else:
            bad_crc += 1
        offset = end + FOOTER_SIZE
    return Decoded(records, base + offset, bad_crc, error)


def frame_length(header: bytes, offset: int = 0) -> int:
    """Total frame size announced by a 12-byte header; raises RecordError on a bad length CRC."""
    if len(header) < HEADER_SIZE:
        raise RecordError(f"record header at byte {offset} is truncated ({len(header)} of 12 bytes)", offset)
    length, stored = _HEADER.unpack_from(header)
    if length_crc(length) != stored:
        raise RecordError(
            f"corrupt record header at byte {offset}: the length CRC does not match", offset
        )
    return HEADER_SIZE + length + FOOTER_SIZE
