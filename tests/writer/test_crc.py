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
