"""`tf.train.load_checkpoint` / `tf.train.list_variables`: look inside a V2 checkpoint.

Errors use TensorFlow's classes (`flow.core.errors`): a missing checkpoint or key is a NotFoundError
(the key's message lists the closest keys that are there), a truncated or corrupt file a
DataLossError naming the file or tensor.
"""

from __future__ import annotations

import difflib
import os

import numpy as np

from flow.checkpoint import bundle, storage
from flow.core import dtypes, errors


def close_keys(name: str, keys, n: int = 3) -> list[str]:
    """The keys most like `name` (difflib), best first."""
    return difflib.get_close_matches(name, list(keys), n=n, cutoff=0.5)


def describe_missing(name: str, keys, prefix: str) -> str:
    """`Key X not found in checkpoint P`, plus the closest keys (or a sample) that are there."""
    keys = sorted(keys)
    near = close_keys(name, keys)
    if near:
        hint = "Closest keys in the checkpoint: " + ", ".join(near)
    elif keys:
        sample = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
        hint = f"The checkpoint has {len(keys)} keys: {sample}"
    else:
        hint = "The checkpoint has no tensors"
    return f"Key {name} not found in checkpoint {prefix}. {hint}."


def resolve_prefix(ckpt_dir_or_file: str) -> str:
    """A directory means its latest checkpoint (as `tf.train.load_checkpoint`)."""
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = storage.latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory "
                             f"{path}")
        return latest
    return path


def open_bundle(prefix: str) -> storage.Bundle:
    """storage.Bundle with TensorFlow's error classes and a hint for common path mistakes."""
    try:
        return storage.Bundle(prefix)
    except FileNotFoundError:
        hint = f"(no file {storage.index_path(prefix)!r})"
        for suffix in (".index", ".meta", ".data-00000-of-00001"):
            if prefix.endswith(suffix):
                hint += f"; pass the prefix {prefix[:-len(suffix)]!r}, without {suffix!r}"
        raise errors.NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: "
                                   f"Failed to find any matching files for {prefix} {hint}"
                                   ) from None
    except bundle.BundleError as err:
        raise errors.DataLossError(None, None, f"Unable to read checkpoint {prefix}: {err}"
                                   ) from None


class CheckpointReader:
    """What `tf.train.load_checkpoint(prefix)` returns: keys, shapes, dtypes and values."""

    def __init__(self, prefix: str):
        self.prefix = os.fspath(prefix)
        self._bundle = open_bundle(self.prefix)

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {k: list(bundle.entry_shape(e)) for k, e in self._bundle.entries.items()}

    def get_variable_to_dtype_map(self) -> dict[str, dtypes.DType]:
        return {k: dtypes.as_dtype(e.dtype) for k, e in self._bundle.entries.items()}

    def has_tensor(self, name: str) -> bool:
        return name in self._bundle.entries

    def get_tensor(self, name: str) -> np.ndarray:
        """The stored array; a shape-[] tensor comes back as a numpy scalar (bytes for a
        string), as TensorFlow's reader returns it."""
        if name not in self._bundle.entries:
            raise errors.NotFoundError(None, None, describe_missing(
                name, self._bundle.entries, self.prefix))
        try:
            value = self._bundle.read(name)
        except FileNotFoundError as err:
            raise errors.NotFoundError(None, None, str(err)) from None
        except bundle.BundleError as err:
            raise errors.DataLossError(None, None, f"checkpoint {self.prefix}: {err}") from None
        return value[()] if value.ndim == 0 else value

    def debug_string(self) -> bytes:
        lines = [f"{k} ({bundle.dtype_name(e.dtype)}) {list(bundle.entry_shape(e))}"
                 for k, e in sorted(self._bundle.entries.items())]
        return ("\n".join(lines) + "\n").encode()


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """`tf.train.load_checkpoint`: a reader for a prefix, or a directory's latest checkpoint."""
    return CheckpointReader(resolve_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """`tf.train.list_variables`: sorted (key, shape) pairs."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return sorted(shapes.items())
