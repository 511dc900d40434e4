"""The LevelDB table ("SSTable") format, as TensorFlow writes a checkpoint's `.index` file.

Specified in /work/shared/reference/formats.md §9 (from TF `table_builder.cc`, `block_builder.cc`,
`format.cc` and LevelDB's `doc/table_format.md`). Pure functions over bytes, no I/O:

* `build_table(items)` -> the bytes TF's `TableBuilder` writes for sorted (key, value) pairs:
  uncompressed data blocks of `block_size` (262144) bytes with prefix-compressed keys and a
  restart point every 16 entries, each block followed by a 5-byte trailer (type byte 0 and the
  masked CRC32C of block + type), an empty metaindex block, an index block (restart interval 1)
  mapping a short separator key to each data block's handle, and the 48-byte footer ending in
  the magic 0xdb4775248b80fb57.
* `read_table(buf)` -> the (key, value) pairs, checking the footer magic, every block CRC and
  the key order. Problems raise `TableError` naming the byte offset.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from writer.crc import crc32c, mask

BLOCK_SIZE = 262144
RESTART_INTERVAL = 16
FOOTER_SIZE = 48
TRAILER_SIZE = 5
MAGIC = 0xDB4775248B80FB57
_NO_COMPRESSION = 0
_SNAPPY = 1
_OVERLY_LARGE_BLOCK_RATIO = 2


class TableError(ValueError):
    """A malformed or corrupt table; the message names the byte offset and the source."""


# --- varints (LevelDB / protobuf base-128, little-endian groups) -------------------------

def encode_varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_varint(buf: bytes | memoryview, pos: int, limit: int | None = None) -> tuple[int, int]:
    """Return (value, position after it); raise TableError if it runs past `limit`."""
    limit = len(buf) if limit is None else limit
    result = shift = 0
    while True:
        if pos >= limit or shift > 63:
            raise TableError(f"truncated or overlong varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


# --- key shortening (LevelDB BytewiseComparator) -----------------------------------------

def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (`FindShortestSeparator`)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """A short key k >= key (`FindShortSuccessor`): bump the first byte that is not 0xff."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


# --- writing ------------------------------------------------------------------------------

class _BlockBuilder:
    """One block: prefix-compressed entries, then the restart offsets and their count."""

    def __init__(self, restart_interval: int):
        self.restart_interval = restart_interval
        self.reset()

    def reset(self) -> None:
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""
        self.empty = True

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.restart_interval:
            n = min(len(self.last_key), len(key))
            while shared < n and self.last_key[shared] == key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        self.buffer += encode_varint(shared) + encode_varint(len(key) - shared)
        self.buffer += encode_varint(len(value)) + key[shared:] + value
        self.last_key = key
        self.counter += 1
        self.empty = False

    def size_estimate(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        tail = struct.pack(f"<{len(self.restarts)}I", *self.restarts)
        return bytes(self.buffer) + tail + struct.pack("<I", len(self.restarts))


def _handle(offset: int, size: int) -> bytes:
    return encode_varint(offset) + encode_varint(size)


def build_table(items: Iterable[tuple[bytes, bytes]], *, block_size: int = BLOCK_SIZE,
                restart_interval: int = RESTART_INTERVAL) -> bytes:
    """Serialize (key, value) pairs, given in strictly increasing bytewise key order."""
    out = bytearray()
    data = _BlockBuilder(restart_interval)
    index = _BlockBuilder(1)
    last_key: bytes | None = None
    pending: bytes | None = None  # handle of the last flushed block, awaiting its index key

    def write_block(block: _BlockBuilder) -> bytes:
        contents = block.finish() + bytes([_NO_COMPRESSION])
        offset = len(out)
        out.extend(contents + struct.pack("<I", mask(crc32c(contents))))
        block.reset()
        return _handle(offset, len(contents) - 1)

    for key, value in items:
        key, value = bytes(key), bytes(value)
        if last_key is not None:
            if key <= last_key:
                raise TableError(f"keys must be strictly increasing: {key[:60]!r} after "
                                 f"{last_key[:60]!r}; sort the items before building")
            if len(key) + len(value) >= _OVERLY_LARGE_BLOCK_RATIO * block_size and not data.empty:
                pending = write_block(data)
        if pending is not None:
            index.add(shortest_separator(last_key, key), pending)
            pending = None
        last_key = key
        data.add(key, value)
        if data.size_estimate() >= block_size:
            pending = write_block(data)
    if not data.empty:
        pending = write_block(data)
    metaindex = write_block(_BlockBuilder(restart_interval))
    if pending is not None:
        index.add(short_successor(last_key), pending)
    index_handle = write_block(index)
    footer = (metaindex + index_handle).ljust(FOOTER_SIZE - 8, b"\0")
    out.extend(footer + struct.pack("<Q", MAGIC))
    return bytes(out)


# --- reading ------------------------------------------------------------------------------

def _read_handle(buf, pos: int, limit: int) -> tuple[int, int, int]:
    offset, pos = decode_varint(buf, pos, limit)
    size, pos = decode_varint(buf, pos, limit)
    return offset, size, pos


def _block(buf: memoryview, offset: int, size: int, what: str, source: str) -> memoryview:
    """The contents of the block at (offset, size), after checking its trailer."""
    end = offset + size
    if end + TRAILER_SIZE > len(buf) - FOOTER_SIZE or offset < 0:
        raise TableError(f"{source}: {what} at byte {offset} (size {size}) runs past the end of "
                         f"the {len(buf)}-byte table; the file is truncated or corrupt")
    kind = buf[end]
    (stored,) = struct.unpack_from("<I", buf, end + 1)
    if mask(crc32c(bytes(buf[offset:end + 1]))) != stored:
        raise TableError(f"{source}: {what} at byte {offset} has a bad CRC32C "
                         f"(stored {stored:#010x}); the file is corrupt")
    if kind == _SNAPPY:
        raise TableError(f"{source}: {what} at byte {offset} is Snappy-compressed, which this "
                         "reader does not support (TensorFlow never compresses bundle indexes)")
    if kind != _NO_COMPRESSION:
        raise TableError(f"{source}: {what} at byte {offset}: bad block type {kind}")
    return buf[offset:end]


def _entries(block: memoryview, base: int, source: str) -> list[tuple[bytes, bytes]]:
    """Decode a block's entries; `base` is its offset in the table (for messages)."""
    if len(block) < 4:
        raise TableError(f"{source}: block at byte {base} is too short ({len(block)} bytes)")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise TableError(f"{source}: block at byte {base} claims {num_restarts} restarts, "
                         f"more than its {len(block)} bytes hold")
    items: list[tuple[bytes, bytes]] = []
    key = b""
    pos = 0
    while pos < limit:
        start = pos
        shared, pos = decode_varint(block, pos, limit)
        non_shared, pos = decode_varint(block, pos, limit)
        value_len, pos = decode_varint(block, pos, limit)
        if shared > len(key) or pos + non_shared + value_len > limit:
            raise TableError(f"{source}: bad entry at byte {base + start}")
        key = key[:shared] + bytes(block[pos:pos + non_shared])
        pos += non_shared
        items.append((key, bytes(block[pos:pos + value_len])))
        pos += value_len
    return items


def index_entries(buf: bytes | memoryview, source: str = "table"
                  ) -> list[tuple[bytes, int, int]]:
    """The index block: (separator key, data block offset, data block size) per data block."""
    buf = memoryview(buf)
    if len(buf) < FOOTER_SIZE:
        raise TableError(f"{source}: {len(buf)} bytes is shorter than the {FOOTER_SIZE}-byte "
                         "table footer; the file is truncated or not a checkpoint .index")
    footer = len(buf) - FOOTER_SIZE
    (magic,) = struct.unpack_from("<Q", buf, footer + 40)
    if magic != MAGIC:
        raise TableError(f"{source}: not an sstable (bad magic number {magic:#018x}); the file "
                         "is truncated or not a checkpoint .index")
    _, _, pos = _read_handle(buf, footer, footer + 40)  # metaindex: always empty, unused
    index_offset, index_size, _ = _read_handle(buf, pos, footer + 40)
    index = _block(buf, index_offset, index_size, "index block", source)
    out = []
    for key, handle in _entries(index, index_offset, source):
        offset, size, _ = _read_handle(handle, 0, len(handle))
        out.append((key, offset, size))
    return out


def read_table(buf: bytes | memoryview, source: str = "table") -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of a table, in key order. `source` names it in errors."""
    buf = memoryview(buf)
    items: list[tuple[bytes, bytes]] = []
    for _, offset, size in index_entries(buf, source):
        block = _block(buf, offset, size, "data block", source)
        for key, value in _entries(block, offset, source):
            if items and key <= items[-1][0]:
                raise TableError(f"{source}: key {key[:60]!r} out of order in block at {offset}")
            items.append((key, value))
    return items
