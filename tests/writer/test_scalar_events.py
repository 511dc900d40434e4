"""Unit tests of writer.scalar_events.decode_scalar_events: the vectorised decoder must agree with protobuf
on every payload it accepts, and refuse every payload that is not a plain scalar event."""

import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from writer import record
from writer.event_file import RecordTail, read_records
from writer.events import ScalarItem, normalize, parse_event
from writer.proto import event_pb2
from writer.record import encode_record, frame
from writer.scalar_events import decode_scalar_events, encode_scalar_event

pytestmark = pytest.mark.unit


def _scalar(tag, value, step, wall):
    ev = event_pb2.Event(step=step, wall_time=wall)
    v = ev.summary.value.add()
    v.tag = tag
    v.simple_value = value
    return ev.SerializeToString()


def _others():
    ev = event_pb2.Event(wall_time=5.0, file_version="brain.Event:2")
    yield ev.SerializeToString()
    ev = event_pb2.Event(wall_time=5.0, step=3)
    v = ev.summary.value.add()
    v.tag = "with_meta"
    v.simple_value = 1.0
    v.metadata.plugin_data.plugin_name = "scalars"
    yield ev.SerializeToString()
    ev = event_pb2.Event(wall_time=5.0, step=3)
    for tag in ("a", "b"):  # two values in one event
        v = ev.summary.value.add()
        v.tag = tag
        v.simple_value = 2.0
    yield ev.SerializeToString()
    yield _scalar("x" * 200, 1.0, 1, 2.0)  # a long tag: lengths above 127
    yield _scalar("nowall", 1.0, 1, 0.0)  # wall_time 0 is omitted on the wire
    yield _scalar("", 1.0, 1, 2.0)  # empty tag is omitted on the wire
    yield b""
    yield b"\x09" + bytes(30)


def test_agrees_with_protobuf_on_random_scalars_and_refuses_the_rest():
    rng = random.Random(3)
    payloads, expected = [], []
    tags = ["loss", "acc/top1", "λ/ünï", "t" * 120, "a b"]
    for i in range(3000):
        step = rng.choice([0, 1, 127, 128, 2**31, 2**62, -1, -(2**40), rng.randrange(10**6)])
        value = rng.choice([0.0, -1.5, 3.25e38, float("inf"), float("nan"), rng.random()])
        wall = 1.7e9 + rng.random()
        data = _scalar(rng.choice(tags), value, step, wall)
        payloads.append(data)
        expected.append(normalize(parse_event(data))[0])
        if i % 97 == 0:
            for other in _others():
                payloads.append(other)
                expected.append(None)
    got = decode_scalar_events(payloads)
    ok = got.ok.tolist()
    # Anything that is not a plain scalar is refused; a refused scalar only costs speed,
    # but every scalar with a short tag must be taken.
    for flag, item, data in zip(ok, expected, payloads, strict=True):
        if item is None:
            assert not flag
        elif len(item.tag.encode()) < 100:
            assert flag, data
    rows = [e for e, flag in zip(expected, ok, strict=True) if flag]
    assert len(got.step) == len(rows)
    for k, item in enumerate(rows):
        assert isinstance(item, ScalarItem)
        assert got.tags[got.tag_id[k]] == item.tag
        assert got.step[k] == item.step
        assert got.wall_time[k] == item.wall_time
        v = got.value[k]
        assert v == item.value or (math.isnan(v) and math.isnan(item.value))


def test_invalid_utf8_tag_is_left_to_protobuf():
    good = _scalar("ok", 1.0, 1, 2.0)
    bad = bytearray(_scalar("ab", 1.0, 1, 2.0))
    at = bad.index(b"ab")
    bad[at:at + 2] = b"\xff\xfe"
    got = decode_scalar_events([good, bytes(bad)] * 40)
    assert got.ok.tolist() == [True, False] * 40
    assert got.tags == ["ok"] and np.all(got.tag_id == 0)


# -- straight from file windows: the path the board loads with ------------------------------

def _by_protobuf(payloads):
    """(tag, step, wall, value) per payload that protobuf sees as one simple_value, else None."""
    out = []
    for data in payloads:
        items = normalize(parse_event(data))
        plain = len(items) == 1 and isinstance(items[0], ScalarItem)
        out.append((items[0].tag, items[0].step, items[0].wall_time, items[0].value)
                   if plain else None)
    return out


def _by_windows(path):
    """(tag, step, wall, value) per record the batch decoder took, in file order, and the
    payloads it refused."""
    taken, refused = {}, []
    for win in RecordTail(path).read_frames():
        fr = win.frames
        got = decode_scalar_events(win.buf, fr.starts, fr.lengths)
        rows = iter(range(len(got.step)))
        for s, ok in zip(fr.starts.tolist(), got.ok.tolist(), strict=True):
            offset = win.start + s - record.HEADER_SIZE
            if ok:
                k = next(rows)
                taken[offset] = (got.tags[got.tag_id[k]], int(got.step[k]),
                                 float(got.wall_time[k]), float(got.value[k]))
            else:
                refused.append(offset)
    return taken, refused


def _same(a, b):
    return a[:3] == b[:3] and (a[3] == b[3] or (math.isnan(a[3]) and math.isnan(b[3])))


def _check_file(path):
    dec = read_records(path)
    expected = dict(zip((r.offset for r in dec.records),
                        _by_protobuf([r.data for r in dec.records]), strict=True))
    taken, refused = _by_windows(path)
    assert len(taken) + len(refused) == len(dec.records)
    for offset, item in taken.items():
        assert expected[offset] is not None and _same(item, expected[offset])
    return taken, refused, expected


@pytest.mark.compat
def test_tensorboardx_files_decode_as_protobuf_reads_them(tmp_path):
    import tensorboardX

    w = tensorboardX.SummaryWriter(str(tmp_path))
    rng = random.Random(5)
    for i in range(3000):
        step = rng.choice([i, 2**40 + i, 0, 127, 128, 16383, 16384])
        w.add_scalar(rng.choice(["loss", "acc/top1", "λ/ünï", "x" * 118]),
                     rng.choice([rng.random(), float("nan"), float("-inf"), -0.0]), step)
    w.add_scalar("y" * 119, 1.0, 5)  # the summary length needs two varint bytes: protobuf path
    w.add_text("note", "not a scalar", 1)
    w.add_histogram("h", np.arange(10.0), 2)
    w.close()
    (path,) = tmp_path.iterdir()
    taken, refused, expected = _check_file(path)
    assert len(taken) == 3000  # every scalar with a tag of at most 118 bytes went the batch way
    assert all(expected[o] is None or len(expected[o][0].encode()) > 118 for o in refused)


@pytest.mark.compat
def test_tensorboard_writer_files_decode_as_protobuf_reads_them(tmp_path):
    from tensorboard.compat.proto import event_pb2 as tb_event_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path))
    for i in range(500):
        ev = tb_event_pb2.Event(wall_time=1.7e9 + i / 7, step=i * 1000)
        ev.summary.value.add(tag=f"t{i % 3}", simple_value=i / 3)
        w.add_event(ev)
    w.close()
    (path,) = tmp_path.iterdir()
    taken, refused, _ = _check_file(path)
    assert len(taken) == 500 and len(refused) == 1  # the file_version record


_tags = st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t)
_points = st.lists(st.tuples(_tags, st.integers(-(2**63), 2**63 - 1),
                             st.floats(width=32), st.floats(allow_nan=False)),
                   min_size=1, max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_points, st.integers(0, 3))
def test_round_trip_encoder_to_batch_decoder(points, junk_every):
    payloads = [encode_scalar_event(tag, value, step, wall) for tag, step, value, wall in points]
    if junk_every:  # other events between the scalars go to the protobuf path
        payloads[::junk_every + 1] = [
            event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()
        ] * len(payloads[::junk_every + 1])
    buf = b"".join(encode_record(p) for p in payloads)
    fr = frame(buf)
    assert len(fr.starts) == len(payloads) and fr.bad_crc == 0 and fr.error is None
    got = decode_scalar_events(np.frombuffer(buf, np.uint8), fr.starts, fr.lengths)
    expected = _by_protobuf(payloads)
    rows = iter(range(len(got.step)))
    for ok, item, data in zip(got.ok.tolist(), expected, payloads, strict=True):
        if item is None:
            assert not ok
            continue
        # the writer encodes a whole wall_time of 0.0 by omitting it: protobuf path then
        if ok:
            k = next(rows)
            mine = (got.tags[got.tag_id[k]], int(got.step[k]), float(got.wall_time[k]),
                    float(got.value[k]))
            assert _same(mine, item), data
        else:
            assert data[:1] != b"\x09" or len(item[0].encode()) > 118


def test_decoder_reads_only_inside_each_payload():
    # Payloads at the very end of a buffer (no footer, no padding): nothing past them is read,
    # and the same bytes followed by garbage decode the same.
    payloads = [encode_scalar_event("t" * 100, 1.5, 2**62, 3.0), encode_scalar_event("a", 2.0, 1, 4.0)]
    joined = b"".join(payloads)
    lengths = np.array([len(p) for p in payloads])
    starts = np.cumsum(lengths) - lengths
    bare = decode_scalar_events(np.frombuffer(joined, np.uint8), starts, lengths)
    padded = decode_scalar_events(np.frombuffer(joined + b"\xff" * 200, np.uint8), starts,
                                  lengths)
    assert bare.ok.tolist() == padded.ok.tolist() == [True, True]
    assert bare.tags == padded.tags and bare.step.tolist() == padded.step.tolist()
