"""`tf.gfile` on an s3:// prefix (a real SeaweedFS server): the same calls as on disk go
through the writer's storage layer, so gfile works on every path the writer accepts."""

from __future__ import annotations

import pytest

import flow as tf

pytestmark = [pytest.mark.s3, pytest.mark.integration]


def test_gfile_reads_writes_lists_copies_and_deletes_in_a_bucket(s3_prefix):
    root = f"{s3_prefix}/gfile"
    assert not tf.gfile.Exists(root + "/notes.txt")
    tf.gfile.MakeDirs(root)
    with tf.gfile.GFile(root + "/notes.txt", "w") as f:
        f.write("hello, bucket\n")
    assert tf.gfile.Exists(root + "/notes.txt") and tf.gfile.IsDirectory(root)
    with tf.gfile.GFile(root + "/notes.txt") as f:
        assert f.read() == "hello, bucket\n"
    tf.gfile.Copy(root + "/notes.txt", root + "/copy.txt")
    with pytest.raises(tf.errors.AlreadyExistsError, match="overwrite=True"):
        tf.gfile.Copy(root + "/notes.txt", root + "/copy.txt")
    tf.gfile.Rename(root + "/copy.txt", root + "/sub/moved.txt")
    assert tf.gfile.ListDirectory(root) == ["notes.txt", "sub"]
    assert tf.io.gfile.glob(root + "/*.txt") == [root + "/notes.txt"]
    assert tf.gfile.Stat(root + "/sub/moved.txt").length == 14
    walked = {top: files for top, _dirs, files in tf.gfile.Walk(root)}
    assert walked == {root: ["notes.txt"], root + "/sub": ["moved.txt"]}
    with pytest.raises(tf.errors.NotFoundError, match="No such file"):
        tf.gfile.GFile(root + "/absent.txt").read()
    tf.gfile.DeleteRecursively(root)
    assert not tf.gfile.Exists(root + "/notes.txt")
    assert not tf.gfile.Exists(root + "/sub/moved.txt")  # (SeaweedFS may keep an empty folder)
    assert tf.gfile.Glob(root + "/*.txt") == []
