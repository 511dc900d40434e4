"""TensorFlow reads what flow writes.

Everywhere, CI included: flow's `tf.train.Saver` saves the variables of each checkpoint that
TensorFlow wrote in tests/data/tf_ckpt/ (made by tests/data/make_tf_checkpoints.py), and the
`.index` and `.data` files it writes are byte for byte the files TensorFlow wrote — files
TensorFlow's own `Saver` restores, so it restores flow's.

Where TensorFlow is installed (a local check): a module fixture writes four more checkpoints
with flow and runs tf_check.py once with TensorFlow's interpreter (/tmp/tfvenv/bin/python, or
$NUMBOARD_TF_PYTHON), which loads each with `tf.train.load_checkpoint` and restores it with
`tf.compat.v1.train.Saver`; each test checks its checkpoint's verdict.
"""

import base64
import json
import os
import subprocess
from pathlib import Path

import ckpt_golden as golden
import numpy as np
import pytest

import flow as tf
from flow.checkpoint import storage

TF_PYTHON = Path(os.environ.get("NUMBOARD_TF_PYTHON", "/tmp/tfvenv/bin/python"))
CHECK = Path(__file__).with_name("tf_check.py")

pytestmark = pytest.mark.integration
needs_tensorflow = pytest.mark.skipif(
    not TF_PYTHON.exists(), reason="TensorFlow not installed: the live check is local; "
    "test_flow_saver_writes_the_files_tensorflow_wrote proves the same bytes everywhere")


@pytest.mark.parametrize("prefix", golden.PREFIXES)
def test_flow_saver_writes_the_files_tensorflow_wrote(tmp_path, prefix):
    tf.reset_default_graph()
    variables = {name: tf.Variable(value, name=name)
                 for name, value in golden.tensors(prefix).items()}
    assert all(v.op.name == name for name, v in variables.items())
    (tmp_path / prefix).parent.mkdir(parents=True, exist_ok=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saved = tf.train.Saver(variables).save(sess, str(tmp_path / prefix))
    tf.reset_default_graph()
    theirs = golden.path(prefix)
    for suffix in (".index", ".data-00000-of-00001"):
        ours = Path(saved + suffix).read_bytes()
        assert ours == Path(theirs + suffix).read_bytes(), f"{prefix}{suffix} differs"


def describe(value) -> dict:
    value = np.asarray(value)
    flat = value.reshape(-1)
    if value.dtype == object:
        return {"dtype": "string", "shape": list(value.shape),
                "values": [base64.b64encode(bytes(x)).decode() for x in flat]}
    if value.dtype.kind == "c":
        values = [[float(x.real), float(x.imag)] for x in flat]
    elif value.dtype.kind == "b":
        values = [bool(x) for x in flat]
    elif value.dtype.kind == "f":
        values = [float(x) for x in flat]
    else:
        values = [int(x) for x in flat]
    return {"dtype": value.dtype.name, "shape": list(value.shape), "values": values}


def every_dtype(root: Path):
    """storage.write_bundle of every dtype flow has, scalars, strings and an empty tensor."""
    out = {}
    for name in ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                 "uint16", "uint32", "uint64", "bool", "complex64", "complex128"]:
        out[f"arrays/{name}"] = (np.arange(-5, 7) % 9).astype(name).reshape(3, 2, 2)
        out[f"scalars/{name}"] = np.array(3, dtype=name)
    out["strings/vector"] = np.array([b"abc", b"", "h\u00e9".encode(), bytes(range(256))],
                                     dtype=object)
    out["strings/scalar"] = np.array(b"one", dtype=object)
    out["empty"] = np.zeros((0, 4), np.float32)
    storage.write_bundle(str(root / "all"), out)
    return {"prefix": str(root / "all")}, out


def multiblock(root: Path):
    """Keys long enough for several 256 KiB index blocks (and one >= 2 * block_size)."""
    keys = ["a" * 262200, "c" + "y" * 270000, "cz0", "cz5" + "q" * 600000, "d", "e" * 270000]
    out = {k: np.arange(i + 1, dtype=np.int32) for i, k in enumerate(keys)}
    storage.write_bundle(str(root / "big"), out)
    return {"prefix": str(root / "big")}, out


def adam_mlp(root: Path):
    """A layer trained 2 steps with Adam: slots, beta powers, int64 global_step, a string."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    with tf.variable_scope("layer1"):
        w = tf.get_variable("weights", [4, 3])
        b = tf.get_variable("biases", [3], initializer=tf.constant_initializer(0.1))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
    tf.Variable(np.array([b"a", b"bc"], dtype=object), name="labels", trainable=False)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2):
            sess.run(train, {x: np.arange(8, dtype=np.float32).reshape(2, 4)})
        prefix = saver.save(sess, str(root / "model.ckpt"), global_step=step)
        names = [v.op.name for v in tf.global_variables()]
        values = dict(zip(names, sess.run(tf.global_variables()), strict=True))
    tf.reset_default_graph()
    assert prefix.endswith("model.ckpt-2") and "layer1/weights/Adam_1" in values
    return {"prefix": prefix, "latest_dir": str(root)}, values


def blog_meta(root: Path):
    """The blog's v1/v2 model, with its .meta imported by `import_meta_graph`."""
    tf.reset_default_graph()
    v1 = tf.Variable(tf.constant(1.0, shape=[5]), name="v1")
    v2 = tf.Variable(tf.truncated_normal(shape=[3, 2], stddev=0.02), name="v2")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(root / "model.ckpt"))
        values = {"v1": sess.run(v1), "v2": sess.run(v2)}
    tf.reset_default_graph()
    return {"prefix": prefix, "latest_dir": str(root), "import_meta": True}, values


CASES = {"every_dtype": every_dtype, "multiblock": multiblock, "adam_mlp": adam_mlp,
         "blog_meta": blog_meta}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, str]:
    """{case name: "OK ..." or "FAIL ..." with TensorFlow's traceback}."""
    root = tmp_path_factory.mktemp("tf_compat")
    specs = []
    for name, make in CASES.items():
        folder = root / name
        folder.mkdir()
        spec, tensors = make(folder)
        spec.update(name=name, tensors={k: describe(v) for k, v in tensors.items()})
        specs.append(root / f"{name}.json")
        specs[-1].write_text(json.dumps(spec))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([str(TF_PYTHON), str(CHECK), *map(str, specs)], capture_output=True,
                          text=True, env=env, timeout=600)
    out = {}
    for block in ("\n" + proc.stdout).split("\nOK ")[1:]:
        out[block.split()[0]] = "OK " + block
    for block in proc.stdout.split("FAIL ")[1:]:
        out[block.split()[0]] = "FAIL " + block
    for name in CASES:
        out.setdefault(name, f"no verdict; TensorFlow's stderr:\n{proc.stderr[-4000:]}")
    return out


@needs_tensorflow
@pytest.mark.parametrize("case", list(CASES))
def test_tensorflow_reads_and_restores_flow_checkpoint(verdicts, case):
    assert verdicts[case].startswith(f"OK {case} "), verdicts[case]
