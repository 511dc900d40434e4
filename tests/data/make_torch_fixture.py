"""Regenerate tests/data/torch: an event file written by ``torch.utils.tensorboard``.

Run with a Python that has torch and tensorboard (a manual step, never a test dependency):

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch tensorboard pillow
    /tmp/torchvenv/bin/python tests/data/make_torch_fixture.py

It writes scalars (legacy ``simple_value`` and ``new_style=True`` tensors, NaN and infinities
included), an image (uint8, CHW), a histogram and the graph of a tiny ``nn.Sequential``, into
one event file with a fixed name, plus ``expected.json``: the inputs and what TensorBoard's
own record loader reads back from the file.
"""

import io
import json
import math
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent / "torch"
SCALARS = [(0, 0.25), (1, float("nan")), (2, float("inf")), (3, float("-inf")), (1000, -7.5)]


def jfloat(x):
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def write(logdir):
    import numpy as np
    import torch
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(3, 6, 8), dtype=np.uint8)
    values = rng.normal(size=300).astype(np.float32)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    w = SummaryWriter(str(logdir))
    for step, v in SCALARS:
        w.add_scalar("loss", v, step, walltime=100.0 + step)
    w.add_scalar("acc", 0.5, 3, walltime=200.0, new_style=True)
    w.add_image("picture", image, 4, walltime=300.0)
    w.add_histogram("weights", values, 5, walltime=400.0)
    w.add_graph(model, torch.zeros(1, 4))
    w.close()
    (path,) = [p for p in logdir.iterdir() if "tfevents" in p.name]
    target = logdir / "events.out.tfevents.0000000001.torch"
    path.rename(target)
    return target, {"image": image.tolist(), "histogram_values": values.astype(float).tolist(),
                    "torch": torch.__version__}


def read_back(path):
    import numpy as np
    from PIL import Image
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2, graph_pb2
    from tensorboard.util import tensor_util

    out = {"file_version": None, "scalars": [], "images": [], "histograms": [], "graphs": [], "run_metadata_tags": []}
    for record in RawEventFileLoader(str(path)).Load():
        e = event_pb2.Event.FromString(record)
        if e.HasField("file_version"):
            out["file_version"] = e.file_version
        if e.HasField("graph_def"):
            g = graph_pb2.GraphDef.FromString(e.graph_def)
            out["graphs"].append({"step": e.step, "nodes": sorted(n.name for n in g.node), "ops": sorted({n.op for n in g.node})})
        if e.HasField("tagged_run_metadata"):
            out["run_metadata_tags"].append(e.tagged_run_metadata.tag)
        for i, v in enumerate(e.summary.value):
            base = {"tag": v.tag, "step": e.step, "wall_time": e.wall_time, "value_index": i}
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                out["scalars"].append({**base, "value": jfloat(v.simple_value), "form": "simple_value"})
            elif kind == "tensor" and v.metadata.plugin_data.plugin_name == "scalars":
                value = tensor_util.make_ndarray(v.tensor).item()
                out["scalars"].append({**base, "value": jfloat(value), "form": "tensor"})
            elif kind == "image":
                pixels = np.asarray(Image.open(io.BytesIO(v.image.encoded_image_string))).tolist()
                out["images"].append({**base, "width": v.image.width, "height": v.image.height, "pixels": pixels})
            elif kind == "tensor" and v.metadata.plugin_data.plugin_name == "images":
                arr = tensor_util.make_ndarray(v.tensor)
                pixels = np.asarray(Image.open(io.BytesIO(arr[2]))).tolist()
                out["images"].append({**base, "width": int(arr[0]), "height": int(arr[1]), "pixels": pixels})
            elif kind == "histo":
                h = v.histo
                out["histograms"].append({**base, "min": h.min, "max": h.max, "num": h.num, "sum": h.sum,
                                          "sum_squares": h.sum_squares, "bucket_limit": list(h.bucket_limit),
                                          "bucket": list(h.bucket)})
    return out


def main():
    if HERE.exists():
        shutil.rmtree(HERE)
    HERE.mkdir(parents=True)
    path, inputs = write(HERE)
    expected = {"file": path.name, "inputs": inputs, **read_back(path)}
    (HERE / "expected.json").write_text(json.dumps(expected, separators=(",", ":")))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
