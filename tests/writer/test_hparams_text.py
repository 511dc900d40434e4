"""Hyperparameters and text: the pure builders and decoders (writer.hparams, writer.summary
.text, writer.events), SummaryWriter.add_hparams / add_text, and TensorBoard reading them."""

import json

import numpy as np
import pytest
from google.protobuf import struct_pb2

from writer import SummaryWriter, hparams, summary
from writer.event_file import RecordTail
from writer.events import HParamsItem, TextItem, normalize, parse_event
from writer.proto import event_pb2, hparams_api_pb2, hparams_plugin_data_pb2, types_pb2

pytestmark = pytest.mark.unit


def items_of(path):
    plugins = {}
    return [item for rec in RecordTail(path).read().records
            for item in normalize(parse_event(rec.data), plugins)]


def only(items, kind):
    return [i for i in items if type(i) is kind]


# -- text builder ------------------------------------------------------------------------------


@pytest.mark.parametrize("data, shape", [
    ("one *string*", ()),
    (["a", "b", "c"], (3,)),
    ([["k", "v"], ["lr", "0.1"]], (2, 2)),
    (np.array([[["a", "b"]], [["c", "d"]]]), (2, 1, 2)),
])
def test_text_builder_writes_a_string_tensor_of_the_data_shape(data, shape):
    value = summary.text("notes", data).value[0]
    assert value.tag == "notes"
    assert value.metadata.plugin_data.plugin_name == "text"
    assert value.metadata.plugin_data.content == b""  # TextPluginData(version=0)
    assert value.tensor.dtype == types_pb2.DT_STRING
    assert tuple(d.size for d in value.tensor.tensor_shape.dim) == shape
    flat = [data] if isinstance(data, str) else np.asarray(data).ravel().tolist()
    assert [b.decode() for b in value.tensor.string_val] == flat


@pytest.mark.parametrize("bad, error, words", [
    ([1, 2], TypeError, "must be a str"),
    ("\ud800", ValueError, "lone surrogate"),
    (None, TypeError, "must be a str.*got None"),
])
def test_text_builder_names_bad_values(bad, error, words):
    with pytest.raises(error, match=words):
        summary.text("notes", bad)


# -- hparams builder and decoder -----------------------------------------------------------------


def content_of(s):
    value = s.value[0]
    assert value.metadata.plugin_data.plugin_name == "hparams"
    return value.tag, value.metadata.plugin_data.content


def test_hparams_summaries_have_torchs_tags_types_and_domains():
    exp, start, end = hparams.summaries(
        {"lr": 0.1, "layers": 3, "opt": "adam", "bn": True, "skipped": None},
        {"hparam/acc": 0.9}, {"opt": ["adam", "sgd"]})
    tag, content = content_of(exp)
    assert tag == "_hparams_/experiment"
    data = hparams_plugin_data_pb2.HParamsPluginData.FromString(content)
    infos = {h.name: h for h in data.experiment.hparam_infos}
    assert set(infos) == {"lr", "layers", "opt", "bn"}
    assert infos["lr"].type == infos["layers"].type == hparams_api_pb2.DATA_TYPE_FLOAT64
    assert infos["opt"].type == hparams_api_pb2.DATA_TYPE_STRING
    assert infos["bn"].type == hparams_api_pb2.DATA_TYPE_BOOL
    assert [v.string_value for v in infos["opt"].domain_discrete.values] == ["adam", "sgd"]
    assert [m.name.tag for m in data.experiment.metric_infos] == ["hparam/acc"]
    tag, content = content_of(start)
    assert tag == "_hparams_/session_start_info"
    decoded = hparams.decode(content)
    assert decoded.kind == "session_start_info"
    assert decoded.value["hparams"] == {"lr": 0.1, "layers": 3.0, "opt": "adam", "bn": True}
    tag, content = content_of(end)
    assert tag == "_hparams_/session_end_info"
    assert hparams.decode(content).value["status"] == "success"


def test_hparams_accept_numpy_scalars():
    _, start, _ = hparams.summaries({"lr": np.float32(0.5), "n": np.int64(4)})
    assert hparams.decode(content_of(start)[1]).value["hparams"] == {"lr": 0.5, "n": 4.0}


@pytest.mark.parametrize("hp, domains, error, words", [
    ({"lr": [0.1, 0.2]}, None, TypeError, "'lr'.*bool, str or real number"),
    ({"lr": {"a": 1}}, None, TypeError, "log lists or dicts as a str"),
    ({3: 0.1}, None, TypeError, "keys must be non-empty str"),
    ("lr=0.1", None, TypeError, "hparam_dict must be a dict"),
    ({"lr": 0.1}, {"opt": ["a"]}, ValueError, "'opt', which is not in hparam_dict"),
    ({"opt": "a"}, {"opt": "a"}, TypeError, "non-empty list"),
    ({"opt": "a"}, {"opt": ["a", 1]}, TypeError, "mixes types"),
])
def test_hparams_mistakes_name_the_value(hp, domains, error, words):
    with pytest.raises(error, match=words):
        hparams.summaries(hp, None, domains)


def plugin_data(**fields):
    return hparams_plugin_data_pb2.HParamsPluginData(**fields).SerializeToString()


@pytest.mark.parametrize("content, words", [
    (plugin_data(version=1, session_end_info={"status": 1}), "version 1 is not supported"),
    (b"\xff\xff\xff", "does not parse"),
    (plugin_data(), "holds no experiment or session info"),
])
def test_decode_refuses_what_it_cannot_read(content, words):
    with pytest.raises(hparams.HParamsDataError, match=words):
        hparams.decode(content)


def test_decode_shows_odd_value_types_as_text_with_a_note():
    start = hparams_plugin_data_pb2.SessionStartInfo()
    start.hparams["layers"].list_value.values.add().number_value = 64
    start.hparams["cfg"].struct_value.fields["a"].string_value = "b"
    start.hparams["none"].null_value = struct_pb2.NULL_VALUE
    start.hparams["lr"].number_value = 0.1
    decoded = hparams.decode(plugin_data(session_start_info=start))
    assert decoded.value["hparams"] == {"layers": "[64.0]", "cfg": '{"a": "b"}', "none": None,
                                        "lr": 0.1}
    assert sorted(decoded.notes) == ["hparam 'cfg' holds a struct, shown as text",
                                     "hparam 'layers' holds a list, shown as text",
                                     "hparam 'none' has no value"]


def test_infer_experiment_follows_tensorboards_rules():
    sessions = {"a": {"lr": 0.1, "opt": "adam", "bn": True, "mixed": 1.0},
                "b": {"lr": 0.01, "opt": "sgd", "bn": True, "mixed": "x"}}
    tags = {"a": ["loss"], "a/validation": ["loss", "acc"], "b": ["loss"], "other": ["x"]}
    exp = hparams.infer_experiment(sessions, tags)
    info = {h["name"]: (h["type"], h["domain"]) for h in exp["hparams"]}
    assert info == {"lr": ("float64", {"min": 0.01, "max": 0.1}),
                    "opt": ("string", {"values": ["adam", "sgd"]}),
                    "bn": ("bool", {"values": [True]}),
                    "mixed": ("string", {"values": ["1", "x"]})}
    assert [(m["tag"], m["group"]) for m in exp["metrics"]] == [
        ("acc", "validation"), ("loss", ""), ("loss", "validation")]


# -- reading: writer.events ----------------------------------------------------------------------


def text_value(tensor, tag="t", plugin="text"):
    ev = event_pb2.Event(step=3, wall_time=5.0)
    v = ev.summary.value.add(tag=tag)
    v.tensor.CopyFrom(tensor)
    v.metadata.plugin_data.plugin_name = plugin
    return ev


def test_text_items_note_non_utf8_bytes_and_odd_shapes():
    t = summary.text("t", ["ok", "x"]).value[0].tensor
    t.string_val[1] = b"caf\xe9"
    (item,) = normalize(text_value(t))
    assert item.values == ("ok", "caf\ufffd") and item.shape == (2,)
    assert "not UTF-8" in item.problem
    t.tensor_shape.dim[0].size = 5
    (item,) = normalize(text_value(t))
    assert "has shape [5] but 2 strings" in item.problem and item.shape == (2,)


def test_text_item_of_a_numeric_tensor_says_so():
    t = summary.text("t", "x").value[0].tensor
    t.Clear()
    t.dtype = types_pb2.DT_FLOAT
    t.float_val.append(1.5)
    (item,) = normalize(text_value(t))
    assert item.values == ("1.5",) and "DT_FLOAT tensor, not DT_STRING" in item.problem


def test_tf1_text_without_metadata_after_the_first_value_is_still_text():
    plugins = {}
    first = text_value(summary.text("t", "one").value[0].tensor)
    second = text_value(summary.text("t", "two").value[0].tensor)
    second.summary.value[0].ClearField("metadata")
    assert [i.values for i in normalize(first, plugins) + normalize(second, plugins)] == [
        ("one",), ("two",)]


def test_hparams_item_carries_a_problem_instead_of_raising():
    ev = event_pb2.Event(step=0)
    v = ev.summary.value.add(tag="_hparams_/session_start_info")
    v.metadata.plugin_data.plugin_name = "hparams"
    v.metadata.plugin_data.content = plugin_data(version=7)
    (item,) = normalize(ev)
    assert type(item) is HParamsItem and item.data is None and "version 7" in item.problem


# -- SummaryWriter -------------------------------------------------------------------------------


def test_add_hparams_writes_into_the_writers_own_run(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_hparams({"lr": 0.1, "opt": "adam"}, {"hparam/acc": 0.5})
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # no extra run
    items = items_of(w.path)
    hp = only(items, HParamsItem)
    assert [i.data.kind for i in hp] == ["experiment", "session_start_info", "session_end_info"]
    assert hp[1].data.value["hparams"] == {"lr": 0.1, "opt": "adam"}
    acc = [i for i in items if getattr(i, "tag", "") == "hparam/acc"]
    assert [(i.step, i.value) for i in acc] == [(4, 0.5)]  # at the last step logged


def test_add_hparams_run_name_makes_a_sub_run_and_refuses_escapes(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1}, {"m": 1.0}, run_name="trial-1", global_step=7)
        for bad in ["../x", "/abs", "", "a/../../b"]:
            with pytest.raises(ValueError, match="run_name"):
                w.add_hparams({"lr": 0.1}, run_name=bad)
    (sub,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert sub.name == "trial-1"
    (path,) = sub.glob("*tfevents*")
    items = items_of(path)
    assert len(only(items, HParamsItem)) == 3
    assert [(i.tag, i.step) for i in items if getattr(i, "tag", "") == "m"] == [("m", 7)]
    assert only(items_of(w.path), HParamsItem) == []


def test_add_hparams_writes_nothing_for_a_bad_call(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(TypeError):
            w.add_hparams({"lr": 0.1}, {"acc": "high"})
    assert only(items_of(w.path), HParamsItem) == []


def test_add_text_any_rank(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("note", "hello **md**", 2)
        w.add_text("table", [["a", "b"], ["c", "d"]], global_step=3)
    texts = only(items_of(w.path), TextItem)
    assert [(t.tag, t.step, t.shape, t.values) for t in texts] == [
        ("note", 2, (), ("hello **md**",)), ("table", 3, (2, 2), ("a", "b", "c", "d"))]


# -- TensorBoard reads ours ------------------------------------------------------------------------


@pytest.mark.compat
def test_tensorboard_reads_our_text(tmp_path):
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.util import tensor_util

    with SummaryWriter(tmp_path) as w:
        w.add_text("note", "hi", 1)
        w.add_text("table", [["a", "b"], ["c", "d"]], 2)
    acc = pea.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert sorted(acc.PluginTagToContent("text")) == ["note", "table"]
    (note,) = acc.Tensors("note")
    assert note.step == 1 and tensor_util.make_ndarray(note.tensor_proto).item() == b"hi"
    (table,) = acc.Tensors("table")
    assert tensor_util.make_ndarray(table.tensor_proto).tolist() == [[b"a", b"b"], [b"c", b"d"]]


def tensorboard_hparams_client(logdir):
    """TensorBoard's hparams plugin over `logdir`, behind its own WSGI app."""
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
    provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
    ctx = base_plugin.TBContext(logdir=str(logdir), multiplexer=mux, data_provider=provider)
    scalars = scalars_plugin.ScalarsPlugin(ctx)
    ctx.plugin_name_to_instance = {"scalars": scalars}
    plugin = hparams_plugin.HParamsPlugin(ctx)
    ctx.plugin_name_to_instance["hparams"] = plugin
    return Client(application.TensorBoardWSGI([scalars, plugin]), Response)


@pytest.mark.compat
def test_tensorboards_hparams_dashboard_lists_our_sessions(tmp_path):
    for lr, opt in [(0.1, "adam"), (0.01, "sgd")]:
        with SummaryWriter(tmp_path / f"lr{lr}") as w:
            for step in range(3):
                w.add_scalar("loss", lr * step, step)
            w.add_hparams({"lr": lr, "opt": opt, "bn": True}, {"hparam/acc": 1 - lr},
                          hparam_domain_discrete={"opt": ["adam", "sgd"]})
    client = tensorboard_hparams_client(tmp_path)
    r = client.post("/data/plugin/hparams/experiment", data=json.dumps({"experimentName": ""}))
    assert r.status_code == 200
    exp = json.loads(r.get_data(as_text=True))
    types = {h["name"]: h["type"] for h in exp["hparamInfos"]}
    assert types == {"lr": "DATA_TYPE_FLOAT64", "opt": "DATA_TYPE_STRING", "bn": "DATA_TYPE_BOOL"}
    assert [m["name"]["tag"] for m in exp["metricInfos"]] == ["hparam/acc"]
    r = client.post("/data/plugin/hparams/session_groups", data=json.dumps({
        "experimentName": "", "startIndex": 0, "sliceSize": 10,
        "allowedStatuses": ["STATUS_SUCCESS"]}))
    assert r.status_code == 200
    groups = {g["name"]: g for g in json.loads(r.get_data(as_text=True))["sessionGroups"]}
    assert set(groups) == {"lr0.1", "lr0.01"}  # each writer's own run is the session
    assert groups["lr0.01"]["hparams"] == {"lr": 0.01, "opt": "sgd", "bn": True}
    (metric,) = groups["lr0.01"]["metricValues"]
    assert metric["name"]["tag"] == "hparam/acc"
    assert metric["value"] == pytest.approx(0.99) and metric["trainingStep"] == 2
    assert groups["lr0.01"]["sessions"][0]["status"] == "STATUS_SUCCESS"


@pytest.mark.compat
def test_we_read_tensorboardx_hparams_and_text(tmp_path):
    from tensorboardX import SummaryWriter as XWriter

    with XWriter(str(tmp_path)) as w:
        w.add_text("note", "tbx *text*", 4)
        w.add_hparams({"lr": 0.01, "act": "relu"}, {"hparam/acc": 0.5}, name="hp")
    (main,) = tmp_path.glob("*tfevents*")
    texts = only(items_of(main), TextItem)
    assert [(t.tag, t.step, t.values) for t in texts] == [("note/text_summary", 4,
                                                          ("tbx *text*",))]
    (sub,) = (tmp_path / "hp").glob("*tfevents*")
    hp = {i.data.kind: i.data.value for i in only(items_of(sub), HParamsItem)}
    assert hp["session_start_info"]["hparams"] == {"lr": 0.01, "act": "relu"}
    assert [h["name"] for h in hp["experiment"]["hparams"]] == ["lr", "act"]


def test_text_item_of_an_unknown_shape_is_a_list_with_a_note():
    t = summary.text("t", [["a", "b"]]).value[0].tensor
    t.tensor_shape.dim[0].size = -1
    (item,) = normalize(text_value(t))
    assert item.shape == (2,) and "no known shape" in item.problem


def test_a_nan_inside_a_list_hparam_is_still_shown():
    start = hparams_plugin_data_pb2.SessionStartInfo()
    start.hparams["xs"].list_value.values.add().number_value = float("nan")
    decoded = hparams.decode(plugin_data(session_start_info=start))
    assert "nan" in decoded.value["hparams"]["xs"]
    assert decoded.notes == ("hparam 'xs' holds a list, shown as text",)
