"""Regenerate the TensorFlow-written golden checkpoints in tests/data/tf_ckpt/.

A manual step, never part of `make test` (TensorFlow is not a numboard dependency):

    /tmp/tfvenv/bin/python tests/data/make_tf_checkpoints.py

It uses `tf.compat.v1` in graph mode with reference variables (`VariableV2`, as TF 1.x
made them) and `tf.compat.v1.train.Saver`, and writes, relative to tests/data/tf_ckpt/:

* `mlp/`      an MLP trained 2 steps with AdamOptimizer (slots `<var>/Adam`, `<var>/Adam_1`,
              `beta1_power`, `beta2_power`, int64 `global_step`), saved as `model.ckpt-2`
              with its `.meta` and the `checkpoint` state file.
* `dtypes/`   one variable per dtype (float16/32/64, int8/16/32/64, uint8/16/32/64, bool,
              complex64/128, string), scalars, an empty tensor and unnamed `Variable`s.
* `renamed/`  the blog's `Saver({"vv1": v1})` checkpoint: the only key is `vv1`.
* `blog/`     the blog's default `Saver()` checkpoint of `v1` (zeros [5]) and `v2` ([3, 2]).
* `multiblock/` a raw `SaveV2` bundle whose `.index` has several 256 KiB data blocks (long keys
              chosen to exercise the separator rules of formats.md §9.4-9.5); its `.index`
              is stored gzip-compressed as `multiblock/big.index.gz` to keep the repo small.
* `expected.json` every tensor's dtype, shape and values, per checkpoint prefix.

Paths in each `checkpoint` file are relative (the saves run with a relative save_path).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parent / "tf_ckpt"
v1 = tf.compat.v1


def _describe(value: np.ndarray) -> dict:
    """JSON description of one tensor: exact values (floats as Python floats, complex as
    [re, im] pairs, bytes as base64)."""
    value = np.asarray(value)
    flat = value.reshape(-1)
    if value.dtype == object or value.dtype.kind == "S":
        values = [base64.b64encode(bytes(x)).decode() for x in flat]
        dtype = "string"
    elif value.dtype.kind == "c":
        values = [[float(x.real), float(x.imag)] for x in flat]
        dtype = value.dtype.name
    elif value.dtype.kind == "b":
        values = [bool(x) for x in flat]
        dtype = "bool"
    elif value.dtype.kind == "f":
        values = [float(x) for x in flat]
        dtype = value.dtype.name
    else:
        values = [int(x) for x in flat]
        dtype = value.dtype.name
    return {"dtype": dtype, "shape": list(value.shape), "values": values}


def _read_all(prefix: str) -> dict:
    reader = tf.train.load_checkpoint(prefix)
    return {k: _describe(reader.get_tensor(k)) for k in sorted(reader.get_variable_to_shape_map())}


def make_mlp() -> str:
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(7)
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        y = v1.placeholder(tf.int64, [None], name="y")
        with v1.variable_scope("layer1"):
            w1 = v1.get_variable("weights", [4, 3])
            b1 = v1.get_variable("biases", [3], initializer=v1.constant_initializer(0.1))
        with v1.variable_scope("layer2"):
            w2 = v1.get_variable("weights", [3, 2])
            b2 = v1.get_variable("biases", [2], initializer=v1.zeros_initializer())
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(hidden, w2) + b2
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
        saver = v1.train.Saver()
        rng = np.random.RandomState(0)
        feed = {x: rng.randn(6, 4).astype(np.float32), y: rng.randint(0, 2, size=6)}
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(2):
                sess.run(train, feed)
            return saver.save(sess, "mlp/model.ckpt", global_step=step)


def make_dtypes() -> str:
    graph = tf.Graph()
    with graph.as_default():
        arrays = {
            "f16": np.array([[1.5, -2.25, 65504.0], [0.0, 6.1e-05, -0.0]], np.float16),
            "f32": np.array([[1.0, -2.5, 3.1415927], [1e-30, 3.4e38, -0.0]], np.float32),
            "f64": np.array([1.0 / 3.0, -1e300, 2.5e-310], np.float64),
            "i8": np.array([-128, 0, 127], np.int8),
            "i16": np.array([[-32768, 1], [2, 32767]], np.int16),
            "i32": np.array([-(2**31), 0, 2**31 - 1], np.int32),
            "i64": np.array([-(2**63), 1, 2**63 - 1], np.int64),
            "u8": np.array([[0, 1, 255]], np.uint8),
            "u16": np.array([0, 65535], np.uint16),
            "u32": np.array([0, 2**32 - 1], np.uint32),
            "u64": np.array([0, 2**64 - 1], np.uint64),
            "b": np.array([True, False, True], np.bool_),
            "c64": np.array([1 + 2j, -0.5j], np.complex64),
            "c128": np.array([[1e-3 - 4j]], np.complex128),
            "s": np.array([b"abc", b"", "h\u00e9llo".encode(), bytes(range(256))], object),
            "scalars/f32": np.float32(0.25),
            "scalars/i64": np.int64(-7),
            "scalars/b": np.bool_(True),
            "scalars/s": np.array(b"just one string", object),
            "empty": np.zeros([0, 3], np.float32),
        }
        for name, value in arrays.items():
            v1.Variable(value, name=name)
        v1.Variable(np.float32(1.0))  # unnamed: "Variable"
        v1.Variable(np.arange(4, dtype=np.int32))  # unnamed: "Variable_1"
        saver = v1.train.Saver(write_version=v1.train.SaverDef.V2)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            return saver.save(sess, "dtypes/model.ckpt", write_meta_graph=False)


def make_blog() -> tuple[str, str]:
    """The blog's section 3: Saver() of v1 (zeros) and v2; Saver({"vv1": v1}) of ones."""
    prefixes = []
    for folder, fill, renamed in (("blog", 0.0, False), ("renamed", 1.0, True)):
        graph = tf.Graph()
        with graph.as_default():
            v1.set_random_seed(3)
            a = v1.Variable(v1.constant(fill, shape=[5]), name="v1")
            v1.Variable(v1.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
            saver = v1.train.Saver({"vv1": a}) if renamed else v1.train.Saver()
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                prefixes.append(saver.save(sess, f"{folder}/model.ckpt"))
    return prefixes[0], prefixes[1]


# Keys of the multi-block bundle as [head, filler, count]: key = head + filler * count, saved
# with value arange(n) (int32) where n is the key's position (1-based). Chosen so that, with
# block_size 262144: a big key closes block 0 (separator "b" before "c..."), a key closes a
# block whose separator must stay the full key ("cy..." vs "cz0"), a small key is followed by a
# key >= 2 * block_size (flushed first; separator "cz1"), and the last key's successor is "f".
MULTIBLOCK_KEYS = [
    ["a", "a", 262200],
    ["c", "y", 270000],
    ["cz0", "", 0],
    ["cz5", "q", 600000],
    ["d", "", 0],
    ["e", "e", 270000],
]


def make_multiblock() -> tuple[str, dict]:
    graph = tf.Graph()
    keys = [head + filler * count for head, filler, count in MULTIBLOCK_KEYS]
    assert keys == sorted(keys)
    with graph.as_default():
        tensors = [tf.constant(np.arange(i + 1, dtype=np.int32)) for i in range(len(keys))]
        op = tf.raw_ops.SaveV2(prefix="multiblock/big", tensor_names=keys,
                               shape_and_slices=[""] * len(keys), tensors=tensors)
        with v1.Session() as sess:
            sess.run(op)
    reader = tf.train.load_checkpoint("multiblock/big")
    for i, key in enumerate(keys):
        assert reader.get_tensor(key).tolist() == list(range(i + 1))
    raw = Path("multiblock/big.index").read_bytes()
    Path("multiblock/big.index.gz").write_bytes(gzip.compress(raw, mtime=0))
    Path("multiblock/big.index").unlink()
    return "multiblock/big", {"keys": MULTIBLOCK_KEYS, "index_size": len(raw)}


def main() -> None:
    v1.disable_v2_behavior()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    os.chdir(OUT)
    expected = {}
    prefixes = [make_mlp(), make_dtypes(), *make_blog()]
    for prefix in prefixes:
        expected[prefix] = _read_all(prefix)
    prefix, tensors = make_multiblock()
    expected[prefix] = tensors
    expected["_generator"] = {"tensorflow": tf.__version__}
    Path("expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:8d}  {path.relative_to(OUT)}")


if __name__ == "__main__":
    main()
