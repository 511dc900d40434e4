"""docs/http_api.md documents every route the app serves (datasette's test_docs idea)."""

import re
from pathlib import Path

import pytest

from board.app import create_app, route_paths

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs" / "http_api.md"


def documented() -> set[str]:
    return set(re.findall(r"^### `GET ([^`]+)`", DOC.read_text(), flags=re.M))


def test_every_route_is_documented(tmp_path):
    paths = {p.replace("{path:path}", "{path}") for p in route_paths(create_app(tmp_path))}
    missing = sorted(paths - documented())
    assert not missing, f"routes missing from docs/http_api.md: {missing}"


def test_the_doc_names_no_route_that_does_not_exist(tmp_path):
    paths = {p.replace("{path:path}", "{path}") for p in route_paths(create_app(tmp_path))}
    extra = sorted(documented() - paths)
    assert not extra, f"docs/http_api.md documents routes the app lacks: {extra}"


def test_spec_routes_are_present(tmp_path):
    paths = set(route_paths(create_app(tmp_path)))
    for path in ["/healthz", "/api/runs", "/api/scalars", "/api/images", "/api/image",
                 "/api/histograms", "/api/graph", "/api/stream", "/data/runs",
                 "/data/plugin/scalars/tags", "/data/plugin/scalars/scalars",
                 "/data/plugin/images/tags", "/openapi.json", "/docs"]:
        assert path in paths
