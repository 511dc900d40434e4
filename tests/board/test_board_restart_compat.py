"""A run restarted from a checkpoint by tensorboardX (no SessionLog.START), served by numboard
and by TensorBoard's Rust data server (`tensorboard_data_server`, queried over gRPC with
TensorBoard's own client): the same steps and values, per tag (SPEC §5 Loading)."""

from __future__ import annotations

import time

import pytest
import tensorboardX
from boardkit import Board
from tensorboard import context

from tests.rustkit import rust_data_server

pytestmark = pytest.mark.compat

NAME = "events.out.tfevents.1700000000.host"


def write_with_tensorboardx(tmp, name: str, points: dict[str, range], value: float, run):
    """One tensorboardX file holding `points` (tag -> steps), moved into `run` as `name`."""
    out = tmp / f"tbx-{name}"
    with tensorboardX.SummaryWriter(str(out)) as w:
        for tag, steps in points.items():
            for s in steps:
                w.add_scalar(tag, value, s)
    (written,) = out.glob("*tfevents*")
    run.mkdir(parents=True, exist_ok=True)
    written.rename(run / name)


@pytest.fixture
def logdir(tmp_path):
    run = tmp_path / "logs" / "run"
    # The job logs steps 0..100, dies, restarts from the step-50 checkpoint and logs
    # 50..150 into a newer file; an evaluator logs its own tag at lower steps meanwhile.
    write_with_tensorboardx(tmp_path, f"{NAME}.1", {"loss": range(101)}, 1.0, run)
    write_with_tensorboardx(tmp_path, f"{NAME}.2", {"loss": range(50, 151)}, 2.0, run)
    write_with_tensorboardx(tmp_path, f"{NAME}.3", {"eval/acc": range(0, 60, 10)}, 0.5, run)
    return tmp_path / "logs"


def rust_scalars(logdir, tmp_path) -> dict[str, list[tuple[int, float]]]:
    with rust_data_server(logdir, tmp_path, "--samples-per-plugin=scalars=all") as provider:
        ctx = context.RequestContext()
        for _ in range(600):  # the server loads in the background: wait for every tag
            got = provider.read_scalars(ctx, experiment_id="", plugin_name="scalars",
                                        downsample=100_000).get("run", {})
            if len(got.get("loss", [])) >= 151 and len(got.get("eval/acc", [])) == 6:
                break
            time.sleep(0.05)
    return {tag: [(p.step, p.value) for p in points] for tag, points in got.items()}


def test_restart_without_session_start_matches_tensorboards_rust_loader(logdir, tmp_path):
    b = Board(logdir).load()
    ours = {}
    for tag in ("loss", "eval/acc"):
        body = b.json("/api/scalars", params={"run": "run", "tag": tag, "max_points": 10**5})
        ours[tag] = list(zip(body["step"], body["value"], strict=True))
    b.client.close()
    assert ours["loss"] == [(s, 1.0) for s in range(50)] + [(s, 2.0) for s in range(50, 151)]
    assert ours["eval/acc"] == [(s, 0.5) for s in range(0, 60, 10)]
    assert rust_scalars(logdir, tmp_path) == ours
