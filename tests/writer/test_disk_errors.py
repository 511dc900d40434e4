"""A full disk and a read-only logdir, on a real small tmpfs (needs root to mount).

The writer must raise a clear error and never drop an event it accepted: once space is back,
``flush()`` writes every accepted event exactly once.
"""

import os
import subprocess

import pytest

import writer
from writer.event_file import EventFileError, read_records
from writer.events import ScalarItem, normalize, parse_event

pytestmark = pytest.mark.integration


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def remount(mnt, options):
    subprocess.run(["mount", "-o", f"remount,{options}", str(mnt)], check=True)


def steps_in(path):
    dec = read_records(path)
    assert dec.error is None and dec.bad_crc == 0
    return [i.step for r in dec.records for i in normalize(parse_event(r.data)) if isinstance(i, ScalarItem)]


def test_full_disk_raises_then_loses_nothing(tmpfs):
    w = writer.SummaryWriter(tmpfs / "run", max_queue=5)
    accepted = 0
    with pytest.raises(EventFileError, match="disk is full") as info:
        for step in range(100_000):
            w.add_scalar("loss", 0.5, step)  # the write that fails still keeps this event
            accepted = step + 1
    accepted += 1  # the failing call appended its event before the write was attempted
    assert "flush()" in str(info.value)
    with pytest.raises(EventFileError, match="disk is full"):
        w.flush()
    remount(tmpfs, "size=4m")
    w.flush()
    assert steps_in(w.path) == list(range(accepted))
    w.close()


def test_read_only_logdir(tmpfs):
    (tmpfs / "existing").mkdir()
    remount(tmpfs, "ro")
    with pytest.raises(EventFileError, match="cannot create logdir .*Read-only"):
        writer.SummaryWriter(tmpfs / "new_run")
    with pytest.raises(EventFileError, match="not writable"):
        writer.SummaryWriter(tmpfs / "existing")
