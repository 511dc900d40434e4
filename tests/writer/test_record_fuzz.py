"""Fuzzing the record reader and event parsing (SPEC §9): any bytes give records or a
defined error, never another exception, a hang or an unbounded allocation."""

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from writer.events import EventParseError, normalize, parse_event
from writer.record import MAX_RECORD_BYTES, RecordError, decode_records, encode_record, length_crc

pytestmark = [pytest.mark.unit, pytest.mark.timeout(120)]  # a hang fails, not blocks

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(dec, size):
    assert dec.offset <= size
    assert dec.error is None or isinstance(dec.error, RecordError)
    for rec in dec.records:
        assert rec.offset + 16 + len(rec.data) <= size


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(buf):
    _check(decode_records(buf), len(buf))


@FUZZ
@given(
    st.lists(st.binary(max_size=64), max_size=8),
    st.data(),
)
def test_valid_streams_with_flips_and_truncations(payloads, data):
    buf = bytearray(b"".join(encode_record(p) for p in payloads))
    if buf:
        for _ in range(data.draw(st.integers(0, 3))):
            i = data.draw(st.integers(0, len(buf) - 1))
            buf[i] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(0, len(buf)))
    dec = decode_records(bytes(buf[:cut]))
    _check(dec, cut)
    # Records that come back are real payloads, in order.
    got = [r.data for r in dec.records]
    it = iter(payloads)
    assert all(any(g == p for p in it) for g in got)


@FUZZ
@given(st.integers(0, (1 << 64) - 1), st.binary(max_size=64))
def test_any_valid_length_header_never_allocates(length, rest):
    buf = struct.pack("<QI", length, length_crc(length)) + rest
    dec = decode_records(buf)
    _check(dec, len(buf))
    if length > MAX_RECORD_BYTES:  # past the cap: reported at once, never waited for
        assert dec.records == [] and dec.error is not None and dec.error.offset == 0
    elif length + 16 > len(buf):  # not written yet: wait, allocate nothing
        assert dec.records == [] and dec.error is None


@FUZZ
@given(st.binary(max_size=512))
def test_event_parsing_random_bytes(data):
    try:
        event = parse_event(data)
    except EventParseError:
        return
    try:
        normalize(event, {})
    except EventParseError:
        pass
