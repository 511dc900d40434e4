"""The rest of the everyday TF1 API: tf.data, tf.gfile, tf.app/flags, tf.logging, tf.device,
tf.Print/tf.print, tf.summary.text, random ops with Tensor arguments, and the modules flow
does not implement."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import flow as tf
from writer.proto import summary_pb2

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("fresh_graph")


def _drain(sess, t, feed=None):
    out = []
    while True:
        try:
            out.append(sess.run(t, feed))
        except tf.errors.OutOfRangeError as e:
            assert "End of sequence" in str(e)
            return out


def test_dataset_transformations_in_order():
    ds = tf.data.Dataset.range(10).skip(1).take(7).map(lambda i: i * 2).batch(3).repeat(2)
    assert ds.output_types == tf.int64 and ds.output_shapes.as_list() == [None]
    with tf.Session() as sess:
        got = _drain(sess, ds.make_one_shot_iterator().get_next())
    want = [[2, 4, 6], [8, 10, 12], [14]] * 2
    assert [list(g) for g in got] == want


def test_dataset_of_dicts_shuffles_every_element_once_per_epoch():
    data = {"x": np.arange(20, dtype=np.float32).reshape(10, 2), "y": np.arange(10)}
    ds = tf.data.Dataset.from_tensor_slices(data).shuffle(4, seed=3).batch(4, drop_remainder=True)
    assert ds.output_shapes["x"].as_list() == [4, 2]
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    with tf.Session() as sess:
        batches = _drain(sess, nxt)
    ys = np.concatenate([b["y"] for b in batches])
    assert len(batches) == 2 and len(set(ys)) == 8 and list(ys) != sorted(ys)
    for b in batches:
        np.testing.assert_array_equal(b["x"][:, 0], b["y"] * 2.0)


def test_initializable_iterator_needs_its_initializer_and_restarts_with_new_feeds():
    x = tf.placeholder(tf.float32, [None])
    it = tf.data.Dataset.from_tensor_slices(x).batch(2).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(nxt)
        sess.run(it.initializer, {x: [1, 2, 3]})
        assert [list(b) for b in _drain(sess, nxt)] == [[1, 2], [3]]
        sess.run(it.initializer, {x: [5]})
        assert [list(b) for b in _drain(sess, nxt)] == [[5]]


def test_reinitializable_iterator_switches_datasets():
    train = tf.data.Dataset.from_tensor_slices(np.arange(4)).batch(2)
    test = tf.data.Dataset.from_tensor_slices(np.arange(10, 13)).batch(3)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.make_initializer(train))
        assert list(sess.run(nxt)) == [0, 1]
        sess.run(it.make_initializer(test))
        assert list(sess.run(nxt)) == [10, 11, 12]
    with pytest.raises(TypeError, match="output types"):
        it.make_initializer(tf.data.Dataset.from_tensor_slices(np.zeros(2, np.float32)))


def test_gfile_manages_files_and_directories(tmp_path):
    root = str(tmp_path / "a" / "b")
    tf.gfile.MakeDirs(root)
    assert tf.gfile.Exists(root) and tf.gfile.IsDirectory(root)
    with tf.gfile.GFile(root + "/notes.txt", "w") as f:
        f.write("line 1\nline 2\n")
    with tf.gfile.GFile(root + "/notes.txt") as f:
        assert f.readline() == "line 1\n" and list(f) == ["line 2\n"]
    with tf.io.gfile.GFile(root + "/notes.txt", "rb") as f:
        assert f.read() == b"line 1\nline 2\n"
    tf.gfile.Copy(root + "/notes.txt", root + "/copy.txt")
    with pytest.raises(tf.errors.AlreadyExistsError, match="overwrite=True"):
        tf.gfile.Copy(root + "/notes.txt", root + "/copy.txt")
    tf.gfile.Rename(root + "/copy.txt", root + "/moved.txt")
    assert tf.gfile.ListDirectory(root) == ["moved.txt", "notes.txt"]
    assert tf.io.gfile.glob(root + "/*.txt") == [root + "/moved.txt", root + "/notes.txt"]
    assert tf.gfile.Stat(root + "/moved.txt").length == 14
    tf.gfile.DeleteRecursively(str(tmp_path / "a"))
    assert not tf.io.gfile.exists(root)
    with pytest.raises(tf.errors.NotFoundError, match="No such file"):
        tf.gfile.GFile(root + "/notes.txt")
    with pytest.raises(tf.errors.UnimplementedError, match="nosuchfs://bucket/run"):
        tf.gfile.Exists("nosuchfs://bucket/run")  # s3:// and other fsspec URLs: tests/s3/


def test_app_run_parses_flags_and_leaves_unknown_ones_in_argv(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text(textwrap.dedent("""
        import flow as tf
        tf.flags.DEFINE_integer("steps", 3, "how many")
        tf.app.flags.DEFINE_string("name", "x", "a name")
        FLAGS = tf.flags.FLAGS

        def main(argv):
            print(FLAGS.steps, FLAGS.name, argv[1:])
            return 7

        if __name__ == "__main__":
            tf.app.run()
    """))
    done = subprocess.run([sys.executable, str(program), "--steps=5", "--other", "pos"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 7, done.stderr
    assert done.stdout.strip() == "5 x ['--other', 'pos']"


def test_logging_goes_to_the_tensorflow_logger(caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == tf.logging.INFO
    with caplog.at_level(tf.logging.INFO, logger="tensorflow"):
        tf.logging.info("step %d", 3)
        for _ in range(3):
            tf.logging.log_first_n(tf.logging.WARN, "once", 1)
    assert [r.getMessage() for r in caplog.records] == ["step 3", "once"]
    tf.logging.set_verbosity(tf.logging.WARN)


def test_device_is_recorded_on_nodes_in_canonical_form():
    with tf.device("/cpu:0"):
        a = tf.constant(1.0, name="a")
        with tf.device("/job:worker/task:1/gpu:0"):
            b = tf.add(a, 1.0, name="b")
    c = tf.identity(b, name="c")
    assert (a.device, b.op.device, c.device) == ("/device:CPU:0",
                                                 "/job:worker/task:1/device:GPU:0", "")
    nodes = {n.name: n.device for n in tf.get_default_graph().as_graph_def().node}
    assert nodes["a"] == "/device:CPU:0" and nodes["c"] == ""
    assert tf.Session().run(c) == 2.0


def test_print_ops_write_to_stderr(capfd):
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    y = tf.Print(x, [x, tf.constant(7)], message="x and 7: ", first_n=1, summarize=2)
    p = tf.print("sum:", tf.reduce_sum(x))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), [1, 2, 3, 4])
        sess.run(y)
        sess.run(p)
    err = capfd.readouterr().err
    assert err.count("x and 7: ") == 1 and "x and 7: [1.0 2.0...]7" in err
    assert "sum: 10" in err


def test_print_finds_the_standard_stream_when_it_runs(monkeypatch):
    p = tf.print("built before the swap:", tf.constant(3), output_stream=sys.stdout)
    q = tf.print("to stderr")
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    with tf.Session() as sess:
        sess.run([p, q])
    assert out.getvalue() == "built before the swap: 3\n" and err.getvalue() == "to stderr\n"
    assert p.node_def.attr["output_stream"].s == b"stdout"


def test_summary_text_is_a_string_tensor_for_the_text_plugin():
    s = tf.summary.text("notes", tf.constant(["a", "b"]))
    value = summary_pb2.Summary.FromString(tf.Session().run(s)).value[0]
    assert value.tag == "notes" and value.metadata.plugin_data.plugin_name == "text"
    assert list(value.tensor.string_val) == [b"a", b"b"] and value.tensor.dtype == 7
    with pytest.raises(ValueError, match="dtype string"):
        tf.summary.text("bad", tf.constant(1.0))


def test_random_ops_take_tensor_shapes_and_parameters():
    x = tf.placeholder(tf.float32, [None, 3])
    noise = tf.random_normal(tf.shape(x), mean=tf.constant(5.0), stddev=tf.constant(0.0))
    u = tf.random_uniform([tf.shape(x)[0], 2], minval=tf.constant(2.0), maxval=3.0)
    t = tf.truncated_normal(tf.shape(x), stddev=tf.sqrt(tf.constant(4.0)))
    assert u.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        n, uu, tt = sess.run([noise, u, t], {x: np.zeros((5, 3))})
    np.testing.assert_array_equal(n, np.full((5, 3), 5.0))
    assert uu.shape == (5, 2) and ((2 <= uu) & (uu < 3)).all()
    assert tt.shape == (5, 3) and (abs(tt) <= 4).all()


@pytest.mark.parametrize("access", ["tf.estimator", "tf.distribute", "tf.contrib.factorization"])
def test_a_module_flow_does_not_implement_says_so(access):
    with pytest.raises(AttributeError) as err:
        eval(access, {"tf": tf})  # noqa: S307 - a fixed attribute path
    assert type(err.value).__name__ == "UnsupportedModuleError"
    assert f"{access} is not implemented by flow" in str(err.value)


def test_the_unsupported_module_error_is_printed_without_a_suggestion():
    done = subprocess.run([sys.executable, "-c", "import flow as tf; tf.estimator.Estimator"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("flow.core.errors.UnsupportedModuleError: tf.estimator is not")
    assert "Did you mean" not in done.stderr


def test_compat_v1_is_flow_itself():
    import flow.compat.v1 as v1

    assert v1 is tf and tf.compat.v1 is tf
    tf.compat.v1.disable_eager_execution()
    tf.disable_v2_behavior()
