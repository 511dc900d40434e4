"""Files written by tensorboardX are read by our reader into the same values (compat tier)."""

import io
import math

import numpy as np
import pytest
import tensorboardX
from PIL import Image

from writer.event_file import read_records
from writer.events import (
    GraphItem,
    HistogramItem,
    ImageItem,
    ScalarItem,
    image_bytes,
    normalize,
    parse_event,
)

pytestmark = pytest.mark.compat



def test_tensorboardx_logdir_read_by_us(tmp_path):
    rng = np.random.default_rng(1)
    img_chw = rng.integers(0, 256, (3, 8, 5), dtype=np.uint8)
    batch = rng.integers(0, 256, (2, 4, 6, 1), dtype=np.uint8)
    values = rng.normal(size=500)
    scalars = [(0, 0.5), (5, float("nan")), (6, float("inf")), (2**40, -3.0)]
    w = tensorboardX.SummaryWriter(str(tmp_path))
    for step, v in scalars:
        w.add_scalar("loss", v, step, walltime=50.0 + step % 3)
    w.add_image("chw", img_chw, 11)  # tensorboardX's default dataformats is CHW
    w.add_images("grid", batch, 12, dataformats="NHWC")
    w.add_histogram("values", values, 13)
    w.add_text("note", "not shown", 14)
    w.close()
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and "tfevents" in files[0].name

    dec = read_records(files[0])
    assert dec.error is None and dec.bad_crc == 0
    events = [parse_event(r.data) for r in dec.records]
    pairs = [(e, i) for e in events for i in normalize(e, {})]
    items = [i for _, i in pairs]

    got = [i for i in items if isinstance(i, ScalarItem)]
    assert [(i.tag, i.step, i.wall_time) for i in got] == [("loss", s, 50.0 + s % 3) for s, _ in scalars]
    assert got[0].value == 0.5 and math.isnan(got[1].value) and got[2].value == math.inf and got[3].value == -3.0

    images = {i.tag: (e, i) for e, i in pairs if isinstance(i, ImageItem)}
    assert set(images) == {"chw", "grid"}
    e, chw = images["chw"]
    assert (chw.step, chw.width, chw.height, chw.content_type) == (11, 5, 8, "image/png")
    pixels = np.asarray(Image.open(io.BytesIO(image_bytes(e, chw.value_index, chw.index))))
    np.testing.assert_array_equal(pixels, img_chw.transpose(1, 2, 0))
    assert images["grid"][1].step == 12  # tensorboardX tiles a batch into one grid image

    (hist,) = [i for i in items if isinstance(i, HistogramItem)]
    expected = tensorboardX.summary.histogram("values", values, w.default_bins).value[0].histo
    assert (hist.tag, hist.step) == ("values", 13)
    assert (hist.min, hist.max, hist.num) == (expected.min, expected.max, expected.num)
    assert hist.sum == expected.sum and hist.sum_squares == expected.sum_squares
    assert hist.bucket_limits == list(expected.bucket_limit)
    assert hist.bucket_counts == list(expected.bucket)
    assert not any(isinstance(i, GraphItem) for i in items)
