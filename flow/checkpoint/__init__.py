"""TensorFlow V2 checkpoints ("tensor bundles"), read and written byte-compatibly.

Layers, each a small module (formats.md §8-§9):

* `sstable`    the LevelDB table format of `P.index` (pure, bytes in and out)
* `bundle`     BundleHeaderProto / BundleEntryProto and the `.data` layout (pure)
* `meta_graph` the MetaGraphDef of `P.meta` (pure)
* `storage`    the only file I/O: atomic writes, bundle files, the `checkpoint` state file
* `reader`     `load_checkpoint` / `list_variables` with TensorFlow's error classes

`flow.train.saver` builds `tf.train.Saver` on these.
"""
