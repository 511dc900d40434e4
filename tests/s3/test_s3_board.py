"""`board --logdir s3://…` against a real S3 server (SeaweedFS): the same event files on disk
and in the bucket give identical answers on every route; runs come from one listing per
poll and an idle poll reads nothing; our writer's merges are followed exactly; replaced,
corrupt and deleted objects are handled; two boards on one bucket answer alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
import s3kit
from boardkit import (
    BOARD_BIN,
    Board,
    BoardProcess,
    event,
    frames,
    scalar_event,
    wait_until,
    write_events,
)

import writer
from writer import object_file
from writer.storage import storage_for

pytestmark = [pytest.mark.s3, pytest.mark.integration]

DATA = Path(__file__).resolve().parents[1] / "data"
EV = "events.out.tfevents.1700000000.host"


def _golden_logdir(root: Path) -> Path:
    """Event files from TF1, TF2 and torch (tests/data) plus one numboard run with every kind."""
    for kind in ("tf1", "tf2", "torch"):
        expected = json.loads((DATA / kind / "expected.json").read_text())
        (root / kind).mkdir(parents=True)
        shutil.copy(DATA / kind / expected["file"], root / kind / expected["file"])
    rng = np.random.default_rng(1)
    with writer.SummaryWriter(root / "numboard" / "train") as w:
        for step in range(40):
            w.add_scalar("loss", float(1 / (step + 1)), step)
            w.add_scalar("acc", float(step) / 40, step)
            if step % 10 == 0:
                w.add_histogram("weights", rng.normal(size=500), step)
                w.add_image("sample", rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), step)
    write_events(root / "legacy" / EV, *(scalar_event("x", float(s), s) for s in range(5)),
                 scalar_event("x", 9.0, 2), version="brain.Event:1")
    return root


def _upload(local: Path, prefix: str) -> None:
    store = storage_for(prefix)
    for path in sorted(local.rglob("*")):
        if path.is_file():
            store.put(f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())


def _answers(board: Board) -> dict:
    """Every route's answer for every run and tag (logdir names and the change counter, which
    counts store updates rather than data, removed)."""
    runs = board.json("/api/runs")
    runs.pop("logdir", None)
    runs.pop("version", None)
    out = {"runs": runs, "data/runs": board.json("/data/runs"),
           "scalar tags": board.json("/data/plugin/scalars/tags"),
           "image tags": board.json("/data/plugin/images/tags")}
    for run in runs["runs"]:
        name = run["name"]
        for tag in run["tags"]["scalars"]:
            out[f"scalars {name} {tag}"] = board.json("/api/scalars", params={"run": name,
                                                                               "tag": tag})
        for tag in run["tags"]["histograms"]:
            out[f"histograms {name} {tag}"] = board.json("/api/histograms",
                                                         params={"run": name, "tag": tag})
        for tag in run["tags"]["images"]:
            steps = board.json("/api/images", params={"run": name, "tag": tag})
            out[f"images {name} {tag}"] = steps
            for s in steps["steps"]:
                r = board.get("/api/image", params={"run": name, "tag": tag, "step": s["step"]})
                assert r.status_code == 200, r.text
                out[f"image {name} {tag} {s['step']}"] = r.content
        if run["has_graph"]:
            out[f"graph {name}"] = board.json("/api/graph", params={"run": name})
    return out


def test_same_files_on_disk_and_in_the_bucket_answer_identically(tmp_path, s3_prefix):
    local = _golden_logdir(tmp_path / "logs")
    _upload(local, s3_prefix)
    on_disk = _answers(Board(local).load())
    bucket = Board(s3_prefix).load()
    in_bucket = _answers(bucket)
    assert len(on_disk["runs"]["runs"]) == 5
    # Every run's one event file was fetched and decoded on the decode threads.
    assert bucket.app.state.loader.decoded_in_parallel == 5
    assert any(k.startswith("image ") for k in on_disk) and any(k.startswith("graph ") for k in on_disk)
    assert in_bucket == on_disk


def test_logdir_spec_mixes_a_bucket_and_a_directory(tmp_path, s3_prefix):
    write_events(tmp_path / "a" / EV, scalar_event("x", 1.0, 1))
    _upload(tmp_path, s3_prefix)
    board = Board(None, logdir_spec=f"disk:{tmp_path},bucket:{s3_prefix}").load()
    assert board.json("/data/runs") == ["bucket/a", "disk/a"]
    assert board.json("/api/runs")["logdirs"] == [f"disk:{tmp_path}", f"bucket:{s3_prefix}"]


def _requests(prefix: str) -> list[str]:
    """Names of the S3 calls made from now on by this process's client."""
    calls: list[str] = []
    fs = storage_for(prefix).fs
    fs.connect()
    fs.s3.meta.events.register("before-call.s3", lambda model, **kw: calls.append(model.name))
    return calls


def test_an_idle_poll_is_one_listing_and_no_read(s3_prefix):
    for run in range(20):
        with writer.SummaryWriter(f"{s3_prefix}/run{run:02d}") as w:
            w.add_scalar("x", 1.0, 1)
    board = Board(s3_prefix).load()
    assert len(board.json("/data/runs")) == 20
    calls = _requests(s3_prefix)
    board.load()
    assert calls == ["ListObjectsV2"]
    with writer.SummaryWriter(f"{s3_prefix}/run05") as w:  # a new file in one run
        w.add_scalar("x", 2.0, 2)
    calls.clear()
    board.load()
    assert calls.count("ListObjectsV2") == 1 and calls.count("GetObject") == 1


def _served_steps(board: Board, run: str, tag: str) -> list[int]:
    r = board.get("/api/scalars", params={"run": run, "tag": tag, "max_points": 100_000})
    return r.json()["step"] if r.status_code == 200 else []


def test_a_live_run_with_merges_is_served_once_and_whole(s3_prefix, monkeypatch):
    monkeypatch.setattr(object_file, "SEAL_BYTES", 700)
    monkeypatch.setattr(object_file, "FANOUT", 3)
    w = writer.SummaryWriter(s3_prefix + "/live")
    board = Board(s3_prefix)
    rng = np.random.default_rng(2)
    step = 0
    for _ in range(40):
        for _ in range(int(rng.integers(1, 15))):
            w.add_scalar("loss", float(step), step)
            step += 1
        w.flush()
        if rng.random() < 0.6:
            board.load()
            served = _served_steps(board, "live", "loss")
            assert served == list(range(len(served)))  # no point twice, none skipped
    w.close()
    board.load()
    assert _served_steps(board, "live", "loss") == list(range(step))


def test_replaced_objects_never_serve_a_point_twice(s3_prefix):
    store = storage_for(s3_prefix)
    url = f"{s3_prefix}/run/{EV}"
    version = frames(event(file_version="brain.Event:2"))
    store.put(url, version + frames(scalar_event("x", 1.0, 1)))
    board = Board(s3_prefix).load()
    assert _served_steps(board, "run", "x") == [1]
    # Rewritten whole with more events (how tensorboardX's S3 writer appends): new points only.
    store.put(url, version + frames(scalar_event("x", 1.0, 1), scalar_event("x", 2.0, 2)))
    board.load()
    assert _served_steps(board, "run", "x") == [1, 2]
    # Replaced by other content: the file stops, with an error naming it; nothing doubles.
    store.put(url, version + frames(scalar_event("x", 7.0, 7), scalar_event("x", 8.0, 8),
                                    scalar_event("x", 9.0, 9)))
    board.load()
    assert _served_steps(board, "run", "x") == [1, 2]
    errors = board.json("/api/runs")["runs"][0]["errors"]
    assert len(errors) == 1 and "replaced" in errors[0] and EV in errors[0]


def test_corrupt_object_is_an_error_and_the_rest_serves(s3_prefix):
    store = storage_for(s3_prefix)
    good = frames(scalar_event("x", 1.0, 1), scalar_event("x", 2.0, 2))
    store.put(f"{s3_prefix}/ok/{EV}", good)
    # The first record, then garbage where the second's length header should be.
    store.put(f"{s3_prefix}/bad/{EV}", good[: len(good) // 2] + b"\xff" * 40)
    board = Board(s3_prefix).load()
    runs = {r["name"]: r for r in board.json("/api/runs")["runs"]}
    assert _served_steps(board, "ok", "x") == [1, 2]
    assert _served_steps(board, "bad", "x") == [1]
    assert "corrupt record header" in runs["bad"]["errors"][0]
    assert runs["ok"]["errors"] == []


def test_object_deleted_while_read_is_picked_up_from_its_merge(s3_prefix):
    w = writer.SummaryWriter(s3_prefix + "/run")
    for step in range(6):
        w.add_scalar("x", 1.0, step)
        w.flush()
    (url, pieces), = object_file.group_pieces(storage_for(s3_prefix).list(s3_prefix)).items()
    w.close()  # merges every part into one object and deletes the parts just listed
    tail = object_file.ObjectTail(url)
    tail.pieces = pieces
    dec = tail.read()
    assert dec.error is None and dec.records == []  # gone: nothing read, nothing wrong
    (_, pieces), = object_file.group_pieces(storage_for(s3_prefix).list(s3_prefix)).items()
    tail.pieces = pieces
    assert len(tail.read().records) == 7  # the version record and six points


def test_two_boards_on_one_bucket_answer_identically(s3_prefix):
    with writer.SummaryWriter(s3_prefix + "/a") as w:
        for step in range(30):
            w.add_scalar("loss", float(step), step)
            w.add_histogram("h", np.arange(step + 1.0), step)
    one, two = Board(s3_prefix).load(), Board(s3_prefix).load()
    assert _answers(one) == _answers(two)
    assert len(_served_steps(one, "a", "loss")) == 30


def test_cli_serves_a_bucket_and_new_points_arrive(s3_prefix):
    w = writer.SummaryWriter(s3_prefix + "/run")
    w.add_scalar("x", 1.0, 1)
    w.flush()
    p = BoardProcess(["--logdir", s3_prefix, "--port", "0", "--reload_interval", "0.3"])
    try:
        assert p.banner.startswith(f"numboard serving {s3_prefix} at ")
        def steps():
            r = httpx.get(p.url + "api/scalars", params={"run": "run", "tag": "x"})
            return r.json()["step"] if r.status_code == 200 else []

        wait_until(lambda: steps() == [1], "the first point")
        w.add_scalar("x", 2.0, 2)
        w.flush()
        wait_until(lambda: steps() == [1, 2], "the flushed point")
    finally:
        p.stop()
        w.close()


def _run_board(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BOARD_BIN), *args, "--port", "0"], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def test_cli_missing_bucket_and_wrong_credentials_are_start_up_errors(s3_server):
    r = _run_board("--logdir", "s3://no-such-bucket-zz/x")
    assert r.returncode == 2
    assert "bucket 'no-such-bucket-zz'" in r.stderr and "does not exist" in r.stderr
    secret = "wrong-secret-do-not-print-0000"
    r = _run_board("--logdir", "s3://numboard-test/x",
                   env={"AWS_ACCESS_KEY_ID": "wrong-key-id", "AWS_SECRET_ACCESS_KEY": secret})
    assert r.returncode == 2 and "access denied" in r.stderr
    assert secret not in r.stderr + r.stdout
    r = _run_board("--logdir", "s3://numboard-test/x", "--storage_option", "nonsense")
    assert r.returncode == 2 and "is not key=value" in r.stderr
    assert s3kit.SECRET_KEY not in r.stderr
