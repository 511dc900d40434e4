"""The background loader: discovers runs, tails their event files, fills the Store.

One thread reads; the request path never does. Each cycle rediscovers runs (new runs and
files appear live), then reads every file whose size changed since it was last read,
in name order within a run. A cycle starts when `watchfiles` reports a change under a
logdir (inotify where available) or, as the polling fallback, every `reload_interval`
seconds. A logdir that does not exist yet is polled until it appears.

Big files never read before (the initial load of a large logdir) are framed and decoded in
forked worker processes (parallel.py) while this thread applies their results in order; a
worker that fails or hangs only means that file is read here instead.

A logdir on object storage (an `s3://…` URL) is polled every `reload_interval` seconds: one
listing finds its runs and objects (discover_objects), and only event files whose objects
changed are read, by ranged GETs after the last offset (writer.object_file.ObjectTail). A
listing that fails is reported in `store.logdir_errors` until one succeeds again.

Open file handles are bounded: at most MAX_OPEN tails keep their file open (least
recently read are closed first; a closed RecordTail reopens and seeks on its next read),
so a logdir with thousands of runs does not exhaust descriptors.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict

from writer.object_file import ObjectTail
from writer.storage import StorageError, is_url, redact_url

from . import parallel
from .discover import Source, discover, discover_objects
from .ingest import Batch, RunState, apply_batch, file_version_of, ingest, ingest_mixed

log = logging.getLogger("board.loader")

MAX_OPEN = 64
WORKER_TIMEOUT = 300.0  # seconds a worker may take for one file before we read it here
TRIM_AFTER = 100_000  # records read in one cycle before returning freed heap to the OS
CHUNK_RECORDS = 50_000  # records applied to the store per locked step (bounds latency)


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
                 watch: bool = True, parallel: bool = True) -> None:
        self.store = store
        self.sources = sources
        self.once = float(reload_interval) <= 0  # as TensorBoard: 0 means load once
        self.reload_interval = max(0.05, float(reload_interval))
        self.watch = watch
        self.parallel = parallel
        self._runs: dict[str, RunState] = {}
        self._files: dict[str, FileState] = {}
        self._open: OrderedDict[str, FileState] = OrderedDict()
        self._pieces: dict[str, list] = {}  # event-file URL -> its objects (last listing)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watching: set[str] = set()
        self.cycles = 0
        self._records_this_cycle = 0

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the reading thread (a second call does nothing)."""
        if self._threads:
            return
        thread = threading.Thread(target=self._loop, name="board-loader", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
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
            for run, paths in self._discover(source).items():
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
        executor, futures = self._submit_parallel(work)
        try:
            for state, fs in work:
                if self._stop.is_set():
                    return
                future = futures.get(fs.path)
                if future is not None:
                    self._apply_parallel(state, fs, future)
                else:
                    self._read_file(state, fs)
        finally:
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        self.store.loading = False
        if self._records_this_cycle > TRIM_AFTER:
            release_free_memory()

    def _discover(self, source: Source) -> dict[str, list[str]]:
        """discover() for a directory; one listing for an object-storage URL."""
        if not is_url(source.path):
            return discover(source)
        shown = redact_url(source.path)
        try:
            found = discover_objects(source)
        except StorageError as exc:
            message = f"logdir {shown}: {exc}; retrying every {self.reload_interval:g}s"
            if self.store.logdir_errors.get(shown) != message:
                log.error("%s", message)
                with self.store.lock:
                    self.store.logdir_errors[shown] = message
                    self.store.version += 1
            return {}
        if self.store.logdir_errors.get(shown):
            log.info("logdir %s can be listed again", shown)
            with self.store.lock:
                self.store.logdir_errors.pop(shown, None)
                self.store.version += 1
        for files in found.values():
            self._pieces.update(files)
        return {run: list(files) for run, files in found.items()}

    def _stamp(self, fs: FileState):
        """What the file looked like: its size, or for objects their names and identities."""
        if fs.path in self._pieces:
            return tuple(self._pieces[fs.path])
        return os.stat(fs.path).st_size

    def _submit_parallel(self, work):
        """Start decoding big never-read files in worker processes (see parallel.py)."""
        if not self.parallel:
            return None, {}
        fresh = []
        for _state, fs in work:
            if fs.tail is None:
                try:
                    fresh.append((fs, os.stat(fs.path).st_size))
                except OSError:
                    continue
        if not parallel.worth_it([size for _, size in fresh]):
            return None, {}
        try:
            executor = parallel.pool()
            futures = {fs.path: executor.submit(parallel.decode_file, fs.path)
                       for fs, size in fresh if size >= parallel.MIN_FILE_BYTES}
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("parallel decoding unavailable (%s); reading serially", exc)
            return None, {}
        return executor, futures

    def _apply_parallel(self, state: RunState, fs: FileState, future) -> None:
        try:
            result = future.result(timeout=WORKER_TIMEOUT)
        except Exception as exc:  # a dead or stuck worker: read this file here instead
            log.warning("decoding %s in a worker failed (%s); reading it here", fs.path, exc)
            return self._read_file(state, fs)
        version = state.file_version
        first = result.slow[0] if result.slow else None
        if first is not None and first.offset == 0:
            version = file_version_of(first.data, version)
        if (version or 0) < 2:  # legacy purge rules need every record: read here
            return self._read_file(state, fs)
        fs.tail = parallel.tail_after(result)
        self._touch(fs)
        self._records_this_cycle += result.count
        if result.bad_crc:
            self._count_corrupt(state, fs, result.bad_crc)
        if result.fast is not None:
            ingest_mixed(self.store, state, fs.path, result.fast, slow=result.slow)
        self._report_error(state, fs)
        fs.size = result.offset

    def _read_file(self, state: RunState, fs: FileState) -> None:
        try:
            size = self._stamp(fs)
        except OSError:
            return  # deleted or unreadable: try again next cycle
        if size == fs.size or (fs.tail is not None and fs.tail.error is not None):
            return
        from writer.event_file import RecordTail

        if fs.tail is None:
            fs.tail = ObjectTail(fs.path) if fs.path in self._pieces else RecordTail(fs.path)
        if fs.path in self._pieces:
            fs.tail.pieces = self._pieces[fs.path]
        self._touch(fs)
        while True:
            try:
                decoded = fs.tail.read()
            except OSError as exc:
                log.warning("run %r: cannot read %s (%s)", state.name, redact_url(fs.path), exc)
                return
            records = decoded.records
            self._records_this_cycle += len(records)
            if decoded.bad_crc:
                self._count_corrupt(state, fs, decoded.bad_crc)
            for start in range(0, len(records), CHUNK_RECORDS):
                ingest(self.store, state, fs.path, records[start:start + CHUNK_RECORDS])
            self._report_error(state, fs)
            if not records or fs.tail.error is not None:
                break
        fs.size = size

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
