"""The LevelDB table format of a checkpoint .index (formats.md §9), against TF-written files."""

import struct

import ckpt_golden as golden
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flow.checkpoint import sstable
from flow.checkpoint.sstable import TableError, build_table, index_entries, read_table

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("prefix", golden.PREFIXES)
def test_rebuilding_a_tensorflow_index_gives_the_same_bytes(prefix):
    raw = open(golden.path(prefix) + ".index", "rb").read()
    items = read_table(raw)
    assert items[0][0] == b""
    assert [k.decode() for k, _ in items[1:]] == sorted(golden.EXPECTED[prefix])
    assert build_table(items) == raw


def test_multiblock_tensorflow_index_rebuilds_byte_for_byte():
    raw = golden.multiblock_index()
    assert len(raw) == golden.EXPECTED["multiblock/big"]["index_size"]
    items = read_table(raw)
    assert [k for k, _ in items] == [b""] + golden.multiblock_keys()
    assert build_table(items) == raw


def test_multiblock_separators_follow_the_leveldb_rules():
    keys = golden.multiblock_keys()
    separators = [k for k, _, _ in index_entries(golden.multiblock_index())]
    assert separators == [b"b", keys[0 + 1], b"cz1", keys[3], b"f"]
    assert [k for k, _, _ in index_entries(build_table(read_table(golden.multiblock_index())))] \
        == separators


def test_empty_metaindex_block_and_footer_bytes():
    table = build_table([(b"", b"\x08\x01\x1a\x02\x08\x01")])
    assert table[-8:] == bytes.fromhex("57fb808b247547db")
    assert bytes.fromhex("0000000001000000" "00" "c0f2a1b0") in table
    # data block 17 + 5, metaindex 8 + 5, index block 13 + 5, footer 48
    assert len(table) == 22 + 13 + 18 + 48
    assert table[22:35] == bytes.fromhex("0000000001000000" "00" "c0f2a1b0")
    assert index_entries(table) == [(b"", 0, 17)]


def test_worked_example_prefix_compression():
    """formats.md §9.6: the entry after "Variable" stores only "/Adam"."""
    table = build_table([(b"", b"h"), (b"Variable", b"v"), (b"Variable/Adam", b"w")])
    assert table.startswith(b"\x00\x00\x01h" b"\x00\x08\x01Variablev" b"\x08\x05\x01/Adamw")


def test_restart_points_every_16_entries():
    items = [(b"key%03d" % i, b"v") for i in range(40)]
    block_size = index_entries(build_table(items))[0][2]
    table = build_table(items)
    (count,) = struct.unpack_from("<I", table, block_size - 4)
    restarts = struct.unpack_from(f"<{count}I", table, block_size - 4 - 4 * count)
    assert count == 3 and restarts[0] == 0
    # the entry at a restart point stores its whole key (shared = 0)
    assert all(table[r] == 0 and table[r + 1] == 6 for r in restarts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), unique=True, max_size=120),
       st.integers(16, 400), st.integers(1, 20))
def test_round_trip_any_keys_block_sizes_and_restarts(keys, block_size, restart):
    items = [(k, k[::-1] * 3) for k in sorted(keys)]
    table = build_table(items, block_size=block_size, restart_interval=restart)
    assert read_table(table) == items


def test_separators():
    assert sstable.shortest_separator(b"abcx", b"abez") == b"abd"
    assert sstable.shortest_separator(b"abc", b"abd") == b"abc"  # +1 is not < limit
    assert sstable.shortest_separator(b"ab", b"abc") == b"ab"  # prefix: unchanged
    assert sstable.shortest_separator(b"a\xff", b"b") == b"a\xff"
    assert sstable.short_successor(b"beta2_power") == b"c"
    assert sstable.short_successor(b"\xff\xffz") == b"\xff\xff{"
    assert sstable.short_successor(b"\xff\xff") == b"\xff\xff"


def test_unsorted_or_duplicate_keys_are_refused():
    with pytest.raises(TableError, match="strictly increasing"):
        build_table([(b"b", b""), (b"a", b"")])
    with pytest.raises(TableError, match="strictly increasing"):
        build_table([(b"a", b""), (b"a", b"")])


def test_truncated_table_names_the_problem():
    raw = open(golden.path("renamed/model.ckpt") + ".index", "rb").read()
    with pytest.raises(TableError, match="shorter than the 48-byte"):
        read_table(raw[:40], "x.index")
    with pytest.raises(TableError, match="bad magic number"):
        read_table(raw[:-1], "x.index")


def test_corrupt_block_fails_its_crc_with_the_offset():
    raw = bytearray(open(golden.path("renamed/model.ckpt") + ".index", "rb").read())
    raw[12] ^= 0x01  # inside the data block's "vv1" entry
    with pytest.raises(TableError, match=r"x\.index: data block at byte 0 .*bad CRC32C"):
        read_table(bytes(raw), "x.index")


def test_varint_round_trip_and_truncation():
    for n in (0, 1, 127, 128, 300, 2**32, 2**63 - 1):
        assert sstable.decode_varint(sstable.encode_varint(n), 0) == (n, len(sstable.encode_varint(n)))
    with pytest.raises(TableError, match="truncated"):
        sstable.decode_varint(b"\x80\x80", 0)
