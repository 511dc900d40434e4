"""/api/runs?compact=1: what the page asks for, per run only what it uses, each tag set once."""

from __future__ import annotations

import pytest

from writer import SummaryWriter

pytestmark = pytest.mark.integration


@pytest.fixture
def board(board_factory, tmp_path):
    for run, tags in {"a": ["loss", "acc"], "b": ["loss", "acc"], "c": ["loss"]}.items():
        with SummaryWriter(str(tmp_path / run)) as w:
            for tag in tags:
                w.add_scalar(tag, 1.0, 0)
    return board_factory(tmp_path).load()


def test_compact_runs_list_each_tag_set_once_and_only_what_the_page_uses(board):
    full = board.json("/api/runs")
    compact = board.json("/api/runs?compact=1")
    assert [r["name"] for r in compact["runs"]] == ["a", "b", "c"]
    assert all(set(r) == {"name", "tag_set", "has_graph", "corrupt_records"}
               for r in compact["runs"])  # run_metadata only for runs that have some
    assert [r["tag_set"] for r in compact["runs"]] == [0, 0, 1]
    for short, run in zip(compact["runs"], full["runs"], strict=True):
        assert compact["tag_sets"][short["tag_set"]] == run["tags"]
    assert {k: v for k, v in compact.items() if k not in ("runs", "tag_sets")} == \
        {k: v for k, v in full.items() if k != "runs"}
    assert len(board.get("/api/runs?compact=1").content) < len(board.get("/api/runs").content)
    assert board.get("/api/runs?compact=maybe").status_code == 422
