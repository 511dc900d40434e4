"""Integration tests of loading: tailing, damage, restarts, discovery — with the loader's
cycles driven by hand (`Board.load()`), over real files in tmp dirs."""

from __future__ import annotations

import os

import pytest
from boardkit import event, frames, scalar_event, write_events

from board.loader import loader as loader_module
from writer import SummaryWriter
from writer.proto import event_pb2

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"


def steps(b, run, tag):
    return b.json("/api/scalars", params={"run": run, "tag": tag, "max_points": 100000})["step"]


def run_info(b, name):
    return next(r for r in b.json("/api/runs")["runs"] if r["name"] == name)


def test_growing_file_is_tailed(board_factory, tmp_path):
    with SummaryWriter(tmp_path / "run") as w:
        b = board_factory(tmp_path)
        for i in range(3):
            w.add_scalar("x", float(i), i)
        w.flush()
        assert steps(b.load(), "run", "x") == [0, 1, 2]
        for i in range(3, 500):
            w.add_scalar("x", float(i), i)
        w.flush()
        assert steps(b.load(), "run", "x") == list(range(500))


def test_partial_tail_record_is_retried(board_factory, tmp_path):
    path = write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(40)))
    tail = frames(scalar_event("x", 40.0, 40))
    with open(path, "ab") as f:
        f.write(tail[:7])  # a torn header
    b = board_factory(tmp_path).load()
    assert steps(b, "r", "x") == list(range(40))
    with open(path, "ab") as f:
        f.write(tail[7:20])  # still short of the payload
    assert steps(b.load(), "r", "x") == list(range(40))
    with open(path, "ab") as f:
        f.write(tail[20:])
    assert steps(b.load(), "r", "x") == list(range(41))
    assert run_info(b, "r")["corrupt_records"] == 0


def test_corrupt_record_is_skipped_and_counted(board_factory, tmp_path):
    good = [scalar_event("x", i, i) for i in range(60)]
    data = bytearray(frames(event(file_version="brain.Event:2"), *good))
    # Flip one payload byte of the 11th record (its data CRC no longer matches).
    at = len(frames(event(file_version="brain.Event:2"), *good[:10]))
    data[at + 14] ^= 0xFF
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / EV).write_bytes(bytes(data))
    # A record whose CRCs are fine but whose payload is not an Event.
    from writer.record import encode_record
    with open(tmp_path / "r" / EV, "ab") as f:
        f.write(encode_record(b"\xff\xff\xff not a protobuf"))
        f.write(frames(scalar_event("x", 60.0, 60)))
    b = board_factory(tmp_path).load()
    got = steps(b, "r", "x")
    assert got == [s for s in range(61) if s != 10]
    assert run_info(b, "r")["corrupt_records"] == 2


def test_bad_length_crc_stops_the_file_and_is_reported(board_factory, tmp_path):
    evs = [scalar_event("x", i, i) for i in range(5)]
    data = bytearray(frames(*evs))
    data[len(frames(*evs[:3])) + 9] ^= 0x55  # the 4th record's length CRC
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / EV).write_bytes(bytes(data))
    write_events(tmp_path / "r" / (EV + ".2"), scalar_event("y", 1.0, 1))
    b = board_factory(tmp_path).load()
    assert steps(b, "r", "x") == [0, 1, 2]
    info = run_info(b, "r")
    assert len(info["errors"]) == 1 and "length CRC" in info["errors"][0]
    assert str(tmp_path) not in info["errors"][0]
    assert steps(b, "r", "y") == [1]  # the other file of the run still loads
    with open(tmp_path / "r" / EV, "ab") as f:
        f.write(frames(scalar_event("x", 9.0, 9)))
    assert steps(b.load(), "r", "x") == [0, 1, 2]


def test_garbage_files_never_crash(board_factory, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / EV).write_bytes(os.urandom(5000))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / EV).write_bytes(b"\xff" * 12 + b"\x00" * 100)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / EV).write_bytes(b"")
    b = board_factory(tmp_path).load().load()
    assert [r["name"] for r in b.json("/api/runs")["runs"]] == ["a", "b", "c"]


def test_session_start_purges_orphaned_steps(board_factory, tmp_path):
    path = tmp_path / "r" / EV
    write_events(path, *(scalar_event("x", i, i) for i in range(100)),
                 *(scalar_event("y", i, i) for i in range(0, 100, 10)))
    b = board_factory(tmp_path).load()
    assert len(steps(b, "r", "x")) == 100
    # The job restarts from a checkpoint at step 50: SessionLog.START, then steps 50.. again.
    restart = event(step=50, session_log=event_pb2.SessionLog(
        status=event_pb2.SessionLog.START))
    write_events(path, restart, *(scalar_event("x", -i, i) for i in range(50, 70)))
    b.load()
    assert steps(b, "r", "x") == list(range(70))
    values = b.json("/api/scalars", params={"run": "r", "tag": "x"})["value"]
    assert values[60] == -60.0
    assert steps(b, "r", "y") == [0, 10, 20, 30, 40]  # every tag of the run is purged


@pytest.mark.parametrize("before,after", [(10, 3), (100, 60)])  # protobuf and numpy paths
def test_session_start_in_the_same_batch_as_the_data(board_factory, tmp_path, before, after):
    restart = event(step=5, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(before)),
                 restart, *(scalar_event("x", 1000 + i, i) for i in range(5, 5 + after)))
    b = board_factory(tmp_path).load()
    assert steps(b, "r", "x") == list(range(5 + after))
    values = b.json("/api/scalars", params={"run": "r", "tag": "x", "max_points": 10**5})
    assert values["value"][5:] == [1000.0 + i for i in range(5, 5 + after)]


def test_out_of_order_steps_purge_in_unversioned_files(board_factory, tmp_path):
    # Without file_version >= 2, TensorBoard purges by the step going back (per tag).
    write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(100)),
                 *(scalar_event("z", i, i) for i in range(100, 110)),
                 scalar_event("x", -1.0, 30), version=None)
    b = board_factory(tmp_path).load()
    assert steps(b, "r", "x") == list(range(31))
    assert steps(b, "r", "z") == list(range(100, 110))


def test_out_of_order_inside_a_long_stretch_of_scalars(board_factory, tmp_path):
    write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(100)),
                 *(scalar_event("x", -i, i) for i in range(30, 80)), version=None)
    b = board_factory(tmp_path).load()
    assert steps(b, "r", "x") == list(range(80))
    assert b.json("/api/scalars", params={"run": "r", "tag": "x"})["value"][79] == -79.0


def test_versioned_files_keep_out_of_order_steps(board_factory, tmp_path):
    write_events(tmp_path / "r" / EV, *(scalar_event("x", i, i) for i in range(50)),
                 scalar_event("x", -1.0, 10))
    b = board_factory(tmp_path).load()
    assert len(steps(b, "r", "x")) == 51


def test_files_of_a_run_are_read_in_name_order(board_factory, tmp_path):
    write_events(tmp_path / "r" / (EV + ".b"), scalar_event("x", 2.0, 2))
    write_events(tmp_path / "r" / (EV + ".a"), scalar_event("x", 1.0, 1))
    b = board_factory(tmp_path).load()
    assert b.json("/api/scalars", params={"run": "r", "tag": "x"})["value"] == [1.0, 2.0]


def test_discovery_names_runs_by_relative_path(board_factory, tmp_path):
    write_events(tmp_path / EV, scalar_event("root", 1.0, 1))
    write_events(tmp_path / "a" / "b" / EV, scalar_event("deep", 1.0, 1))
    (tmp_path / "empty" / "dir").mkdir(parents=True)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no events here")
    b = board_factory(tmp_path).load()
    assert b.json("/data/runs") == [".", "a/b"]


def test_logdir_that_appears_late_and_runs_added_while_serving(board_factory, tmp_path):
    logdir = tmp_path / "later"
    b = board_factory(logdir).load()
    assert b.json("/api/runs")["runs"] == []
    write_events(logdir / "one" / EV, scalar_event("x", 1.0, 1))
    assert b.load().json("/data/runs") == ["one"]
    write_events(logdir / "two" / EV, scalar_event("x", 2.0, 2))
    write_events(logdir / "one" / (EV + ".2"), scalar_event("x", 3.0, 3))
    b.load()
    assert b.json("/data/runs") == ["one", "two"]
    assert steps(b, "one", "x") == [1, 3]


def test_logdir_spec_prefixes_runs(board_factory, tmp_path):
    write_events(tmp_path / "a" / EV, scalar_event("x", 1.0, 1))
    write_events(tmp_path / "b" / "sub" / EV, scalar_event("x", 1.0, 1))
    b = board_factory(None, logdir_spec=f"first:{tmp_path / 'a'},second:{tmp_path / 'b'}")
    assert b.load().json("/data/runs") == ["first", "second/sub"]
    assert b.json("/api/runs")["logdirs"] == [f"first:{tmp_path / 'a'}",
                                              f"second:{tmp_path / 'b'}"]


def test_open_handles_are_bounded(board_factory, tmp_path, monkeypatch):
    monkeypatch.setattr(loader_module, "MAX_OPEN", 5)
    for i in range(12):
        write_events(tmp_path / f"run{i:02d}" / EV, scalar_event("x", 1.0, 1))
    b = board_factory(tmp_path).load()
    loader = b.app.state.loader
    opened = [fs for fs in loader._files.values() if fs.tail is not None and fs.tail._file]
    assert len(opened) <= 5
    for i in range(12):  # closed files reopen and seek when they grow
        write_events(tmp_path / f"run{i:02d}" / EV, scalar_event("x", 2.0, 2))
    b.load()
    assert all(steps(b, f"run{i:02d}", "x") == [1, 2] for i in range(12))


def test_graph_from_meta_graph_does_not_replace_a_graph_def(board_factory, tmp_path):
    from writer.proto import graph_pb2, meta_graph_pb2

    g1 = graph_pb2.GraphDef()
    g1.node.add(name="from_graph_def", op="NoOp")
    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.node.add(name="from_meta", op="NoOp")
    write_events(tmp_path / "r" / EV, event(graph_def=g1.SerializeToString()),
                 event(meta_graph_def=meta.SerializeToString()))
    b = board_factory(tmp_path).load()
    nodes = b.json("/api/graph", params={"run": "r"})["nodes"]
    assert [n["id"] for n in nodes] == ["from_graph_def"]


def test_reload_interval_zero_loads_once(tmp_path):
    from boardkit import wait_until

    from board.loader.discover import Source
    from board.loader.loader import Loader
    from board.store import Store

    write_events(tmp_path / "r" / EV, scalar_event("x", 1.0, 1))
    store = Store()
    loader = Loader(store, [Source(None, tmp_path)], reload_interval=0)
    loader.start()
    try:
        wait_until(lambda: not store.loading, "the first pass")
        assert loader.cycles == 1 and not loader.watching
        assert store.scalars("r", "x").step.tolist() == [1]
    finally:
        loader.stop()
    assert not any(t.is_alive() for t in loader._threads)


def test_non_utf8_directory_names_become_escaped_run_names(board_factory, tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9"
    os.makedirs(raw)
    with open(raw + b"/" + EV.encode(), "wb") as f:
        f.write(frames(event(file_version="brain.Event:2"), scalar_event("x", 1.0, 1)))
    b = board_factory(tmp_path).load()
    assert b.json("/data/runs") == ["caf\\xe9"]
    assert steps(b, "caf\\xe9", "x") == [1]
