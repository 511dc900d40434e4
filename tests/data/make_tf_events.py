"""Regenerate the TensorFlow golden event files under tests/data/tf1 and tests/data/tf2.

Run with a Python that has TensorFlow (a manual step, never a test dependency):

    /path/to/tf-venv/bin/python tests/data/make_tf_events.py

TF1 part (graph mode, ``tf.compat.v1``): ``FileWriter(logdir, sess.graph)`` (graph +
meta-graph events), ``summary.scalar`` at steps 0..5 (NaN and infinities included),
``summary.image(max_outputs=3)`` of a 5-image float32 batch (negative values and a NaN pixel),
``summary.histogram`` of 200 values. TF2 part (eager ``tf.summary``): scalar, image
(uint8, max_outputs=3), histogram and graph.

Each folder gets one event file with a fixed name and ``expected.json``: the inputs, plus
what TensorFlow itself reads back from the file (``summary_iterator``, ``make_ndarray``,
``decode_png``), which the tests compare with numboard's reader and builders.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCALARS = [0.5, -1.25, float("nan"), float("inf"), float("-inf"), 3.0e-3]


def jfloat(x):
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def inputs():
    import numpy as np

    rng = np.random.default_rng(20240611)
    batch = rng.normal(size=(5, 4, 5, 3)).astype(np.float32)
    batch[1] = np.abs(batch[1])  # an all-positive image: scale 255/max
    batch[2, 0, 0, 1] = np.nan  # a non-finite pixel: drawn red
    values = rng.normal(loc=0.5, scale=2.0, size=200).astype(np.float32)
    uint8_batch = rng.integers(0, 256, size=(4, 3, 6, 3), dtype=np.uint8)
    return batch, values, uint8_batch


def read_back(path):
    """Everything TensorFlow itself reads from an event file, as JSON-friendly data."""
    import tensorflow as tf

    out = {"file_version": None, "scalars": [], "images": [], "histograms": [], "graphs": [], "meta_graphs": 0}
    for e in tf.compat.v1.train.summary_iterator(str(path)):
        if e.HasField("file_version"):
            out["file_version"] = e.file_version
        if e.HasField("graph_def"):
            g = tf.compat.v1.GraphDef.FromString(e.graph_def)
            out["graphs"].append({"step": e.step, "nodes": sorted(n.name for n in g.node)})
        if e.HasField("meta_graph_def"):
            out["meta_graphs"] += 1
        for i, v in enumerate(e.summary.value):
            kind = v.WhichOneof("value")
            plugin = v.metadata.plugin_data.plugin_name
            base = {"tag": v.tag, "step": e.step, "wall_time": e.wall_time, "value_index": i}
            if kind == "simple_value":
                out["scalars"].append({**base, "value": jfloat(v.simple_value), "form": "simple_value"})
            elif kind == "image":
                png = v.image.encoded_image_string
                pixels = tf.io.decode_png(png).numpy().tolist()
                out["images"].append({**base, "index": 0, "width": v.image.width, "height": v.image.height,
                                      "colorspace": v.image.colorspace, "pixels": pixels, "form": "image"})
            elif kind == "histo":
                h = v.histo
                out["histograms"].append({**base, "min": h.min, "max": h.max, "num": h.num, "sum": h.sum,
                                          "sum_squares": h.sum_squares, "bucket_limit": list(h.bucket_limit),
                                          "bucket": list(h.bucket), "form": "histo"})
            elif kind == "tensor":
                arr = tf.make_ndarray(v.tensor)
                if plugin == "scalars":
                    out["scalars"].append({**base, "value": jfloat(arr.item()), "form": "tensor"})
                elif plugin == "images":
                    w, h = int(arr[0]), int(arr[1])
                    for k, png in enumerate(arr[2:]):
                        pixels = tf.io.decode_png(png).numpy().tolist()
                        out["images"].append({**base, "index": k, "width": w, "height": h,
                                              "pixels": pixels, "form": "tensor"})
                elif plugin == "histograms":
                    out["histograms"].append({**base, "rows": arr.tolist(), "form": "tensor"})
    return out


def fix_name(logdir, name):
    (path,) = [p for p in logdir.iterdir() if "tfevents" in p.name]
    target = logdir / name
    path.rename(target)
    return target


def clean(logdir):
    logdir.mkdir(parents=True, exist_ok=True)
    for p in logdir.iterdir():
        if "tfevents" in p.name or p.name == "expected.json":
            p.unlink()


def write_tf1(logdir):
    import tensorflow as tf

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    batch, values, _ = inputs()
    clean(logdir)
    g = tf1.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [], name="x")
        imgs = tf1.placeholder(tf.float32, [None, 4, 5, 3], name="imgs")
        vals = tf1.placeholder(tf.float32, [None], name="vals")
        w = tf1.get_variable("w", [3, 2], initializer=tf1.zeros_initializer())
        tf1.matmul(tf1.ones([1, 3]), w, name="out")
        s_loss = tf1.summary.scalar("loss", x)
        s_img = tf1.summary.image("samples", imgs, max_outputs=3)
        s_hist = tf1.summary.histogram("weights", vals)
        with tf1.Session(graph=g) as sess:
            writer = tf1.summary.FileWriter(str(logdir), sess.graph)
            for step, v in enumerate(SCALARS):
                writer.add_summary(sess.run(s_loss, {x: v}), global_step=step)
            writer.add_summary(sess.run(s_img, {imgs: batch}), global_step=10)
            writer.add_summary(sess.run(s_hist, {vals: values}), global_step=20)
            writer.close()
    fix_name(logdir, "events.out.tfevents.0000000001.golden")
    expected = {}
    expected["inputs"] = {"image_batch": batch.astype(float).tolist(), "histogram_values": values.astype(float).tolist(),
                          "scalars": [jfloat(v) for v in SCALARS]}
    expected["tensorflow"] = tf.__version__
    (logdir / "expected.json").write_text(json.dumps(expected, indent=None, separators=(",", ":")))


def write_tf2(logdir):
    import numpy as np
    import tensorflow as tf

    _, values, uint8_batch = inputs()
    clean(logdir)
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        for step, v in enumerate(SCALARS):
            tf.summary.scalar("loss", v, step=step)
        tf.summary.image("samples", uint8_batch, step=10, max_outputs=3)
        tf.summary.histogram("weights", values, step=20)
        g = tf.Graph()
        with g.as_default():
            tf.constant(np.float32(1.0), name="c")
        tf.summary.graph(g)
    writer.close()
    fix_name(logdir, "events.out.tfevents.0000000001.golden.v2")
    expected = {}
    expected["inputs"] = {"image_batch": uint8_batch.tolist(), "histogram_values": values.astype(float).tolist(),
                          "scalars": [jfloat(v) for v in SCALARS]}
    expected["tensorflow"] = tf.__version__
    (logdir / "expected.json").write_text(json.dumps(expected, indent=None, separators=(",", ":")))


def add_read_back(logdir):
    """Record what TensorFlow reads back from the file (eager mode, its own process)."""
    (path,) = [p for p in logdir.iterdir() if "tfevents" in p.name]
    expected = json.loads((logdir / "expected.json").read_text())
    expected.update(read_back(path))
    expected["file"] = path.name
    (logdir / "expected.json").write_text(json.dumps(expected, indent=None, separators=(",", ":")))


def main():
    if len(sys.argv) == 3:  # one step per process: TF1 graph mode cannot be undone
        step, part = sys.argv[1:]
        {"tf1": write_tf1, "tf2": write_tf2, "read": add_read_back}[step if step == "read" else part](HERE / part)
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for part in ("tf1", "tf2"):
        subprocess.run([sys.executable, __file__, "write", part], check=True, env=env)
        subprocess.run([sys.executable, __file__, "read", part], check=True, env=env)
        print(f"wrote {HERE / part}")


if __name__ == "__main__":
    main()
