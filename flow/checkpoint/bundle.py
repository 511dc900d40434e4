"""TensorFlow's tensor bundle (checkpoint V2): `.index` entries and the `.data` layout.

Specified in /work/shared/reference/formats.md §8 (from TF `tensor_bundle.cc` and
`tensor_bundle.proto`). Pure functions over bytes and numpy arrays, no I/O:

* The `.index` is an SSTable (`sstable.py`) whose key `""` holds a `BundleHeaderProto`
  (num_shards 1, little-endian, version {producer 1}: bytes `08 01 1a 02 08 01`) and every other
  key, a tensor name, holds a `BundleEntryProto` (dtype, shape, shard_id, offset, size and the
  *masked* CRC32C of the tensor's bytes).
* The `.data` file is the tensors' bytes back to back, no padding, in the order they were added
  (TF1's Saver adds them in sorted-name order, as `encode_bundle` does). Numeric tensors are raw
  little-endian C-order memory; a DT_STRING tensor is the varint lengths, a 4-byte masked CRC32C
  of the lengths (each as uint32 LE, uint64 if >= 2**32), then the strings.

Tensors are numpy arrays; strings are arrays of `bytes` with dtype object (as TF returns them).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import numpy as np

from flow.checkpoint import sstable
from writer.crc import crc32c, mask, unmask
from writer.proto import tensor_bundle_pb2, types_pb2

HEADER_KEY = b""
TENSOR_BUNDLE_VERSION = 1

# DataType enum value <-> numpy dtype (little-endian). DT_STRING is handled apart.
_NUMPY_BY_DTYPE = {
    types_pb2.DT_FLOAT: np.dtype("<f4"),
    types_pb2.DT_DOUBLE: np.dtype("<f8"),
    types_pb2.DT_HALF: np.dtype("<f2"),
    types_pb2.DT_INT8: np.dtype("i1"),
    types_pb2.DT_INT16: np.dtype("<i2"),
    types_pb2.DT_INT32: np.dtype("<i4"),
    types_pb2.DT_INT64: np.dtype("<i8"),
    types_pb2.DT_UINT8: np.dtype("u1"),
    types_pb2.DT_UINT16: np.dtype("<u2"),
    types_pb2.DT_UINT32: np.dtype("<u4"),
    types_pb2.DT_UINT64: np.dtype("<u8"),
    types_pb2.DT_BOOL: np.dtype("?"),
    types_pb2.DT_COMPLEX64: np.dtype("<c8"),
    types_pb2.DT_COMPLEX128: np.dtype("<c16"),
}
_DTYPE_BY_NUMPY = {dt.newbyteorder("="): enum for enum, dt in _NUMPY_BY_DTYPE.items()}


class BundleError(ValueError):
    """A checkpoint bundle that cannot be read or written; the message names the tensor."""


def dtype_name(enum: int) -> str:
    """`DT_FLOAT` style name of a DataType enum value (or its number if unknown)."""
    try:
        return types_pb2.DataType.Name(enum)
    except ValueError:
        return f"DataType {enum}"


def numpy_dtype(enum: int) -> np.dtype:
    """The numpy dtype stored for a DataType (object for DT_STRING)."""
    if enum == types_pb2.DT_STRING:
        return np.dtype(object)
    if enum not in _NUMPY_BY_DTYPE:
        raise BundleError(f"{dtype_name(enum)} tensors are not supported; supported dtypes: "
                          + ", ".join(sorted(dtype_name(e) for e in _NUMPY_BY_DTYPE)))
    return _NUMPY_BY_DTYPE[enum]


def data_type(value: np.ndarray) -> int:
    """The DataType enum value for an array (bytes/str/object arrays are DT_STRING)."""
    if value.dtype.kind in "OSU":
        return types_pb2.DT_STRING
    try:
        return _DTYPE_BY_NUMPY[value.dtype.newbyteorder("=")]
    except KeyError:
        raise BundleError(f"numpy dtype {value.dtype} has no TensorFlow checkpoint encoding; "
                          "cast it to a supported dtype first") from None


def header_bytes(num_shards: int = 1) -> bytes:
    """Serialized BundleHeaderProto: `08 01 1a 02 08 01` for one shard."""
    header = tensor_bundle_pb2.BundleHeaderProto(num_shards=num_shards)
    header.version.producer = TENSOR_BUNDLE_VERSION
    return header.SerializeToString()


# --- tensor bytes ------------------------------------------------------------------------

def _as_bytes(x) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, (bytearray, memoryview, np.bytes_)):
        return bytes(x)
    raise BundleError(f"string tensors hold bytes or str, got {type(x).__name__} {x!r}")


def _lengths_crc_input(lengths: list[int]) -> bytes:
    return b"".join(struct.pack("<I" if n <= 0xFFFFFFFF else "<Q", n) for n in lengths)


def encode_strings(value: np.ndarray) -> tuple[bytes, int]:
    """(data bytes, masked entry CRC) of a DT_STRING tensor (formats.md §8.7)."""
    strings = [_as_bytes(x) for x in np.asarray(value, dtype=object).reshape(-1)]
    lengths = [len(s) for s in strings]
    lengths_crc = struct.pack("<I", mask(crc32c(_lengths_crc_input(lengths))))
    body = b"".join(strings)
    data = b"".join(sstable.encode_varint(n) for n in lengths) + lengths_crc + body
    return data, mask(crc32c(_lengths_crc_input(lengths) + lengths_crc + body))


def encode_tensor(value) -> tuple[int, bytes, int]:
    """(DataType, data bytes, masked CRC32C) of one tensor as BundleWriter::Add stores it."""
    value = np.asarray(value)
    dtype = data_type(value)
    if dtype == types_pb2.DT_STRING:
        data, crc = encode_strings(value)
        return dtype, data, crc
    data = np.ascontiguousarray(value, dtype=_NUMPY_BY_DTYPE[dtype]).tobytes()
    return dtype, data, mask(crc32c(data))


def encode_bundle(tensors: Mapping[str, np.ndarray]) -> tuple[bytes, bytes]:
    """(index bytes, data bytes) of a one-shard bundle, tensors added in sorted-name order."""
    entries: list[tuple[bytes, bytes]] = [(HEADER_KEY, header_bytes())]
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors, key=lambda n: n.encode("utf-8")):
        if not name:
            raise BundleError("a tensor name must not be empty (the empty key holds the header)")
        value = np.asarray(tensors[name])
        try:
            dtype, data, crc = encode_tensor(value)
        except BundleError as err:
            raise BundleError(f"cannot save {name!r}: {err}") from None
        entry = tensor_bundle_pb2.BundleEntryProto(dtype=dtype, offset=offset, size=len(data),
                                                   crc32c=crc)
        entry.shape.SetInParent()
        for dim in value.shape:
            entry.shape.dim.add(size=dim)
        entries.append((name.encode("utf-8"), entry.SerializeToString()))
        chunks.append(data)
        offset += len(data)
    return sstable.build_table(entries), b"".join(chunks)


# --- reading -----------------------------------------------------------------------------

def decode_index(index: bytes, source: str = ".index"
                 ) -> tuple[tensor_bundle_pb2.BundleHeaderProto,
                            dict[str, tensor_bundle_pb2.BundleEntryProto]]:
    """(header, {tensor name: entry}) of an `.index` file's bytes."""
    items = sstable.read_table(index, source)
    if not items or items[0][0] != HEADER_KEY:
        raise BundleError(f"{source}: no bundle header (empty first key); not a TF V2 checkpoint "
                          "index")
    header = tensor_bundle_pb2.BundleHeaderProto.FromString(items[0][1])
    if header.version.producer < 0 or TENSOR_BUNDLE_VERSION < header.version.min_consumer:
        raise BundleError(f"{source}: bundle version {header.version.producer} (min consumer "
                          f"{header.version.min_consumer}) is newer than this reader "
                          f"(version {TENSOR_BUNDLE_VERSION}); upgrade numboard")
    entries = {}
    for key, value in items[1:]:
        entries[key.decode("utf-8", "replace")] = tensor_bundle_pb2.BundleEntryProto.FromString(
            value)
    return header, entries


def entry_shape(entry: tensor_bundle_pb2.BundleEntryProto) -> tuple[int, ...]:
    return tuple(d.size for d in entry.shape.dim)


def _decode_strings(raw: bytes, count: int, entry, name: str) -> np.ndarray:
    lengths = []
    pos = 0
    for _ in range(count):
        try:
            n, pos = sstable.decode_varint(raw, pos)
        except sstable.TableError:
            raise BundleError(f"tensor {name!r}: string lengths run past its "
                              f"{len(raw)} bytes; the .data file is corrupt") from None
        lengths.append(n)
    lengths_crc = raw[pos:pos + 4]
    body = raw[pos + 4:]
    if len(lengths_crc) != 4 or len(body) != sum(lengths):
        raise BundleError(f"tensor {name!r}: {len(raw)} bytes do not hold {count} strings of "
                          f"total length {sum(lengths)}; the .data file is corrupt")
    expected = _lengths_crc_input(lengths) + lengths_crc + body
    if crc32c(expected) != unmask(entry.crc32c):
        raise BundleError(f"tensor {name!r}: checksum mismatch (CRC32C of its bytes does not match "
                          "the .index entry); the checkpoint data is corrupt")
    out = np.empty(count, dtype=object)
    pos = 0
    for i, n in enumerate(lengths):
        out[i] = body[pos:pos + n]
        pos += n
    return out


def decode_tensor(entry: tensor_bundle_pb2.BundleEntryProto, raw: bytes, name: str,
                  big_endian: bool = False, source: str = ".data") -> np.ndarray:
    """The array of `entry` from `raw`, its `entry.size` bytes read at `entry.offset` of the
    shard's `.data` file (`source` names that file in errors); checks size and CRC."""
    if len(entry.slices):
        raise BundleError(f"tensor {name!r} is partitioned into {len(entry.slices)} slices; "
                          "partitioned variables are not supported")
    if len(raw) < entry.size:
        raise BundleError(f"tensor {name!r} needs bytes [{entry.offset}, "
                          f"{entry.offset + entry.size}) of {source}, which ends at byte "
                          f"{entry.offset + len(raw)}; the file is truncated")
    shape = entry_shape(entry)
    count = int(np.prod(shape, dtype=np.int64))
    if entry.dtype == types_pb2.DT_STRING:
        return _decode_strings(bytes(raw), count, entry, name).reshape(shape)
    dtype = numpy_dtype(entry.dtype)
    if big_endian:
        dtype = dtype.newbyteorder(">")
    if len(raw) != count * dtype.itemsize:
        raise BundleError(f"tensor {name!r}: {len(raw)} bytes stored, but shape {list(shape)} of "
                          f"{dtype_name(entry.dtype)} needs {count * dtype.itemsize}")
    if crc32c(bytes(raw)) != unmask(entry.crc32c):
        raise BundleError(f"tensor {name!r}: checksum mismatch (CRC32C of its {len(raw)} bytes "
                          f"in {source} does not match the .index entry); the checkpoint data "
                          "is corrupt")
    return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(shape)
