"""The one place ``tf.gfile`` touches storage: local paths through ``os``/``shutil``/``glob``,
URLs (``s3://bucket/key``, any fsspec protocol) through the writer's storage layer
(``writer.storage``), so gfile works on every path the writer accepts. Object stores have no
directories: a "directory" there is a key prefix, and making one does nothing.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil

from flow.core import errors
from writer.storage import StorageError, is_url, storage_for


def _text(path) -> str:
    path = os.fspath(path)
    return path.decode() if isinstance(path, bytes) else path


def local(path) -> str:
    """``path`` as a local file-system path (``file://`` stripped)."""
    return _text(path).removeprefix("file://")


def _remote(path):
    """(fsspec filesystem, its key for ``path``) for a URL, or None for a local path."""
    path = _text(path)
    if path.startswith("file://") or not is_url(path):
        return None
    try:
        storage = storage_for(path)
    except StorageError as exc:
        raise errors.UnimplementedError(None, None, f"{path}: {exc}") from None
    return storage.fs, storage.path_of(path)


def _url_like(template: str, fs, key: str) -> str:
    """A key of ``fs`` spelled as a URL of ``template``'s protocol."""
    return template.split("://", 1)[0] + "://" + fs._strip_protocol(key)


def not_found(path, what="") -> errors.NotFoundError:
    return errors.NotFoundError(None, None, f"{path}; No such file or directory{what}")


def exists(path) -> bool:
    remote = _remote(path)
    if remote:
        fs, key = remote
        return fs.exists(key)
    return os.path.exists(local(path))


def is_directory(path) -> bool:
    remote = _remote(path)
    if remote:
        fs, key = remote
        return fs.isdir(key)
    return os.path.isdir(local(path))


def make_dirs(path) -> None:
    if _remote(path):
        return  # a prefix exists once a key under it does
    os.makedirs(local(path), exist_ok=True)


def make_dir(path) -> None:
    if _remote(path):
        return
    path = local(path)
    if os.path.exists(path):
        raise errors.AlreadyExistsError(None, None, f"{path}; File exists")
    try:
        os.mkdir(path)
    except FileNotFoundError:
        raise not_found(os.path.dirname(path)) from None


def list_directory(path) -> list[str]:
    remote = _remote(path)
    if remote:
        fs, key = remote
        if not fs.isdir(key):
            raise not_found(path)
        return sorted(name.rstrip("/").rsplit("/", 1)[-1] for name in fs.ls(key, detail=False))
    path = local(path)
    if not os.path.isdir(path):
        raise not_found(path)
    return sorted(os.listdir(path))


def glob(pattern) -> list[str]:
    remote = _remote(pattern)
    if remote:
        fs, key = remote
        return sorted(_url_like(_text(pattern), fs, k) for k in fs.glob(key))
    return sorted(_glob.glob(local(pattern)))


def delete_recursively(path) -> None:
    remote = _remote(path)
    if remote:
        fs, key = remote
        if not fs.exists(key):
            raise not_found(path)
        fs.rm(key, recursive=True)
        return
    path = local(path)
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
    else:
        raise not_found(path)


def remove(path) -> None:
    remote = _remote(path)
    if remote:
        fs, key = remote
        if not fs.isfile(key):
            raise not_found(path)
        fs.rm(key)
        return
    path = local(path)
    if not os.path.isfile(path):
        raise not_found(path)
    os.remove(path)


def _transfer(old, new, overwrite, present, action) -> None:
    src, dst = _remote(old), _remote(new)
    if src or dst:
        if not (src and dst):
            raise errors.UnimplementedError(None, None, f"copying between {old} and {new}: "
                                            "both must be local paths or both URLs")
        fs, key = src
        if not fs.isfile(key):
            raise not_found(old)
        if not overwrite and fs.exists(dst[1]):
            raise errors.AlreadyExistsError(None, None, f"file already exists: {new}; pass "
                                            f"overwrite=True to replace it")
        fs.copy(key, dst[1])
        if action is os.replace:
            fs.rm(key)
        return
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
    remote = _remote(path)
    if remote:
        fs, key = remote
        if not fs.exists(key):
            raise not_found(path)
        return int(fs.size(key))
    path = local(path)
    if not os.path.exists(path):
        raise not_found(path)
    return os.path.getsize(path)


def mtime_nsec(path) -> int:
    remote = _remote(path)
    if remote:
        fs, key = remote
        return int(fs.modified(key).timestamp() * 1e9)
    return os.stat(local(path)).st_mtime_ns


def walk(top, topdown=True):
    remote = _remote(top)
    if remote:
        fs, key = remote
        return ((_url_like(_text(top), fs, root), sorted(dirs), sorted(files))
                for root, dirs, files in fs.walk(key, topdown=topdown))
    return os.walk(local(top), topdown=topdown)


def open_file(path, mode):
    """A binary file object; text decoding is the caller's (``GFile``)."""
    remote = _remote(path)
    if remote:
        fs, key = remote
        if "r" in mode and not fs.isfile(key):
            raise not_found(path)
        return fs.open(key, mode.replace("b", "") + "b")
    path = local(path)
    try:
        return open(path, mode.replace("b", "") + "b")  # noqa: SIM115 - GFile owns and closes it
    except FileNotFoundError:
        raise not_found(path) from None
