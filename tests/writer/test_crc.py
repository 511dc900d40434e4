"""CRC32C and masking against the vectors of formats.md §1 and its appendix."""

import struct

import pytest

from writer.crc import crc32c, mask, masked_crc32c, unmask

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"123456789", 0xE3069283), (bytes(32), 0x8A9136AA), (b"", 0)],
)
def test_crc32c_check_values(data, expected):
    assert crc32c(data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (struct.pack("<Q", 24), 0x224B7FA3),
        (b"\x1a\x11CRC test, one two", 0x5794D08A),
        (struct.pack("<Q", 0), 0x07980329),
        (b"", 0xA282EAD8),
    ],
)
def test_masked_crc32c_vectors(data, expected):
    assert masked_crc32c(data) == expected
    assert mask(crc32c(data)) == expected


@pytest.mark.parametrize("crc", [0, 1, 0xFFFFFFFF, 0xE3069283, 0x80000000, 0x7FFF])
def test_unmask_inverts_mask(crc):
    assert unmask(mask(crc)) == crc
    assert 0 <= mask(crc) <= 0xFFFFFFFF


def test_crc32c_rows_matches_the_c_extension():
    import numpy as np

    from writer.crc import ROWS_MAX_LEN, crc32c_rows, crc32c_u64

    rng = np.random.default_rng(7)
    buf = rng.integers(0, 256, 50_000, dtype=np.uint8)
    lengths = np.concatenate([rng.integers(0, 300, 3000), [0, 1, ROWS_MAX_LEN, ROWS_MAX_LEN + 1]])
    starts = rng.integers(0, len(buf) - lengths.max(), len(lengths))
    got = crc32c_rows(buf, starts, lengths)
    assert got.dtype == np.uint32
    assert got.tolist() == [crc32c(buf[s:s + n].tobytes()) for s, n in zip(starts, lengths, strict=True)]
    values = rng.integers(0, 2**32, 1000, dtype=np.uint64)
    assert crc32c_u64(values).tolist() == [crc32c(int(v).to_bytes(8, "little")) for v in values]
    assert mask(got[:5]).tolist() == [mask(int(c)) for c in got[:5]]
