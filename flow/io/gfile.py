"""``tf.gfile`` (TF1 names: ``Exists``, ``GFile`` …) and ``tf.io.gfile`` (``exists``, ``GFile`` …).

Both name the same functions of ``flow.io.files``; errors are TensorFlow's (``NotFoundError``,
``AlreadyExistsError``), as ``tf.gfile`` raises them.
"""

from __future__ import annotations

from types import SimpleNamespace

from flow.io import files


class GFile:
    """``tf.gfile.GFile(name, mode="r")``: a file whose text mode reads and writes ``str``."""

    def __init__(self, name, mode="r"):
        self.name, self.mode = name, mode
        self._binary = "b" in mode
        self._f = files.open_file(name, mode)

    def _out(self, data: bytes):
        return data if self._binary else data.decode()

    def read(self, n=-1):
        return self._out(self._f.read(n))

    def readline(self):
        return self._out(self._f.readline())

    def readlines(self):
        return [self._out(line) for line in self._f.readlines()]

    def __iter__(self):
        return (self._out(line) for line in self._f)

    def write(self, data):
        self._f.write(data.encode() if isinstance(data, str) else bytes(data))

    def seek(self, offset=None, whence=0, position=None):
        self._f.seek(position if offset is None else offset, whence)

    def tell(self):
        return self._f.tell()

    def size(self):
        return files.size(self.name)

    def flush(self):
        self._f.flush()

    def close(self):
        self._f.close()

    closed = property(lambda self: self._f.closed)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _stat(path):
    return SimpleNamespace(length=files.size(path), mtime_nsec=files.mtime_nsec(path),
                           is_directory=files.is_directory(path))


Exists = exists = files.exists
IsDirectory = isdir = files.is_directory
MakeDirs = makedirs = files.make_dirs
MkDir = mkdir = files.make_dir
ListDirectory = listdir = files.list_directory
Glob = glob = files.glob
DeleteRecursively = rmtree = files.delete_recursively
Remove = remove = files.remove
Copy = copy = files.copy
Rename = rename = files.rename
Walk = walk = files.walk
Stat = stat = _stat
Open = FastGFile = GFile

TF1_NAMES = ("Copy", "DeleteRecursively", "Exists", "FastGFile", "GFile", "Glob", "IsDirectory",
             "ListDirectory", "MakeDirs", "MkDir", "Open", "Remove", "Rename", "Stat", "Walk")
IO_NAMES = ("GFile", "copy", "exists", "glob", "isdir", "listdir", "makedirs", "mkdir",
            "remove", "rename", "rmtree", "stat", "walk")
