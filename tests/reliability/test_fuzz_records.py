"""Fuzzing the TFRecord reader (SPEC §3 writer.record, §9 "any bytes give records or a defined
error, never a crash, hang or unbounded allocation").

``writer.record.decode_records`` is checked against an independent oracle decoder on arbitrary
and mutated byte strings; ``writer.event_file.RecordTail`` against the same oracle while a file
grows in random chunks. The ``*_long`` variants run 20-50x more examples under ``make stress``.
"""

from __future__ import annotations

import collections
import os
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relsupport import frame, header_only, oracle_decode, record_figure

from writer.event_file import RecordTail, read_record_at
from writer.record import Decoded, RecordError, decode_records

COUNTS: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    record_figure("fuzz_records_examples", **COUNTS, total=sum(COUNTS.values()))


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


payloads = st.lists(st.binary(max_size=300), max_size=12)


@st.composite
def mutated_stream(draw):
    """Valid frames, then byte flips, truncation, insertions and forged headers."""
    buf = bytearray(b"".join(frame(p) for p in draw(payloads)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "header", "zero"]))
        if kind == "flip" and buf:
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] ^= draw(st.integers(1, 255))
        elif kind == "truncate" and buf:
            del buf[draw(st.integers(0, len(buf) - 1)):]
        elif kind == "insert":
            i = draw(st.integers(0, len(buf)))
            buf[i:i] = draw(st.binary(max_size=40))
        elif kind == "header":
            # A correctly checksummed header announcing any length, up to 2**64 - 1.
            i = draw(st.integers(0, len(buf)))
            buf[i:i] = header_only(draw(st.integers(0, 2**64 - 1)))
        elif kind == "zero" and buf:
            i = draw(st.integers(0, len(buf) - 1))
            buf[i:i + draw(st.integers(1, 32))] = b"\0" * 8
    return bytes(buf)


def check_against_oracle(buf: bytes, dec: Decoded, base: int = 0) -> None:
    records, stop, bad, err = oracle_decode(buf)
    assert [(r.offset, r.data) for r in dec.records] == [(o + base, p) for o, p in records]
    assert dec.offset == stop + base
    assert dec.bad_crc == bad
    if err is None:
        assert dec.error is None
    else:
        assert isinstance(dec.error, RecordError)
        assert dec.error.offset == err + base
        assert str(err + base) in str(dec.error), "the error message names the offset"


def decode_or_defined_error(buf, offset=0) -> Decoded | None:
    try:
        return decode_records(buf, offset)
    except RecordError:
        return None


# -- decode_records ----------------------------------------------------------------------------


def _roundtrip(ps: list[bytes]) -> None:
    COUNTS["roundtrip"] += 1
    buf = b"".join(frame(p) for p in ps)
    dec = decode_records(buf)
    assert [r.data for r in dec.records] == ps
    assert dec.offset == len(buf) and dec.bad_crc == 0 and dec.error is None


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(300)
@given(payloads)
def test_valid_frames_roundtrip(ps):
    _roundtrip(ps)


def _split_resume(ps: list[bytes], cut_fraction: float) -> None:
    COUNTS["split_resume"] += 1
    buf = b"".join(frame(p) for p in ps)
    cut = int(len(buf) * cut_fraction)
    first = decode_records(buf[:cut])
    assert first.error is None and first.bad_crc == 0
    # Resume from where the prefix stopped, once the whole buffer is there.
    rest = decode_records(buf, first.offset)
    got = [r.data for r in first.records] + [r.data for r in rest.records]
    assert got == ps, "every record exactly once across a split"
    assert rest.offset == len(buf)


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(300)
@given(payloads, st.floats(0, 1))
def test_split_at_any_byte_loses_and_repeats_nothing(ps, cut_fraction):
    _split_resume(ps, cut_fraction)


def _arbitrary(buf: bytes) -> None:
    COUNTS["arbitrary_bytes"] += 1
    for kind in (bytes, bytearray, memoryview):
        dec = decode_or_defined_error(kind(buf))
        if dec is not None:
            check_against_oracle(buf, dec)


def _mutated(buf: bytes, counter: str) -> None:
    COUNTS[counter] += 1
    dec = decode_or_defined_error(buf)
    if dec is not None:
        check_against_oracle(buf, dec)


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(400)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_match_the_oracle(buf):
    _arbitrary(buf)


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(400)
@given(mutated_stream())
def test_mutated_streams_match_the_oracle(buf):
    _mutated(buf, "mutated")


@pytest.mark.unit
@pytest.mark.stress
@pytest.mark.timeout(1800)
@fuzz(20_000)
@given(mutated_stream())
def test_mutated_streams_match_the_oracle_long(buf):
    _mutated(buf, "mutated_long")


@pytest.mark.unit
@pytest.mark.stress
@pytest.mark.timeout(1800)
@fuzz(20_000)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_match_the_oracle_long(buf):
    _arbitrary(buf)


@pytest.mark.unit
@pytest.mark.timeout(60)
@pytest.mark.parametrize("length", [2**60, 2**63 + 5, 2**64 - 1, 10**12])
def test_huge_length_field_allocates_nothing(length):
    """A checksummed header announcing more than --max_record_bytes (2**60, 2**63, ...) is
    reported as an error at that header, at once (never waited for), and allocates nothing."""
    buf = frame(b"before") + header_only(length) + os.urandom(4096)
    tracemalloc.start()
    try:
        dec = decode_records(buf)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.data for r in dec.records] == [b"before"]
    assert dec.offset == len(frame(b"before")), "stops at the huge frame"
    assert dec.error is not None and dec.error.offset == dec.offset and dec.bad_crc == 0
    assert str(length) in str(dec.error), "the error names the claimed length"
    assert peak < 256 * 1024, f"decoding allocated {peak} bytes at peak"


# -- RecordTail over a growing file ------------------------------------------------------------


def _tail_growing(tmp_path, buf: bytes, cuts: list[int], reopen_every: int) -> None:
    COUNTS["tail_growing"] += 1
    path = tmp_path / f"events.out.tfevents.{COUNTS['tail_growing']}"
    path.write_bytes(b"")
    tail = RecordTail(path)
    got, bad = [], 0
    written = 0
    for i, cut in enumerate(sorted(set(cuts)) + [len(buf)]):
        cut = min(cut, len(buf))
        with open(path, "ab") as f:
            f.write(buf[written:cut])
        written = max(written, cut)
        dec = tail.read()
        got.extend((r.offset, r.data) for r in dec.records)
        bad += dec.bad_crc
        assert dec.offset == tail.offset
        if reopen_every and i % reopen_every == 0:
            tail.close()  # a later read reopens and seeks (bounded open handles)
    tail.close()
    records, stop, obad, err = oracle_decode(buf)
    assert got == records, "every whole record exactly once, at its absolute offset"
    assert bad == obad
    assert tail.offset == stop
    if err is not None:
        assert isinstance(tail.error, RecordError) and tail.error.offset == err
        # A stopped file stays stopped, even when valid frames follow.
        with open(path, "ab") as f:
            f.write(frame(b"after the error"))
        assert tail.read().records == []
    else:
        assert tail.error is None
    path.unlink()


@pytest.mark.unit
@pytest.mark.timeout(180)
@fuzz(150)
@given(mutated_stream(), st.lists(st.integers(0, 4000), max_size=8), st.integers(0, 3))
def test_tail_of_growing_file_matches_the_oracle(tmp_path, buf, cuts, reopen_every):
    _tail_growing(tmp_path, buf, cuts, reopen_every)


@pytest.mark.unit
@pytest.mark.stress
@pytest.mark.timeout(1800)
@fuzz(5_000)
@given(mutated_stream(), st.lists(st.integers(0, 4000), max_size=20), st.integers(0, 3))
def test_tail_of_growing_file_matches_the_oracle_long(tmp_path, buf, cuts, reopen_every):
    _tail_growing(tmp_path, buf, cuts, reopen_every)


@pytest.mark.unit
@pytest.mark.timeout(60)
def test_tail_huge_length_field_allocates_nothing(tmp_path):
    path = tmp_path / "events.out.tfevents.huge"
    path.write_bytes(frame(b"ok") + header_only(2**60) + b"x" * 1000)
    tail = RecordTail(path)
    tracemalloc.start()
    try:
        for _ in range(3):
            dec = tail.read()
            assert [r.data for r in dec.records] in ([b"ok"], [])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        tail.close()
    # Past --max_record_bytes: the file is reported corrupt at that header (not a stall).
    assert tail.error is not None and tail.error.offset == tail.offset == len(frame(b"ok"))
    assert peak < 256 * 1024, f"tailing allocated {peak} bytes at peak"


@pytest.mark.unit
@pytest.mark.timeout(60)
def test_tail_frame_larger_than_read_window(tmp_path):
    """A single record bigger than the reader's chunk arrives in pieces and is read whole once."""
    big = os.urandom(17 << 20)
    buf = frame(b"a") + frame(big) + frame(b"z")
    path = tmp_path / "events.out.tfevents.big"
    path.write_bytes(buf[:100])
    tail = RecordTail(path)
    got = [r.data for r in tail.read().records]
    with open(path, "ab") as f:
        f.write(buf[100:len(buf) - 30])
    got += [r.data for r in tail.read().records]
    with open(path, "ab") as f:
        f.write(buf[len(buf) - 30:])
    got += [r.data for r in tail.read().records]
    tail.close()
    assert len(got) == 3 and got[0] == b"a" and got[1] == big and got[2] == b"z"


@pytest.mark.unit
@pytest.mark.timeout(60)
def test_tail_survives_file_shrinking_or_vanishing(tmp_path):
    """A file truncated or deleted under the reader: records or a defined error, never a crash."""
    path = tmp_path / "events.out.tfevents.shrink"
    path.write_bytes(frame(b"one") + frame(b"two"))
    tail = RecordTail(path)
    assert [r.data for r in tail.read().records] == [b"one", b"two"]
    path.write_bytes(frame(b"x"))  # truncated and rewritten shorter than our offset
    try:
        dec = tail.read()
    except (RecordError, OSError):
        pass
    else:
        assert dec.records == [] or all(isinstance(r.data, bytes) for r in dec.records)
    tail.close()
    path.unlink()
    with pytest.raises(OSError):  # reopening a deleted file: the OS error, named
        RecordTail(path).read()


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(200)
@given(mutated_stream(), st.integers(0, 5000))
def test_read_record_at_any_offset(tmp_path, buf, offset):
    """read_record_at: the payload of a whole valid frame, else RecordError; nothing else."""
    COUNTS["read_record_at"] += 1
    path = tmp_path / "events.out.tfevents.at"
    path.write_bytes(buf)
    try:
        data = read_record_at(path, offset)
    except RecordError:
        return
    (length,) = struct.unpack_from("<Q", buf, offset)
    assert data == buf[offset + 12:offset + 12 + length]
    assert frame(data) == buf[offset:offset + 16 + length]


# -- the vectorised framing: block boundaries and look-alike headers inside payloads ----------


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(300)
@given(mutated_stream(), st.integers(1, 64))
def test_framing_in_small_blocks_matches_the_oracle(buf, block):
    # Header candidates are searched a block at a time; any block size gives the same frames.
    from unittest import mock

    from writer import record

    COUNTS["blocks"] += 1
    with mock.patch.object(record, "_BLOCK", block):
        check_against_oracle(buf, decode_records(buf))


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(200)
@given(st.lists(st.one_of(st.binary(max_size=40),
                          st.lists(st.binary(max_size=20), max_size=4).map(
                              lambda ps: b"".join(frame(p) for p in ps))), max_size=10))
def test_payloads_holding_whole_frames_are_not_split(payloads):
    # A payload may itself contain valid frames (their length CRCs check out): the chain of
    # records from offset 0 decides, never a look-alike header.
    COUNTS["nested"] += 1
    buf = b"".join(frame(p) for p in payloads)
    dec = decode_records(buf)
    assert [r.data for r in dec.records] == payloads
    check_against_oracle(buf, dec)
