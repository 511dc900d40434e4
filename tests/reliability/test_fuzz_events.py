"""Fuzzing event parsing and normalisation (SPEC §3, §9; CONTRACT writer/events.py).

``parse_event(bytes)`` gives an Event or ``EventParseError``; ``normalize(event)`` gives a list
of the contract's items or ``EventParseError`` — never another exception, which would stop
the board's loader. Inputs: arbitrary bytes, mutated serialisations of valid events, and
structurally generated Events whose fields disagree with each other (tensors whose shape
claims 2**40 elements, histograms with mismatched bucket lists, image tensors that are not
[w, h, png...], NaN wall times, unknown dtypes).
"""

from __future__ import annotations

import collections
import math
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relsupport import record_figure

from board.run_metadata import summarize
from writer import events
from writer.proto import event_pb2, summary_pb2, tensor_pb2

COUNTS: collections.Counter = collections.Counter()
ITEM_TYPES = ("ScalarItem", "ImageItem", "HistogramItem", "GraphItem", "SessionStartItem",
              "FileVersionItem", "TextItem", "HParamsItem", "RunMetadataItem")


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    record_figure("fuzz_events_examples", **COUNTS, total=sum(COUNTS.values()))


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- strategies ----------------------------------------------------------------------------------

floats = st.floats(allow_nan=True, allow_infinity=True)
f32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
int64 = st.integers(-(2**63), 2**63 - 1)
plugins = st.sampled_from(["scalars", "images", "histograms", "text", "", "pr_curves",
                           "hparams"]) | st.text(max_size=8)
dims = st.lists(st.sampled_from([0, 1, 2, 3, 4, -1, 2**40, 2**62]) | st.integers(0, 6),
                max_size=4)


@st.composite
def tensors(draw) -> tensor_pb2.TensorProto:
    t = tensor_pb2.TensorProto(dtype=draw(st.sampled_from([0, 1, 2, 3, 5, 6, 7, 9, 10, 14, 19,
                                                            99, 101])))
    for size in draw(dims):
        t.tensor_shape.dim.add(size=size)
    if draw(st.booleans()):
        t.tensor_shape.unknown_rank = True
    fill = draw(st.sampled_from(["float", "double", "int", "int64", "string", "content",
                                 "half", "bool", "none"]))
    if fill == "float":
        t.float_val.extend(draw(st.lists(f32, max_size=6)))
    elif fill == "double":
        t.double_val.extend(draw(st.lists(floats, max_size=6)))
    elif fill == "int":
        t.int_val.extend(draw(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6)))
    elif fill == "int64":
        t.int64_val.extend(draw(st.lists(int64, max_size=6)))
    elif fill == "string":
        t.string_val.extend(draw(st.lists(st.binary(max_size=40), max_size=5)))
    elif fill == "content":
        t.tensor_content = draw(st.binary(max_size=64))
    elif fill == "half":
        t.half_val.extend(draw(st.lists(st.integers(0, 65535), max_size=6)))
    elif fill == "bool":
        t.bool_val.extend(draw(st.lists(st.booleans(), max_size=6)))
    return t


@st.composite
def values(draw) -> summary_pb2.Summary.Value:
    v = summary_pb2.Summary.Value(tag=draw(st.text(max_size=12)))
    if draw(st.booleans()):
        v.metadata.plugin_data.plugin_name = draw(plugins)
        v.metadata.plugin_data.content = draw(st.binary(max_size=12))
    kind = draw(st.sampled_from(["simple", "image", "histo", "tensor", "audio", "old", "none"]))
    if kind == "simple":
        v.simple_value = draw(f32)
    elif kind == "image":
        v.image.height = draw(st.integers(-(2**31), 2**31 - 1))
        v.image.width = draw(st.integers(-(2**31), 2**31 - 1))
        v.image.colorspace = draw(st.integers(-5, 10))
        v.image.encoded_image_string = draw(st.binary(max_size=40))
    elif kind == "histo":
        h = v.histo
        h.min, h.max, h.num, h.sum, h.sum_squares = (draw(floats) for _ in range(5))
        h.bucket_limit.extend(draw(st.lists(floats, max_size=6)))
        h.bucket.extend(draw(st.lists(floats, max_size=6)))
    elif kind == "tensor":
        v.tensor.CopyFrom(draw(tensors()))
    elif kind == "audio":
        v.audio.sample_rate = draw(f32)
        v.audio.encoded_audio_string = draw(st.binary(max_size=10))
    elif kind == "old":
        v.obsolete_old_style_histogram = draw(st.binary(max_size=10))
    return v


@st.composite
def structured_events(draw) -> event_pb2.Event:
    ev = event_pb2.Event(wall_time=draw(floats), step=draw(int64))
    what = draw(st.sampled_from(["summary", "file_version", "graph_def", "meta_graph_def",
                                 "session_log", "log_message", "none"]))
    if what == "summary":
        ev.summary.value.extend(draw(st.lists(values(), max_size=4)))
        if not ev.summary.value:
            ev.summary.SetInParent()
    elif what == "file_version":
        ev.file_version = draw(st.sampled_from(["brain.Event:2", "brain.Event:1", "brain.Event:",
                                                "brain.Event:nan", "brain.Event:inf", ""])
                               | st.text(max_size=20))
    elif what == "graph_def":
        ev.graph_def = draw(st.binary(max_size=60))
    elif what == "meta_graph_def":
        ev.meta_graph_def = draw(st.binary(max_size=60))
    elif what == "session_log":
        ev.session_log.status = draw(st.integers(0, 5))
        ev.session_log.checkpoint_path = draw(st.text(max_size=10))
    elif what == "log_message":
        ev.log_message.level = draw(st.sampled_from([0, 10, 20, 30, 40, 50]))
        ev.log_message.message = draw(st.text(max_size=10))
    return ev


def _valid_event_bytes() -> list[bytes]:
    """Serialisations of well-formed events of every kind the normaliser handles."""
    out = []
    ev = event_pb2.Event(wall_time=1.5, step=3)
    ev.summary.value.add(tag="loss", simple_value=0.25)
    out.append(ev.SerializeToString())
    ev = event_pb2.Event(wall_time=1.5, step=4)
    v = ev.summary.value.add(tag="acc")
    v.metadata.plugin_data.plugin_name = "scalars"
    v.tensor.dtype = 1
    v.tensor.float_val.append(0.5)
    out.append(ev.SerializeToString())
    ev = event_pb2.Event(wall_time=2.0, step=5)
    v = ev.summary.value.add(tag="img")
    v.metadata.plugin_data.plugin_name = "images"
    v.tensor.dtype = 7
    v.tensor.tensor_shape.dim.add(size=3)
    v.tensor.string_val.extend([b"2", b"2", b"\x89PNG\r\n\x1a\n" + b"\0" * 20])
    out.append(ev.SerializeToString())
    ev = event_pb2.Event(wall_time=2.0, step=6)
    v = ev.summary.value.add(tag="h")
    v.metadata.plugin_data.plugin_name = "histograms"
    v.tensor.dtype = 2
    v.tensor.tensor_shape.dim.add(size=2)
    v.tensor.tensor_shape.dim.add(size=3)
    v.tensor.double_val.extend([0, 1, 2, 1, 2, 3])
    out.append(ev.SerializeToString())
    ev = event_pb2.Event(wall_time=2.0, step=7)
    ev.summary.value.add(tag="old_h").histo.bucket_limit.extend([1.0, 2.0])
    ev.summary.value[0].histo.bucket.extend([3.0, 4.0])
    out.append(ev.SerializeToString())
    ev = event_pb2.Event(wall_time=2.0, step=8)
    im = ev.summary.value.add(tag="pic/image/0").image
    im.height, im.width, im.colorspace, im.encoded_image_string = 2, 2, 3, b"\x89PNG"
    out.append(ev.SerializeToString())
    out.append(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString())
    out.append(event_pb2.Event(wall_time=1.0, graph_def=b"\n\x05\n\x01a\x12\x00")
               .SerializeToString())
    return out


@st.composite
def mutated_event_bytes(draw) -> bytes:
    buf = bytearray(draw(st.sampled_from(_valid_event_bytes())))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if kind == "flip" and buf:
            buf[draw(st.integers(0, len(buf) - 1))] ^= draw(st.integers(1, 255))
        elif kind == "truncate" and buf:
            del buf[draw(st.integers(0, len(buf) - 1)):]
        elif kind == "insert":
            i = draw(st.integers(0, len(buf)))
            buf[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and buf:
            i = draw(st.integers(0, len(buf) - 1))
            del buf[i:i + draw(st.integers(1, 4))]
    return bytes(buf)


# -- checks --------------------------------------------------------------------------------------


def check_items(ev, items) -> None:
    assert isinstance(items, list)
    for item in items:
        name = type(item).__name__
        assert name in ITEM_TYPES, f"unexpected item {item!r}"
        if name == "ScalarItem":
            assert isinstance(item.value, float), f"scalar value must be a float: {item!r}"
            assert isinstance(item.tag, str) and isinstance(item.step, int)
        elif name == "HistogramItem":
            assert len(item.bucket_limits) == len(item.bucket_counts), (
                f"histogram {item.tag!r}: {len(item.bucket_limits)} limits but "
                f"{len(item.bucket_counts)} counts would reach the API unpaired")
        elif name == "TextItem":
            assert all(isinstance(v, str) for v in item.values)
            assert math.prod(item.shape) == len(item.values), (
                f"text {item.tag!r}: shape {item.shape} for {len(item.values)} strings")
        elif name == "HParamsItem":
            assert (item.data is None) != (item.problem is None), item
        elif name == "RunMetadataItem":  # the board reduces its bytes: a problem, never a raise
            stats = summarize(item.tag, item.step, item.wall_time, item.run_metadata)
            assert stats.problem is not None or isinstance(stats.nodes, dict)
        elif name == "ImageItem":
            assert isinstance(item.content_type, str)
            assert 0 <= item.value_index < len(ev.summary.value)
            try:
                data = events.image_bytes(ev, item.value_index, item.index)
            except events.EventParseError:
                continue
            assert isinstance(data, bytes)


def parse_and_normalize(data: bytes) -> None:
    try:
        ev = events.parse_event(data)
    except events.EventParseError as exc:
        assert str(exc), "an EventParseError says what was wrong"
        return
    normalize_checked(ev)


def normalize_checked(ev) -> None:
    try:
        items = events.normalize(ev)
    except events.EventParseError as exc:
        assert str(exc)
        return
    check_items(ev, items)


# -- tests ---------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(500)
@given(st.binary(max_size=500))
def test_arbitrary_bytes_parse_or_raise_event_parse_error(data):
    COUNTS["arbitrary"] += 1
    parse_and_normalize(data)


@pytest.mark.unit
@pytest.mark.timeout(120)
@fuzz(500)
@given(mutated_event_bytes())
def test_mutated_events_parse_or_raise_event_parse_error(data):
    COUNTS["mutated"] += 1
    parse_and_normalize(data)


@pytest.mark.unit
@pytest.mark.timeout(180)
@fuzz(600)
@given(structured_events())
def test_structured_events_normalize_or_raise_event_parse_error(ev):
    COUNTS["structured"] += 1
    normalize_checked(ev)
    parse_and_normalize(ev.SerializeToString())


@pytest.mark.unit
@pytest.mark.stress
@pytest.mark.timeout(1800)
@fuzz(20_000)
@given(structured_events())
def test_structured_events_long(ev):
    COUNTS["structured_long"] += 1
    normalize_checked(ev)


@pytest.mark.unit
@pytest.mark.stress
@pytest.mark.timeout(1800)
@fuzz(20_000)
@given(mutated_event_bytes() | st.binary(max_size=2000))
def test_event_bytes_long(data):
    COUNTS["bytes_long"] += 1
    parse_and_normalize(data)


@pytest.mark.unit
def test_valid_events_give_the_expected_items():
    """The seeds of the mutation fuzzer are understood (so mutations start from real events)."""
    kinds = [type(i).__name__ for b in _valid_event_bytes()
             for i in events.normalize(events.parse_event(b))]
    for expected in ("ScalarItem", "ImageItem", "HistogramItem", "GraphItem", "FileVersionItem"):
        assert expected in kinds, f"no {expected} from the valid seeds: {kinds}"
    scalars = [i for b in _valid_event_bytes()[:2] for i in events.normalize(events.parse_event(b))]
    assert [(s.tag, s.step, s.value) for s in scalars] == [("loss", 3, 0.25), ("acc", 4, 0.5)]


@pytest.mark.unit
@pytest.mark.timeout(60)
@pytest.mark.parametrize("plugin", ["scalars", "images", "histograms"])
@pytest.mark.parametrize("shape", [[2**40], [2**31, 2**31], [2**62, 3], [-1, 3]])
def test_tensor_claiming_a_huge_shape_allocates_nothing(plugin, shape):
    """A TF2 tensor whose shape claims 2**40+ elements but carries a few values."""
    ev = event_pb2.Event(wall_time=1.0, step=1)
    v = ev.summary.value.add(tag="t")
    v.metadata.plugin_data.plugin_name = plugin
    v.tensor.dtype = 7 if plugin == "images" else 1
    for size in shape:
        v.tensor.tensor_shape.dim.add(size=size)
    if plugin == "images":
        v.tensor.string_val.extend([b"1", b"1", b"png"])
    else:
        v.tensor.float_val.extend([1.0, 2.0, 3.0])
    data = ev.SerializeToString()
    tracemalloc.start()
    try:
        parse_and_normalize(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"normalising a {shape} tensor allocated {peak} bytes at peak"


@pytest.mark.unit
def test_nan_and_infinite_scalars_are_kept_as_floats():
    """NaN/inf values are data (a diverging loss), not corruption."""
    for value in (math.nan, math.inf, -math.inf):
        ev = event_pb2.Event(wall_time=1.0, step=2)
        ev.summary.value.add(tag="loss", simple_value=value)
        (item,) = events.normalize(events.parse_event(ev.SerializeToString()))
        assert isinstance(item.value, float)
        assert math.isnan(item.value) if math.isnan(value) else item.value == value
