"""Decode big unread event files in worker processes (the initial load of a large logdir).

Framing (writer.record, ~1.3 µs/record) and the vectorised scalar decoder run in a pool of
forked processes, one file per task; the loader thread applies the results in run and file
order while the workers go on with the next files. A worker returns the decoded scalar
columns and only the records the fast decoder refused (file_version, images, graphs, …),
so little crosses the process boundary. Any failure falls back to reading serially.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from typing import NamedTuple

from writer.event_file import RecordTail
from writer.record import RecordError

from . import fastscalars

log = logging.getLogger("board.loader")

MIN_FILE_BYTES = 1 << 20  # smaller files are cheaper to read in the loader thread
MIN_TOTAL_BYTES = 8 << 20
MAX_WORKERS = 4


class FileResult(NamedTuple):
    path: str
    offset: int  # where the next read starts
    bad_crc: int
    error: tuple[str, int] | None  # (message, offset) of a length-CRC error
    count: int  # records read
    fast: fastscalars.Scalars | None
    slow: list  # the records fast refused (all of them when fast is None)


def decode_file(path: str) -> FileResult:
    """Read every whole record of `path` and decode its plain scalars (runs in a worker)."""
    tail = RecordTail(path)
    try:
        dec = tail.read()
    finally:
        tail.close()
    records = dec.records
    error = (str(dec.error), dec.error.offset) if dec.error is not None else None
    if not records:
        return FileResult(path, dec.offset, dec.bad_crc, error, 0, None, [])
    fast = fastscalars.decode([r.data for r in records])
    slow = [r for r, ok in zip(records, fast.ok.tolist(), strict=True) if not ok]
    return FileResult(path, dec.offset, dec.bad_crc, error, len(records), fast, slow)


def tail_after(result: FileResult) -> RecordTail:
    """A RecordTail positioned where the worker stopped (stopped too, after an error)."""
    tail = RecordTail(result.path, offset=result.offset)
    if result.error is not None:
        tail.error = RecordError(*result.error)
    return tail


def worth_it(sizes: list[int]) -> bool:
    big = [s for s in sizes if s >= MIN_FILE_BYTES]
    return len(big) >= 2 and sum(big) >= MIN_TOTAL_BYTES and (os.cpu_count() or 1) >= 2


def pool():
    """A process pool of forked workers (they inherit the imported modules: no start-up)."""
    from concurrent.futures import ProcessPoolExecutor

    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("fork"))
