"""Pure Summary builders: scalar, image (TF1 scaling, last max_images), histogram (TF buckets)."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

from writer import summary

pytestmark = pytest.mark.unit


def pixels(value):
    img = Image.open(io.BytesIO(value.image.encoded_image_string))
    assert img.format == "PNG"
    arr = np.asarray(img)
    return arr[..., np.newaxis] if arr.ndim == 2 else arr


def test_scalar():
    s = summary.scalar("loss", np.float32(0.25))
    assert len(s.value) == 1 and s.value[0].tag == "loss" and s.value[0].simple_value == 0.25
    assert summary.scalar("n", 3).value[0].WhichOneof("value") == "simple_value"


def test_scalar_errors_name_tag_and_value():
    with pytest.raises(TypeError, match=r"'loss'.*'abc'"):
        summary.scalar("loss", "abc")
    with pytest.raises(ValueError, match=r"'loss'.*\(2, 2\)"):
        summary.scalar("loss", np.zeros((2, 2)))
    with pytest.raises(TypeError, match="non-empty str"):
        summary.scalar(None, 1.0)


def test_image_keeps_the_last_max_images_with_tf1_tags():
    batch = np.stack([np.full((4, 5, 3), i * 40, np.uint8) for i in range(5)])
    s = summary.image("gen", batch, max_images=3)
    assert [v.tag for v in s.value] == ["gen/image/0", "gen/image/1", "gen/image/2"]
    assert [int(pixels(v)[0, 0, 0]) for v in s.value] == [80, 120, 160]
    for v in s.value:
        assert (v.image.height, v.image.width, v.image.colorspace) == (4, 5, 3)
        np.testing.assert_array_equal(pixels(v), batch[int(pixels(v)[0, 0, 0]) // 40])


def test_image_single_tag_depends_on_max_images_not_batch():
    batch = np.zeros((2, 3, 3, 1), np.uint8)
    assert [v.tag for v in summary.image("x", batch, max_images=1).value] == ["x/image"]
    small = summary.image("x", batch[:1], max_images=3)
    assert [v.tag for v in small.value] == ["x/image/0"]


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels_and_layouts(channels):
    rng = np.random.default_rng(channels)
    nhwc = rng.integers(0, 256, (2, 6, 7, channels), dtype=np.uint8)
    a = summary.image("t", nhwc, 2, "NHWC")
    b = summary.image("t", nhwc.transpose(0, 3, 1, 2), 2, "NCHW")
    for va, vb, img in zip(a.value, b.value, nhwc, strict=True):
        assert va.image.colorspace == channels
        np.testing.assert_array_equal(pixels(va), img)
        np.testing.assert_array_equal(pixels(vb), img)
    one = summary.image_one("single", nhwc[0].transpose(2, 0, 1), "CHW")
    assert one.value[0].tag == "single"
    np.testing.assert_array_equal(pixels(one.value[0]), nhwc[0])
    if channels == 1:
        hw = summary.image_one("hw", nhwc[0, :, :, 0], "HW")
        np.testing.assert_array_equal(pixels(hw.value[0]), nhwc[0])


def test_float_images_scaled_per_image_like_tf():
    # Positive image: scale = 255 / max (so a max of 0.5 becomes 255); truncation, not rounding.
    pos = np.array([[[0.0], [0.5], [0.25], [0.1]]], np.float32)
    # Negative values: scale = 127 / max|v|, offset 128.
    neg = np.array([[[-1.0], [0.0], [0.5], [-0.5]]], np.float32)
    s = summary.image("f", np.stack([pos, neg]), max_images=2)
    assert pixels(s.value[0])[0, :, 0].tolist() == [0, 255, 127, 51]
    assert pixels(s.value[1])[0, :, 0].tolist() == [1, 128, 191, 64]


def test_float_scaling_is_per_image_not_per_batch():
    a = np.full((1, 2, 1), 0.5, np.float32)
    b = np.full((1, 2, 1), 100.0, np.float32)
    s = summary.image("f", np.stack([a, b]), max_images=2)
    assert pixels(s.value[0]).max() == 255 and pixels(s.value[1]).max() == 255


def test_float64_scaling_uses_a_float32_scale_like_tf():
    # TF computes the scale in float32 (255f / 100f = 2.5499999...) and applies it in the
    # image dtype: a float64 image with max 100 peaks at 254. Checked against TF 2.21.
    img = np.full((1, 2, 1), 100.0, np.float64)
    assert pixels(summary.image_one("f", img).value[0]).max() == 254


def test_non_finite_pixels_become_red_and_are_ignored_for_scaling():
    img = np.array([[[0.5, 0.5, 0.5], [np.nan, 0.0, 0.0], [0.25, 0.25, np.inf]]], np.float32)
    out = pixels(summary.image_one("nan", img).value[0])
    assert out[0].tolist() == [[255, 255, 255], [255, 0, 0], [255, 0, 0]]
    rgba = np.array([[[np.nan, 0, 0, 0]]], np.float32)
    assert pixels(summary.image_one("nan", rgba).value[0])[0, 0].tolist() == [255, 0, 0, 255]


def test_tiny_and_zero_images_are_black():
    img = np.full((2, 2, 1), 1e-7, np.float32)
    assert pixels(summary.image_one("z", img).value[0]).max() == 0


def test_integer_images_in_range_pass():
    img = np.array([[[0], [255]]], np.int64)
    assert pixels(summary.image_one("i", img).value[0])[0, :, 0].tolist() == [0, 255]


@pytest.mark.parametrize(
    ("batch", "kwargs", "match"),
    [
        (np.zeros((1, 4, 4, 2)), {}, "1, 3 or 4 channels"),
        (np.zeros((4, 4, 3)), {}, "4-D"),
        (np.zeros((1, 4, 4, 3)), {"dataformats": "NWHCX"}, "dataformats"),
        (np.zeros((1, 0, 4, 3)), {}, "non-zero"),
        (np.full((1, 2, 2, 1), 300), {}, "0..255"),
        (np.zeros((1, 2, 2, 1)), {"max_images": 0}, "max_images"),
        (np.array([["a"]]), {}, "dtype"),
    ],
)
def test_image_errors_name_the_tag(batch, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match) as info:
        summary.image("bad_tag", batch, **kwargs)
    assert "'bad_tag'" in str(info.value)


def _tf_histogram_reference(values):
    """Independent restatement of TF histogram.cc Add + EncodeToProto, one value at a time."""
    limits = summary.default_bucket_limits()
    counts = [0.0] * len(limits)
    for v in values:
        b = next(i for i, lim in enumerate(limits) if lim > v)  # std::upper_bound
        counts[b] += 1
    out_limits, out_counts, i = [], [], 0
    while i < len(counts):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(counts) and counts[i] <= 0:
                end, count = limits[i], counts[i]
                i += 1
        out_limits.append(end)
        out_counts.append(count)
    return out_limits, out_counts


@pytest.mark.parametrize(
    "values",
    [[], [0.0], [1.0, 1.0, 2.5, -3.0], list(np.linspace(-5, 5, 101)), [1e-13, -1e-13, 1e25, -1e25]],
)
def test_histogram_default_buckets_match_tf_algorithm(values):
    h = summary.histogram("h", values).value[0].histo
    limits, counts = _tf_histogram_reference(values)
    assert list(h.bucket_limit) == limits and list(h.bucket) == counts
    assert h.num == len(values)
    if values:
        assert (h.min, h.max) == (min(values), max(values))
        assert h.sum == pytest.approx(sum(values)) and h.sum_squares == pytest.approx(sum(v * v for v in values))
    else:
        assert (h.min, h.max) == (sys.float_info.max, -sys.float_info.max)


def test_default_limits_layout():
    limits = summary.default_bucket_limits()
    assert len(limits) == 1551 and limits[775] == 0.0
    assert limits[776] == 1e-12 and limits[-1] == sys.float_info.max and limits[0] == -sys.float_info.max
    assert limits == sorted(limits)


def test_histogram_numpy_bins():
    h = summary.histogram("h", np.arange(10), bins=5).value[0].histo
    assert list(h.bucket) == [2, 2, 2, 2, 2] and list(h.bucket_limit) == [1.8, 3.6, 5.4, 7.2, 9.0]


def test_histogram_rejects_non_finite():
    with pytest.raises(ValueError, match=r"'weights'.*inf"):
        summary.histogram("weights", [1.0, np.inf])
    with pytest.raises(ValueError, match="bins"):
        summary.histogram("weights", [1.0], bins="nonsense")
