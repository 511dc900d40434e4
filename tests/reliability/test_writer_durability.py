"""The writer never loses an event it accepted once ``flush()``/``close()`` returns, and says so
loudly when it cannot write (SPEC §3, §9).

- 16 threads add events and flush concurrently; after each of its own ``flush()`` a thread
  reads the file from disk (independent oracle) and finds every event it added so far; at the
  end every event is there exactly once.
- An interpreter exit, and a writer dropped without ``close()``, still write everything.
- Unwritable places, as root (for whom file modes do not apply): a logdir below a regular
  file (ENOTDIR), no room left (RLIMIT_FSIZE in a child process -> EFBIG, lifted later as a
  disk that frees space), a full device (/dev/full -> ENOSPC), and a read-only tmpfs mount
  (EROFS). Each raises an OSError naming the path; once there is room a retry writes every
  accepted event exactly once. Only the read-only case needs ``mount`` (root with
  CAP_SYS_ADMIN) and skips, saying so, where it is not allowed.
"""

from __future__ import annotations

import collections
import errno
import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from relsupport import oracle_decode, record_figure

from writer import SummaryWriter
from writer.event_file import EventFileWriter
from writer.proto import event_pb2


def events_on_disk(path) -> collections.Counter:
    """(tag, step) -> count, over every whole record of the file; no bad CRC allowed."""
    records, _, bad, err = oracle_decode(Path(path).read_bytes())
    assert bad == 0 and err is None, f"damaged records in {path}: bad={bad} err={err}"
    out: collections.Counter = collections.Counter()
    for _, payload in records:
        ev = event_pb2.Event.FromString(payload)
        for v in ev.summary.value:
            out[(v.tag, ev.step)] += 1
    return out


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_sixteen_threads_every_event_once_and_flush_means_on_disk(tmp_path):
    threads, per_thread, flush_every = 16, 600, 100
    w = SummaryWriter(tmp_path, max_queue=1000, flush_secs=3600)
    failures: list[str] = []
    start = threading.Barrier(threads)

    def work(tid: int) -> None:
        start.wait()
        tag = f"thread{tid:02d}"
        for i in range(per_thread):
            w.add_scalar(tag, float(i), i)
            if (i + 1) % flush_every == 0:
                w.flush()
                # Read back through the file system, not through the writer.
                on_disk = events_on_disk(w.path)
                missing = [s for s in range(i + 1) if on_disk[(tag, s)] != 1]
                if missing:
                    failures.append(f"{tag}: after flush() at {i}, steps {missing[:5]} are "
                                    f"not on disk exactly once")

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(100)
    w.close()
    assert not failures, failures[:5]
    on_disk = events_on_disk(w.path)
    expected = {(f"thread{t:02d}", i) for t in range(threads) for i in range(per_thread)}
    assert set(on_disk) == expected
    assert all(c == 1 for c in on_disk.values()), "an event written twice"
    first = event_pb2.Event.FromString(oracle_decode(Path(w.path).read_bytes())[0][0][1])
    assert first.file_version == "brain.Event:2"
    record_figure("writer_threads", threads=threads, events=threads * per_thread,
                  flushes=threads * per_thread // flush_every)


CHILD = """
import os, sys
sys.path.insert(0, {repo!r})
from writer import SummaryWriter
from writer.event_file import EventFileWriter
w = SummaryWriter({logdir!r}, max_queue=100000, flush_secs=3600)
print(w.path, flush=True)
for i in range(5000):
    w.add_scalar("loss", float(i), i)
{ending}
"""


@pytest.mark.integration
@pytest.mark.timeout(60)
@pytest.mark.parametrize("ending", ["", "del w", "raise SystemExit(0)", "w.flush()\nos._exit(0)"],
                         ids=["interpreter-exit", "dropped", "sys-exit", "flush-then-crash"])
def test_events_survive_exit_without_close(tmp_path, ending):
    repo = str(Path(__file__).resolve().parents[2])
    code = CHILD.format(repo=repo, logdir=str(tmp_path), ending=ending)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=50)
    assert out.returncode == 0, out.stderr[-2000:]
    path = out.stdout.strip().splitlines()[0]
    on_disk = events_on_disk(path)
    assert on_disk == collections.Counter({("loss", i): 1 for i in range(5000)})


@pytest.mark.integration
def test_dropped_writer_in_process_is_flushed(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=10_000, flush_secs=3600)
    path = w.path
    for i in range(100):
        w.add_scalar("x", float(i), i)
    del w
    gc.collect()
    assert events_on_disk(path) == collections.Counter({("x", i): 1 for i in range(100)})


# -- unwritable places ---------------------------------------------------------------------------


@pytest.mark.integration
def test_logdir_below_a_regular_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a directory should be")
    logdir = blocker / "run1"
    with pytest.raises(OSError) as info:
        SummaryWriter(logdir)
    assert info.value.errno in (errno.ENOTDIR, errno.EEXIST), info.value
    assert str(logdir) in str(info.value) or str(blocker) in str(info.value), str(info.value)


@pytest.mark.integration
def test_event_file_path_taken_by_a_directory_is_a_clear_error(tmp_path):
    """A writer whose file name is taken (here by a directory) must not write elsewhere."""
    w = SummaryWriter(tmp_path, filename_suffix=".a")
    w.close()
    os.remove(w.path)
    os.mkdir(w.path)  # the same name as a directory
    with pytest.raises(OSError) as info:
        EventFileWriter(w.path)
    assert w.path in str(info.value)


class Tmpfs:
    """A small tmpfs mounted for one test (root with CAP_SYS_ADMIN), unmounted after."""

    def __init__(self, where: Path, options: str) -> None:
        self.where = where
        where.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); needs root with "
                        "CAP_SYS_ADMIN")

    def umount(self) -> None:
        subprocess.run(["umount", "-l", str(self.where)], check=False)


@pytest.fixture
def tmpfs(tmp_path):
    mounts: list[Tmpfs] = []

    def make(options: str) -> Tmpfs:
        m = Tmpfs(tmp_path / f"mnt{len(mounts)}", options)
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        m.umount()


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_read_only_logdir_is_a_clear_error(tmpfs):
    ro = tmpfs("ro,size=1m")
    with pytest.raises(OSError) as info:
        SummaryWriter(ro.where / "run1")
    assert info.value.errno == errno.EROFS, info.value
    assert str(ro.where) in str(info.value), str(info.value)


NO_ROOM_CHILD = """
import resource, signal, sys
sys.path.insert(0, {repo!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
# No room past 16 KiB (EFBIG), until the soft limit is lifted: as a disk that fills, then frees.
resource.setrlimit(resource.RLIMIT_FSIZE, (16384, resource.RLIM_INFINITY))
from writer import SummaryWriter
w = SummaryWriter({logdir!r}, max_queue={max_queue}, flush_secs=3600)
errors, first = 0, None
for i in range({n}):
    try:
        w.add_scalar("loss", float(i), i)
    except OSError as exc:
        errors, first = errors + 1, first or exc
try:
    w.{finish}()
    print("SILENT")
    sys.exit(0)
except OSError as exc:
    first = first or exc
print("RAISED", first.errno, first, "ERRORS", errors)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
w.close()  # the retry writes what the failed writes kept
print("PATH", w.path)
"""


def no_room(tmp_path, finish: str, n: int, max_queue: int) -> tuple[str, Path]:
    """Run NO_ROOM_CHILD; returns its report line and the event file it wrote."""
    repo = str(Path(__file__).resolve().parents[2])
    code = NO_ROOM_CHILD.format(repo=repo, logdir=str(tmp_path), n=n, max_queue=max_queue,
                                finish=finish)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=50)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("RAISED"), f"events were dropped silently: {out.stdout!r}"
    return lines[0], Path(lines[-1].removeprefix("PATH "))


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_no_room_raises_and_keeps_every_accepted_event(tmp_path):
    """No room left (RLIMIT_FSIZE, no mount or privilege needed): add_scalar/flush raise
    naming the file; once there is room a close writes every event exactly once."""
    n = 4000  # ~40 bytes each: about 160 KB, far past the 16 KiB of room
    report, path = no_room(tmp_path, "flush", n, max_queue=50)
    assert f" {errno.EFBIG} " in report and str(path) in report, report
    on_disk = events_on_disk(path)
    assert sum(on_disk.values()) == n, f"{sum(on_disk.values())} of {n} events on disk"
    assert all(c == 1 for c in on_disk.values()), "an event written twice"
    record_figure("writer_no_room", events=n, message=report[:200])


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_close_without_room_raises_instead_of_dropping(tmp_path):
    report, path = no_room(tmp_path, "close", 3000, max_queue=100_000)  # buffered until close
    assert f" {errno.EFBIG} " in report, report
    assert events_on_disk(path) == collections.Counter({("loss", i): 1 for i in range(3000)})


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_a_full_device_is_a_clear_error(tmp_path):
    """ENOSPC itself, from /dev/full (no mount needed): the error names the file."""
    link = tmp_path / "events.out.tfevents.full"
    link.symlink_to("/dev/full")
    w = EventFileWriter(str(link))
    w.write(b"x" * 100)
    with pytest.raises(OSError) as info:
        w.flush()
    assert info.value.errno == errno.ENOSPC and str(link) in str(info.value), info.value


FSIZE_CHILD = """
import resource, signal, sys
sys.path.insert(0, {repo!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
from writer import SummaryWriter
from writer.event_file import EventFileWriter
w = SummaryWriter({logdir!r}, max_queue=20, flush_secs=3600)
try:
    for i in range(5000):
        w.add_scalar("loss", float(i), i)
    w.flush()
except OSError as exc:
    print("RAISED", exc.errno, exc)
    sys.exit(0)
print("SILENT")
"""


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_file_size_limit_raises(tmp_path):
    """RLIMIT_FSIZE (no privileges needed): writes past the limit fail with EFBIG."""
    repo = str(Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, "-c", FSIZE_CHILD.format(repo=repo, logdir=str(
        tmp_path))], capture_output=True, text=True, timeout=50)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("RAISED"), f"events were dropped silently: {out.stdout!r}"
    assert f" {errno.EFBIG} " in out.stdout and str(tmp_path) in out.stdout, out.stdout
