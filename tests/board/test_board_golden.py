"""Compat: event files written by TensorFlow 1 (FileWriter), TensorFlow 2 (tf.summary) and
torch.utils.tensorboard (golden fixtures in tests/data/, with the values their writers were
given in expected.json) are served with exact values."""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.compat

DATA = Path(__file__).resolve().parents[1] / "data"
KINDS = ["tf1", "tf2", "torch"]


def _fixture(kind):
    folder = DATA / kind
    expected = json.loads((folder / "expected.json").read_text())
    return folder / expected["file"], expected


@pytest.fixture(params=KINDS)
def golden(request, board_factory, tmp_path):
    path, expected = _fixture(request.param)
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; regenerate it with tests/data/make_*.py")
    (tmp_path / "run").mkdir()
    shutil.copy(path, tmp_path / "run" / path.name)
    return board_factory(tmp_path).load(), expected


def _num(v):
    return float(v) if isinstance(v, str) else v


def test_scalars_exact(golden):
    b, expected = golden
    by_tag: dict[str, list] = {}
    for s in expected["scalars"]:
        by_tag.setdefault(s["tag"], []).append(s)
    runs = b.json("/api/runs")["runs"]
    assert runs[0]["corrupt_records"] == 0 and runs[0]["errors"] == []
    assert runs[0]["tags"]["scalars"] == sorted(by_tag)
    for tag, points in by_tag.items():
        body = b.json("/api/scalars", params={"run": "run", "tag": tag})
        assert body["step"] == [p["step"] for p in points]
        csv = b.get("/api/scalars", params={"run": "run", "tag": tag, "format": "csv"}).text
        rows = [line.split(",") for line in csv.strip().split("\n")[1:]]
        for p, json_value, (_s, wall, text) in zip(points, body["value"], rows, strict=True):
            want = _num(p["value"])
            assert float(wall) == p["wall_time"]
            if math.isfinite(want):
                assert json_value == want
            else:
                assert json_value is None
            got = float(text)
            assert got == want or (math.isnan(got) and math.isnan(want))


def test_images_exact(golden):
    b, expected = golden
    for img in expected["images"]:
        index = img.get("index") or 0
        listing = b.json("/api/images", params={"run": "run", "tag": img["tag"]})
        step = next(s for s in listing["steps"] if s["step"] == img["step"])
        sample = next(x for x in step["samples"] if x["index"] == index)
        assert (sample["width"], sample["height"]) == (img["width"], img["height"])
        r = b.get("/api/image", params={"run": "run", "tag": img["tag"], "step": img["step"],
                                        "index": index})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        pixels = np.asarray(Image.open(io.BytesIO(r.content)))
        want = np.asarray(img["pixels"], dtype=np.uint8)
        np.testing.assert_array_equal(pixels.reshape(want.shape), want)


def test_histograms(golden):
    b, expected = golden
    for h in expected["histograms"]:
        body = b.json("/api/histograms", params={"run": "run", "tag": h["tag"]})
        got = next(s for s in body["steps"] if s["step"] == h["step"])
        if "rows" in h:  # TF2: [k, 3] rows of (left, right, count)
            rows = np.asarray(h["rows"])
            assert got["bucket_counts"] == rows[:, 2].tolist()
            assert got["bucket_limits"] == rows[:, 1].tolist()
            assert got["num"] == rows[:, 2].sum()
        else:
            for key in ("min", "max", "num", "sum", "sum_squares"):
                assert got[key] == h[key], key
            assert len(got["bucket_limits"]) == len(got["bucket_counts"]) > 0


def test_graph_nodes(golden):
    b, expected = golden
    want = set(expected["graphs"][0]["nodes"])
    scopes = {n.rsplit("/", 1)[0] for n in want if "/" in n}
    body = b.json("/api/graph", params={"run": "run", "expand": ",".join(sorted(scopes))})
    assert {n["id"] for n in body["nodes"] if n["kind"] == "op"} == want
    assert body["total_ops"] == len(want)
    collapsed = b.json("/api/graph", params={"run": "run"})
    assert sum(max(n["child_count"], 1) for n in collapsed["nodes"]) >= len(want)
