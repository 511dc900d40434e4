"""Compatibility with TensorBoard's own writer and readers (SPEC §2.1; compat tier).

TensorBoard's record writer and event-file writer produce files our reader must read, and
files from our SummaryWriter must load in TensorBoard's EventAccumulator (the legacy one that
keeps scalars/images/histograms/graph apart, and the plugin one that turns everything into
tensors) with exact steps, values, tags and bytes.
"""

import io
import math
import struct

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto import event_pb2 as tb_event_pb2
from tensorboard.compat.proto import graph_pb2 as tb_graph_pb2
from tensorboard.compat.proto import summary_pb2 as tb_summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter as TbEventFileWriter
from tensorboard.summary.writer.record_writer import RecordWriter as TbRecordWriter

import writer
from writer.event_file import RecordTail, read_records
from writer.events import (
    GraphItem,
    HistogramItem,
    ImageItem,
    ScalarItem,
    image_bytes,
    normalize,
    parse_event,
)
from writer.proto import graph_pb2
from writer.record import encode_record

pytestmark = pytest.mark.compat

PAYLOADS = [b"", b"x", b"hello" * 100, bytes(range(256)) * 40]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_tensorboard_record_writer_bytes_equal_ours(tmp_path):
    buf = io.BytesIO()
    rw = TbRecordWriter(buf)
    for p in PAYLOADS:
        rw.write(p)
    assert buf.getvalue() == b"".join(encode_record(p) for p in PAYLOADS)
    path = tmp_path / "tb.tfrecord"
    path.write_bytes(buf.getvalue())
    dec = RecordTail(path).read()
    assert dec.error is None and [r.data for r in dec.records] == PAYLOADS


def test_our_records_read_by_tensorboard_loader(tmp_path):
    path = tmp_path / "ours.tfevents"
    path.write_bytes(b"".join(encode_record(p) for p in PAYLOADS))
    assert list(RawEventFileLoader(str(path)).Load()) == PAYLOADS


def test_tensorboard_event_file_writer_read_by_us(tmp_path):
    w = TbEventFileWriter(str(tmp_path))
    graph = tb_graph_pb2.GraphDef()
    graph.node.add(name="x", op="Placeholder")
    w.add_event(tb_event_pb2.Event(wall_time=1.0, step=0, graph_def=graph.SerializeToString()))
    for step, v in enumerate([0.5, float("nan"), float("inf")]):
        s = tb_summary_pb2.Summary(value=[tb_summary_pb2.Summary.Value(tag="loss", simple_value=v)])
        w.add_event(tb_event_pb2.Event(wall_time=2.0 + step, step=step * 10, summary=s))
    w.close()
    (path,) = tmp_path.iterdir()
    events = [parse_event(r.data) for r in read_records(path).records]
    assert events[0].file_version == "brain.Event:2"
    items = [i for e in events for i in normalize(e)]
    assert GraphItem(0, 1.0, graph.SerializeToString()) in items
    scalars = [i for i in items if isinstance(i, ScalarItem)]
    assert [(s.step, s.wall_time) for s in scalars] == [(0, 2.0), (10, 3.0), (20, 4.0)]
    assert scalars[0].value == 0.5 and math.isnan(scalars[1].value) and scalars[2].value == math.inf


def test_tensorboard_summary_builders_read_by_us(tmp_path):
    # TensorBoard's pure-Python TF2-style summaries: tensor scalars (float_val) and [k, 3]
    # histogram tensors. Its image builder needs TensorFlow, so the [w, h, png...] tensor is
    # built here with TensorBoard's protos (real TF2 image files: test_golden_tf.py).
    from tensorboard.compat.proto import tensor_pb2 as tb_tensor_pb2
    from tensorboard.plugins.histogram import summary_v2 as hist_v2
    from tensorboard.plugins.scalar import summary_v2 as scalar_v2

    pngs = [writer.summary.encode_png(np.full((2, 3, 3), k * 50, np.uint8)) for k in range(2)]
    with writer.SummaryWriter(tmp_path) as w:
        w.add_summary(scalar_v2.scalar_pb("acc", np.float32(0.75)), 5)
        w.add_summary(hist_v2.histogram_pb("h", np.array([1.0, 2.0, 2.0, 5.0]), buckets=3), 6)
        t = tb_tensor_pb2.TensorProto(dtype=7, string_val=[b"3", b"2", *pngs])
        t.tensor_shape.dim.add(size=4)
        v = tb_summary_pb2.Summary.Value(tag="img", tensor=t)
        v.metadata.plugin_data.plugin_name = "images"
        w.add_summary(tb_summary_pb2.Summary(value=[v]), 7)
    events = [parse_event(r.data) for r in read_records(w.path).records]
    plugins = {}
    items = [(e, i) for e in events for i in normalize(e, plugins)]
    (scalar,) = [i for _, i in items if isinstance(i, ScalarItem)]
    assert (scalar.tag, scalar.step, scalar.value) == ("acc", 5, 0.75)
    (hist,) = [i for _, i in items if isinstance(i, HistogramItem)]
    assert hist.step == 6 and hist.num == 4 and hist.min == 1.0 and hist.max == 5.0
    assert len(hist.bucket_limits) == 3 and sum(hist.bucket_counts) == 4
    images = [(e, i) for e, i in items if isinstance(i, ImageItem)]
    assert [(i.tag, i.index, i.width, i.height) for _, i in images] == [("img", 0, 3, 2), ("img", 1, 3, 2)]
    assert [image_bytes(e, i.value_index, i.index) for e, i in images] == pngs


@pytest.fixture(scope="module")
def our_logdir(tmp_path_factory):
    """A logdir written by our SummaryWriter with every kind of data."""
    logdir = tmp_path_factory.mktemp("ours")
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)
    weights = rng.normal(size=1000)
    graph = graph_pb2.GraphDef()
    graph.node.add(name="W", op="VariableV2")
    graph.node.add(name="MatMul", op="MatMul", input=["x", "W"])
    scalars = [(0, 1.5), (1, float("nan")), (2, float("inf")), (3, float("-inf")), (10**12, -2.25)]
    with writer.SummaryWriter(logdir) as w:
        w.add_graph(graph)
        for step, v in scalars:
            w.add_scalar("train/loss", v, step, walltime=1000.0 + step % 7)
        w.add_images("samples", batch, 7, max_images=3)
        w.add_images("single", batch[:2], 8, max_images=1)
        w.add_histogram("weights", weights, 9)
    return logdir, dict(scalars=scalars, batch=batch, weights=weights, graph=graph, path=w.path)


def test_event_accumulator_loads_our_logdir(our_logdir):
    logdir, expected = our_logdir
    acc = ea.EventAccumulator(str(logdir), size_guidance=ea.STORE_EVERYTHING_SIZE_GUIDANCE)
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["train/loss"]
    assert sorted(tags["images"]) == ["samples/image/0", "samples/image/1", "samples/image/2", "single/image"]
    assert tags["histograms"] == ["weights"] and tags["graph"] is True

    got = acc.Scalars("train/loss")
    assert [e.step for e in got] == [s for s, _ in expected["scalars"]]
    assert [e.wall_time for e in got] == [1000.0 + s % 7 for s, _ in expected["scalars"]]
    for e, (_, v) in zip(got, expected["scalars"], strict=True):
        assert (math.isnan(e.value) and math.isnan(v)) or e.value == f32(v)

    ours = [i for r in read_records(expected["path"]).records for i in normalize(parse_event(r.data))]
    our_images = {i.tag: i for i in ours if isinstance(i, ImageItem)}
    from PIL import Image

    for k, tag in enumerate(["samples/image/0", "samples/image/1", "samples/image/2"]):
        (img,) = acc.Images(tag)
        assert (img.step, img.width, img.height) == (7, 7, 6)
        pixels = np.asarray(Image.open(io.BytesIO(img.encoded_image_string)))
        np.testing.assert_array_equal(pixels, expected["batch"][2 + k])  # the last three
        assert our_images[tag].width == 7
    (single,) = acc.Images("single/image")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(single.encoded_image_string))), expected["batch"][1])

    (hist,) = acc.Histograms("weights")
    h = hist.histogram_value
    w = expected["weights"]
    assert hist.step == 9 and h.num == 1000 and h.min == w.min() and h.max == w.max()
    assert h.sum == pytest.approx(w.sum()) and h.sum_squares == pytest.approx((w * w).sum())
    assert sum(h.bucket) == 1000 and len(h.bucket) == len(h.bucket_limit)

    assert acc.Graph().SerializeToString() == expected["graph"].SerializeToString()


def test_plugin_event_accumulator_reads_our_logdir_as_tensors(our_logdir):
    logdir, expected = our_logdir
    acc = pea.EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    tags = acc.Tags()["tensors"]
    assert "train/loss" in tags and "samples/image/0" in tags and "weights" in tags
    from tensorboard.util import tensor_util

    values = [tensor_util.make_ndarray(e.tensor_proto).item() for e in acc.Tensors("train/loss")]
    assert [e.step for e in acc.Tensors("train/loss")] == [s for s, _ in expected["scalars"]]
    assert values[0] == 1.5 and math.isnan(values[1]) and values[2:] == [math.inf, -math.inf, -2.25]
    meta = acc.SummaryMetadata("train/loss")
    assert meta.plugin_data.plugin_name == "scalars"
    blob = tensor_util.make_ndarray(acc.Tensors("samples/image/2")[0].tensor_proto)
    assert blob[0] == b"7" and blob[1] == b"6"
