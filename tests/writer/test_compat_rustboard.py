"""A logdir written by our SummaryWriter, loaded by TensorBoard's Rust data server (SPEC §2.1).

The ``tensorboard_data_server`` binary ships with the ``tensorboard`` test extra. It runs with
``--checksum`` (every record's CRCs verified), bound to 127.0.0.1, and is queried over gRPC
with TensorBoard's own client (``GrpcDataProvider``).
"""

import io
import math
import struct
import time

import numpy as np
import pytest
from PIL import Image
from tensorboard import context

import writer
from tests.rustkit import rust_data_server
from writer.proto import graph_pb2

pytestmark = pytest.mark.compat


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


@pytest.fixture
def logdir(tmp_path):
    rng = np.random.default_rng(3)
    batch = rng.integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)
    graph = graph_pb2.GraphDef()
    graph.node.add(name="x", op="Placeholder")
    graph.node.add(name="y", op="Relu", input=["x"])
    scalars = [(0, 0.25), (1, float("nan")), (2, float("inf")), (3, float("-inf")), (2**40, -1.5)]
    run = tmp_path / "logs" / "run1"
    with writer.SummaryWriter(run) as w:
        w.add_graph(graph)
        for step, v in scalars:
            w.add_scalar("loss", v, step, walltime=10.0 + (step % 5))
        w.add_images("samples", batch, 5, max_images=2)
        w.add_histogram("weights", rng.normal(size=800), 6)
    return tmp_path / "logs", dict(scalars=scalars, batch=batch, graph=graph, path=w.path)


@pytest.fixture
def provider(logdir, tmp_path):
    with rust_data_server(logdir[0], tmp_path, "--checksum",
                          "--samples-per-plugin=scalars=all,images=all,histograms=all") as p:
        yield p


def wait_until_loaded(provider, ctx):
    """Poll until the last event written (the histogram) is served: the server loads a run's
    file in order, in the background."""
    for _ in range(600):
        result = provider.read_tensors(ctx, experiment_id="", plugin_name="histograms", downsample=10)
        if "weights" in result.get("run1", {}):
            return
        time.sleep(0.05)
    raise AssertionError("the data server never served run1's last event")


def test_rust_data_server_reads_our_logdir(logdir, provider):
    _, expected = logdir
    ctx = context.RequestContext()

    wait_until_loaded(provider, ctx)

    def read(plugin, kind="scalars"):
        fn = provider.read_scalars if kind == "scalars" else (
            provider.read_blob_sequences if kind == "blobs" else provider.read_tensors
        )
        return fn(ctx, experiment_id="", plugin_name=plugin, downsample=10_000)["run1"]

    scalars = read("scalars")["loss"]
    assert [p.step for p in scalars] == [s for s, _ in expected["scalars"]]
    assert [p.wall_time for p in scalars] == [10.0 + (s % 5) for s, _ in expected["scalars"]]
    for point, (_, v) in zip(scalars, expected["scalars"], strict=True):
        assert (math.isnan(point.value) and math.isnan(v)) or point.value == f32(v)

    images = read("images", "blobs")
    assert sorted(images) == ["samples/image/0", "samples/image/1"]


    for k, tag in enumerate(["samples/image/0", "samples/image/1"]):
        (datum,) = images[tag]
        assert datum.step == 5 and len(datum.values) == 3  # [width, height, png]
        width, height, png = (provider.read_blob(ctx, blob_key=ref.blob_key) for ref in datum.values)
        assert (width, height) == (b"6", b"5")
        pixels = np.asarray(Image.open(io.BytesIO(png)))
        np.testing.assert_array_equal(pixels, expected["batch"][2 + k])  # the last two

    (hist,) = read("histograms", "tensors")["weights"]
    rows = hist.numpy
    assert hist.step == 6 and rows.shape[1] == 3 and rows[:, 2].sum() == 800

    (graph,) = read("graphs", "blobs")["__run_graph__"]
    (ref,) = graph.values
    assert provider.read_blob(ctx, blob_key=ref.blob_key) == expected["graph"].SerializeToString()
