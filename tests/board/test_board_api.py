"""Integration tests: the in-process app with the real loader over real event files written
by tensorboardX and by writer.SummaryWriter. Every route and every error shape."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from boardkit import ema_oracle
from PIL import Image
from tensorboardX import SummaryWriter as TBXWriter

from writer import SummaryWriter
from writer.proto import graph_pb2

pytestmark = pytest.mark.integration

N = 300


@pytest.fixture
def logdir(tmp_path):
    """Two tensorboardX runs (scalars, images, histograms) and one writer run with a graph."""
    rng = np.random.default_rng(0)
    images = {}
    for run in ("train", "eval"):
        w = TBXWriter(str(tmp_path / run))
        for i in range(N):
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.add_scalar("acc/top1", i / N, i)
        for i in range(3):
            img = rng.integers(0, 256, size=(6, 9, 3), dtype=np.uint8)
            images[(run, i)] = img
            w.add_image("sample", img, i, dataformats="HWC")
        w.add_histogram("weights", rng.normal(size=500), 7)
        w.close()
    with SummaryWriter(tmp_path / "graph_run") as w:
        w.add_graph(_graph())
        w.add_scalar("only", 2.5, 4)
    return tmp_path, images


def _graph() -> graph_pb2.GraphDef:
    g = graph_pb2.GraphDef()

    def add(name, op, inputs=()):
        node = g.node.add()
        node.name, node.op = name, op
        node.input.extend(inputs)
        return node

    add("x", "Placeholder").attr["dtype"].type = 1
    add("dense/kernel", "VariableV2")
    add("dense/kernel/read", "Identity", ["dense/kernel"])
    add("dense/MatMul", "MatMul", ["x", "dense/kernel/read"])
    add("dense/bias", "VariableV2")
    add("dense/BiasAdd", "BiasAdd", ["dense/MatMul", "dense/bias"])
    add("loss", "Mean", ["dense/BiasAdd", "dense/BiasAdd:1"])
    add("init", "NoOp", ["^dense/kernel", "^dense/bias"])
    return g


@pytest.fixture
def board(board_factory, logdir):
    return board_factory(logdir[0]).load()


def assert_error(resp, code):
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]["message"]


def test_healthz(board):
    assert board.json("/healthz") == {"status": "ok"}


def test_runs_lists_tags_graph_and_counts(board):
    body = board.json("/api/runs")
    names = [r["name"] for r in body["runs"]]
    assert names == ["eval", "graph_run", "train"]
    train = body["runs"][2]
    assert train["tags"] == {"scalars": ["acc/top1", "loss"], "images": ["sample"],
                             "histograms": ["weights"], "text": []}
    assert train["has_graph"] is False and train["corrupt_records"] == 0
    assert isinstance(train["last_wall_time"], float)
    assert body["runs"][1]["has_graph"] is True
    assert body["logdir"] == str(board.app.state.sources[0].path)
    assert body["loading"] is False  # one full pass is done


def test_scalars_exact_values_from_tensorboardx(board):
    body = board.json("/api/scalars", params={"run": "train", "tag": "loss"})
    assert body["run"] == "train" and body["tag"] == "loss"
    assert body["total_points"] == N
    assert body["step"] == list(range(N))
    want = np.array([1.0 / (i + 1) for i in range(N)], dtype=np.float32).astype(float)
    assert body["value"] == want.tolist()
    assert "smoothed" not in body
    assert len(body["wall_time"]) == N


def test_scalars_downsampling_keeps_first_last_and_extremes(board):
    body = board.json("/api/scalars", params={"run": "train", "tag": "loss", "max_points": 10})
    assert len(body["step"]) <= 10
    assert body["step"][0] == 0 and body["step"][-1] == N - 1
    assert body["total_points"] == N
    assert max(body["value"]) == 1.0  # the spike at step 0


def test_scalars_zoom_window_is_full_resolution(board):
    body = board.json("/api/scalars", params={"run": "train", "tag": "loss", "x_min": 100,
                                              "x_max": 250})
    assert body["step"] == list(range(100, 251))


def test_scalars_smoothing_is_tensorboards_ema_on_the_full_series(board):
    full = board.json("/api/scalars", params={"run": "train", "tag": "loss"})
    body = board.json("/api/scalars", params={"run": "train", "tag": "loss",
                                              "smoothing": 0.6, "max_points": 20})
    want = ema_oracle(full["value"], 0.6)
    got = dict(zip(body["step"], body["smoothed"], strict=True))
    for step, value in got.items():
        assert value == pytest.approx(want[step], rel=1e-12)


def test_scalars_csv_and_json_downloads(board):
    r = board.get("/api/scalars", params={"run": "train", "tag": "acc/top1", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert ".csv" in r.headers["content-disposition"] and "/" not in \
        r.headers["content-disposition"].split("filename=")[1]
    lines = r.text.strip().split("\n")
    assert lines[0] == "step,wall_time,value" and len(lines) == N + 1
    step, _wall, value = lines[6].split(",")
    assert int(step) == 5 and float(value) == float(np.float32(5 / N))
    r = board.get("/api/scalars", params={"run": "train", "tag": "loss", "format": "json",
                                          "max_points": 10})
    assert "attachment" in r.headers["content-disposition"]
    assert len(r.json()["step"]) == N  # a download holds every point


def test_images_index_and_bytes(board, logdir):
    _, images = logdir
    body = board.json("/api/images", params={"run": "eval", "tag": "sample"})
    assert body["run"] == "eval" and body["tag"] == "sample"
    assert [s["step"] for s in body["steps"]] == [0, 1, 2]
    assert body["steps"][0]["samples"] == [{"index": 0, "width": 9, "height": 6,
                                            "content_type": "image/png"}]
    for step in (0, 2):
        r = board.get("/api/image", params={"run": "eval", "tag": "sample", "step": step,
                                            "index": 0})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        np.testing.assert_array_equal(pixels, images[("eval", step)])
    latest = board.get("/api/image", params={"run": "eval", "tag": "sample"})
    assert latest.content == board.get("/api/image", params={"run": "eval", "tag": "sample",
                                                             "step": 2}).content


def test_writer_images_with_several_samples(board_factory, tmp_path):
    batch = np.random.default_rng(1).integers(0, 256, size=(5, 4, 4, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path / "r") as w:
        w.add_images("faces", batch, 3, max_images=3)
    b = board_factory(tmp_path).load()
    tags = b.json("/api/runs")["runs"][0]["tags"]["images"]
    assert tags == ["faces/image/0", "faces/image/1", "faces/image/2"]
    r = b.get("/api/image", params={"run": "r", "tag": "faces/image/2", "step": 3})
    pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
    np.testing.assert_array_equal(pixels, batch[4])  # the last max_images are kept


def test_histograms(board):
    body = board.json("/api/histograms", params={"run": "train", "tag": "weights"})
    (h,) = body["steps"]
    assert h["step"] == 7 and h["num"] == 500
    assert len(h["bucket_limits"]) == len(h["bucket_counts"]) > 0
    assert sum(h["bucket_counts"]) == 500 and h["min"] <= h["max"]


def test_graph_collapsed_and_expanded(board):
    body = board.json("/api/graph", params={"run": "graph_run"})
    nodes = {n["id"]: n for n in body["nodes"]}
    assert set(nodes) == {"x", "dense", "loss", "init"}
    assert nodes["dense"]["kind"] == "scope" and nodes["dense"]["child_count"] == 5
    assert nodes["x"]["kind"] == "op" and nodes["x"]["op"] == "Placeholder"
    assert nodes["x"]["attrs"] == {"dtype": "DT_FLOAT"}
    for n in body["nodes"]:
        assert {"id", "name", "kind", "op", "x", "y", "width", "height", "child_count",
                "attrs", "inputs"} <= set(n)
    edges = {(e["source"], e["target"], e["control"]): e["count"] for e in body["edges"]}
    assert edges == {("x", "dense", False): 1, ("dense", "loss", False): 2,
                     ("dense", "init", True): 2}
    assert nodes["x"]["y"] < nodes["dense"]["y"] < nodes["loss"]["y"]

    body = board.json("/api/graph", params={"run": "graph_run", "expand": "dense"})
    ids = {n["id"] for n in body["nodes"]}
    assert {"dense/kernel", "dense/MatMul", "dense/BiasAdd", "dense/bias"} <= ids
    assert "dense" not in ids
    kernel = next(n for n in body["nodes"] if n["id"] == "dense/kernel")
    assert kernel["kind"] == "scope" and kernel["child_count"] == 2  # kernel + kernel/read
    body = board.json("/api/graph", params={"run": "graph_run", "expand": "dense/kernel"})
    assert {"dense/kernel", "dense/kernel/read"} <= {n["id"] for n in body["nodes"]}


def test_tensorboard_compatible_routes(board):
    assert board.json("/data/runs") == ["eval", "graph_run", "train"]
    tags = board.json("/data/plugin/scalars/tags")
    assert tags["train"]["loss"] == {"displayName": "loss", "description": ""}
    rows = board.json("/data/plugin/scalars/scalars", params={"run": "train", "tag": "loss"})
    assert len(rows) == N
    wall, step, value = rows[3]
    assert step == 3 and value == float(np.float32(1 / 4)) and wall > 1e9
    itags = board.json("/data/plugin/images/tags")
    assert itags["train"]["sample"]["samples"] == 1 and itags["graph_run"] == {}


def test_openapi_and_docs(board):
    spec = board.json("/openapi.json")
    assert "/api/scalars" in spec["paths"] and "/api/stream" in spec["paths"]
    r = board.get("/docs")
    assert r.status_code == 200 and "/api/scalars" in r.text and "<script" not in r.text


@pytest.mark.parametrize("url,params,code", [
    ("/api/scalars", {"run": "nope", "tag": "loss"}, 404),
    ("/api/scalars", {"run": "train", "tag": "nope"}, 404),
    ("/api/scalars", {"run": "train"}, 422),
    ("/api/scalars", {"run": "train", "tag": "loss", "max_points": "many"}, 422),
    ("/api/scalars", {"run": "train", "tag": "loss", "max_points": 1}, 422),
    ("/api/scalars", {"run": "train", "tag": "loss", "smoothing": 2}, 422),
    ("/api/scalars", {"run": "train", "tag": "loss", "format": "xml"}, 422),
    ("/api/scalars", {"run": "train", "tag": "loss", "x_min": 9, "x_max": 1}, 400),
    ("/api/images", {"run": "train", "tag": "loss"}, 404),
    ("/api/image", {"run": "train", "tag": "sample", "step": 99}, 404),
    ("/api/image", {"run": "train", "tag": "sample", "index": 5}, 404),
    ("/api/image", {"run": "train", "tag": "sample", "index": -1}, 422),
    ("/api/histograms", {"run": "train", "tag": "loss"}, 404),
    ("/api/graph", {"run": "train"}, 404),
    ("/api/graph", {"run": "../../etc"}, 404),
    ("/api/graph", {}, 422),
    ("/data/plugin/scalars/scalars", {"run": "train"}, 422),
    ("/data/plugin/scalars/scalars", {"run": "x", "tag": "y"}, 404),
    ("/no/such/route", {}, 404),
    ("/../../etc/passwd", {}, 404),
])
def test_error_shape(board, url, params, code):
    message = assert_error(board.get(url, params=params), code)
    assert "/tmp" not in message and "<" not in message


def test_method_not_allowed_has_the_error_shape(board):
    assert_error(board.client.post("/api/runs"), 405)


def test_bad_json_never_reaches_the_client(board_factory, tmp_path):
    # NaN and infinity are valid scalars but not JSON numbers: they come back as null.
    with SummaryWriter(tmp_path / "r") as w:
        for i, v in enumerate([1.0, float("nan"), float("inf"), 2.0]):
            w.add_scalar("odd", v, i)
    b = board_factory(tmp_path).load()
    r = b.get("/api/scalars", params={"run": "r", "tag": "odd", "smoothing": 0.5})
    body = json.loads(r.text)  # strict JSON
    assert body["value"] == [1.0, None, None, 2.0]
    assert body["smoothed"][1] is None
    csv = b.get("/api/scalars", params={"run": "r", "tag": "odd", "format": "csv"}).text
    assert ",nan\n" in csv and ",inf\n" in csv


def test_repeated_requests_are_served_from_the_cache_until_data_changes(board_factory, tmp_path):
    with SummaryWriter(tmp_path / "r") as w:
        for i in range(3000):
            w.add_scalar("x", float(i), i)
        w.flush()
        b = board_factory(tmp_path).load()
        cache = b.app.state.cache
        first = b.json("/api/scalars", params={"run": "r", "tag": "x"})
        assert cache.size == 0  # asked once: not kept
        assert b.json("/api/scalars", params={"run": "r", "tag": "x"}) == first
        assert cache.size > 0
        assert b.json("/api/scalars", params={"run": "r", "tag": "x"}) == first
        w.add_scalar("x", -5.0, 3000)
        w.flush()
        after = b.load().json("/api/scalars", params={"run": "r", "tag": "x"})
        assert after["total_points"] == 3001 and after["value"][-1] == -5.0


def test_both_csv_downloads_hold_the_same_points(board):
    """/api/scalars and TensorBoard's route write one CSV, in their own column order."""
    ours = board.get("/api/scalars", params={"run": "train", "tag": "loss", "format": "csv"})
    theirs = board.get("/data/plugin/scalars/scalars", params={"run": "train", "tag": "loss",
                                                               "format": "csv"})
    ours_rows = [line.split(",") for line in ours.text.splitlines()]
    theirs_rows = [line.split(",") for line in theirs.text.splitlines()]
    assert ours_rows[0] == ["step", "wall_time", "value"]
    assert theirs_rows[0] == ["Wall time", "Step", "Value"]
    assert [[w, s, v] for s, w, v in ours_rows[1:]] == theirs_rows[1:]
    assert len(ours_rows) > 2
