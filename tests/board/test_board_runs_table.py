"""/api/runs/table: per-run hyperparameters and per-tag last/min/max, kept current at ingest
(integration: the in-process app over real event files); TagStats against a numpy oracle;
the real files of every writer (tests/data/hparams_text) against what TensorBoard reads."""

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
from boardkit import event, scalar_event, write_events

from board.plugins.runs_table import TableCache, runs_table_bytes
from board.runs_table import TagStats
from writer import SummaryWriter
from writer.proto import event_pb2, hparams_plugin_data_pb2

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "hparams_text"
EXPECTED = json.loads((DATA / "expected.json").read_text())


def oracle(steps, values):
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    lo = np.where(finite, values, np.inf).argmin()
    hi = np.where(finite, values, -np.inf).argmax()
    return {"count": len(values), "last": values[-1], "last_step": steps[-1],
            "min": values[lo], "min_step": steps[lo], "max": values[hi], "max_step": steps[hi]}


def stats_dict(s: TagStats):
    return {"count": s.count, "last": s.last, "last_step": s.last_step, "min": s.min,
            "min_step": s.min_step, "max": s.max, "max_step": s.max_step}


@pytest.mark.unit
@pytest.mark.parametrize("chunks", [[40], [1] * 40, [7, 1, 1, 20, 11], [39, 1]])
def test_tag_stats_in_any_chunking_match_the_oracle(chunks):
    rng = np.random.default_rng(sum(chunks) * len(chunks))
    values = rng.normal(size=40)
    values[[3, 17]] = np.nan
    values[25] = np.inf
    values[5] = values[30] = -4.0  # a tie: the first step wins
    steps = np.arange(40, dtype=np.int64) * 10
    walls = 1000.0 + np.arange(40)
    stats = TagStats()
    start = 0
    for k in chunks:
        stats.add(steps[start:start + k], walls[start:start + k], values[start:start + k])
        start += k
    assert stats_dict(stats) == oracle(steps, values)
    assert stats.min_step == 50 and stats.max_step != 250  # the tie; inf is not the max
    assert stats.last_wall_time == 1039.0


@pytest.mark.unit
def test_tag_stats_of_only_nan_has_no_min_or_max_and_json_nulls():
    s = TagStats.of(np.array([1, 2]), np.array([1.0, 2.0]), np.array([np.nan, np.nan]))
    assert s.as_list() == [None, 2, None, None, None, None, 2, 2.0]


def write_sweep(logdir, lrs=(0.1, 0.01)):
    for lr in lrs:
        with SummaryWriter(logdir / f"lr={lr}") as w:
            for step in range(5):
                w.add_scalar("loss", lr * (5 - step), step * 10)
                w.add_scalar("acc", 1 - lr / (step + 1), step * 10)
            w.add_hparams({"lr": lr, "optimizer": "adam", "batchnorm": lr > 0.05},
                          {"acc": 1 - lr / 5})


def named(body):
    """Rows by run name, each metric's list turned into a dict by `metric_fields`."""
    fields = body["metric_fields"]
    return {r["name"]: {**r, "metrics": {tag: dict(zip(fields, values, strict=True))
                                         for tag, values in r["metrics"].items()}}
            for r in body["runs"]}


def rows(board):
    """The table by run name; also checks that the incrementally kept body is exactly the
    one built from scratch, and that its gzip is one valid member of the same bytes."""
    store, cache = board.app.state.store, board.app.state.runs_table
    body = runs_table_bytes(store, cache)
    assert body == runs_table_bytes(store, TableCache())
    inflate = zlib.decompressobj(31)
    assert inflate.decompress(runs_table_bytes(store, cache, gzip=True)) == body
    assert inflate.eof and inflate.unused_data == b""
    return named(board.json("/api/runs/table"))


def test_rows_have_hparams_and_last_min_max(tmp_path, board_factory):
    write_sweep(tmp_path)
    board = board_factory(tmp_path).load()
    body = board.json("/api/runs/table")
    assert [r["name"] for r in body["runs"]] == ["lr=0.01", "lr=0.1"]
    assert body["columns"] == {"hparams": ["lr", "optimizer", "batchnorm"],
                               "metrics": ["acc", "loss"]}
    assert body["experiment_inferred"] is False
    row = rows(board)["lr=0.1"]
    assert row["hparams"] == {"lr": 0.1, "optimizer": "adam", "batchnorm": True}
    assert row["hparams_from"] == "lr=0.1" and row["status"] == "success"
    loss = row["metrics"]["loss"]
    assert loss["count"] == 5 and loss["last_step"] == 40
    assert loss["max"] == pytest.approx(0.5) and loss["max_step"] == 0
    assert loss["min"] == pytest.approx(0.1) and loss["min_step"] == 40
    acc = row["metrics"]["acc"]  # add_hparams wrote the metric at the last step logged
    assert acc["count"] == 6 and acc["last_step"] == 40 and acc["last"] == pytest.approx(0.98)


def test_rows_follow_new_points_runs_and_restarts(tmp_path, board_factory):
    path = write_events(tmp_path / "a" / "events.out.tfevents.1.h",
                        *[scalar_event("loss", v, s) for s, v in enumerate([3.0, 1.0, 2.0])])
    board = board_factory(tmp_path).load()
    assert rows(board)["a"]["metrics"]["loss"]["min"] == 1.0
    write_events(path, scalar_event("loss", 0.5, 3))
    write_events(tmp_path / "b" / "events.out.tfevents.1.h", scalar_event("x", 7.0, 0))
    board.load()
    table = rows(board)
    assert table["a"]["metrics"]["loss"]["min"] == 0.5
    assert table["a"]["metrics"]["loss"]["count"] == 4
    assert table["b"]["metrics"]["x"]["last"] == 7.0 and table["b"]["hparams"] == {}
    # a restart at step 1 drops steps >= 1; the stats are rebuilt from what is left
    write_events(path, event(step=1, session_log=event_pb2.SessionLog(
        status=event_pb2.SessionLog.START)), scalar_event("loss", 9.0, 1))
    board.load()
    loss = rows(board)["a"]["metrics"]["loss"]
    assert (loss["count"], loss["min"], loss["max"], loss["last"]) == (2, 3.0, 9.0, 9.0)


def test_sub_runs_show_their_sessions_hparams(tmp_path, board_factory):
    with SummaryWriter(tmp_path / "trial") as w:
        w.add_hparams({"lr": 0.3}, global_step=0)
    with SummaryWriter(tmp_path / "trial" / "validation") as w:
        w.add_scalar("loss", 1.0, 0)
    with SummaryWriter(tmp_path / "other") as w:
        w.add_scalar("loss", 2.0, 0)
    board = board_factory(tmp_path).load()
    table = rows(board)
    assert table["trial/validation"]["hparams"] == {"lr": 0.3}
    assert table["trial/validation"]["hparams_from"] == "trial"
    assert table["trial/validation"]["status"] is None
    assert table["other"]["hparams"] == {} and table["other"]["hparams_from"] is None
    kept = dict(board.app.state.runs_table.rows)
    with SummaryWriter(tmp_path / "trial") as w:  # a second session start replaces the first
        w.add_hparams({"lr": 0.5}, global_step=1)
    board.load()
    assert rows(board)["trial/validation"]["hparams"] == {"lr": 0.5}
    rows_now = board.app.state.runs_table.rows  # only the session and the runs below it
    assert sorted(n for n in kept if rows_now[n] is not kept[n]) == ["trial", "trial/validation"]


def hparams_event(tag, step=0, **data):
    ev = event(step=step)
    v = ev.summary.value.add(tag=tag)
    v.metadata.plugin_data.plugin_name = "hparams"
    v.metadata.plugin_data.content = hparams_plugin_data_pb2.HParamsPluginData(
        **data).SerializeToString()
    return ev


def test_sessions_without_an_experiment_infer_one(tmp_path, board_factory):
    for i, lr in enumerate([0.1, 0.2]):
        start = hparams_plugin_data_pb2.SessionStartInfo()
        start.hparams["lr"].number_value = lr
        start.hparams["opt"].string_value = ["adam", "sgd"][i]
        write_events(tmp_path / f"s{i}" / "events.out.tfevents.1.h",
                     hparams_event("_hparams_/session_start_info", session_start_info=start),
                     scalar_event("loss", 1.0, 0))
    body = board_factory(tmp_path).load().json("/api/runs/table")
    assert body["experiment_inferred"] is True
    assert body["experiment"]["hparams"] == [
        {"name": "lr", "display_name": "", "description": "", "type": "float64",
         "domain": {"min": 0.1, "max": 0.2}},
        {"name": "opt", "display_name": "", "description": "", "type": "string",
         "domain": {"values": ["adam", "sgd"]}}]
    assert [(m["tag"], m["group"]) for m in body["experiment"]["metrics"]] == [("loss", "")]
    assert {r["name"]: r["status"] for r in body["runs"]} == {"s0": "running", "s1": "running"}


def test_bad_hparams_data_is_a_note_and_the_run_is_still_served(tmp_path, board_factory):
    good = hparams_plugin_data_pb2.SessionStartInfo()
    good.hparams["lr"].number_value = 0.1
    good.hparams["layers"].list_value.values.add().number_value = 3
    odd = hparams_event("_hparams_/experiment", version=2, experiment={"name": "x"})
    garbage = hparams_event("_hparams_/session_end_info")
    garbage.summary.value[0].metadata.plugin_data.content = b"\x08\xff\xff"
    write_events(tmp_path / "r" / "events.out.tfevents.1.h", odd, garbage,
                 hparams_event("_hparams_/session_start_info", session_start_info=good),
                 scalar_event("loss", 1.5, 3))
    board = board_factory(tmp_path).load()
    row = rows(board)["r"]
    assert row["hparams"] == {"lr": 0.1, "layers": "[3.0]"}
    assert row["metrics"]["loss"]["last"] == 1.5
    (run,) = board.json("/api/runs")["runs"]
    first, second, third = run["errors"]
    assert first == ("_hparams_/experiment: hparams plugin data version 2 is not supported "
                     "(only version 0 exists)")
    assert second.startswith("_hparams_/session_end_info: hparams plugin data of 3 bytes "
                             "does not parse")
    assert third == "_hparams_/session_start_info: hparam 'layers' holds a list, shown as text"
    assert board.get("/api/scalars", params={"run": "r", "tag": "loss"}).status_code == 200


def test_the_answer_is_reused_until_the_store_changes(tmp_path, board_factory):
    write_sweep(tmp_path)
    board = board_factory(tmp_path).load()
    first = board.get("/api/runs/table").content
    cache = board.app.state.runs_table
    body = cache.body
    assert board.get("/api/runs/table").content == first and cache.body is body
    gz = board.get("/api/runs/table", headers={"accept-encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.content == first
    kept = dict(cache.rows)
    write_events(tmp_path / "new" / "events.out.tfevents.1.h", scalar_event("loss", 1.0, 0))
    write_events(tmp_path / "lr=0.1" / "events.out.tfevents.9.h", scalar_event("loss", 0.0, 99))
    board.load()
    assert "new" in rows(board) and cache.body is not body
    assert cache.rows["lr=0.01"] is kept["lr=0.01"]  # an unchanged run is not re-encoded
    assert cache.rows["lr=0.1"] is not kept["lr=0.1"]


# -- every writer's real files --------------------------------------------------------------


def group_hparams(writer):
    groups = EXPECTED[writer]["backend"]["session_groups"]["sessionGroups"]
    return {s["name"]: g["hparams"] for g in groups for s in g["sessions"]}


@pytest.mark.compat
@pytest.mark.parametrize("writer", ["tf2", "tf2_sessions", "torch", "tensorboardx"])
def test_every_writers_sessions_match_tensorboards_hparams_backend(writer, board_factory):
    body = board_factory(DATA / writer).load().json("/api/runs/table")
    ours = {r["name"]: r["hparams"] for r in body["runs"] if r["hparams_from"] == r["name"]}
    assert ours == group_hparams(writer)
    theirs = EXPECTED[writer]["backend"]["experiment"]
    types = {h["name"]: "DATA_TYPE_" + h["type"].upper() for h in body["experiment"]["hparams"]}
    assert types == {h["name"]: h["type"] for h in theirs["hparamInfos"]}
    metrics = {(m["group"], m["tag"]) for m in body["experiment"]["metrics"]}
    assert metrics == {(m["name"].get("group", ""), m["name"]["tag"])
                       for m in theirs["metricInfos"]}
    assert body["experiment_inferred"] is (writer == "tf2_sessions")


@pytest.mark.compat
def test_tf2_domains_and_metric_values_match_tensorboard(board_factory):
    body = board_factory(DATA / "tf2").load().json("/api/runs/table")
    theirs = {h["name"]: h for h in EXPECTED["tf2"]["backend"]["experiment"]["hparamInfos"]}
    for h in body["experiment"]["hparams"]:
        if "domainInterval" in theirs[h["name"]]:
            iv = theirs[h["name"]]["domainInterval"]
            assert h["domain"] == {"min": iv["minValue"], "max": iv["maxValue"]}
        else:
            assert h["domain"] == {"values": theirs[h["name"]]["domainDiscrete"]}
    table = named(body)
    assert table["run-1/validation"]["hparams_from"] == "run-1"
    for group in EXPECTED["tf2"]["backend"]["session_groups"]["sessionGroups"]:
        session = group["sessions"][0]["name"]
        for metric in group["metricValues"]:
            run = "/".join(p for p in (session, metric["name"].get("group", "")) if p)
            got = table[run]["metrics"][metric["name"]["tag"]]
            assert (got["last"], got["last_step"]) == (metric["value"], metric["trainingStep"])
