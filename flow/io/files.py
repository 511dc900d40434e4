"""The one place ``tf.gfile`` touches storage: local paths through ``os``/``shutil``/``glob``.

Every function takes a path string; a path with a URL scheme (``s3://``) is refused with an
error naming it, until this module routes such paths to the writer's storage layer.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil

from flow.core import errors


def local(path) -> str:
    """``path`` as a local file-system path; a URL is refused with a clear error."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode()
    if "://" in path and not path.startswith("file://"):
        raise errors.UnimplementedError(
            None, None, f"File system scheme '{path.split('://')[0]}' not implemented (file: "
            f"'{path}'); flow's gfile reads and writes local paths.")
    return path.removeprefix("file://")


def not_found(path, what="") -> errors.NotFoundError:
    return errors.NotFoundError(None, None, f"{path}; No such file or directory{what}")


def exists(path) -> bool:
    return os.path.exists(local(path))


def is_directory(path) -> bool:
    return os.path.isdir(local(path))


def make_dirs(path) -> None:
    os.makedirs(local(path), exist_ok=True)


def make_dir(path) -> None:
    path = local(path)
    if os.path.exists(path):
        raise errors.AlreadyExistsError(None, None, f"{path}; File exists")
    try:
        os.mkdir(path)
    except FileNotFoundError:
        raise not_found(os.path.dirname(path)) from None


def list_directory(path) -> list[str]:
    path = local(path)
    if not os.path.isdir(path):
        raise not_found(path)
    return sorted(os.listdir(path))


def glob(pattern) -> list[str]:
    return sorted(_glob.glob(local(pattern)))


def delete_recursively(path) -> None:
    path = local(path)
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
    else:
        raise not_found(path)


def remove(path) -> None:
    path = local(path)
    if not os.path.isfile(path):
        raise not_found(path)
    os.remove(path)


def _transfer(old, new, overwrite, present, action) -> None:
    old, new = local(old), local(new)
    if not present(old):
        raise not_found(old)
    if not overwrite and os.path.exists(new):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {new}; pass "
                                        f"overwrite=True to replace it")
    action(old, new)


def copy(old, new, overwrite=False) -> None:
    _transfer(old, new, overwrite, os.path.isfile, shutil.copyfile)


def rename(old, new, overwrite=False) -> None:
    _transfer(old, new, overwrite, os.path.exists, os.replace)


def size(path) -> int:
    path = local(path)
    if not os.path.exists(path):
        raise not_found(path)
    return os.path.getsize(path)


def mtime_nsec(path) -> int:
    return os.stat(local(path)).st_mtime_ns


def walk(top, topdown=True):
    return os.walk(local(top), topdown=topdown)


def open_file(path, mode):
    """A binary file object; text decoding is the caller's (``GFile``)."""
    path = local(path)
    try:
        return open(path, mode.replace("b", "") + "b")  # noqa: SIM115 - GFile owns and closes it
    except FileNotFoundError:
        raise not_found(path) from None
