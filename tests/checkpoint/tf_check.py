"""Run by test_ckpt_tf_compat.py with TensorFlow's interpreter (/tmp/tfvenv/bin/python), never
imported by pytest: checks that TensorFlow reads a flow-written checkpoint exactly.

    python tf_check.py SPEC.json [SPEC.json ...]

SPEC: {"name": N, "prefix": P, "tensors": {key: {"dtype", "shape", "values"}} (as
       expected.json), "latest_dir": D or null, "import_meta": bool}
Checks, raising on the first failure: `tf.train.load_checkpoint(P)` lists exactly these keys,
shapes and dtypes with bit-identical values; `tf.train.latest_checkpoint(D) == P`;
`tf.compat.v1.train.Saver({key: var})` restores every value into fresh zero variables; with
import_meta, `tf.compat.v1.train.import_meta_graph(P.meta)` gives a graph whose saver restores.
Prints "OK <name> <n> tensors" per passing spec, "FAIL <name>" and the traceback otherwise
(one TensorFlow start-up for all specs: it takes seconds).
"""

import base64
import json
import sys
import traceback

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1


def array(desc):
    dtype, shape, values = desc["dtype"], desc["shape"], desc["values"]
    if dtype == "string":
        return np.array([base64.b64decode(v) for v in values], dtype=object).reshape(shape)
    if dtype.startswith("complex"):
        return np.array([complex(*v) for v in values], dtype=dtype).reshape(shape)
    return np.array(values, dtype=dtype).reshape(shape)


def same(got, want):
    got = np.asarray(got, dtype=want.dtype)
    if got.shape != want.shape:
        return False
    if want.dtype == object:
        return [bytes(x) for x in got.flat] == [bytes(x) for x in want.flat]
    return got.tobytes() == want.tobytes()


def check(spec):
    prefix = spec["prefix"]
    want = {k: array(d) for k, d in spec["tensors"].items()}
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    assert sorted(shapes) == sorted(want), (sorted(shapes), sorted(want))
    dtype_map = reader.get_variable_to_dtype_map()
    for key, value in want.items():
        assert shapes[key] == list(value.shape), (key, shapes[key], value.shape)
        tf_dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
        assert dtype_map[key] == tf_dtype, (key, dtype_map[key], tf_dtype)
        assert same(reader.get_tensor(key), value), (key, reader.get_tensor(key), value)
    if spec.get("latest_dir"):
        latest = tf.train.latest_checkpoint(spec["latest_dir"])
        assert latest == prefix, (latest, prefix)

    graph = tf.Graph()
    with graph.as_default():
        variables = {}
        for i, (key, value) in enumerate(sorted(want.items())):
            dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
            zero = np.zeros(value.shape, dtype=value.dtype if value.dtype != object else object)
            if value.dtype == object:
                zero[...] = b""
            variables[key] = v1.Variable(zero, dtype=dtype, name=f"var{i}")
        saver = v1.train.Saver(variables)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            saver.restore(sess, prefix)
            for key, var in variables.items():
                assert same(sess.run(var), want[key]), (key, sess.run(var), want[key])

    if spec.get("import_meta"):
        graph = tf.Graph()
        with graph.as_default():
            saver = v1.train.import_meta_graph(prefix + ".meta")
            with v1.Session() as sess:
                saver.restore(sess, prefix)
                for key, value in want.items():
                    got = sess.run(graph.get_tensor_by_name(key + ":0"))
                    assert same(got, value), (key, got, value)
    return len(want)


def main():
    v1.disable_eager_execution()
    failed = 0
    for path in sys.argv[1:]:
        spec = json.loads(open(path).read())
        try:
            print(f"OK {spec['name']} {check(spec)} tensors", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {spec['name']}\n{traceback.format_exc()}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
