"""Integration: decoding files on the decode threads gives exactly what the loader thread
gives by itself, damage and restarts included."""

from __future__ import annotations

import numpy as np
import pytest
from boardkit import event, frames, scalar_event, write_events

from writer import SummaryWriter
from writer.proto import event_pb2

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"


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
    # A restart, a corrupt record and a stopped file in one run.
    start = event(step=100, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    bad = bytearray(frames(scalar_event("x", 1.0, 150)))
    bad[-2] ^= 1
    path = write_events(tmp_path / "damaged" / EV, *(scalar_event("x", i, i) for i in range(200)),
                        start, *(scalar_event("x", -i, i) for i in range(100, 140)))
    with open(path, "ab") as f:
        f.write(bytes(bad) + frames(*(scalar_event("x", i, i) for i in range(140, 180))))
        stopped = bytearray(frames(scalar_event("x", 1.0, 999)))
        stopped[9] ^= 1
        f.write(bytes(stopped) + frames(scalar_event("x", 2.0, 1000)))
    # An unversioned file with steps going back (legacy purge: read in the loader thread).
    write_events(tmp_path / "legacy" / EV, *(scalar_event("y", i, i) for i in range(100)),
                 *(scalar_event("y", -i, i) for i in range(50, 90)), version=None)
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


def test_parallel_equals_serial(board_factory, logdir):
    serial = board_factory(logdir)
    serial.app.state.loader.parallel = False
    both = board_factory(logdir)
    assert snapshot(serial.load()) == snapshot(both.load())
    assert serial.app.state.loader.decoded_in_parallel == 0
    # every file went through the decode threads (the legacy one is then re-read serially)
    assert both.app.state.loader.decoded_in_parallel == 5
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


def test_files_already_read_are_followed_during_a_long_load(tmp_path, monkeypatch):
    # A run written to while a big initial load goes on has its new points read within that
    # same load (not only once every file is in): the loader re-reads the files it has read
    # every LIVE_EVERY seconds (0 here: at every step). The spy appends to the live run's
    # file right after the loader applied the next run's file.
    from board.loader import loader as loader_mod
    from board.loader.discover import sources_for
    from board.store import Store

    live = write_events(tmp_path / "a_live" / EV, *(scalar_event("x", i, i) for i in range(5)))
    for name in ("b", "c"):
        write_events(tmp_path / name / EV, *(scalar_event("y", i, i) for i in range(300)))
    real = loader_mod.ingest_mixed

    def apply_then_write(store, state, path, *args, **kw):
        real(store, state, path, *args, **kw)
        if state.name == "b":
            with open(live, "ab") as f:
                f.write(frames(scalar_event("x", 5.0, 5)))

    monkeypatch.setattr(loader_mod, "ingest_mixed", apply_then_write)
    monkeypatch.setattr(loader_mod, "LIVE_EVERY", 0.0)
    loader = loader_mod.Loader(Store(), sources_for(str(tmp_path), None), reload_interval=0,
                               watch=False)
    loader.cycle()
    assert loader.decoded_in_parallel == 3
    assert loader.store.scalars("a_live", "x").step.tolist() == list(range(6))


def test_a_file_decoded_in_many_windows_is_one_part(logdir):
    # Windows are merged per file (the store then grows each series once): the same rows,
    # tags and refused records as one window gives.
    from board.loader import parallel

    path = str(next((logdir / "run0").iterdir()))
    whole = parallel.decode_file(path)
    pieces = parallel.decode_file(path, window=4096)
    assert len(whole.parts) == len(pieces.parts) == 1
    a, b = whole.parts[0], pieces.parts[0]
    assert a.fast.ok.tolist() == b.fast.ok.tolist() and len(a.fast.ok) == 801 + 4
    for name in ("step", "wall_time", "value"):
        assert getattr(a.fast, name).tolist() == getattr(b.fast, name).tolist()
    assert [a.fast.tags[i] for i in a.fast.tag_id] == [b.fast.tags[i] for i in b.fast.tag_id]
    assert [(r.offset, r.data) for r in a.slow] == [(r.offset, r.data) for r in b.slow]
    assert pieces.offset == whole.offset and pieces.count == whole.count
    from writer.event_file import RecordTail

    windows = [parallel.decode_window(w) for w in RecordTail(path).read_frames(1024)]
    split = parallel.merge_parts(windows, max_rows=100)
    assert len(windows) > len(split) > 1
    assert sum(len(p.fast.step) for p in split) == 800
    assert max(len(p.fast.step) for p in split) <= 100
