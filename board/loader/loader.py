"""The background loader: discovers runs, tails their event files, fills the Store.

One thread reads; the request path never does. A cycle starts when the watcher (watch.py:
inotify where available) reports a change under a logdir, or every `reload_interval`
seconds. While events are reported, a cycle applies them to the directory listing
(discover.Tree.refresh) and reads only the files they name: 100,000 idle runs cost
nothing. Without events (a platform or file system without them, the watch limit reached)
every cycle walks the logdirs, listing only the directories whose mtime changed, and reads
every file whose size changed; a full walk also runs every FULL_WALK_EVERY seconds as a
safety net. Files of a run are read in name order. A logdir that does not exist yet is
polled until it appears.

Files that go away take their points with them (Store.drop_file); a run left without
files is removed. A file replaced by rename (another inode at the path) or truncated is
re-read from the start after its old points are dropped, so nothing is served twice.

Files never read before (the initial load of a logdir) are framed and decoded on a few
threads (parallel.py) while this thread applies their results in order; a decode that fails
or hangs only means that file is read here instead. While a long initial load goes on, files
already read are re-read every LIVE_EVERY seconds, so live runs keep flowing.

A logdir on object storage (an `s3://…` URL) is polled every `reload_interval` seconds: one
listing finds its runs and objects (discover.ObjectTree), and only event files whose objects
changed are read, by ranged GETs after the last offset (writer.object_file.ObjectTail). A
listing that fails is reported in /api/runs' `errors` until one succeeds again.

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
from writer.object_file import ObjectTail
from writer.record import MAX_RECORD_BYTES
from writer.storage import StorageError, is_url, redact_url

from ..store import Update
from . import parallel
from .discover import ObjectTree, Source, Tree, escape_name
from .ingest import RunState, file_version_of, ingest, ingest_mixed
from .watch import Watcher

log = logging.getLogger("board.loader")

MAX_OPEN = 64
WORKER_TIMEOUT = 300.0  # seconds a worker may take for one file before we read it here
TRIM_AFTER = 100_000  # records read in one cycle before returning freed heap to the OS
CHUNK_RECORDS = 50_000  # records applied to the store per locked step (bounds latency)
MISSING_POLL = 1.0  # seconds between looks for a missing logdir while watching
FULL_WALK_EVERY = 60.0  # seconds between full walks while file-system events drive cycles
LIVE_EVERY = 0.5  # seconds between re-reads of already-read files during a long cycle


def release_free_memory() -> None:
    """Give the heap pages freed by decoding back to the OS (glibc's malloc_trim): a big
    initial load leaves tens of MB of freed buffers that would otherwise stay resident."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


HEAD_BYTES = 64  # the start of a file (its file_version record, with its creation time)


def read_head(path: str) -> bytes:
    """The first HEAD_BYTES of a file (fewer if it is shorter; b"" if unreadable)."""
    try:
        with open(path, "rb", buffering=0) as f:
            return f.read(HEAD_BYTES)
    except OSError:
        return b""


class FileState:
    __slots__ = ("path", "run", "tail", "size", "key", "head", "error_reported")

    def __init__(self, path: str, run: str) -> None:
        self.path = path
        self.run = run
        self.tail = None
        self.size = -1
        self.key: tuple[int, int] | None = None  # (st_dev, st_ino) of the file being read
        self.head = b""  # its first bytes: a new file at a reused inode starts differently
        self.error_reported = False


class Loader:
    """Owns the reading thread and the file watcher for a set of sources."""

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
        self._trees = [ObjectTree(s) if is_url(s.path) else Tree(s) for s in sources]
        self._runs: dict[str, RunState] = {}
        self._files: dict[str, FileState] = {}
        self._run_files: dict[str, set[str]] = {}
        self._open: OrderedDict[str, FileState] = OrderedDict()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watcher: Watcher | None = None
        self._last_walk = -float("inf")
        self._relist = False  # the next walk lists every directory again (see _start_watching)
        self.cycles = 0
        self.walks = 0  # cycles that walked every directory (the rest applied events)
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
        for thread in self._threads:
            thread.join(timeout)
        if self._watcher is not None:
            self._watcher.stop()
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
            self._start_watching()
            self._wake.wait(self._pause())
            self._wake.clear()

    def _pause(self) -> float:
        """Seconds until the next cycle without an event: a logdir that is missing (not
        made yet, or deleted to start again) is looked for every second while watching."""
        if self.watch and not all(t.exists() for t in self._trees):
            return min(self.reload_interval, MISSING_POLL)
        return self.reload_interval

    @property
    def watching(self) -> bool:
        """Whether cycles apply file-system events instead of walking every directory."""
        return self._watcher is not None and self._watcher.alive()

    # -- one pass ----------------------------------------------------------------------
    def cycle(self) -> None:
        """Bring the runs up to date and read everything new once. Safe to call directly
        (tests): without a watcher every call walks the logdirs."""
        self.cycles += 1
        self._records_this_cycle = 0
        changed = self._watcher.take() if self.watching else None
        if time.monotonic() - self._last_walk > FULL_WALK_EVERY:
            changed = None  # a safety net for events a file system does not report
        if changed is None:
            self.walks += 1
            self._last_walk = time.monotonic()
        touched: set[str] = set()
        relisted, self._relist = self._relist, False
        for tree in self._trees:
            if isinstance(tree, ObjectTree):
                self._list(tree)
            elif changed is None or not self._watcher.covers(os.path.realpath(tree.root)):
                tree.walk(relist=relisted)
            else:
                tree.refresh(changed)
            added, removed = tree.take()
            for path in sorted(removed):
                self._forget_file(path)
            for path in sorted(added):
                self._add_file(path, tree.run_of(path))
            touched |= added
        if changed is not None:
            touched |= {p for p in changed if p in self._files}
            files = [self._files[p] for p in touched]
        else:
            files = list(self._files.values())
        files.sort(key=lambda f: (f.run, f.path))
        work = [(self._runs[fs.run], fs) for fs in files]
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

    def _list(self, tree: ObjectTree) -> None:
        """One listing of a bucket; a failure is reported (and cleared by a later success)."""
        shown = redact_url(tree.root)
        try:
            tree.walk()
        except StorageError as exc:
            message = f"logdir {shown}: {exc}; retrying every {self.reload_interval:g}s"
            if self.store.set_logdir_error(shown, message):
                log.error("%s", message)
            return
        if self.store.set_logdir_error(shown, None):
            log.info("logdir %s can be listed again", shown)

    def _pieces(self, fs: FileState) -> list | None:
        """The objects of an event file on object storage (None: a local file)."""
        for tree in self._trees:
            if isinstance(tree, ObjectTree) and fs.path in tree.pieces:
                return tree.pieces[fs.path]
        return None

    def _add_file(self, path: str, run: str) -> None:
        if path in self._files:
            return
        if run not in self._runs:
            self._runs[run] = RunState(run)
            self.store.add_run(run)
        self._files[path] = FileState(path, run)
        self._run_files.setdefault(run, set()).add(path)

    def _forget_file(self, path: str) -> None:
        """An event file went away: its points go; a run left without files goes too."""
        fs = self._files.pop(path, None)
        if fs is None:
            return
        self._close(fs)
        dropped = self.store.drop_file(fs.run, path)
        log.info("run %r: %s was deleted; %d points dropped", fs.run,
                 os.path.basename(path), dropped)
        files = self._run_files.get(fs.run, set())
        files.discard(path)
        if not files:
            self._run_files.pop(fs.run, None)
            self._runs.pop(fs.run, None)
            self.store.remove_run(fs.run)

    def _close(self, fs: FileState) -> None:
        if fs.tail is not None:
            fs.tail.close()
        self._open.pop(fs.path, None)

    def _refresh(self) -> None:
        """Every LIVE_EVERY seconds of a long cycle, re-read the files it already read, so
        live runs keep flowing during an initial load."""
        if time.monotonic() - self._refreshed < LIVE_EVERY:
            return
        for state, fs in self._done:
            if fs.path in self._files:  # not forgotten meanwhile
                self._read_file(state, fs)
        self._refreshed = time.monotonic()

    def _submit_parallel(self, work) -> parallel.Prefetcher | None:
        """Start decoding the never-read files (local, or objects) on threads (parallel.py)."""
        if not self.parallel:
            return None
        fresh = [fs.path for _state, fs in work if fs.tail is None]
        if not fresh:
            return None
        pieces = {path: self._pieces(self._files[path]) for path in fresh}
        try:
            return parallel.Prefetcher(
                fresh, self.max_record_bytes,
                opener=lambda path: self._open_tail(path, pieces[path]))
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
        if isinstance(result.tail, ObjectTail):  # objects: the decoding tail goes on
            fs.tail, fs.size = result.tail, tuple(result.tail.pieces)
        else:
            try:
                st = os.stat(fs.path)
            except OSError:
                return  # deleted meanwhile: the next walk or event forgets it
            fs.key, fs.head = (st.st_dev, st.st_ino), read_head(fs.path)
            fs.tail = parallel.tail_after(result, self.max_record_bytes)
        self._touch(fs)
        self._records_this_cycle += result.count
        if result.bad_crc:
            self._count_corrupt(state, fs, result.bad_crc)
        for part in result.parts:
            ingest_mixed(self.store, state, fs.path, part.fast, slow=part.slow)
        self._report_error(state, fs)
        if not isinstance(fs.tail, ObjectTail):
            fs.size = result.offset

    def _read_file(self, state: RunState, fs: FileState) -> None:
        pieces = self._pieces(fs)
        if pieces is not None:  # objects: their names and identities say what changed
            size = tuple(pieces)
            if size == fs.size:
                return
        else:
            try:
                st = os.stat(fs.path)
            except OSError:
                return  # deleted or unreadable: the next walk or event forgets it
            key, size = (st.st_dev, st.st_ino), st.st_size
            if key == fs.key and size == fs.size:
                return
            if fs.key is not None and self._replaced(fs, key, size):
                self._restart_file(state, fs)
            fs.key = key
            if len(fs.head) < HEAD_BYTES:
                fs.head = read_head(fs.path)
        if fs.tail is not None and fs.tail.error is not None:
            return
        if fs.tail is None:
            fs.tail = self._open_tail(fs.path, pieces)
        self._touch(fs)
        if pieces is not None:
            fs.tail.pieces = pieces
        try:
            for win in fs.tail.read_frames():
                self._apply_window(state, fs, win)
        except OSError as exc:
            log.warning("run %r: cannot read %s (%s)", state.name, redact_url(fs.path), exc)
            return
        self._report_error(state, fs)  # also one found before any window (a replaced object)
        fs.size = size

    def _open_tail(self, path: str, pieces: list | None):
        """A reader of the event file at `path`: a local file, or the objects `pieces`."""
        if pieces is None:
            return RecordTail(path, max_record_bytes=self.max_record_bytes)
        tail = ObjectTail(path, max_record_bytes=self.max_record_bytes)
        tail.pieces = pieces
        return tail

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

    @staticmethod
    def _replaced(fs: FileState, key: tuple[int, int], size: int) -> bool:
        """Another file at the same path: a new inode, a shrink, or other first bytes (an
        inode number the file system reused)."""
        if key != fs.key or fs.tail is not None and size < fs.tail.offset:
            return True
        return bool(fs.head) and read_head(fs.path)[: len(fs.head)] != fs.head

    def _restart_file(self, state: RunState, fs: FileState) -> None:
        """The file was replaced (another inode at its path) or truncated: forget what it
        gave and read it again from the start, so no point is served twice."""
        dropped = self.store.drop_file(state.name, fs.path)
        log.info("run %r: %s was replaced; re-reading it (%d points dropped first)",
                 state.name, os.path.basename(fs.path), dropped)
        self._close(fs)
        fs.tail, fs.size, fs.head, fs.error_reported = None, -1, b"", False
        state.most_recent_step = -1  # the legacy out-of-order rule restarts with the file

    def _count_corrupt(self, state: RunState, fs: FileState, count: int) -> None:
        update = Update(fs.path)
        update.corrupt = count
        self.store.apply(state.name, update)
        log.warning("run %r: skipped %d record(s) with a bad data CRC in %s", state.name, count,
                    os.path.basename(fs.path))

    def _report_error(self, state: RunState, fs: FileState) -> None:
        if fs.tail.error is not None and not fs.error_reported:
            fs.error_reported = True
            message = f"{self._display(fs)}: {fs.tail.error}".replace(fs.path, self._display(fs))
            log.error("run %r: stopped reading %s", state.name, message)
            self.store.add_error(state.name, message)

    def _display(self, fs: FileState) -> str:
        """The file's path relative to its logdir, as shown in /api/runs (escaped as run
        names are): errors never show where the logdir lives."""
        tree = next((t for t in self._trees if fs.path.startswith(t.root + os.sep)), None)
        rel = os.path.relpath(fs.path, tree.root) if tree else os.path.basename(fs.path)
        return escape_name(rel.replace(os.sep, "/"))

    def _touch(self, fs: FileState) -> None:
        self._open[fs.path] = fs
        self._open.move_to_end(fs.path)
        while len(self._open) > MAX_OPEN:
            _, old = self._open.popitem(last=False)
            old.tail.close()

    # -- change detection ---------------------------------------------------------------
    def _start_watching(self) -> None:
        """Watch every logdir that exists and the symlinked directories under it; when the
        watches change, the next cycle walks once more (what changed before they began)."""
        if not self.watch:
            return
        if self._watcher is None:
            self._watcher = Watcher(self._wake)
        wanted: dict[str, str] = {}
        for tree in self._trees:
            wanted.update(tree.watch_roots())
        if self._watcher.sync(wanted):
            self._last_walk = -float("inf")
            self._relist = True  # a directory watched anew may reuse the old one's inode
            self._wake.set()
