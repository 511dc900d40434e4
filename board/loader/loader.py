"""The background loader: discovers runs, tails their event files, fills the Store.

One thread reads; the request path never does. Each cycle rediscovers runs (new runs and
files appear live), then reads every file whose size changed since it was last read,
in name order within a run. A cycle starts when `watchfiles` reports a change under a
logdir (inotify where available) or, as the polling fallback, every `reload_interval`
seconds. A logdir that does not exist yet is polled until it appears.

Files never read before (the initial load of a logdir) are framed and decoded on a few
threads (parallel.py) while this thread applies their results in order; a decode that fails
or hangs only means that file is read here instead. While a long initial load goes on, files
already read are re-read every LIVE_EVERY seconds, so live runs keep flowing.

Open file handles are bounded: at most MAX_OPEN tails keep their file open (least
recently read are closed first; a closed RecordTail reopens and seeks on its next read),
so a logdir with thousands of runs does not exhaust descriptors.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict

from writer.event_file import RecordTail
from writer.record import MAX_RECORD_BYTES

from . import parallel
from .discover import Source, discover
from .ingest import Batch, RunState, apply_batch, file_version_of, ingest, ingest_mixed

log = logging.getLogger("board.loader")

MAX_OPEN = 64
WORKER_TIMEOUT = 300.0  # seconds a worker may take for one file before we read it here
TRIM_AFTER = 100_000  # records read in one cycle before returning freed heap to the OS
CHUNK_RECORDS = 50_000  # records applied to the store per locked step (bounds latency)
LIVE_EVERY = 0.5  # seconds between re-reads of already-read files during a long cycle


def release_free_memory() -> None:
    """Give the heap pages freed by decoding back to the OS (glibc's malloc_trim): a big
    initial load leaves tens of MB of freed buffers that would otherwise stay resident."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


class FileState:
    __slots__ = ("path", "run", "tail", "size", "error_reported")

    def __init__(self, path: str, run: str) -> None:
        self.path = path
        self.run = run
        self.tail = None
        self.size = -1
        self.error_reported = False


class Loader:
    """Owns the reading thread and the watcher thread for a set of sources."""

    def __init__(self, store, sources: list[Source], reload_interval: float = 2.0,
                 watch: bool = True, parallel: bool = True,
                 max_record_bytes: int = MAX_RECORD_BYTES) -> None:
        self.store = store
        self.max_record_bytes = max_record_bytes
        self.decoded_in_parallel = 0  # files the decode threads read (tests, logs)
        self.sources = sources
        self.once = float(reload_interval) <= 0  # as TensorBoard: 0 means load once
        self.reload_interval = max(0.05, float(reload_interval))
        self.watch = watch
        self.parallel = parallel
        self._runs: dict[str, RunState] = {}
        self._files: dict[str, FileState] = {}
        self._open: OrderedDict[str, FileState] = OrderedDict()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watching: set[str] = set()
        self.cycles = 0
        self._records_this_cycle = 0
        self._done: list = []  # (state, file) read so far in this cycle
        self._refreshed = 0.0

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the reading thread (a second call does nothing)."""
        if self._threads:
            return
        thread = threading.Thread(target=self._loop, name="board-loader", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop reading. The threads are daemons: one still busy after ``timeout`` (a file
        being decoded) ends with the process, so shutting down never waits for a load."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:  # watchers are daemons and notice within a second
            thread.join(timeout if thread.name == "board-loader" else 0.05)
        for fs in self._open.values():
            fs.tail.close()
        self._open.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.cycle()
            except Exception:  # never let bad input end the loader
                log.exception("loader cycle failed; retrying in %.1fs", self.reload_interval)
            self.store.loading = False
            if self.once:
                self._stop.wait()
                return
            self._start_watchers()
            self._wake.wait(self.reload_interval)
            self._wake.clear()

    # -- one pass ----------------------------------------------------------------------
    def cycle(self) -> None:
        """Discover runs and read everything new once. Safe to call directly (tests)."""
        self.cycles += 1
        self._records_this_cycle = 0
        work = []
        for source in self.sources:
            for run, paths in discover(source).items():
                state = self._runs.get(run)
                if state is None:
                    state = self._runs[run] = RunState(run)
                    with self.store.lock:
                        self.store.run(run)
                        self.store.note_change(run, "runs", "", 0)
                for path in paths:
                    fs = self._files.get(path)
                    if fs is None:
                        fs = self._files[path] = FileState(path, run)
                    work.append((state, fs))
        prefetch = self._submit_parallel(work)
        self._done = []
        self._refreshed = time.monotonic()
        try:
            for state, fs in work:
                if self._stop.is_set():
                    return
                if prefetch is not None and fs.path in prefetch:
                    self._apply_parallel(state, fs, prefetch)
                else:
                    self._read_file(state, fs)
                self._done.append((state, fs))
                self._refresh()
        finally:
            if prefetch is not None:
                self.decoded_in_parallel += prefetch.decoded
                prefetch.close()
        self.store.loading = False
        if self._records_this_cycle > TRIM_AFTER:
            release_free_memory()

    def _refresh(self) -> None:
        """Every LIVE_EVERY seconds of a long cycle, re-read the files it already read, so
        live runs keep flowing during an initial load."""
        if time.monotonic() - self._refreshed < LIVE_EVERY:
            return
        for state, fs in self._done:
            self._read_file(state, fs)
        self._refreshed = time.monotonic()

    def _submit_parallel(self, work) -> parallel.Prefetcher | None:
        """Start decoding the never-read files on threads (see parallel.py)."""
        if not self.parallel:
            return None
        fresh = [fs.path for _state, fs in work if fs.tail is None]
        if not fresh:
            return None
        try:
            return parallel.Prefetcher(fresh, self.max_record_bytes)
        except RuntimeError as exc:  # no threads left
            log.warning("parallel decoding unavailable (%s); reading serially", exc)
            return None

    def _apply_parallel(self, state: RunState, fs: FileState, prefetch) -> None:
        try:
            result = prefetch.take(fs.path, WORKER_TIMEOUT, on_wait=self._refresh)
        except Exception as exc:  # a failed or stuck decode: read this file here instead
            log.warning("decoding %s on a thread failed (%s); reading it here", fs.path, exc)
            return self._read_file(state, fs)
        version = state.file_version
        first = result.parts[0].slow[0] if result.parts and result.parts[0].slow else None
        if first is not None and first.offset == 0:
            version = file_version_of(first.data, version)
        if (version or 0) < 2:  # legacy purge rules need every record: read here
            return self._read_file(state, fs)
        fs.tail = parallel.tail_after(result, self.max_record_bytes)
        self._touch(fs)
        self._records_this_cycle += result.count
        if result.bad_crc:
            self._count_corrupt(state, fs, result.bad_crc)
        for part in result.parts:
            ingest_mixed(self.store, state, fs.path, part.fast, slow=part.slow)
        self._report_error(state, fs)
        fs.size = result.offset

    def _read_file(self, state: RunState, fs: FileState) -> None:
        try:
            size = os.stat(fs.path).st_size
        except OSError:
            return  # deleted or unreadable: try again next cycle
        if size == fs.size or (fs.tail is not None and fs.tail.error is not None):
            return
        if fs.tail is None:
            fs.tail = RecordTail(fs.path, max_record_bytes=self.max_record_bytes)
        self._touch(fs)
        try:
            for win in fs.tail.read_frames():
                self._apply_window(state, fs, win)
        except OSError as exc:
            log.warning("run %r: cannot read %s (%s)", state.name, fs.path, exc)
            return
        fs.size = size

    def _apply_window(self, state: RunState, fs: FileState, win) -> None:
        """Store one window of whole records read by this thread (see parallel.decode_window)."""
        fr = win.frames
        self._records_this_cycle += len(fr.starts)
        if fr.bad_crc:
            self._count_corrupt(state, fs, fr.bad_crc)
        if len(fr.starts):
            part = parallel.decode_window(win)
            version = state.file_version
            if part.slow and part.slow[0].offset == 0:
                version = file_version_of(part.slow[0].data, version)
            if (version or 0) >= 2:
                ingest_mixed(self.store, state, fs.path, part.fast, slow=part.slow)
            else:  # legacy purge rules look at every record in order
                records = parallel.records_of(win)
                for start in range(0, len(records), CHUNK_RECORDS):
                    ingest(self.store, state, fs.path, records[start:start + CHUNK_RECORDS])
        self._report_error(state, fs)

    def _count_corrupt(self, state: RunState, fs: FileState, count: int) -> None:
        batch = Batch()
        batch.corrupt = count
        apply_batch(self.store, state.name, batch)
        log.warning("run %r: skipped %d record(s) with a bad data CRC in %s", state.name, count,
                    fs.path)

    def _report_error(self, state: RunState, fs: FileState) -> None:
        if fs.tail.error is not None and not fs.error_reported:
            fs.error_reported = True
            message = f"{os.path.basename(fs.path)}: {fs.tail.error}"
            log.error("run %r: stopped reading %s", state.name, message)
            with self.store.lock:
                self.store.run(state.name).errors.append(message)
                self.store.note_change(state.name, "runs", "", 0)

    def _touch(self, fs: FileState) -> None:
        self._open[fs.path] = fs
        self._open.move_to_end(fs.path)
        while len(self._open) > MAX_OPEN:
            _, old = self._open.popitem(last=False)
            old.tail.close()

    # -- change detection ---------------------------------------------------------------
    def _start_watchers(self) -> None:
        if not self.watch:
            return
        for source in self.sources:
            root = str(source.path)
            if root in self._watching or not os.path.isdir(root):
                continue
            self._watching.add(root)
            thread = threading.Thread(target=self._watch, args=(root,), daemon=True,
                                      name=f"board-watch-{len(self._watching)}")
            thread.start()
            self._threads.append(thread)

    def _watch(self, root: str) -> None:
        try:
            import watchfiles

            for _changes in watchfiles.watch(root, stop_event=self._stop, debounce=50,
                                             step=20, rust_timeout=1000, yield_on_timeout=False,
                                             raise_interrupt=False):
                self._wake.set()
        except Exception as exc:  # e.g. inotify limits: polling still works
            log.warning("watching %s failed (%s); polling every %.1fs", root, exc,
                        self.reload_interval)
        finally:
            self._watching.discard(root)
