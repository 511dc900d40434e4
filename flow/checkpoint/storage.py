"""Checkpoint files on disk: the one module of `flow.checkpoint` that does file I/O.

Files of a TF V2 checkpoint with prefix P (formats.md §8.1-§8.2): `P.index`,
`P.data-00000-of-00001`, the MetaGraphDef `P.meta` and the directory's `checkpoint` state file
(a text-format CheckpointState). Every file is written to a temporary name in the same
directory and renamed into place, so a reader never sees half a file; `write_bundle` writes
the data file before the index, and the Saver writes the state file last, so
`latest_checkpoint` only ever names a complete checkpoint.

A prefix may be an object-storage URL (`s3://bucket/ckpt/model.ckpt`, see
`writer.storage`): each file is then one object, written whole by one PUT (as atomic as the
rename), and tensors are read with ranged GETs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from google.protobuf import text_format

from flow.checkpoint import bundle
from flow.checkpoint.sstable import TableError
from writer.proto import checkpoint_state_pb2, tensor_bundle_pb2
from writer.storage import StorageError, is_url, storage_for

STATE_FILENAME = "checkpoint"


def index_path(prefix: str) -> str:
    return f"{prefix}.index"


def data_path(prefix: str, shard: int = 0, num_shards: int = 1) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def read_bytes(path: str, start: int = 0, size: int | None = None) -> bytes:
    """Bytes of a file or object (FileNotFoundError if it is missing)."""
    if is_url(path):
        try:
            return storage_for(path).read(path, start, None if size is None else start + size)
        except StorageError as exc:
            if exc.kind == "missing":
                raise FileNotFoundError(str(exc)) from None
            raise
    with open(path, "rb") as f:
        f.seek(start)
        return f.read() if size is None else f.read(size)


def join(directory: str, name: str) -> str:
    if is_url(name) or os.path.isabs(name):
        return name
    return f"{directory.rstrip('/')}/{name}" if is_url(directory) else os.path.join(directory, name)


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file next to `path`, fsync it, and rename it over `path`."""
    path = os.fspath(path)
    if is_url(path):  # one PUT: the object appears whole or not at all
        storage_for(path).put(path, data)
        return
    tmp = f"{path}.tempstate{secrets.token_hex(8)}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# --- bundles ------------------------------------------------------------------------------

def write_bundle(prefix: str, tensors: Mapping[str, np.ndarray]) -> None:
    """Write `P.data-00000-of-00001` then `P.index` for {checkpoint key: array}."""
    index, data = bundle.encode_bundle(tensors)
    atomic_write(data_path(prefix), data)
    atomic_write(index_path(prefix), index)


def bundle_exists(prefix: str) -> bool:
    if is_url(prefix):
        return storage_for(prefix).exists(index_path(prefix))
    return os.path.isfile(index_path(prefix))


def delete_bundle(prefix: str, meta_suffix: str = "meta") -> None:
    """Remove a checkpoint's files (index, all data shards, meta); missing ones are ignored."""
    if is_url(prefix):
        store = storage_for(prefix)
        folder, name = prefix.rsplit("/", 1)
        doomed = [o.url for o in store.list(folder) if o.url.rsplit("/", 1)[-1] in
                  (f"{name}.index", f"{name}.{meta_suffix}") or
                  o.url.rsplit("/", 1)[-1].startswith(f"{name}.data-")]
        store.delete(doomed)
        return
    parent = Path(prefix).parent
    name = Path(prefix).name
    doomed = [Path(index_path(prefix)), Path(f"{prefix}.{meta_suffix}")]
    if parent.is_dir():
        doomed += [p for p in parent.iterdir()
                   if p.name.startswith(f"{name}.data-") and "-of-" in p.name]
    for path in doomed:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


class Bundle:
    """A checkpoint's index, read once; tensors are read from the data files on demand.

    Raises FileNotFoundError if `P.index` is missing, and BundleError (a ValueError naming the
    file) if it is truncated or corrupt.
    """

    def __init__(self, prefix: str):
        self.prefix = os.fspath(prefix)
        path = index_path(self.prefix)
        try:
            raw = read_bytes(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"checkpoint index {path!r} does not exist") from None
        try:
            self.header, self.entries = bundle.decode_index(raw, source=path)
        except TableError as err:
            raise bundle.BundleError(str(err)) from None
        self.big_endian = self.header.endianness == tensor_bundle_pb2.BundleHeaderProto.BIG
        self.num_shards = max(self.header.num_shards, 1)

    def read(self, name: str) -> np.ndarray:
        """The array stored under key `name` (KeyError if absent)."""
        entry = self.entries[name]
        path = data_path(self.prefix, entry.shard_id, self.num_shards)
        try:
            raw = read_bytes(path, entry.offset, entry.size)
        except FileNotFoundError:
            raise FileNotFoundError(f"checkpoint data file {path!r} (needed for tensor {name!r})"
                                    " does not exist") from None
        return bundle.decode_tensor(entry, raw, name, self.big_endian, source=path)


# --- the `checkpoint` state file ----------------------------------------------------------

def read_state(checkpoint_dir: str, latest_filename: str | None = None
               ) -> checkpoint_state_pb2.CheckpointState | None:
    """The directory's CheckpointState with paths made absolute-or-joined with the directory
    (as `tf.train.get_checkpoint_state`); None if the file is missing or unparsable."""
    path = join(checkpoint_dir, latest_filename or STATE_FILENAME)
    try:
        text = read_bytes(path).decode("utf-8")
        state = text_format.Parse(text, checkpoint_state_pb2.CheckpointState())
    except (OSError, UnicodeDecodeError, text_format.ParseError):
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {path}: it has no "
                         "model_checkpoint_path; delete or rewrite that file")
    state.model_checkpoint_path = join(checkpoint_dir, state.model_checkpoint_path)
    paths = [join(checkpoint_dir, p) for p in state.all_model_checkpoint_paths]
    del state.all_model_checkpoint_paths[:]
    state.all_model_checkpoint_paths.extend(paths)
    return state


def write_state(checkpoint_dir: str, model_checkpoint_path: str, all_paths: list[str],
                timestamps: list[float] | None = None, last_preserved: float | None = None,
                latest_filename: str | None = None) -> None:
    """Atomically write the text-format state file; prefixes inside `checkpoint_dir` are
    stored relative to it (so the directory can be moved), others as given."""
    def rel(p: str) -> str:
        if is_url(p):
            return p.rsplit("/", 1)[1] if p.rsplit("/", 1)[0] == checkpoint_dir.rstrip("/") else p
        if os.path.abspath(os.path.dirname(p)) == os.path.abspath(checkpoint_dir):
            return os.path.basename(p)
        return p

    state = checkpoint_state_pb2.CheckpointState(
        model_checkpoint_path=rel(model_checkpoint_path),
        all_model_checkpoint_paths=[rel(p) for p in all_paths])
    if timestamps is not None:
        state.all_model_checkpoint_timestamps.extend(timestamps)
    if last_preserved is not None:
        state.last_preserved_timestamp = last_preserved
    path = join(checkpoint_dir, latest_filename or STATE_FILENAME)
    atomic_write(path, text_format.MessageToString(state).encode("utf-8"))


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """`tf.train.latest_checkpoint`: the newest prefix if its `.index` exists, else None."""
    state = read_state(os.fspath(checkpoint_dir), latest_filename)
    if state is None:
        return None
    prefix = state.model_checkpoint_path
    if bundle_exists(prefix) or os.path.isfile(prefix):
        return prefix
    return None
