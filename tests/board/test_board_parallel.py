"""Integration: decoding files in worker processes gives exactly what the loader thread
gives by itself, damage and restarts included.

The product's own pool and `worth_it` heuristic decide: every file is padded past
MIN_FILE_BYTES and together they pass MIN_TOTAL_BYTES, so the files go to the workers on
any machine with two CPUs or more (one CPU: the heuristic rightly says no, and the test
skips saying so). Which files came back from the pool is read off the loader's own
`_apply_parallel`, wrapped to record its argument and otherwise unchanged."""

from __future__ import annotations

import os

import numpy as np
import pytest
from boardkit import event, frames, scalar_event, write_events

from board.loader import parallel
from board.loader.loader import Loader
from writer import SummaryWriter
from writer.proto import event_pb2

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"
PAD = 40_000  # events of a "pad" tag per file: ~1.2 MiB each, past parallel.MIN_FILE_BYTES


def padding(seed: int) -> bytes:
    return frames(*(scalar_event("pad", float(seed + i % 97), i) for i in range(PAD)))


@pytest.fixture
def logdir(tmp_path):
    rng = np.random.default_rng(0)
    for r in range(3):
        with SummaryWriter(tmp_path / f"run{r}") as w:
            for i in range(400):
                w.add_scalar("loss", float(rng.normal()), i)
                w.add_scalar("acc", i / 400, i)
                if i % 100 == 0:
                    w.add_image("img", rng.integers(0, 255, (4, 5, 3), dtype=np.uint8), i)
        with open(next((tmp_path / f"run{r}").iterdir()), "ab") as f:
            f.write(padding(r))
    # A restart, a corrupt record and a stopped file in one run.
    start = event(step=100, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    bad = bytearray(frames(scalar_event("x", 1.0, 150)))
    bad[-2] ^= 1
    path = write_events(tmp_path / "damaged" / EV, *(scalar_event("x", i, i) for i in range(200)),
                        start, *(scalar_event("x", -i, i) for i in range(100, 140)))
    with open(path, "ab") as f:
        f.write(padding(7))
        f.write(bytes(bad) + frames(*(scalar_event("x", i, i) for i in range(140, 180))))
        stopped = bytearray(frames(scalar_event("x", 1.0, 999)))
        stopped[9] ^= 1
        f.write(bytes(stopped) + frames(scalar_event("x", 2.0, 1000)))
    # An unversioned file with steps going back (legacy purge: read in the loader thread).
    legacy = write_events(tmp_path / "legacy" / EV, *(scalar_event("y", i, i) for i in range(100)),
                          *(scalar_event("y", -i, i) for i in range(50, 90)), version=None)
    with open(legacy, "ab") as f:
        f.write(padding(8))
    sizes = [p.stat().st_size for p in tmp_path.rglob("*tfevents*")]
    assert min(sizes) >= parallel.MIN_FILE_BYTES and sum(sizes) >= parallel.MIN_TOTAL_BYTES
    return tmp_path


def snapshot(b):
    runs = b.json("/api/runs")
    out = {"runs": runs["runs"]}
    for run in runs["runs"]:
        for tag in run["tags"]["scalars"]:
            out[(run["name"], tag)] = b.json("/api/scalars", params={
                "run": run["name"], "tag": tag, "max_points": 10**6})
        for tag in run["tags"]["images"]:
            out[(run["name"], tag, "img")] = b.json("/api/images", params={
                "run": run["name"], "tag": tag})
            out[(run["name"], tag, "bytes")] = b.get("/api/image", params={
                "run": run["name"], "tag": tag}).content
    return out


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: parallel.worth_it rightly "
                    "keeps decoding in the loader thread, so there is no parallel path to test")
def test_parallel_equals_serial(board_factory, logdir, monkeypatch):
    applied = []
    original = Loader._apply_parallel

    def recording(self, state, fs, future):
        applied.append(fs.path)
        return original(self, state, fs, future)

    monkeypatch.setattr(Loader, "_apply_parallel", recording)
    serial = board_factory(logdir)
    serial.app.state.loader.parallel = False
    serial.load()
    assert applied == []
    both = board_factory(logdir).load()
    assert sorted(applied) == sorted(str(p) for p in logdir.rglob("*tfevents*"))  # all 5
    assert snapshot(serial) == snapshot(both)
    damaged = next(r for r in both.json("/api/runs")["runs"] if r["name"] == "damaged")
    assert damaged["corrupt_records"] == 1 and len(damaged["errors"]) == 1
    steps = both.json("/api/scalars", params={"run": "damaged", "tag": "x",
                                              "max_points": 10**6})["step"]
    assert steps == list(range(180))
    # Growth after a parallel read continues from where the worker stopped.
    with SummaryWriter(logdir / "run0", filename_suffix=".later") as w:
        w.add_scalar("loss", 5.0, 400)
    with open(next((logdir / "run1").iterdir()), "ab") as f:
        f.write(frames(scalar_event("acc", 9.0, 400)))
    both.load()
    assert both.json("/api/scalars", params={"run": "run1", "tag": "acc"})["step"][-1] == 400
    assert both.json("/api/scalars", params={"run": "run0", "tag": "loss"})["step"][-1] == 400
