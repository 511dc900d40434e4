"""The loader and store under the inputs real programs and copy tools produce (README
"Reliability"): restarts without SessionLog.START, deleted and replaced files, rsync
temporaries, non-UTF-8 directory names, huge image records and histograms, errors that
must not leak paths or bytes, and logdirs of 100,000 runs.

Loader cycles are driven by hand (`Board.load()`, a full walk each) unless a test is about
the file watcher, which then waits (bounded) for the data to arrive.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "board"))
from boardkit import Board, event, frames, scalar_event, wait_until, write_events  # noqa: E402

from board.loader import ingest  # noqa: E402
from board.loader.discover import Source, Tree  # noqa: E402
from board.loader.loader import Loader  # noqa: E402
from board.store import Store  # noqa: E402
from writer.proto import event_pb2, summary_pb2  # noqa: E402

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EV = "events.out.tfevents.1700000000.host"


@pytest.fixture
def board(tmp_path):
    boards = []

    def make(logdir=None, **kwargs) -> Board:
        b = Board(tmp_path if logdir is None else logdir, **kwargs)
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.client.close()


def series(b: Board, run: str, tag: str) -> tuple[list, list]:
    body = b.json("/api/scalars", params={"run": run, "tag": tag, "max_points": 10**6})
    return body["step"], body["value"]


def run_info(b: Board, name: str) -> dict:
    return next(r for r in b.json("/api/runs")["runs"] if r["name"] == name)


# -- the Store owns its state --------------------------------------------------------------

def _is_store(node) -> bool:
    return isinstance(node, (ast.Name, ast.Attribute)) and "store" in (
        getattr(node, "id", None), getattr(node, "attr", None))


def test_only_the_store_touches_its_lock_dicts_and_counters():
    """Outside board/store.py nothing reaches into the Store's lock or run dicts, assigns
    its attributes (the `loading` flag aside) or handles RunData: updates go through
    Store.apply/purge/drop_file, so the rules that drop points live in one place."""
    private = {"lock", "runs", "run", "note_change"}
    offenders = []
    for path in sorted((REPO / "board").rglob("*.py")):
        if path.name == "store.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and _is_store(node.value) and (
                    node.attr in private or node.attr.startswith("_")):
                offenders.append(f"{where} store.{node.attr}")
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                offenders += [f"{where} assigns store.{t.attr}" for t in targets
                              if isinstance(t, ast.Attribute) and _is_store(t.value)
                              and t.attr != "loading"]
            if isinstance(node, ast.Name) and node.id == "RunData":
                offenders.append(f"{where} RunData")
    assert not offenders, offenders


# -- item 17: a restart without SessionLog.START, across files ----------------------------

def _scalars(tag, steps, value):
    return [scalar_event(tag, value(s), s) for s in steps]


def test_a_newer_file_going_back_replaces_older_points_of_that_tag(board, tmp_path):
    run = tmp_path / "run"
    write_events(run / f"{EV}.1", *_scalars("loss", range(101), lambda s: 1.0))
    write_events(run / f"{EV}.2", *_scalars("loss", range(50, 151), lambda s: 2.0))
    b = board().load()
    steps, values = series(b, "run", "loss")
    assert steps == list(range(151))  # 151 points, each step once, ascending
    assert values == [1.0] * 50 + [2.0] * 101  # the newer file's values from step 50 on


def test_the_restart_rule_also_holds_when_the_newer_file_arrives_later(board, tmp_path):
    run = tmp_path / "run"
    write_events(run / f"{EV}.1", *_scalars("loss", range(101), lambda s: 1.0))
    b = board().load()
    write_events(run / f"{EV}.2", *_scalars("loss", range(50, 60), lambda s: 2.0))
    assert series(b.load(), "run", "loss")[0] == list(range(60))
    write_events(run / f"{EV}.2", *_scalars("loss", range(60, 151), lambda s: 2.0))
    assert series(b.load(), "run", "loss") == (list(range(151)), [1.0] * 50 + [2.0] * 101)


def test_an_older_file_read_again_does_not_bring_back_replaced_steps(board, tmp_path):
    """The older file of a restarted run is replaced (rsync) by a copy that grew meanwhile:
    its steps from the newer file's first step on stay the newer file's."""
    run = tmp_path / "run"
    old = write_events(run / f"{EV}.1", *_scalars("loss", range(80), lambda s: 1.0))
    write_events(run / f"{EV}.2", *_scalars("loss", range(50, 151), lambda s: 2.0))
    b = board().load()
    copy = old.with_name(f".{old.name}.tmp")
    copy.write_bytes(old.read_bytes())
    write_events(copy, *_scalars("loss", range(80, 101), lambda s: 1.0))
    os.replace(copy, old)
    assert series(b.load(), "run", "loss") == (list(range(151)), [1.0] * 50 + [2.0] * 101)


def test_an_evaluator_writing_other_tags_at_lower_steps_keeps_everything(board, tmp_path):
    run = tmp_path / "run"
    write_events(run / f"{EV}.1", *_scalars("loss", range(100), lambda s: 1.0))
    write_events(run / f"{EV}.2", *_scalars("eval/acc", range(0, 100, 10), lambda s: 0.5))
    b = board().load()
    assert series(b, "run", "loss")[0] == list(range(100))
    assert series(b, "run", "eval/acc")[0] == list(range(0, 100, 10))
    # An older file still being written does not purge the newer one either.
    write_events(run / f"{EV}.1", *_scalars("loss", range(100, 110), lambda s: 1.0))
    write_events(run / f"{EV}.2", *_scalars("eval/acc", range(100, 110, 10), lambda s: 0.5))
    b.load()
    assert series(b, "run", "loss")[0] == list(range(110))
    assert series(b, "run", "eval/acc")[0] == list(range(0, 110, 10))


def test_images_and_histograms_follow_the_same_restart_rule(board, tmp_path):
    from writer import SummaryWriter

    run = tmp_path / "run"
    rng = np.random.default_rng(0)
    with SummaryWriter(run, filename_suffix=".1") as w:
        for s in range(10):
            w.add_histogram("h", rng.normal(size=50), s)
            w.add_image("im", rng.integers(0, 255, (3, 4, 4), dtype=np.uint8), s)
    b = board().load()
    with SummaryWriter(run, filename_suffix=".2") as w:  # sorts after the first file
        for s in range(5, 7):
            w.add_histogram("h", rng.normal(size=50), s)
            w.add_image("im", rng.integers(0, 255, (3, 4, 4), dtype=np.uint8), s)
    b.load()
    hist = b.json("/api/histograms", params={"run": "run", "tag": "h"})["steps"]
    images = b.json("/api/images", params={"run": "run", "tag": "im"})["steps"]
    assert [h["step"] for h in hist] == list(range(7))
    assert [i["step"] for i in images] == list(range(7))


# -- item 18: points of a deleted file go ---------------------------------------------------

def _summary(tag: str, value: float, step: int) -> bytes:
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=tag, simple_value=value)]).SerializeToString()


def test_mnist_with_summaries_deleting_its_log_folder_leaves_no_sawtooth(board, tmp_path):
    """mnist_with_summaries starts with `DeleteRecursively(log_dir)`, then writes train/ and
    test/ with a FileWriter each; run it twice (killed at step 90, then to 240)."""
    import flow as tf

    log_dir = tmp_path / "mnist"

    def train(last: int) -> None:
        if log_dir.exists():
            shutil.rmtree(log_dir)  # tf.gfile.DeleteRecursively(log_dir)
        log_dir.mkdir()
        train_writer = tf.summary.FileWriter(str(log_dir / "train"))
        test_writer = tf.summary.FileWriter(str(log_dir / "test"))
        for i in range(last + 1):
            if i % 10 == 0:
                test_writer.add_summary(_summary("accuracy", 0.1 + i / 1000, i), i)
            else:
                train_writer.add_summary(_summary("cross_entropy", 2.0 - i / 1000, i), i)
        train_writer.close()
        test_writer.close()

    b = board(tmp_path)
    train(90)
    assert series(b.load(), "mnist/test", "accuracy")[0] == list(range(0, 91, 10))
    train(240)
    steps, values = series(b.load(), "mnist/test", "accuracy")
    assert steps == list(range(0, 241, 10))
    assert values == pytest.approx([0.1 + s / 1000 for s in steps])
    assert len(series(b, "mnist/train", "cross_entropy")[0]) == 240 - 24


def test_a_deleted_file_takes_its_points_and_an_emptied_run_goes(board, tmp_path):
    write_events(tmp_path / "a" / f"{EV}.1", *_scalars("x", range(10), float))
    write_events(tmp_path / "a" / f"{EV}.2", *_scalars("y", range(5), float))
    write_events(tmp_path / "b" / EV, *_scalars("x", range(3), float))
    b = board().load()
    (tmp_path / "a" / f"{EV}.1").unlink()
    b.load()
    assert run_info(b, "a")["tags"]["scalars"] == ["y"]
    assert b.get("/api/scalars", params={"run": "a", "tag": "x"}).status_code == 404
    shutil.rmtree(tmp_path / "b")
    assert b.load().json("/data/runs") == ["a"]


# -- item 4: files replaced by rename or in place; rsync temporaries -----------------------

def test_a_file_replaced_by_rename_is_read_again_without_duplicates(board, tmp_path):
    path = write_events(tmp_path / "run" / EV, *_scalars("x", range(10), float))
    b = board().load()
    assert series(b, "run", "x")[0] == list(range(10))
    # rsync: the new version goes to a dot-file temporary, then is renamed over the old one.
    tmp = path.with_name(f".{EV}.Xy12Ab")
    tmp.write_bytes(path.read_bytes())
    write_events(tmp, *_scalars("x", range(10, 20), lambda s: -float(s)))
    assert series(b.load(), "run", "x")[0] == list(range(10))  # the temporary is ignored
    os.replace(tmp, path)
    steps, values = series(b.load(), "run", "x")
    assert steps == list(range(20))
    assert values == [float(s) for s in range(10)] + [-float(s) for s in range(10, 20)]
    assert run_info(b, "run")["errors"] == []


def test_a_file_truncated_and_rewritten_in_place_is_read_from_the_start(board, tmp_path):
    path = write_events(tmp_path / "run" / EV, *_scalars("x", range(50), float))
    b = board().load()
    path.write_bytes(frames(event(file_version="brain.Event:2"),
                            *_scalars("x", range(5), lambda s: 7.0)))
    assert series(b.load(), "run", "x") == (list(range(5)), [7.0] * 5)
    assert run_info(b, "run")["errors"] == []


def test_a_file_rewritten_in_place_with_more_bytes_is_read_from_the_start(board, tmp_path):
    """Same inode, no shrink seen (e.g. an inode number reused by a log shipper's copy):
    the file's first bytes (its file_version record and creation time) differ."""
    path = write_events(tmp_path / "run" / EV, *_scalars("x", range(5), float))
    b = board().load()
    ino = path.stat().st_ino
    path.write_bytes(frames(event(wall_time=2.0, file_version="brain.Event:2"),
                            *_scalars("x", range(50), lambda s: 7.0)))
    assert path.stat().st_ino == ino
    assert series(b.load(), "run", "x") == (list(range(50)), [7.0] * 50)


def test_dot_files_are_not_runs_or_files(board, tmp_path):
    write_events(tmp_path / "run" / EV, *_scalars("x", range(3), float))
    write_events(tmp_path / "run" / f".{EV}.a1B2c3", *_scalars("x", range(3), float))
    write_events(tmp_path / "other" / f".{EV}.zz", *_scalars("x", range(3), float))
    b = board().load()
    assert b.json("/data/runs") == ["run"]
    assert series(b, "run", "x")[0] == [0, 1, 2]


# -- item 11: names that are not UTF-8 -------------------------------------------------------

def test_a_byte_name_and_its_escaped_spelling_stay_two_runs(board, tmp_path):
    raw = os.fsencode(tmp_path)
    for name, value in ((b"b\xff", 1.0), (b"b\\xff", 2.0), (b"plain", 3.0)):
        os.makedirs(raw + b"/" + name)
        with open(raw + b"/" + name + b"/" + EV.encode(), "wb") as f:
            f.write(frames(event(file_version="brain.Event:2"), scalar_event("x", value, 1)))
    b = board().load()
    assert b.json("/data/runs") == ["b\\\\xff", "b\\xff", "plain"]
    assert series(b, "b\\xff", "x")[1] == [1.0]  # the byte 0xff
    assert series(b, "b\\\\xff", "x")[1] == [2.0]  # a literal backslash
    assert series(b, "plain", "x")[1] == [3.0]


def test_the_watcher_follows_non_utf8_directories(tmp_path):
    write_events(tmp_path / "first" / EV, scalar_event("x", 1.0, 1))
    store = Store()
    loader = Loader(store, [Source(None, tmp_path)], reload_interval=30)
    loader.start()
    try:
        wait_until(lambda: loader.watching, "the watcher to start")
        raw = os.fsencode(tmp_path) + b"/caf\xe9"
        os.makedirs(raw)
        with open(raw + b"/" + EV.encode(), "wb") as f:
            f.write(frames(event(file_version="brain.Event:2"), scalar_event("x", 2.0, 2)))
        # reload_interval is 30 s: only an event can bring the run in this soon.
        wait_until(lambda: store.scalars("caf\\xe9", "x"), "the non-UTF-8 run via an event")
        with open(raw + b"/" + EV.encode(), "ab") as f:
            f.write(frames(scalar_event("x", 3.0, 3)))
        wait_until(lambda: len(store.scalars("caf\\xe9", "x").step) == 2, "appended point")
        assert loader.watching and loader.walks <= 2
    finally:
        loader.stop()


# -- item 12: errors name relative paths, never file bytes ----------------------------------

def test_errors_name_relative_paths_and_never_echo_file_bytes(board, tmp_path):
    secret = tmp_path / "outside" / "secret.bin"
    secret.parent.mkdir()
    secret.write_bytes(bytes.fromhex("0c000000000000004a4b4c4d") + b"x" * 40)  # bad len CRC
    logdir = tmp_path / "logs"
    (logdir / "run").mkdir(parents=True)
    (logdir / "run" / EV).symlink_to(secret)
    b = board(logdir).load()
    (error,) = run_info(b, "run")["errors"]
    assert error.startswith(f"run/{EV}: ") and "length CRC" in error
    for leak in (str(tmp_path), "4a4b4c4d", "4d4c4b4a", "secret"):
        assert leak not in error.lower()


# -- item 3: image records of any size cost linear, bounded time ---------------------------

def _image_tensor_event(step: int, n_strings: int) -> event_pb2.Event:
    ev = event(step=step)
    value = ev.summary.value.add(tag="flood")
    value.metadata.plugin_data.plugin_name = "images"
    value.tensor.dtype = 7  # DT_STRING
    value.tensor.tensor_shape.dim.add(size=n_strings)
    value.tensor.string_val.extend([b"2", b"2"] + [b""] * (n_strings - 2))
    return ev


def test_an_image_record_of_80000_empty_strings_is_capped_and_counted(board, tmp_path):
    write_events(tmp_path / "run" / EV, _image_tensor_event(1, 80_000),
                 *_scalars("x", range(3), float))
    b = board().load()
    (step,) = b.json("/api/images", params={"run": "run", "tag": "flood"})["steps"]
    assert len(step["samples"]) == ingest.MAX_IMAGE_SAMPLES
    assert [s["index"] for s in step["samples"]] == list(range(ingest.MAX_IMAGE_SAMPLES))
    assert run_info(b, "run")["dropped_image_samples"] == 79_998 - ingest.MAX_IMAGE_SAMPLES
    assert series(b, "run", "x")[0] == [0, 1, 2]  # the records after it still load


@pytest.mark.stress
@pytest.mark.timeout(600)
def test_a_file_of_image_floods_loads_with_the_runs_beside_it(board, tmp_path):
    """200 records of 80,000 images each (32 MB): every one capped and counted, and a run
    next to it loaded in the same cycle."""
    write_events(tmp_path / "flood" / EV, *(_image_tensor_event(s, 80_000) for s in range(200)))
    write_events(tmp_path / "live" / EV, *_scalars("x", range(1000), float))
    b = board().load()
    steps = b.json("/api/images", params={"run": "flood", "tag": "flood"})["steps"]
    assert [s["step"] for s in steps] == list(range(200))
    assert {len(s["samples"]) for s in steps} == {ingest.MAX_IMAGE_SAMPLES}
    assert run_info(b, "flood")["dropped_image_samples"] == \
        200 * (79_998 - ingest.MAX_IMAGE_SAMPLES)
    assert series(b, "live", "x")[0] == list(range(1000))


# -- item 6 (storage): histograms are numpy arrays ------------------------------------------

def test_histograms_are_stored_as_float64_arrays(board, tmp_path):
    from writer import SummaryWriter

    with SummaryWriter(tmp_path / "run") as w:
        w.add_histogram("h", np.arange(1000.0), 3, bins=64)
    b = board().load()
    (h,) = b.app.state.store.histograms("run", "h")
    assert isinstance(h.bucket_limits, np.ndarray) and h.bucket_limits.dtype == np.float64
    assert isinstance(h.bucket_counts, np.ndarray) and h.bucket_counts.dtype == np.float64
    (body,) = b.json("/api/histograms", params={"run": "run", "tag": "h"})["steps"]
    assert sum(body["bucket_counts"]) == 1000 and len(body["bucket_limits"]) == len(h.bucket_limits)


# -- item 16: incremental discovery and a paged run list -----------------------------------

def test_a_walk_of_an_unchanged_tree_lists_no_directory(tmp_path):
    logdir = tmp_path / "logs"
    for i in range(300):
        write_events(logdir / f"run{i:03d}" / EV, scalar_event("x", 1.0, 1))
    big = tmp_path / "elsewhere"  # a large tree reached through two symlinks
    for i in range(200):
        (big / f"d{i:03d}" / "deeper").mkdir(parents=True)
    write_events(big / "d000" / "deeper" / EV, scalar_event("x", 1.0, 1))
    (logdir / "link").symlink_to(big)
    (logdir / "link2").symlink_to(big)
    (logdir / "loop").symlink_to(logdir)
    for path in [logdir, *logdir.iterdir(), big, *big.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            os.utime(path, ns=(10**18, 10**18))  # long settled: no listing is "racy"
    tree = Tree(Source(None, logdir))
    tree.walk()
    added, _ = tree.take()
    assert len(added) == 301  # the symlinked tree once; the loop cut
    tree.walk()
    assert tree.listed == 0 and tree.take() == (set(), set())
    (big / "d123" / "deeper" / "x").mkdir()
    tree.walk()
    assert tree.listed == 2  # the changed directory, and the new one


def test_events_update_the_tree_one_directory_at_a_time(tmp_path):
    for i in range(300):
        write_events(tmp_path / f"run{i:03d}" / EV, scalar_event("x", 1.0, 1))
    tree = Tree(Source(None, tmp_path))
    tree.walk()
    tree.take()
    new = write_events(tmp_path / "new" / EV, scalar_event("x", 1.0, 1))
    gone = tmp_path / "run007" / EV
    gone.unlink()
    tree.refresh({str(new.parent), str(new), str(gone)})
    assert tree.listed == 1  # the new directory only; the 300 others are not listed
    assert tree.take() == ({str(new)}, {str(gone)})


def test_the_run_list_pages(board, tmp_path):
    for i in range(25):
        write_events(tmp_path / f"r{i:02d}" / EV, scalar_event("x", 1.0, 1))
    b = board().load()
    full = b.json("/api/runs")
    assert full["total"] == 25 and len(full["runs"]) == 25
    page = b.json("/api/runs", params={"offset": 20, "limit": 10})
    assert [r["name"] for r in page["runs"]] == [f"r{i}" for i in range(20, 25)]
    assert page["runs"] == full["runs"][20:] and page["total"] == 25
    assert b.get("/api/runs", params={"limit": 0}).status_code == 422


@pytest.mark.stress
@pytest.mark.timeout(900)
def test_100000_runs_load_and_list(board, tmp_path):
    """The issue's logdir: 100,000 tiny run folders (timings are in benchmarks/runs_scale.py)."""
    body = frames(event(file_version="brain.Event:2"), scalar_event("x", 1.0, 1))
    for i in range(100_000):
        d = tmp_path / f"{i // 1000:03d}" / f"run{i:05d}"
        d.mkdir(parents=True)
        (d / EV).write_bytes(body)
    b = board().load()
    listing = b.json("/api/runs")
    assert listing["total"] == 100_000 and len(listing["runs"]) == 100_000
    assert b.json("/api/runs", params={"offset": 99_999})["runs"][0]["name"] == "099/run99999"
    loader = b.app.state.loader
    tree = loader._trees[0]
    b.load()
    assert tree.take() == (set(), set())


@pytest.mark.parametrize("watched", ["parent", "log_dir itself"])
def test_the_watcher_sees_a_log_folder_deleted_and_written_again(tmp_path, watched):
    """As mnist_with_summaries against a running board: only events can bring the new run
    this soon (reload_interval 30 s)."""
    log_dir = tmp_path / "mnist"
    write_events(log_dir / "test" / f"{EV}.1", *_scalars("accuracy", range(0, 91, 10), float))
    root = tmp_path if watched == "parent" else log_dir
    run = "mnist/test" if watched == "parent" else "test"
    store = Store()
    loader = Loader(store, [Source(None, root)], reload_interval=30)
    loader.start()
    try:
        wait_until(lambda: loader.watching and store.scalars(run, "accuracy"), "first load")
        shutil.rmtree(log_dir)
        write_events(log_dir / "test" / f"{EV}.2", *_scalars("accuracy", range(0, 241, 10),
                                                              lambda s: -1.0))
        wait_until(lambda: (snap := store.scalars(run, "accuracy")) is not None
                   and snap.value.tolist() == [-1.0] * 25, "the new run alone")
        assert store.scalars(run, "accuracy").step.tolist() == list(range(0, 241, 10))
        write_events(log_dir / "test" / f"{EV}.2", *_scalars("accuracy", [250], float))
        wait_until(lambda: len(store.scalars(run, "accuracy").step) == 26, "tailing it")
    finally:
        loader.stop()
