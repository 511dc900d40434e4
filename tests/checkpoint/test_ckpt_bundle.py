"""Tensor bundle metadata and .data layout (formats.md §8), against TF-written checkpoints."""

import ckpt_golden as golden
import numpy as np
import pytest

from flow.checkpoint import bundle
from flow.checkpoint.bundle import BundleError
from writer.crc import crc32c, unmask
from writer.proto import tensor_bundle_pb2, types_pb2

pytestmark = pytest.mark.unit


def _files(prefix):
    base = golden.path(prefix)
    return (open(base + ".index", "rb").read(),
            open(base + ".data-00000-of-00001", "rb").read())


def test_header_bytes():
    assert bundle.header_bytes() == bytes.fromhex("08011a020801")


@pytest.mark.parametrize("prefix", golden.PREFIXES)
def test_tensorflow_checkpoint_rebuilt_from_values_byte_for_byte(prefix):
    """Our writer, given the values TF saved, produces TF's exact .index and .data."""
    index, data = bundle.encode_bundle(golden.tensors(prefix))
    tf_index, tf_data = _files(prefix)
    assert data == tf_data
    assert index == tf_index


@pytest.mark.parametrize("prefix", golden.PREFIXES)
def test_every_tensorflow_tensor_decodes_exactly(prefix):
    index, data = _files(prefix)
    header, entries = bundle.decode_index(index)
    assert header.SerializeToString() == bundle.header_bytes()
    expected = golden.tensors(prefix)
    assert sorted(entries) == sorted(expected)
    for name, entry in entries.items():
        raw = data[entry.offset:entry.offset + entry.size]
        assert golden.same(bundle.decode_tensor(entry, raw, name), expected[name]), name


def test_real_entry_bytes_of_a_float_scalar():
    """formats.md §8.5: dtype, a *set* empty shape (`12 00`), offset, size, fixed32 CRC."""
    index, _ = _files("mlp/model.ckpt-2")
    _, entries = bundle.decode_index(index)
    raw = entries["beta2_power"].SerializeToString()
    assert raw.startswith(bytes.fromhex("08011200")) and bytes.fromhex("2804") in raw
    assert entries["global_step"].dtype == types_pb2.DT_INT64 and entries["global_step"].size == 8


def test_float_one_vector():
    dtype, data, crc = bundle.encode_tensor(np.float32(1.0))
    assert (dtype, data, crc) == (types_pb2.DT_FLOAT, bytes.fromhex("0000803f"), 0x2BDAA581)


def test_string_tensor_vector():
    dtype, data, crc = bundle.encode_tensor(np.array([b"abc", b""], dtype=object))
    assert dtype == types_pb2.DT_STRING
    assert data == bytes.fromhex("0300b099490e616263")
    assert crc == 0x0A339069


def test_str_values_are_saved_as_utf8():
    _, data, _ = bundle.encode_tensor(np.array(["h\u00e9"]))
    assert data.endswith("h\u00e9".encode())


ALL_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
              "uint16", "uint32", "uint64", "bool", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_every_numeric_dtype_round_trips(dtype):
    value = (np.arange(-3, 9) % 7).astype(dtype).reshape(3, 4)
    index, data = bundle.encode_bundle({"x": value, "scalar": value[0, 1]})
    _, entries = bundle.decode_index(index)
    for name, want in (("x", value), ("scalar", np.asarray(value[0, 1]))):
        e = entries[name]
        assert golden.same(bundle.decode_tensor(e, data[e.offset:e.offset + e.size], name), want)


def test_data_is_in_sorted_key_order_with_running_offsets():
    index, data = bundle.encode_bundle({"b": np.int32(2), "a": np.int32(1), "c/x": np.int8(3)})
    _, entries = bundle.decode_index(index)
    assert [(k, e.offset, e.size) for k, e in sorted(entries.items())] == \
        [("a", 0, 4), ("b", 4, 4), ("c/x", 8, 1)]
    assert data == bytes.fromhex("01000000" "02000000" "03")


def test_corrupt_tensor_bytes_name_the_tensor():
    index, data = _files("mlp/model.ckpt-2")
    _, entries = bundle.decode_index(index)
    e = entries["layer1/weights"]
    raw = bytearray(data[e.offset:e.offset + e.size])
    raw[5] ^= 0x40
    with pytest.raises(BundleError, match=r"'layer1/weights': checksum mismatch"):
        bundle.decode_tensor(e, bytes(raw), "layer1/weights")


def test_corrupt_string_tensor_names_the_tensor():
    index, data = bundle.encode_bundle({"s": np.array([b"abc", b"de"], dtype=object)})
    _, entries = bundle.decode_index(index)
    raw = bytearray(data)
    raw[-1] ^= 1
    with pytest.raises(BundleError, match="'s': checksum mismatch"):
        bundle.decode_tensor(entries["s"], bytes(raw), "s")


def test_truncated_data_names_the_file():
    index, data = _files("mlp/model.ckpt-2")
    _, entries = bundle.decode_index(index)
    e = entries["layer2/weights"]
    with pytest.raises(BundleError, match=r"m\.data.*truncated"):
        bundle.decode_tensor(e, data[e.offset:e.offset + e.size - 3], "layer2/weights",
                             source="m.data")


def test_big_endian_bundle_is_byte_swapped():
    value = np.array([1.5, -2.0], ">f4")
    entry = tensor_bundle_pb2.BundleEntryProto(dtype=types_pb2.DT_FLOAT, size=8)
    entry.shape.dim.add(size=2)
    from writer.crc import mask
    entry.crc32c = mask(crc32c(value.tobytes()))
    out = bundle.decode_tensor(entry, value.tobytes(), "x", big_endian=True)
    assert out.dtype == np.float32 and out.tolist() == [1.5, -2.0]


def test_unsupported_dtypes_say_so():
    with pytest.raises(BundleError, match="datetime64.*cast it"):
        bundle.encode_bundle({"t": np.array(["2020-01-01"], "datetime64[D]")})
    entry = tensor_bundle_pb2.BundleEntryProto(dtype=types_pb2.DT_BFLOAT16, size=2)
    with pytest.raises(BundleError, match="DT_BFLOAT16 tensors are not supported"):
        bundle.decode_tensor(entry, b"\0\0", "bf")


def test_not_a_bundle_index():
    from flow.checkpoint.sstable import build_table
    with pytest.raises(BundleError, match="no bundle header"):
        bundle.decode_index(build_table([(b"a", b"")]), "x.index")


def test_stored_crc_is_masked():
    index, data = _files("renamed/model.ckpt")
    _, entries = bundle.decode_index(index)
    e = entries["vv1"]
    assert unmask(e.crc32c) == crc32c(data[e.offset:e.offset + e.size])
    assert e.crc32c != crc32c(data[e.offset:e.offset + e.size])
