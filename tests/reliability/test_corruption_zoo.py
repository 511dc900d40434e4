"""A logdir full of broken things, served by one real ``board`` (SPEC §5 Loading, §9;
reference/tensorboard.md §1.6: TensorBoard stalls forever on a bad checksum).

The zoo: truncated files (mid-record, mid-header), a flipped payload byte (bad data CRC), a
flipped length byte (bad length CRC), valid frames holding non-Event bytes, a TF2 tensor that
claims 2**40 elements, zero-length files, random garbage, a 2**60 length header, a directory
named like an event file, a file the server may not read, a FIFO, dangling and looping
symlinks, a symlinked directory loop, NaN/inf values and extreme steps. Good runs must still
serve exact values, corruption is counted in /api/runs, the server stays healthy and the
loader keeps loading new data afterwards.

Unreadable file: the tests run as root, for whom ``chmod 000`` blocks nothing. The board is
then started under ``setpriv --bounding-set=-dac_override,-dac_read_search`` (root without
the capabilities that bypass file modes), so ``chmod 000`` really denies the read.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
import threading
import time
from pathlib import Path

import psutil
import pytest
from relsupport import (
    BoardProcess,
    event_file_name,
    file_version_event,
    frame,
    header_only,
    record_figure,
    scalar_event,
    scalar_file_bytes,
    served_csv,
    total_points,
    wait_for,
)

from writer.proto import event_pb2

N = 40  # points per tag in each file


def series(n: int = N, k: int = 0, first: int = 0) -> list[tuple[int, float]]:
    return [(s, s * 0.5 + k) for s in range(first, first + n)]


def f32(x: float) -> float:
    """``x`` rounded to float32, as simple_value stores it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def drop_privileges_prefix() -> tuple[tuple[str, ...], str]:
    """A command prefix under which chmod 000 denies reads, and how it was obtained."""
    if os.geteuid() != 0:
        return (), "not root: chmod 000 applies"
    setpriv = shutil.which("setpriv")
    if setpriv:
        return (setpriv, "--bounding-set=-dac_override,-dac_read_search"), "setpriv"
    pytest.skip("running as root without setpriv: chmod 000 would not make a file unreadable")


class Zoo:
    """Builds the logdir; ``expected[(run, tag)]`` lists the points that must be served."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.expected: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self.corrupt: dict[str, int] = {}  # run -> minimum corrupt_records
        self.tried: list[str] = []

    def file(self, run: str, data: bytes, n: int = 0) -> Path:
        d = self.root / run
        d.mkdir(parents=True, exist_ok=True)
        path = d / event_file_name(n)
        path.write_bytes(data)
        return path

    def expect(self, run: str, tag: str, points) -> None:
        self.expected.setdefault((run, tag), []).extend(points)

    def build(self) -> None:
        good = {"loss": series(), "acc": series(k=1), "deep/nested/tag": series(k=2)}
        self.file("good", scalar_file_bytes(good))
        for tag, pts in good.items():
            self.expect("good", tag, pts)

        whole = scalar_file_bytes({"loss": series()})
        last = len(frame(scalar_event("loss", N - 1, (N - 1) * 0.5)))
        self.file("truncated_mid_record", whole[:len(whole) - last // 2])
        self.expect("truncated_mid_record", "loss", series(N - 1))
        self.file("truncated_mid_header", whole + header_only(100)[:7])
        self.expect("truncated_mid_header", "loss", series())
        self.tried += ["truncated mid-record", "truncated mid-header"]

        frames = [frame(file_version_event())] + [frame(scalar_event("loss", s, v))
                                                  for s, v in series()]
        bad = bytearray(frames[6])
        bad[14] ^= 0x40  # inside the payload: the data CRC no longer matches
        self.file("flipped_payload", b"".join(frames[:6] + [bytes(bad)] + frames[7:]))
        self.expect("flipped_payload", "loss", series()[:5] + series()[6:])
        self.corrupt["flipped_payload"] = 1
        bad = bytearray(frames[11])
        bad[3] ^= 0x01  # inside the length: the length CRC no longer matches
        self.file("flipped_length", b"".join(frames[:11] + [bytes(bad)] + frames[12:]))
        self.expect("flipped_length", "loss", series(10))
        self.tried += ["flipped payload byte", "flipped length byte"]

        junk = [frame(b"\xff\xff\xff\xff not an event"), frame(os.urandom(64))]
        self.file("garbage_proto", b"".join(frames[:20] + junk + frames[20:]))
        self.expect("garbage_proto", "loss", series())
        self.corrupt["garbage_proto"] = 1
        self.tried.append("valid frames of non-Event bytes")

        self.file("zero_length", b"")
        self.file("zero_length", scalar_file_bytes({"loss": series()}), n=1)
        self.expect("zero_length", "loss", series())
        self.file("random_garbage", os.urandom(64 << 10))
        self.file("huge_length", scalar_file_bytes({"loss": series()}) + header_only(2**60)
                  + os.urandom(1 << 10))
        self.expect("huge_length", "loss", series())
        self.tried += ["zero-length file", "64 KiB of random bytes", "2**60 length header"]

        dir_named = self.root / "dir_named" / event_file_name(0)
        dir_named.mkdir(parents=True)
        self.file("dir_named", scalar_file_bytes({"loss": series()}), n=1)
        self.expect("dir_named", "loss", series())
        self.tried.append("directory named like an event file")

        locked = self.file("unreadable", scalar_file_bytes({"secret": series()}), n=0)
        locked.chmod(0)
        self.file("unreadable", scalar_file_bytes({"loss": series()}), n=1)
        self.expect("unreadable", "loss", series())
        self.tried.append("unreadable file (mode 000)")

        fifo_dir = self.root / "fifo"
        fifo_dir.mkdir()
        os.mkfifo(fifo_dir / event_file_name(0))
        self.file("fifo", scalar_file_bytes({"loss": series()}), n=1)
        self.expect("fifo", "loss", series())
        self.tried.append("FIFO named like an event file")

        links = self.root / "links"
        links.mkdir()
        (links / event_file_name(0)).symlink_to(links / "missing-target")
        (links / event_file_name(1)).symlink_to(links / event_file_name(1))  # ELOOP
        (links / "up").symlink_to("..")  # a directory loop back to the logdir
        (self.root / "self").symlink_to(".")
        self.file("links", scalar_file_bytes({"loss": series()}), n=2)
        self.expect("links", "loss", series())
        self.tried += ["dangling symlink", "self-referencing symlink", "directory symlink loop"]

        weird = [(-5, math.nan), (0, math.inf), (1, -math.inf), (2, -0.0),
                 (2**62, f32(3.4e38)), (2**63 - 1, f32(1e-38))]
        self.file("weird_values", scalar_file_bytes({"w": weird}))
        self.expect("weird_values", "w", weird)
        nan_wall = event_pb2.Event(wall_time=math.nan, step=7)
        nan_wall.summary.value.add(tag="nan_wall", simple_value=1.0)
        self.file("weird_values", frame(nan_wall.SerializeToString()), n=1)
        self.tried += ["NaN/inf values, steps -5 and 2**63-1", "NaN wall_time"]


def poison_tensor_event(step: int) -> bytes:
    """A TF2 scalar summary whose tensor shape claims 2**40 elements (40 bytes on disk)."""
    ev = event_pb2.Event(wall_time=1.0, step=step)
    v = ev.summary.value.add(tag="poison")
    v.metadata.plugin_data.plugin_name = "scalars"
    v.tensor.dtype = 1
    v.tensor.tensor_shape.dim.add(size=2**40)
    v.tensor.float_val.append(1.0)
    return ev.SerializeToString()


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    logdir = root / "logs"
    zoo = Zoo(logdir)
    zoo.build()
    prefix, how = drop_privileges_prefix()
    board = BoardProcess(logdir, "--reload_interval", "0.2", log_path=root / "board.log",
                         prefix=prefix)
    zoo.privilege_note = how
    try:
        wait_for(lambda: all(total_points(board, r, t) == len(p)
                             for (r, t), p in zoo.expected.items()),
                 60, "every good point of the zoo to be served", interval=0.25)
    except AssertionError:
        pass  # the tests below say precisely what is missing
    yield zoo, board
    board.stop()


def check_exact(board, run: str, tag: str, expected) -> None:
    got = [(s, v) for s, _, v in served_csv(board, run, tag)]
    assert len(got) == len(expected), f"{run}/{tag}: {len(got)} points served, expected " \
                                      f"{len(expected)}"
    for (s, v), (es, ev) in zip(got, expected, strict=True):
        assert s == es and (v == ev or (math.isnan(v) and math.isnan(ev))), \
            f"{run}/{tag}: served ({s}, {v}), written ({es}, {ev})"
        if v == 0:
            assert math.copysign(1, v) == math.copysign(1, ev), f"{run}/{tag}: sign of zero"


@pytest.mark.server
@pytest.mark.timeout(120)
def test_server_stays_healthy(zoo):
    z, board = zoo
    assert board.alive(), board.log_text()[-2000:]
    assert board.get("/healthz").json() == {"status": "ok"}
    r = board.get("/api/runs")
    assert r.status_code == 200, r.text[:500]
    names = {run["name"] for run in r.json()["runs"]}
    missing = {run for run, _ in z.expected} - names
    assert not missing, f"runs not listed: {missing}"
    record_figure("corruption_zoo", corrupt_inputs_tried=len(z.tried), inputs=z.tried,
                  unreadable_method=z.privilege_note)


@pytest.mark.server
@pytest.mark.timeout(120)
@pytest.mark.parametrize("run", ["good", "truncated_mid_record", "truncated_mid_header",
                                 "flipped_payload", "flipped_length", "garbage_proto",
                                 "zero_length", "huge_length", "dir_named", "unreadable", "fifo",
                                 "links", "weird_values"])
def test_good_points_served_exactly(zoo, run):
    z, board = zoo
    tags = [t for r, t in z.expected if r == run]
    assert tags
    for tag in tags:
        check_exact(board, run, tag, z.expected[(run, tag)])


@pytest.mark.server
@pytest.mark.timeout(60)
def test_corruption_is_counted_not_fatal(zoo):
    z, board = zoo
    runs = {r["name"]: r for r in board.get("/api/runs").json()["runs"]}
    for run, minimum in z.corrupt.items():
        assert runs[run]["corrupt_records"] >= minimum, runs[run]
    for run in ("good", "truncated_mid_record", "truncated_mid_header", "huge_length"):
        assert runs[run]["corrupt_records"] == 0, f"{run}: an unfinished tail is not corrupt"
    stopped = runs["flipped_length"]
    assert stopped["corrupt_records"] > 0 or stopped.get("errors"), (
        f"a bad length CRC stops the file and must be visible in /api/runs: {stopped}")
    assert "secret" not in runs["unreadable"]["tags"]["scalars"], "mode 000 file was read"


@pytest.mark.server
@pytest.mark.timeout(60)
def test_nan_wall_time_does_not_break_json(zoo):
    _, board = zoo
    r = board.get("/api/scalars", {"run": "weird_values", "tag": "nan_wall"})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["value"] == [1.0] and body["step"] == [7]
    r = board.get("/api/scalars", {"run": "weird_values", "tag": "w"})
    assert r.status_code == 200 and None in r.json()["value"], "NaN/inf are null in JSON"


@pytest.mark.server
@pytest.mark.timeout(120)
def test_huge_length_header_costs_no_memory(zoo):
    _, board = zoo
    rss = psutil.Process(board.pid).memory_info().rss
    record_figure("zoo_board_rss", rss_mb=round(rss / 2**20, 1))
    assert rss < 600 * 2**20, f"board RSS {rss / 2**20:.0f} MB after reading the zoo"


@pytest.mark.server
@pytest.mark.timeout(120)
def test_loader_keeps_loading_after_the_zoo(zoo):
    """New runs and appended points still arrive after every broken input was seen."""
    z, board = zoo
    late = z.file("late", scalar_file_bytes({"loss": series(10)}))
    wait_for(lambda: total_points(board, "late", "loss") == 10, 30, "a new run to appear")
    with open(late, "ab") as f:
        f.write(b"".join(frame(scalar_event("loss", s, v)) for s, v in series(10, first=10)))
    wait_for(lambda: total_points(board, "late", "loss") == 20, 30, "appended points")
    check_exact(board, "late", "loss", series(20))


@pytest.mark.server
@pytest.mark.timeout(120)
def test_files_deleted_while_being_read(zoo):
    """Event files and whole runs created and deleted while the loader polls every 0.2 s."""
    z, board = zoo
    rng = random.Random(7)
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            d = z.root / f"churn{i % 5}"
            d.mkdir(exist_ok=True)
            path = d / event_file_name(i)
            path.write_bytes(scalar_file_bytes({"loss": series(rng.randint(1, 3000))}))
            time.sleep(rng.random() * 0.05)
            if rng.random() < 0.5:
                path.unlink()
            else:
                shutil.rmtree(d)
            i += 1

    t = threading.Thread(target=churn, daemon=True)
    t.start()
    time.sleep(4)
    stop.set()
    t.join(10)
    assert board.alive()
    assert board.get("/healthz").json() == {"status": "ok"}
    assert board.get("/api/runs").status_code == 200
    check_exact(board, "good", "loss", z.expected[("good", "loss")])
    # The loader still works after the churn.
    z.file("after_churn", scalar_file_bytes({"loss": series(5)}))
    wait_for(lambda: total_points(board, "after_churn", "loss") == 5, 30, "a run after churn")


@pytest.mark.server
@pytest.mark.timeout(120)
def test_poison_tensor_loses_no_good_points(tmp_path, start_board):
    """One record whose tensor claims 2**40 elements must cost only itself.

    Good points are written in the same file, before and after it, in one go: the loader
    reads them in one batch, so an exception escaping the normaliser would drop the batch.
    """
    logdir = tmp_path / "logs"
    run = logdir / "poison"
    run.mkdir(parents=True)
    parts = [frame(file_version_event())]
    parts += [frame(scalar_event("loss", s, v)) for s, v in series(50)]
    parts.append(frame(poison_tensor_event(50)))
    parts += [frame(scalar_event("loss", s, v)) for s, v in series(50, first=51)]
    (run / event_file_name()).write_bytes(b"".join(parts))
    board = start_board(logdir, "--reload_interval", "0.2")
    try:
        wait_for(lambda: total_points(board, "poison", "loss") == 100, 15,
                 "the 100 good points around the poison record")
    except AssertionError:
        served = total_points(board, "poison", "loss")
        errors = [line for line in board.log_text().splitlines() if "Error" in line]
        raise AssertionError(f"{served} of 100 good points served around one poison record; "
                             f"board log: {errors[-3:]}") from None
    check_exact(board, "poison", "loss", series(50) + series(50, first=51))
    rss = psutil.Process(board.pid).memory_info().rss
    assert rss < 600 * 2**20, f"board RSS {rss / 2**20:.0f} MB after one 40-byte record"


@pytest.mark.server
@pytest.mark.timeout(120)
def test_non_utf8_directory_name_does_not_break_the_run_list(tmp_path, start_board):
    """A run directory named in Latin-1 (b'caf\\xe9') next to a good run."""
    logdir = tmp_path / "logs"
    logdir.mkdir()
    bad = os.path.join(os.fsencode(logdir), b"caf\xe9")
    os.mkdir(bad)
    with open(os.path.join(bad, os.fsencode(event_file_name())), "wb") as f:
        f.write(scalar_file_bytes({"loss": series(5)}))
    (logdir / "good").mkdir()
    (logdir / "good" / event_file_name()).write_bytes(scalar_file_bytes({"loss": series(5)}))
    board = start_board(logdir, "--reload_interval", "0.2")
    wait_for(lambda: total_points(board, "good", "loss") == 5, 20, "the good run")
    wait_for(lambda: len(board.get("/data/runs").json()) >= 1, 20, "run names")
    r = board.get("/api/runs")
    assert r.status_code == 200, f"/api/runs answers {r.status_code}: {r.text[:300]}"
    assert "good" in {run["name"] for run in r.json()["runs"]}
    for path in ("/data/runs", "/data/plugin/scalars/tags"):
        r = board.get(path)
        assert r.status_code == 200, f"{path} answers {r.status_code}: {r.text[:300]}"


@pytest.mark.server
@pytest.mark.timeout(120)
def test_images_whose_file_changed_after_indexing(tmp_path, start_board):
    """Images are read on demand (SPEC §5): a file deleted, truncated or damaged after it was
    indexed gives a 4xx for that image, never a 500 or a hang, and other images still load."""
    import numpy as np

    from writer import SummaryWriter

    logdir = tmp_path / "logs"
    rng = np.random.default_rng(0)
    for run in ("deleted", "truncated", "flipped", "intact"):
        with SummaryWriter(logdir / run) as w:
            w.add_images("img", rng.random((2, 4, 4, 3)), 3)
    board = start_board(logdir, "--reload_interval", "0.2")
    query = {"tag": "img/image/0", "step": 3, "index": 0}
    for run in ("deleted", "truncated", "flipped", "intact"):
        wait_for(lambda run=run: board.get("/api/image", {"run": run, **query}).status_code
                 == 200, 30, f"the image of run {run!r}")
    (path,) = (logdir / "deleted").iterdir()
    path.unlink()
    (path,) = (logdir / "truncated").iterdir()
    os.truncate(path, 100)
    (path,) = (logdir / "flipped").iterdir()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    for run in ("deleted", "truncated", "flipped"):
        r = board.get("/api/image", {"run": run, **query})
        assert 400 <= r.status_code < 500, f"{run}: {r.status_code} {r.text[:200]}"
    r = board.get("/api/image", {"run": "intact", **query})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert board.get("/healthz").json() == {"status": "ok"}


@pytest.mark.server
@pytest.mark.timeout(120)
def test_non_finite_histograms_are_valid_json(tmp_path, start_board):
    """NaN/inf in histogram fields (legacy histo and a TF2 [k, 3] tensor) answer 200 JSON."""
    legacy = event_pb2.Event(wall_time=1.0, step=1)
    h = legacy.summary.value.add(tag="h").histo
    h.min, h.max, h.num, h.sum, h.sum_squares = math.nan, math.inf, 3, -math.inf, math.nan
    h.bucket_limit.extend([1.0, math.inf, math.nan])
    h.bucket.extend([1.0, math.nan, math.inf])
    tf2 = event_pb2.Event(wall_time=1.0, step=1)
    v = tf2.summary.value.add(tag="h")
    v.metadata.plugin_data.plugin_name = "histograms"
    v.tensor.dtype = 2  # DT_DOUBLE
    v.tensor.tensor_shape.dim.add(size=2)
    v.tensor.tensor_shape.dim.add(size=3)
    v.tensor.double_val.extend([-1e308, 1e308, 1e308, 1e308, math.inf, math.nan])
    logdir = tmp_path / "logs"
    for run, ev in (("legacy", legacy), ("tf2", tf2)):
        z = Zoo(logdir)
        z.file(run, frame(file_version_event()) + frame(ev.SerializeToString()))
    b = start_board(logdir, "--reload_interval", "0.2")
    for run in ("legacy", "tf2"):
        r = wait_for(lambda run=run: (r := b.get("/api/histograms", {"run": run, "tag": "h"}))
                     .status_code != 404 and r, 30, f"the {run} histogram")
        assert r.status_code == 200, f"{run}: {r.status_code} {r.text[:200]}"
        (step,) = r.json()["steps"]
        assert len(step["bucket_limits"]) == len(step["bucket_counts"])
