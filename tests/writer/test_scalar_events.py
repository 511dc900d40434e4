"""Unit tests of writer.scalar_events.decode_scalar_events: the vectorised decoder must agree with protobuf
on every payload it accepts, and refuse every payload that is not a plain scalar event."""

import math
import random

import numpy as np
import pytest

from writer.scalar_events import decode_scalar_events
from writer.events import ScalarItem, normalize, parse_event
from writer.proto import event_pb2

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
