"""TFRecord framing (formats.md §1.3): encode/decode vectors and the reader's edge cases."""

import struct

import pytest

from writer.record import Record, RecordError, decode_records, encode_record, frame_length

pytestmark = pytest.mark.unit

# A complete real 40-byte TF2 event file (formats.md §1.3): the first event only.
REAL_FIRST_EVENT = bytes.fromhex(
    "1800000000000000" "a37f4b22"
    "090000407891 57d941".replace(" ", "")
    + "1a0d" + b"brain.Event:2".hex()
    + "d96b969a"
)


def test_real_tf2_file_decodes():
    assert len(REAL_FIRST_EVENT) == 40
    dec = decode_records(REAL_FIRST_EVENT)
    assert dec.error is None and dec.bad_crc == 0
    assert dec.offset == 40
    assert dec.records == [Record(0, REAL_FIRST_EVENT[12:36])]
    assert dec.records[0].data.endswith(b"brain.Event:2")


def test_encode_reproduces_real_bytes():
    assert encode_record(REAL_FIRST_EVENT[12:36]) == REAL_FIRST_EVENT


def test_tf2_scalar_event_vector():
    # formats.md appendix: header 32 00.. | 24 19 56 ec ... footer a5 5b 64 33
    value = (
        bytes.fromhex("0a08") + b"accuracy"
        + bytes.fromhex("420a 0801 1200 2204 a4707d3f".replace(" ", ""))
        + bytes.fromhex("4a0b 0a09 0a07".replace(" ", "")) + b"scalars"
    )
    summary = b"\x0a" + bytes([len(value)]) + value
    data = bytes.fromhex("09c405b73d99d6d741") + bytes.fromhex("104d") + b"\x2a" + bytes([len(summary)]) + summary
    framed = encode_record(data)
    assert framed[:12] == bytes.fromhex("3200000000000000" "241956ec")
    assert framed[-4:] == bytes.fromhex("a55b6433")


def test_empty_payload_and_concatenation():
    payloads = [b"", b"a", b"x" * 1000, bytes(range(256))]
    buf = b"".join(encode_record(p) for p in payloads)
    dec = decode_records(buf)
    assert [r.data for r in dec.records] == payloads
    offsets = [0]
    for p in payloads[:-1]:
        offsets.append(offsets[-1] + 16 + len(p))
    assert [r.offset for r in dec.records] == offsets
    assert dec.offset == len(buf)


def test_every_truncation_is_not_yet():
    buf = encode_record(b"first") + encode_record(b"second record")
    first_end = 16 + 5
    for cut in range(len(buf)):
        dec = decode_records(buf[:cut])
        assert dec.error is None and dec.bad_crc == 0
        if cut < first_end:
            assert dec.records == [] and dec.offset == 0
        else:
            assert [r.data for r in dec.records] == [b"first"] and dec.offset == first_end


def test_resume_from_offset_and_base():
    buf = encode_record(b"a") + encode_record(b"bb")
    dec = decode_records(buf, 17)
    assert dec.records == [Record(17, b"bb")]
    dec = decode_records(buf[17:], 0, base=1000)
    assert dec.records == [Record(1000, b"bb")] and dec.offset == 1000 + 18


def test_bad_data_crc_is_skipped_and_counted():
    good, bad = encode_record(b"good"), bytearray(encode_record(b"oops"))
    bad[14] ^= 0x01  # a payload byte
    dec = decode_records(bytes(bad) + good)
    assert dec.bad_crc == 1 and dec.error is None
    assert dec.records == [Record(len(bad), b"good")]


def test_bad_footer_crc_is_skipped():
    bad = bytearray(encode_record(b"data"))
    bad[-1] ^= 0xFF
    dec = decode_records(bytes(bad) + encode_record(b"next"))
    assert dec.bad_crc == 1 and [r.data for r in dec.records] == [b"next"]


def test_bad_length_crc_stops_with_error_naming_offset():
    first = encode_record(b"ok")
    bad = bytearray(encode_record(b"broken"))
    bad[8] ^= 0x01  # the length CRC
    dec = decode_records(first + bytes(bad) + encode_record(b"never"))
    assert [r.data for r in dec.records] == [b"ok"]
    assert isinstance(dec.error, RecordError)
    assert dec.error.offset == len(first) == dec.offset
    assert str(len(first)) in str(dec.error)


@pytest.mark.parametrize("length", [1 << 63, 1 << 60, (256 << 20) + 1])
def test_length_past_the_cap_is_an_error_not_a_stall(length):
    # A header with a *valid* CRC announcing more than MAX_RECORD_BYTES: reported, never
    # waited for (a 2**63 header used to stall the file forever with no error).
    from writer.record import length_crc

    header = struct.pack("<QI", length, length_crc(length))
    dec = decode_records(encode_record(b"x") + header + b"some bytes")
    assert [r.data for r in dec.records] == [b"x"]
    assert dec.offset == 17 and dec.error is not None and dec.error.offset == 17
    assert str(length) in str(dec.error) and "--max_record_bytes" in str(dec.error)


def test_partial_record_below_the_cap_waits():
    framed = encode_record(b"y" * 1000)
    dec = decode_records(encode_record(b"x") + framed[:500])
    assert [r.data for r in dec.records] == [b"x"] and dec.error is None and dec.offset == 17


def test_max_record_bytes_is_configurable():
    buf = encode_record(b"a" * 10) + encode_record(b"b" * 200)
    dec = decode_records(buf, max_record_bytes=100)
    assert [r.data for r in dec.records] == [b"a" * 10]
    assert dec.error is not None and dec.error.offset == 26 and "200 bytes" in str(dec.error)
    assert len(decode_records(buf, max_record_bytes=200).records) == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "256"])
def test_max_record_bytes_must_be_positive_int(bad):
    from writer.record import check_max_record_bytes

    with pytest.raises(ValueError, match="max_record_bytes"):
        check_max_record_bytes(bad)


def test_huge_length_with_bad_crc_is_an_error():
    header = struct.pack("<QI", 1 << 60, 0)
    dec = decode_records(header + bytes(100))
    assert dec.records == [] and dec.error is not None and dec.error.offset == 0


def test_frame_length():
    framed = encode_record(b"abc")
    assert frame_length(framed[:12]) == len(framed)
    with pytest.raises(RecordError, match="truncated"):
        frame_length(framed[:5])
    with pytest.raises(RecordError, match="length CRC"):
        frame_length(b"\x00" * 12, 7)


def test_offset_outside_buffer_is_rejected():
    with pytest.raises(ValueError, match="outside"):
        decode_records(b"abc", 10)


def test_memoryview_and_bytearray_inputs():
    buf = encode_record(b"payload")
    for view in (bytearray(buf), memoryview(buf)):
        assert decode_records(view).records == [Record(0, b"payload")]
