"""RecordTail over growing files, read_record_at, and EventFileWriter (real files)."""

import errno
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from writer import event_file
from writer.event_file import (
    EventFileError,
    EventFileWriter,
    RecordTail,
    read_record_at,
    read_records,
)
from writer.record import RecordError, encode_record

pytestmark = pytest.mark.integration

PAYLOADS = [b"", b"a", b"hello world", bytes(range(256)) * 3, b"last"]


def test_file_grown_one_byte_at_a_time_yields_every_record_once(tmp_path):
    path = tmp_path / "events.out.tfevents.grow"
    stream = b"".join(encode_record(p) for p in PAYLOADS)
    path.write_bytes(b"")
    tail = RecordTail(path)
    seen = []
    with open(path, "ab", buffering=0) as f:
        for i in range(len(stream)):
            f.write(stream[i : i + 1])
            dec = tail.read()
            assert dec.error is None and dec.bad_crc == 0
            seen.extend(dec.records)
            assert tail.offset == dec.offset <= i + 1
    assert [r.data for r in seen] == PAYLOADS
    assert [r.offset for r in seen] == [stream.find(encode_record(p)) for p in PAYLOADS]
    assert tail.offset == len(stream)
    assert tail.read().records == []


def test_close_then_read_reopens_and_continues(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(encode_record(b"one"))
    tail = RecordTail(path)
    assert [r.data for r in tail.read().records] == [b"one"]
    tail.close()
    with open(path, "ab") as f:
        f.write(encode_record(b"two"))
    assert [r.data for r in tail.read().records] == [b"two"]
    tail.close()


def test_length_crc_error_stops_the_file(tmp_path):
    path = tmp_path / "f"
    bad = bytearray(encode_record(b"broken"))
    bad[9] ^= 0x10
    path.write_bytes(encode_record(b"ok") + bytes(bad))
    tail = RecordTail(path)
    dec = tail.read()
    assert [r.data for r in dec.records] == [b"ok"]
    assert isinstance(tail.error, RecordError) and tail.error.offset == 18
    with open(path, "ab") as f:
        f.write(encode_record(b"after"))
    again = tail.read()
    assert again.records == [] and again.error is tail.error and tail.offset == 18


def test_bad_payload_crc_is_counted_and_skipped(tmp_path):
    path = tmp_path / "f"
    bad = bytearray(encode_record(b"broken"))
    bad[13] ^= 0x10
    path.write_bytes(bytes(bad) + encode_record(b"fine"))
    dec = RecordTail(path).read()
    assert dec.bad_crc == 1 and [r.data for r in dec.records] == [b"fine"]


def test_record_larger_than_the_read_window(tmp_path, monkeypatch):
    monkeypatch.setattr(event_file, "_READ_CHUNK", 64)
    path = tmp_path / "f"
    payloads = [b"x" * 500, b"y", b"z" * 200]
    stream = b"".join(encode_record(p) for p in payloads)
    path.write_bytes(stream[:300])
    tail = RecordTail(path)
    assert tail.read().records == []
    with open(path, "ab") as f:
        f.write(stream[300:])
    assert [r.data for r in tail.read().records] == payloads


def test_huge_length_header_is_reported_and_allocates_nothing(tmp_path):
    # A valid header announcing 2**60 bytes: past --max_record_bytes, so the file stops there
    # with an error naming the offset (not a silent wait), and read_record_at refuses.
    import struct

    from writer.record import length_crc

    path = tmp_path / "f"
    path.write_bytes(encode_record(b"ok") + struct.pack("<QI", 1 << 60, length_crc(1 << 60)) + b"xyz")
    tail = RecordTail(path)
    dec = tail.read()
    assert [r.data for r in dec.records] == [b"ok"] and tail.offset == 18
    assert dec.error is not None and dec.error.offset == 18 and tail.error is dec.error
    assert tail.read().records == []
    with pytest.raises(RecordError, match="max_record_bytes"):
        read_record_at(path, 18)


def test_sparse_file_claiming_a_gigabyte_allocates_nothing(tmp_path):
    # A 12 KB sparse file whose header claims 1 GiB, the file's apparent size 1 GiB + 16:
    # past a 256 KiB cap it is corrupt at once; nothing near the claimed size is allocated.
    import struct
    import tracemalloc

    from writer.record import length_crc

    claim = 1 << 30
    path = tmp_path / "events.out.tfevents.sparse"
    with open(path, "wb") as f:
        f.write(struct.pack("<QI", claim, length_crc(claim)) + os.urandom(12_000))
        f.truncate(claim + 16)
    tracemalloc.start()
    try:
        tail = RecordTail(path, max_record_bytes=256 << 10)
        dec = tail.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        tail.close()
    assert dec.records == [] and dec.error is not None and "1073741824 bytes" in str(dec.error)
    assert peak < 32 << 20, f"reading allocated {peak} bytes"


def test_record_between_window_and_cap_is_read_whole(tmp_path):
    # A record bigger than one read window but under the cap is read exactly, once whole.
    from writer.event_file import _READ_CHUNK

    big = os.urandom(_READ_CHUNK + 1000)
    path = tmp_path / "f"
    path.write_bytes(encode_record(b"a") + encode_record(big)[:-10])
    tail = RecordTail(path)
    assert [r.data for r in tail.read().records] == [b"a"]
    with open(path, "ab") as f:
        f.write(encode_record(big)[-10:] + encode_record(b"b"))
    assert [r.data for r in tail.read().records] == [big, b"b"]


def test_read_record_at(tmp_path):
    path = tmp_path / "f"
    frames = [encode_record(p) for p in PAYLOADS]
    path.write_bytes(b"".join(frames))
    for rec in read_records(path).records:
        assert read_record_at(path, rec.offset) == rec.data
    with pytest.raises(RecordError):
        read_record_at(path, 3)  # not a frame start
    path.write_bytes(frames[0] + frames[3][:-10])
    with pytest.raises(RecordError, match="file ends"):
        read_record_at(path, len(frames[0]))


def test_read_record_at_bad_payload(tmp_path):
    path = tmp_path / "f"
    bad = bytearray(encode_record(b"payload"))
    bad[12] ^= 1
    path.write_bytes(bytes(bad))
    with pytest.raises(RecordError, match="CRC"):
        read_record_at(path, 0)


def test_writer_buffers_until_max_queue_then_flush(tmp_path):
    path = tmp_path / "f"
    w = EventFileWriter(path, max_queue=3, flush_secs=3600)
    for i in range(3):
        w.write(encode_record(b"%d" % i))
    assert path.stat().st_size == 0  # held in memory: max_queue not exceeded
    w.write(encode_record(b"3"))
    assert [r.data for r in read_records(path).records] == [b"0", b"1", b"2", b"3"]
    w.write(encode_record(b"4"))
    w.flush()
    assert len(read_records(path).records) == 5
    w.close()
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.write(encode_record(b"late"))


def test_timer_flushes(tmp_path):
    path = tmp_path / "f"
    w = EventFileWriter(path, max_queue=1000, flush_secs=0.05)
    w.write(encode_record(b"tick"))
    for _ in range(200):  # waits for the timer; no timing assertion
        if path.stat().st_size:
            break
        threading.Event().wait(0.05)
    assert [r.data for r in read_records(path).records] == [b"tick"]
    w.close()


def test_full_disk_raises_and_keeps_events():
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full (Linux) to simulate a full disk")
    w = EventFileWriter("/dev/full", max_queue=1000)
    w.write(encode_record(b"kept"))
    with pytest.raises(EventFileError, match="disk is full") as info:
        w.flush()
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(EventFileError, match="disk is full"):
        w.flush()  # still pending, still reported, never silently dropped
    with pytest.raises(EventFileError):
        w.close()


def test_unwritable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(EventFileError, match="cannot create event file"):
        EventFileWriter(blocker / "events.out.tfevents.x")


def test_bad_arguments():
    with pytest.raises(ValueError, match="flush_secs"):
        EventFileWriter("/dev/null", flush_secs=0)
    with pytest.raises(ValueError, match="flush_secs"):
        EventFileWriter("/dev/null", flush_secs="soon")
    with pytest.raises(ValueError, match="max_queue"):
        EventFileWriter("/dev/null", max_queue=-1)
    EventFileWriter("/dev/null", flush_secs=float("inf")).close()  # no timer at all


def test_truncated_file_stops_the_tail(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(encode_record(b"one") + encode_record(b"two"))
    tail = RecordTail(path)
    assert len(tail.read().records) == 2
    path.write_bytes(encode_record(b"new"))  # replaced by a shorter file
    dec = tail.read()
    assert dec.records == [] and isinstance(dec.error, RecordError) and "shrank" in str(dec.error)


def test_missing_file_raises():
    with pytest.raises(FileNotFoundError):
        RecordTail("/nonexistent/events.out.tfevents.x").read()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_write_the_parents_buffer(tmp_path):
    path = tmp_path / "f"
    w = EventFileWriter(path, max_queue=1000, flush_secs=3600)
    w.write(encode_record(b"parent"))
    pid = os.fork()
    if pid == 0:  # child: flush and exit through the normal path
        try:
            w.write(encode_record(b"child"))
            w.flush()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    w.flush()
    assert sorted(r.data for r in read_records(path).records) == [b"child", b"parent"]
    w.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(st.binary(max_size=300), max_size=12),
    cuts=st.lists(st.integers(1, 400), max_size=30),
    damage=st.none() | st.integers(0, 10_000),
)
def test_tail_in_random_chunks_equals_one_whole_decode(tmp_path_factory, payloads, cuts, damage):
    from writer.record import decode_records

    stream = bytearray(b"".join(encode_record(p) for p in payloads))
    if damage is not None and stream:
        stream[damage % len(stream)] ^= 0x5A
    whole = decode_records(bytes(stream))
    path = tmp_path_factory.mktemp("tail") / "f"
    path.write_bytes(b"")
    tail = RecordTail(path)
    got, bad, pos = [], 0, 0
    with open(path, "ab", buffering=0) as f:
        for cut in [*cuts, len(stream)]:
            f.write(bytes(stream[pos : pos + cut]))
            pos = min(pos + cut, len(stream))
            dec = tail.read()
            got.extend(dec.records)
            bad += dec.bad_crc
    tail.close()
    assert got == whole.records and bad == whole.bad_crc
    assert tail.offset == whole.offset and repr(tail.error) == repr(whole.error)
