"""Integration tests of /api/scalars/export: the selected runs × tags as one zip of CSVs or
one JSON, every point, within a points budget (docs/http_api.md)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from boardkit import scalar_event, write_events

from board.errors import BadRequest
from board.plugins.export import archive_name, export_json_impl, export_zip_impl

pytestmark = pytest.mark.integration

EV = "events.out.tfevents.1700000000.host"


@pytest.fixture
def board(board_factory, tmp_path):
    for k, run in enumerate(["a", "b/c", "up_evil"]):
        target = tmp_path / run
        write_events(target / EV, *(scalar_event("loss/train", 1.0 / (i + 1 + k), i)
                                    for i in range(50)))
        write_events(target / EV.replace("host", "host2"),
                     *(scalar_event("acc", 0.5 + k, i) for i in range(3)))
    write_events(tmp_path / "only_loss" / EV, scalar_event("loss/train", 9.0, 0))
    return board_factory(tmp_path).load()


def unzip(content: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: list(csv.reader(io.StringIO(archive.read(name).decode())))
                for name in archive.namelist()}


def test_zip_holds_one_csv_per_existing_series_with_every_point(board):
    resp = board.client.get("/api/scalars/export",
                            params={"run": ["a", "b/c", "only_loss"], "tag": ["loss/train", "acc"]})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/zip"
    assert 'filename="scalars.zip"' in resp.headers["content-disposition"]
    files = unzip(resp.content)
    # only_loss has no "acc": that pair is skipped, not an error
    assert sorted(files) == ["a/acc.csv", "a/loss__train.csv", "b/c/acc.csv",
                             "b/c/loss__train.csv", "only_loss/loss__train.csv"]
    rows = files["b/c/loss__train.csv"]
    assert rows[0] == ["step", "wall_time", "value"] and len(rows) == 51
    single = board.client.get("/api/scalars", params={"run": "b/c", "tag": "loss/train",
                                                      "format": "csv"}).text
    assert rows == list(csv.reader(io.StringIO(single)))


def test_left_out_runs_and_tags_mean_all(board):
    files = unzip(board.client.get("/api/scalars/export").content)
    assert len(files) == 7  # a, b/c, up_evil: 2 tags each; only_loss: 1
    json_body = board.json("/api/scalars/export", params={"format": "json", "tag": "acc"})
    assert [(s["run"], s["tag"]) for s in json_body["series"]] == [
        ("a", "acc"), ("b/c", "acc"), ("up_evil", "acc")]
    assert json_body["total_points"] == 9
    assert json_body["series"][1]["value"] == [1.5, 1.5, 1.5]


def test_json_matches_the_store(board):
    body = export_json_impl(board.app.state.store, ["a"], ["loss/train"])
    series = body["series"][0]
    assert series["step"] == list(range(50))
    assert series["value"] == pytest.approx([1.0 / (i + 1) for i in range(50)], rel=1e-6)


def test_budget_refuses_a_selection_that_is_too_big(board):
    store = board.app.state.store
    with pytest.raises(BadRequest, match=r"holds 151 points in 4 series.*select fewer"):
        export_zip_impl(store, None, ["loss/train"], budget=149)
    with pytest.raises(BadRequest, match="holds 151 points"):
        export_json_impl(store, None, ["loss/train"], budget=100)
    assert export_json_impl(store, None, ["loss/train"], budget=151)["total_points"] == 151


def test_unknown_run_and_empty_selection_are_404(board):
    resp = board.client.get("/api/scalars/export", params={"run": "nope"})
    assert resp.status_code == 404 and "unknown run 'nope'" in resp.json()["error"]["message"]
    resp = board.client.get("/api/scalars/export", params={"tag": "missing"})
    assert resp.status_code == 404
    assert "no scalar series in the selection" in resp.json()["error"]["message"]
    resp = board.client.get("/api/scalars/export", params={"format": "xml"})
    assert resp.status_code == 422


@pytest.mark.parametrize(("run", "tag", "name"), [
    ("../../etc", "passwd", "_/_/etc/passwd.csv"),
    ("/abs/run", "a/b", "abs/run/a__b.csv"),
    (".", "loss", "_root/loss.csv"),
    ("r", "..", "r/_.csv"),
    ("r", "<img src=x>", "r/_img_src=x_.csv"),
])
def test_archive_names_never_leave_the_folder(run, tag, name):
    assert archive_name(run, tag) == name
