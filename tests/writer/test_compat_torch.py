"""Files written by ``torch.utils.tensorboard`` read by numboard (compat tier).

torch is not a test dependency, so the file is a committed fixture made by
``tests/data/make_torch_fixture.py``; ``expected.json`` holds its inputs and what
TensorBoard's record loader reads back.
"""

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from writer.event_file import read_records
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
DATA = Path(__file__).resolve().parents[1] / "data" / "torch"


def items_of(path):
    dec = read_records(path)
    assert dec.error is None and dec.bad_crc == 0
    plugins = {}
    return [(e, i) for e in map(parse_event, (r.data for r in dec.records)) for i in normalize(e, plugins)]


def test_torch_fixture_read_by_us():
    expected = json.loads((DATA / "expected.json").read_text())
    pairs = items_of(DATA / expected["file"])
    items = [i for _, i in pairs]
    assert FileVersionItem(expected["file_version"]) in items

    scalars = [i for i in items if isinstance(i, ScalarItem)]
    want = expected["scalars"]
    assert [(s.tag, s.step, s.wall_time) for s in scalars] == [(w["tag"], w["step"], w["wall_time"]) for w in want]
    for s, w in zip(scalars, want, strict=True):
        v = float(w["value"])
        assert (math.isnan(s.value) and math.isnan(v)) or s.value == v
    assert {w["form"] for w in want} == {"simple_value", "tensor"}  # both torch scalar styles

    ((event, image),) = [(e, i) for e, i in pairs if isinstance(i, ImageItem)]
    (w,) = expected["images"]
    assert (image.tag, image.step, image.width, image.height) == (w["tag"], w["step"], w["width"], w["height"])
    pixels = np.asarray(Image.open(io.BytesIO(image_bytes(event, image.value_index, image.index))))
    np.testing.assert_array_equal(pixels, np.array(w["pixels"], np.uint8))
    np.testing.assert_array_equal(pixels, np.array(expected["inputs"]["image"], np.uint8).transpose(1, 2, 0))

    (hist,) = [i for i in items if isinstance(i, HistogramItem)]
    (w,) = expected["histograms"]
    assert (hist.tag, hist.step, hist.min, hist.max, hist.num, hist.sum) == (
        w["tag"], w["step"], w["min"], w["max"], w["num"], w["sum"]
    )
    assert hist.bucket_limits == w["bucket_limit"] and hist.bucket_counts == w["bucket"]

    (graph,) = [i for i in items if isinstance(i, GraphItem)]
    nodes = sorted(n.name for n in graph_pb2.GraphDef.FromString(graph.graph_def).node)
    assert nodes == expected["graphs"][0]["nodes"]

