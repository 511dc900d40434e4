"""Regenerate tests/data/hparams_text: hparams and text summaries from every writer.

Run with a Python that has TensorFlow, torch and tensorboardX (a manual step, never a test
dependency):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu torch tensorboardX
    /tmp/tfenv/bin/python tests/data/make_hparams_text.py

One folder per writer, each a small logdir:

- ``tf2``: TF2 ``tensorboard.plugins.hparams.api``: ``hparams_config`` at the root (real,
  discrete str/bool and int-interval hparams; a training and a validation metric), two
  sessions ``run-0``/``run-1`` with ``hp.hparams`` and scalars, each with a ``validation``
  sub-run; ``tf.summary.text`` of a str, a 1-D, a 2-D and a 3-D tensor and of bytes that are
  not UTF-8.
- ``tf2_sessions``: two ``hp.hparams`` sessions and no ``hparams_config`` (the experiment
  must be inferred).
- ``tf1``: ``tf.compat.v1.summary.text`` through ``FileWriter`` at two steps (TF1 writes the
  plugin metadata only with a tag's first value).
- ``torch``: ``torch.utils.tensorboard`` ``add_text`` and ``add_hparams`` (``run_name="hp"``,
  with ``hparam_domain_discrete``).
- ``tensorboardx``: tensorboardX ``add_text`` and ``add_hparams`` (``name="hp"``).

Event files get fixed names. ``expected.json`` holds what TensorBoard reads back: per
writer and run, each text tag's steps (shape and strings, via TensorBoard's
EventAccumulator and ``tensor_util``) and each hparams tag's decoded plugin data (via
TensorBoard's hparams ``metadata``), plus the experiment TensorBoard's hparams backend
serves for the logdir and its session groups' hparams.
"""

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent / "hparams_text"
NOT_UTF8 = b"caf\xe9 \xff"  # Latin-1 bytes: not UTF-8


def write_tf2(logdir):
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    lr = hp.HParam("lr", hp.RealInterval(1e-3, 1e-1))
    opt = hp.HParam("optimizer", hp.Discrete(["adam", "sgd"]))
    bn = hp.HParam("batchnorm", hp.Discrete([True, False]))
    units = hp.HParam("units", hp.IntInterval(16, 64))
    with tf.summary.create_file_writer(str(logdir)).as_default():
        hp.hparams_config(hparams=[lr, opt, bn, units], metrics=[
            hp.Metric("accuracy", display_name="Accuracy"),
            hp.Metric("loss", group="validation", dataset_type=hp.Metric.VALIDATION)])
    for i, values in enumerate([{lr: 0.01, opt: "adam", bn: True, units: 32},
                                {lr: 0.1, opt: "sgd", bn: False, units: 64}]):
        run = logdir / f"run-{i}"
        with tf.summary.create_file_writer(str(run)).as_default():
            hp.hparams(values, trial_id=f"run-{i}")
            for step in range(3):
                tf.summary.scalar("accuracy", 0.5 + 0.1 * step + 0.01 * i, step=step)
        with tf.summary.create_file_writer(str(run / "validation")).as_default():
            for step in range(3):
                tf.summary.scalar("loss", 1.0 - 0.2 * step - 0.01 * i, step=step)
    with tf.summary.create_file_writer(str(logdir / "text")).as_default():
        tf.summary.text("note", "**bold** <script>alert(1)</script> [x](javascript:alert(1))",
                        step=0)
        tf.summary.text("note", "second *step*", step=1)
        tf.summary.text("vector", tf.constant(["a", "b", "c"]), step=0)
        tf.summary.text("table", tf.constant([["lr", "0.01"], ["optimizer", "adam"]]), step=0)
        tf.summary.text("cube", tf.constant([[["a", "b"], ["c", "d"]], [["e", "f"], ["g", "h"]]]),
                        step=0)
        tf.summary.text("latin1", tf.constant(NOT_UTF8), step=0)


def write_tf2_sessions(logdir):
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    for i, (lr, opt) in enumerate([(0.01, "adam"), (0.1, "sgd")]):
        with tf.summary.create_file_writer(str(logdir / f"s{i}")).as_default():
            hp.hparams({"lr": lr, "optimizer": opt, "dropout": i == 1})
            for step in range(2):
                tf.summary.scalar("loss", 1.0 / (step + 1 + i), step=step)


def write_tf1(logdir):
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        text = v1.placeholder(tf.string, shape=[2])
        op = v1.summary.text("notes", text)
        with v1.Session() as sess:
            w = v1.summary.FileWriter(str(logdir))
            for step, pair in enumerate([["first", "*one*"], ["second", "**two**"]]):
                w.add_summary(sess.run(op, {text: pair}), step)
            w.close()


def write_torch(logdir):
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(logdir)) as w:
        w.add_text("note", "torch **text** <img src=x onerror=alert(1)>", 0)
        w.add_text("note", "step two", 1)
        w.add_hparams({"lr": 0.1, "bsize": 32, "optimizer": "adam", "bn": True},
                      {"hparam/accuracy": 0.75, "hparam/loss": 0.5},
                      hparam_domain_discrete={"optimizer": ["adam", "sgd"]}, run_name="hp")


def write_tensorboardx(logdir):
    from tensorboardX import SummaryWriter

    with SummaryWriter(str(logdir)) as w:
        w.add_text("note", "tensorboardX *text*", 0)
        w.add_hparams({"lr": 0.01, "layers": 3, "activation": "relu"},
                      {"hparam/accuracy": 0.5}, name="hp")


def fix_names(logdir):
    for folder in sorted({p.parent for p in logdir.rglob("*tfevents*")}):
        files = sorted(p for p in folder.iterdir() if "tfevents" in p.name)
        for i, path in enumerate(files, 1):
            path.rename(folder / f"events.out.tfevents.{i:010d}.{logdir.name}")


def read_back(logdir):
    """What TensorBoard reads: text steps and hparams plugin data per run, and the
    experiment and session groups its hparams backend serves."""
    from google.protobuf import json_format
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2
    from tensorboard.util import tensor_util

    runs = {}
    for folder in sorted({p.parent for p in logdir.rglob("*tfevents*")}):
        acc = pea.EventAccumulator(str(folder), size_guidance={pea.TENSORS: 0})
        acc.Reload()
        run = folder.relative_to(logdir).as_posix()
        entry = runs[run] = {"text": {}, "hparams": {}}
        active = acc.ActivePlugins()
        for tag in acc.PluginTagToContent("text") if "text" in active else {}:
            entry["text"][tag] = [{
                "step": e.step,
                "shape": list(tensor_util.make_ndarray(e.tensor_proto).shape),
                "values": [b.decode("latin-1") for b in
                           tensor_util.make_ndarray(e.tensor_proto).ravel().tolist()],
            } for e in acc.Tensors(tag)]
        hparams_tags = acc.PluginTagToContent(metadata.PLUGIN_NAME) \
            if metadata.PLUGIN_NAME in active else {}
        for tag, content in hparams_tags.items():
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
            entry["hparams"][tag] = json_format.MessageToDict(data)
    return {"runs": runs, "backend": backend_view(logdir)}


def backend_view(logdir):
    """The experiment and session groups TensorBoard's hparams plugin serves."""
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import hparams_plugin
    from tensorboard.plugins.scalar import scalars_plugin
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    mux = pem.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    ctx = base_plugin.TBContext(logdir=str(logdir), multiplexer=mux,
                                data_provider=data_provider.MultiplexerDataProvider(mux, str(logdir)))
    scalars = scalars_plugin.ScalarsPlugin(ctx)
    ctx.plugin_name_to_instance = {"scalars": scalars}
    plugin = hparams_plugin.HParamsPlugin(ctx)
    ctx.plugin_name_to_instance["hparams"] = plugin
    client = Client(application.TensorBoardWSGI([scalars, plugin]), Response)
    experiment = client.post("/data/plugin/hparams/experiment",
                             data=json.dumps({"experimentName": "", "includeMetrics": True}))
    groups = client.post("/data/plugin/hparams/session_groups", data=json.dumps({
        "experimentName": "", "startIndex": 0, "sliceSize": 100, "includeMetrics": True,
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                            "STATUS_RUNNING"]}))
    return {"experiment": json.loads(experiment.get_data(as_text=True)),
            "session_groups": json.loads(groups.get_data(as_text=True))}


WRITERS = {"tf2": write_tf2, "tf2_sessions": write_tf2_sessions, "tf1": write_tf1,
           "torch": write_torch, "tensorboardx": write_tensorboardx}


def main():
    import tensorboardX
    import tensorflow as tf
    import torch

    if HERE.exists():
        shutil.rmtree(HERE)
    expected = {"versions": {"tensorflow": tf.__version__, "torch": torch.__version__,
                             "tensorboardX": tensorboardX.__version__}}
    for name, write in WRITERS.items():
        logdir = HERE / name
        logdir.mkdir(parents=True)
        write(logdir)
        fix_names(logdir)
        expected[name] = read_back(logdir)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
