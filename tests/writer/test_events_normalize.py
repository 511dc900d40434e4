"""Event → items (formats.md §2, §4): legacy and TF2 tensor forms of every kind."""

import struct

import numpy as np
import pytest

from writer import summary
from writer.events import (
    EventParseError,
    FileVersionItem,
    GraphItem,
    HistogramItem,
    ImageItem,
    RunMetadataItem,
    ScalarItem,
    SessionStartItem,
    image_bytes,
    normalize,
    parse_event,
)
from writer.proto import event_pb2, graph_pb2, meta_graph_pb2, summary_pb2, tensor_pb2, types_pb2

pytestmark = pytest.mark.unit

# The real TF2 scalar event of formats.md's appendix (TB test data).
TF2_SCALAR_EVENT = (
    bytes.fromhex("09c405b73d99d6d741" "104d" "2a25" "0a23" "0a08") + b"accuracy"
    + bytes.fromhex("420a08011200 2204a4707d3f".replace(" ", ""))
    + bytes.fromhex("4a0b0a090a07") + b"scalars"
)


def _event(step=3, wall=10.5, **kw):
    return event_pb2.Event(step=step, wall_time=wall, **kw)


def _tensor_value(tag, plugin, tensor):
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if plugin:
        value.metadata.plugin_data.plugin_name = plugin
    return value


def test_real_tf2_scalar_event():
    event = parse_event(TF2_SCALAR_EVENT)
    assert normalize(event) == [ScalarItem("accuracy", 77, 1599759606.859727, pytest.approx(0.99))]
    assert normalize(event)[0].value == struct.unpack("<f", bytes.fromhex("a4707d3f"))[0]


def test_parse_error():
    with pytest.raises(EventParseError, match="3 bytes"):
        parse_event(b"\xff\xff\xff")


@pytest.mark.parametrize(
    "tensor",
    [
        tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[2.5]),
        tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[2.5]),
        tensor_pb2.TensorProto(dtype=types_pb2.DT_INT32, int_val=[2]),
        tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, int64_val=[2]),
        tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", 2.5)),
        tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_content=struct.pack("<d", 2.5)),
        tensor_pb2.TensorProto(dtype=types_pb2.DT_HALF, half_val=[int(np.float16(2.5).view(np.uint16))]),
    ],
)
def test_tensor_scalars(tensor):
    event = _event(summary=summary_pb2.Summary(value=[_tensor_value("s", "scalars", tensor)]))
    (item,) = normalize(event)
    assert item.tag == "s" and item.step == 3 and item.wall_time == 10.5
    assert item.value in (2.5, 2.0)


def test_metadata_only_on_first_value_is_remembered_per_run():
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.0])
    first = _event(summary=summary_pb2.Summary(value=[_tensor_value("s", "scalars", tensor)]))
    later = _event(step=4, summary=summary_pb2.Summary(value=[_tensor_value("s", "", tensor)]))
    plugins = {}
    assert len(normalize(first, plugins)) == 1
    assert normalize(later, plugins) == [ScalarItem("s", 4, 10.5, 1.0)]
    assert normalize(later) == []  # without the run's memory the plugin is unknown


def test_legacy_scalar_image_histogram_in_one_event():
    img = np.zeros((5, 7, 3), np.uint8)
    s = summary_pb2.Summary()
    s.value.extend(summary.scalar("loss", 0.5).value)
    s.value.extend(summary.image_one("pic", img).value)
    s.value.extend(summary.histogram("w", [1.0, 2.0]).value)
    event = _event(summary=s)
    scalar, image, histo = normalize(event)
    assert scalar == ScalarItem("loss", 3, 10.5, 0.5)
    assert image == ImageItem("pic", 3, 10.5, 0, 7, 5, "image/png", 1)
    assert image_bytes(event, 1, 0) == s.value[1].image.encoded_image_string
    assert isinstance(histo, HistogramItem) and histo.num == 2 and histo.min == 1.0 and histo.max == 2.0
    assert histo.bucket_limits == list(s.value[2].histo.bucket_limit)
    with pytest.raises(IndexError):
        image_bytes(event, 1, 1)
    with pytest.raises(IndexError):
        image_bytes(event, 0, 0)
    with pytest.raises(IndexError):
        image_bytes(event, 9, 0)


def test_legacy_image_without_size_reads_png_header():
    png = summary.image_one("p", np.zeros((3, 4, 1), np.uint8)).value[0].image.encoded_image_string
    value = summary_pb2.Summary.Value(tag="p", image=summary_pb2.Summary.Image(encoded_image_string=png))
    (item,) = normalize(_event(summary=summary_pb2.Summary(value=[value])))
    assert (item.width, item.height) == (4, 3)


def _image_tensor(blobs, in_content=False):
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING)
    tensor.tensor_shape.dim.add(size=len(blobs))
    if in_content:  # TF's EncodeStringList: varint lengths, then the bytes
        tensor.tensor_content = bytes(len(b) for b in blobs) + b"".join(blobs)
    else:
        tensor.string_val.extend(blobs)
    return tensor


@pytest.mark.parametrize("in_content", [False, True])
def test_tf2_image_tensor(in_content):
    pngs = [b"\x89PNG\r\n\x1a\nfirst", b"\xff\xd8\xffjpeg"]
    tensor = _image_tensor([b"640", b"480", *pngs], in_content)
    event = _event(summary=summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag="other", simple_value=1.0),
        _tensor_value("img", "images", tensor),
    ]))
    items = normalize(event)[1:]
    assert items == [
        ImageItem("img", 3, 10.5, 0, 640, 480, "image/png", 1),
        ImageItem("img", 3, 10.5, 1, 640, 480, "image/jpeg", 1),
    ]
    assert [image_bytes(event, 1, i) for i in range(2)] == pngs
    with pytest.raises(IndexError):
        image_bytes(event, 1, 2)


def test_tf2_histogram_tensor():
    rows = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 1.0]], np.float64)
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_content=rows.tobytes())
    tensor.tensor_shape.dim.add(size=2)
    tensor.tensor_shape.dim.add(size=3)
    event = _event(summary=summary_pb2.Summary(value=[_tensor_value("h", "histograms", tensor)]))
    (item,) = normalize(event)
    assert (item.min, item.max, item.num) == (0.0, 3.0, 3.0)
    assert item.bucket_limits == [1.0, 3.0] and item.bucket_counts == [2.0, 1.0]
    assert item.sum == 2 * 0.5 + 1 * 2.0


def test_graphs_session_log_file_version_and_unknown():
    graph = graph_pb2.GraphDef()
    graph.node.add(name="a", op="Const")
    meta = meta_graph_pb2.MetaGraphDef(graph_def=graph)
    assert normalize(_event(graph_def=graph.SerializeToString())) == [
        GraphItem(3, 10.5, graph.SerializeToString())
    ]
    assert normalize(_event(meta_graph_def=meta.SerializeToString())) == [
        GraphItem(3, 10.5, graph.SerializeToString())
    ]
    assert normalize(_event(meta_graph_def=b"\xff")) == []
    start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    assert normalize(_event(session_log=start)) == [SessionStartItem(3, 10.5)]
    stop = event_pb2.SessionLog(status=event_pb2.SessionLog.STOP)
    assert normalize(_event(session_log=stop)) == []
    assert normalize(event_pb2.Event(file_version="brain.Event:2")) == [FileVersionItem("brain.Event:2")]
    other = _tensor_value("t", "pr_curves", tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"x"]))
    assert normalize(_event(summary=summary_pb2.Summary(value=[other]))) == []  # not a plugin we read
    assert normalize(_event()) == []


def test_tagged_run_metadata_keeps_its_bytes_undecoded():
    tagged = event_pb2.TaggedRunMetadata(tag="step1", run_metadata=b"\xff\x00")
    assert normalize(_event(tagged_run_metadata=tagged)) == [
        RunMetadataItem(3, 10.5, "step1", b"\xff\x00")]  # bad bytes: the board's to judge


@pytest.mark.parametrize("plugin", ["scalars", "histograms", "images"])
def test_a_shape_claiming_2_to_the_40_elements_is_not_filled(plugin):
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING if plugin == "images" else types_pb2.DT_FLOAT)
    tensor.tensor_shape.dim.add(size=2**40)
    if plugin == "images":
        tensor.tensor_content = b"\x01\x01x"
    else:
        tensor.float_val.extend([1.0, 2.0, 3.0])
    event = _event(summary=summary_pb2.Summary(value=[_tensor_value("t", plugin, tensor)]))
    assert normalize(event) == []


def test_fill_to_a_small_shape_like_tf():
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[1.0, 2.0, 5.0])
    tensor.tensor_shape.dim.add(size=2)
    tensor.tensor_shape.dim.add(size=3)  # rows (1, 2, 5), (5, 5, 5): the last value repeats
    event = _event(summary=summary_pb2.Summary(value=[_tensor_value("h", "histograms", tensor)]))
    (item,) = normalize(event)
    assert item.bucket_limits == [2.0, 5.0] and item.bucket_counts == [5.0, 5.0]


def test_unpaired_histogram_buckets_are_truncated():
    value = summary_pb2.Summary.Value(tag="h")
    value.histo.bucket.extend([1.0, 2.0])
    value.histo.bucket_limit.extend([0.5])
    (item,) = normalize(_event(summary=summary_pb2.Summary(value=[value])))
    assert item.bucket_limits == [0.5] and item.bucket_counts == [1.0]
