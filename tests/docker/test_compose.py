"""docker/docker-compose.yml against the Compose Specification's JSON schema (SPEC §7).

`compose-spec.json` is vendored unchanged from the compose-spec project (Apache-2.0):
github.com/compose-spec/compose-spec, schema/compose-spec.json at commit
00655e2222608fa6eaecdf12ac5195889ca2244a. No `docker compose` exists on these machines, so
the schema is the validator; the rest checks what the deploy needs: the board serving the
shared logs read-only on 6006, the trainer writing into the same folder, the token passed
through.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from dockerfile_parse import parse, stages

pytestmark = pytest.mark.unit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
COMPOSE = REPO / "docker" / "docker-compose.yml"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((HERE / "compose-spec.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def mounts(service) -> list[dict]:
    """Volumes of a service in the long form (short `src:dst[:ro]` strings converted)."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, str):
            src, dst, *mode = v.split(":")
            v = {"type": "bind", "source": src, "target": dst, "read_only": mode == ["ro"]}
        out.append(v)
    return out


def test_compose_file_is_valid_against_the_spec(validator, compose):
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_rejects_what_compose_would_reject(validator, compose):
    bad = copy.deepcopy(compose)
    bad["services"]["board"]["portz"] = ["6006:6006"]
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(compose)
    bad["services"]["board"]["volumes"][0]["type"] = "folder"
    assert not validator.is_valid(bad)


def test_board_serves_the_logs_read_only_on_6006(compose):
    board = compose["services"]["board"]
    assert any(str(p).split(":")[-2:] == ["6006", "6006"] for p in board["ports"]), board["ports"]
    logs = [m for m in mounts(board) if m["target"] == "/logs"]
    assert logs and logs[0]["read_only"] is True
    command = board.get("command")
    assert command is None or ("--bind_all" in command and "/logs" in command)


def test_trainer_writes_into_the_folder_the_board_reads(compose):
    board, trainer = compose["services"]["board"], compose["services"]["trainer"]
    board_src = {m["source"] for m in mounts(board) if m["target"] == "/logs"}
    trainer_logs = [m for m in mounts(trainer) if m["target"] == "/logs"]
    assert trainer_logs and trainer_logs[0]["source"] in board_src
    assert not trainer_logs[0].get("read_only", False)
    scripts = [w for w in trainer["command"] if w.endswith(".py")]
    assert scripts and all((REPO / s).is_file() for s in scripts), trainer["command"]
    assert any(w.startswith("/logs/") for w in trainer["command"])


def test_auth_token_is_passed_through_from_the_host(compose):
    env = compose["services"]["board"]["environment"]
    # list form with a bare name: the host's value when set, absent otherwise
    assert "BOARD_AUTH_TOKEN" in env if isinstance(env, list) else env.get("BOARD_AUTH_TOKEN")


@pytest.mark.parametrize("service", ["board", "trainer"])
def test_build_points_at_the_dockerfile_and_a_real_stage(compose, service):
    build = compose["services"][service]["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == REPO
    dockerfile = context / build["dockerfile"]
    names = {s.name for s in stages(parse(dockerfile.read_text()))}
    assert build["target"] in names
