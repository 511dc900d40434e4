"""Logdirs for the browser tests and the screenshots, written with writer.SummaryWriter.

`realistic(root)` looks like a small training sweep: three runs of an MLP on sklearn's
8×8 digits-like images with loss/accuracy curves, learning rate, weight histograms, input
images and a TF1-style GraphDef with name scopes. `many_runs(root)` is the 20 runs × 10
tags load used to time the first draw of the scalars view.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from writer import SummaryWriter
from writer.proto import attr_value_pb2, graph_pb2, types_pb2

XSS_TAG = "<img src=x onerror=window.__xss=1>"
XSS_RUN = "<img src=x onerror=window.__xss=2>"  # a directory name: no "/" inside


def _attr_type(dtype=types_pb2.DT_FLOAT):
    return attr_value_pb2.AttrValue(type=dtype)


def _attr_shape(*dims):
    value = attr_value_pb2.AttrValue()
    for d in dims:
        value.shape.dim.add(size=d)
    return value


def mlp_graph() -> graph_pb2.GraphDef:
    """A TF1 MLP graph: input, two dense layers, softmax loss and a gradient-descent step."""
    g = graph_pb2.GraphDef()

    def node(name, op, inputs=(), out=None, **attrs):
        n = g.node.add(name=name, op=op, input=list(inputs), device="/device:CPU:0")
        n.attr["T"].CopyFrom(_attr_type())
        if out is not None:
            n.attr["_output_shapes"].list.shape.add().CopyFrom(_attr_shape(*out).shape)
        for key, value in attrs.items():
            n.attr[key].CopyFrom(value)
        return n

    node("input/x", "Placeholder", out=(-1, 64), dtype=_attr_type(), shape=_attr_shape(-1, 64))
    node("input/labels", "Placeholder", out=(-1,), dtype=_attr_type(types_pb2.DT_INT64))
    prev, width = "input/x", 64
    for i, units in enumerate((256, 10), start=1):
        s = f"dense{i}"
        node(f"{s}/weights", "VariableV2", out=(width, units), shape=_attr_shape(width, units))
        node(f"{s}/weights/read", "Identity", [f"{s}/weights"], out=(width, units))
        node(f"{s}/bias", "VariableV2", out=(units,), shape=_attr_shape(units))
        node(f"{s}/bias/read", "Identity", [f"{s}/bias"], out=(units,))
        node(
            f"{s}/MatMul",
            "MatMul",
            [prev, f"{s}/weights/read"],
            out=(-1, units),
            transpose_a=attr_value_pb2.AttrValue(b=False),
        )
        node(f"{s}/BiasAdd", "BiasAdd", [f"{s}/MatMul", f"{s}/bias/read"], out=(-1, units))
        prev = f"{s}/BiasAdd"
        if i == 1:
            node(f"{s}/Relu", "Relu", [prev], out=(-1, units))
            prev = f"{s}/Relu"
        width = units
    node("loss/xent", "SparseSoftmaxCrossEntropyWithLogits", [prev, "input/labels"], out=(-1,))
    node("loss/Const", "Const", out=(1,))
    node("loss/Mean", "Mean", ["loss/xent", "loss/Const"], out=())
    node("train/learning_rate", "Const", out=())
    for i in (1, 2):
        for v in ("weights", "bias"):
            node(f"train/gradients/dense{i}/{v}_grad", "Mul", ["loss/Mean", f"dense{i}/{v}/read"])
            node(
                f"train/update_dense{i}/{v}",
                "ApplyGradientDescent",
                [f"dense{i}/{v}", "train/learning_rate", f"train/gradients/dense{i}/{v}_grad"],
            )
    node(
        "train/step",
        "NoOp",
        [f"^train/update_dense{i}/{v}" for i in (1, 2) for v in ("weights", "bias")],
    )
    node("init", "NoOp", [f"^dense{i}/{v}" for i in (1, 2) for v in ("weights", "bias")])
    return g


def digit_images(rng, n):
    """n grayscale 8×8 digit-like images (uint8, HWC) from sklearn's bundled digits."""
    from sklearn.datasets import load_digits

    digits = load_digits().images
    picks = digits[rng.integers(0, len(digits), n)]
    up = np.kron(picks, np.ones((4, 4)))  # 32×32 so the pixels read well
    return (up / 16.0 * 255).astype(np.uint8)[..., None]


def digit_grid(rng, rows=4, cols=4):
    """A rows×cols grid of digits in a warm color map (HWC uint8), like a sample sheet."""
    cells = digit_images(rng, rows * cols)[..., 0].astype(float) / 255.0
    size = cells.shape[1]
    sheet = np.zeros((rows * (size + 2) + 2, cols * (size + 2) + 2))
    for i, cell in enumerate(cells):
        r, c = divmod(i, cols)
        sheet[
            2 + r * (size + 2) : 2 + r * (size + 2) + size,
            2 + c * (size + 2) : 2 + c * (size + 2) + size,
        ] = cell
    stops = np.array([[20, 12, 40], [120, 28, 109], [230, 81, 60], [252, 210, 120]], float)
    pos = sheet * (len(stops) - 1)
    lo = np.clip(pos.astype(int), 0, len(stops) - 2)
    frac = (pos - lo)[..., None]
    return (stops[lo] * (1 - frac) + stops[lo + 1] * frac).astype(np.uint8)


def realistic(root: Path, steps: int = 400) -> Path:
    """Three learning-rate runs with curves, histograms, images and the hand-built MLP graph
    of mlp_graph()."""
    rng = np.random.default_rng(7)
    t0 = 1_764_200_000.0
    for k, lr in enumerate((0.1, 0.03, 0.01)):
        run = root / f"mlp/lr={lr}"
        with SummaryWriter(str(run)) as w:
            w.add_graph(mlp_graph())
            rate = 6.0 * lr**0.5
            for step in range(0, steps + 1, 2):
                wall = t0 + step * (1.5 + 0.3 * k)
                decay = math.exp(-rate * step / steps * 3)
                noise = rng.normal(0, 0.08)
                loss = 2.3 * decay + 0.08 + abs(noise) * (0.5 + decay)
                w.add_scalar("loss/train", loss, step, walltime=wall)
                acc = min(0.995, 1 - 0.9 * decay - abs(rng.normal(0, 0.02)))
                w.add_scalar("accuracy/train", acc, step, walltime=wall)
                if step % 20 == 0:
                    w.add_scalar("loss/eval", loss * 1.08 + 0.03, step, walltime=wall)
                    w.add_scalar("accuracy/eval", acc - 0.02, step, walltime=wall)
                    w.add_scalar("learning_rate", lr * 0.5 ** (step // 200), step, walltime=wall)
                if step % 40 == 0:
                    spread = 0.05 + 0.4 * (1 - decay)
                    w.add_histogram(
                        "dense1/weights", rng.normal(0, spread, 4000), step, walltime=wall
                    )
                    w.add_histogram(
                        "dense2/weights",
                        np.concatenate(
                            [rng.normal(-spread, 0.1, 600), rng.normal(spread, 0.15, 400)]
                        ),
                        step,
                        walltime=wall,
                    )
                if step % 50 == 0:
                    w.add_images(
                        "inputs", digit_images(rng, 3), step, walltime=wall, dataformats="NHWC"
                    )
                    w.add_image("samples", digit_grid(rng), step, walltime=wall)
    return root


def many_runs(root: Path, runs: int = 20, tags: int = 10, steps: int = 500) -> Path:
    """`runs` × `tags` scalar series of `steps` points each, in runs named run00…run19
    (run000…run999 for a thousand: the names sort as the numbers do)."""
    rng = np.random.default_rng(3)
    width = max(2, len(str(runs - 1)))
    for r in range(runs):
        with SummaryWriter(str(root / f"run{r:0{width}d}")) as w:
            for t in range(tags):
                values = np.cumsum(rng.normal(0, 1, steps)) / 10 + t
                for step, value in enumerate(values):
                    w.add_scalar(f"group{t % 3}/metric{t}", float(value), step)
    return root


TOOLS_RUNS = ["a", "b", "c"]
STEPS = 100
SPIKE_STEP, SPIKE = 40, 50.0


def tools_loss(k: int, step: int) -> float:
    """Run k's loss at a step in `card_tools()`: a decaying curve, one spike in run a."""
    if k == 0 and step == SPIKE_STEP:
        return SPIKE
    return 1.0 / (1.0 + 0.05 * step * (k + 1)) + 0.01 * ((step * 7 + k) % 5)


def card_tools(root: Path) -> Path:
    """Runs a, b, c with loss/train (every step; run a spikes), loss/eval and acc (every 10th
    step), one more second per step in each later run; and a run named with markup."""
    t0 = 1_764_200_000.0
    for k, run in enumerate(TOOLS_RUNS):
        with SummaryWriter(str(root / run)) as w:
            for step in range(STEPS):
                wall = t0 + step * (3.0 + k)
                w.add_scalar("loss/train", tools_loss(k, step), step, walltime=wall)
                if step % 10 == 0:
                    w.add_scalar("loss/eval", tools_loss(k, step) + 0.1, step, walltime=wall)
                    w.add_scalar("acc", 0.5 + 0.004 * step, step, walltime=wall)
    with SummaryWriter(str(root / XSS_RUN)) as w:
        for step in range(3):
            w.add_scalar("acc", 0.1 * step, step, walltime=t0 + step)
    return root


SWEEP_OPTIMIZERS = ("adam", "sgd", "rmsprop")


def sweep_hparams(k: int) -> dict:
    """Run k's hyperparameters in `hparams_sweep()`."""
    return {
        "lr": [0.1, 0.03, 0.01, 0.003, 0.001][k % 5],
        "optimizer": SWEEP_OPTIMIZERS[k % 3],
        "batch_size": [32, 64, 128, 256][k % 4],
        "dropout": round(0.1 * (k % 4), 1),
    }


def sweep_loss(k: int, step: int) -> float:
    """Run k's loss at a step: decays faster with a larger learning rate."""
    rate = 20.0 * sweep_hparams(k)["lr"] ** 0.5
    return 2.0 * math.exp(-rate * step / 100) + 0.05 + 0.01 * (k % 7)


def hparams_sweep(root: Path, runs: int = 12, steps: int = 50, extra_tags: int = 0) -> Path:
    """A hyperparameter sweep written with SummaryWriter.add_hparams: runs named
    sweep/run000…, each with lr, optimizer, batch_size and dropout, loss and accuracy curves
    (and `extra_tags` more scalar tags), and the final accuracy as the hparams metric."""
    width = max(3, len(str(runs - 1)))
    t0 = 1_764_200_000.0
    for k in range(runs):
        with SummaryWriter(str(root / "sweep" / f"run{k:0{width}d}")) as w:
            for step in range(0, steps):
                wall = t0 + step * 2.0 + k
                loss = sweep_loss(k, step)
                w.add_scalar("loss", loss, step, walltime=wall)
                w.add_scalar("accuracy", 1.0 - loss / 2.5, step, walltime=wall)
                for t in range(extra_tags):
                    w.add_scalar(f"extra/metric{t}", loss * (t + 1), step, walltime=wall)
            w.add_hparams(sweep_hparams(k), {"hparam/accuracy": 1.0 - sweep_loss(k, steps) / 2.5})
    return root
