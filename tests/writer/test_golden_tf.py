"""TensorFlow's own event files (TF1 FileWriter, TF2 tf.summary) read by numboard (compat tier).

The files and ``expected.json`` come from ``tests/data/make_tf_events.py`` run with
TensorFlow; ``expected.json`` holds the inputs and what TensorFlow read back from each file.
The TF1 inputs also pin numboard's builders to TF's semantics: image scaling and the default
histogram buckets must give the same pixels and buckets as TensorFlow's kernels.
"""

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from writer import summary
from writer.event_file import RecordTail
from writer.events import (
    FileVersionItem,
    GraphItem,
    HistogramItem,
    ImageItem,
    ScalarItem,
    image_bytes,
    normalize,
    parse_event,
)
from writer.proto import graph_pb2

pytestmark = pytest.mark.compat
DATA = Path(__file__).resolve().parents[1] / "data"


def load(part):
    expected = json.loads((DATA / part / "expected.json").read_text())
    tail = RecordTail(DATA / part / expected["file"])
    dec = tail.read()
    tail.close()
    assert dec.error is None and dec.bad_crc == 0
    events = [parse_event(r.data) for r in dec.records]
    plugins = {}
    pairs = [(e, i) for e in events for i in normalize(e, plugins)]
    return expected, pairs


def num(x):
    return float(x)  # "nan" / "inf" / "-inf" strings and numbers alike


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("part", ["tf1", "tf2"])
def test_scalars(part):
    expected, pairs = load(part)
    got = [i for _, i in pairs if isinstance(i, ScalarItem)]
    want = expected["scalars"]
    assert [(i.tag, i.step, i.wall_time) for i in got] == [(s["tag"], s["step"], s["wall_time"]) for s in want]
    assert all(same(i.value, num(s["value"])) for i, s in zip(got, want, strict=True))
    assert len(got) == 6


@pytest.mark.parametrize("part", ["tf1", "tf2"])
def test_images(part):
    expected, pairs = load(part)
    got = [(e, i) for e, i in pairs if isinstance(i, ImageItem)]
    want = expected["images"]
    assert len(got) == len(want) == 3
    for (event, item), w in zip(got, want, strict=True):
        assert (item.tag, item.step, item.index, item.width, item.height, item.value_index) == (
            w["tag"], w["step"], w["index"], w["width"], w["height"], w["value_index"]
        )
        assert item.content_type == "image/png"
        pixels = np.asarray(Image.open(io.BytesIO(image_bytes(event, item.value_index, item.index))))
        np.testing.assert_array_equal(pixels, np.array(w["pixels"], np.uint8))


def test_tf1_histogram():
    expected, pairs = load("tf1")
    (got,) = [i for _, i in pairs if isinstance(i, HistogramItem)]
    (w,) = expected["histograms"]
    assert (got.tag, got.step) == (w["tag"], w["step"])
    assert (got.min, got.max, got.num, got.sum, got.sum_squares) == (w["min"], w["max"], w["num"], w["sum"], w["sum_squares"])
    assert got.bucket_limits == w["bucket_limit"] and got.bucket_counts == w["bucket"]


def test_tf2_histogram_tensor():
    expected, pairs = load("tf2")
    (got,) = [i for _, i in pairs if isinstance(i, HistogramItem)]
    (w,) = expected["histograms"]
    rows = np.array(w["rows"])
    assert (got.tag, got.step) == (w["tag"], w["step"])
    assert got.bucket_limits == rows[:, 1].tolist() and got.bucket_counts == rows[:, 2].tolist()
    assert (got.min, got.max, got.num) == (rows[0, 0], rows[-1, 1], rows[:, 2].sum())
    assert got.num == len(expected["inputs"]["histogram_values"])


@pytest.mark.parametrize("part", ["tf1", "tf2"])
def test_graphs_and_file_version(part):
    expected, pairs = load(part)
    items = [i for _, i in pairs]
    assert FileVersionItem(expected["file_version"]) in items
    graphs = [i for i in items if isinstance(i, GraphItem)]
    # TF1 FileWriter(logdir, graph) writes graph_def and meta_graph_def; TF2 only graph_def.
    assert len(graphs) == len(expected["graphs"]) + expected["meta_graphs"]
    for g in graphs:
        nodes = sorted(n.name for n in graph_pb2.GraphDef.FromString(g.graph_def).node)
        assert nodes == expected["graphs"][0]["nodes"]


def test_our_image_scaling_matches_tensorflow():
    expected, _ = load("tf1")
    batch = np.array(expected["inputs"]["image_batch"], np.float32)
    # TF1 keeps the first max_outputs images; ours keeps the last, so give ours those three.
    ours = summary.image("samples", batch[:3], max_images=3)
    assert [v.tag for v in ours.value] == [w["tag"] for w in expected["images"]]
    for value, w in zip(ours.value, expected["images"], strict=True):
        pixels = np.asarray(Image.open(io.BytesIO(value.image.encoded_image_string)))
        np.testing.assert_array_equal(pixels, np.array(w["pixels"], np.uint8))
        assert (value.image.width, value.image.height, value.image.colorspace) == (w["width"], w["height"], w["colorspace"])


def test_our_histogram_matches_tensorflow():
    expected, _ = load("tf1")
    values = np.array(expected["inputs"]["histogram_values"], np.float32)
    h = summary.histogram("weights", values).value[0].histo
    (w,) = expected["histograms"]
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (w["min"], w["max"], w["num"], w["sum"], w["sum_squares"])
    assert list(h.bucket_limit) == w["bucket_limit"] and list(h.bucket) == w["bucket"]
