"""``tf.io`` / ``tf.gfile``: files on any path flow's writer accepts (``files`` does the I/O)."""
