"""docker/docker-compose.s3.yml, checked statically like docker-compose.yml (no docker here):
valid against the Compose Specification, the trainer writes to the bucket the board reads,
both reach the S3 service on the port it listens on, and the bucket exists before either
starts."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.unit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
COMPOSE = REPO / "docker" / "docker-compose.s3.yml"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def _arg(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_valid_against_the_spec(compose):
    schema = json.loads((HERE / "compose-spec.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose))
    assert not errors, [e.message for e in errors]


def test_trainer_writes_the_bucket_the_board_reads(compose):
    services = compose["services"]
    board_logdir = _arg(services["board"]["command"], "--logdir")
    trainer_logdir = _arg(services["trainer"]["command"], "--logdir")
    assert board_logdir.startswith("s3://") and trainer_logdir.startswith(board_logdir + "/")
    script = services["trainer"]["command"][1]
    assert (REPO / script).is_file()
    assert "--bind_all" in services["board"]["command"]
    assert any(str(p).endswith("6006:6006") for p in services["board"]["ports"])


def test_clients_reach_the_s3_service_on_its_port(compose):
    services = compose["services"]
    port = next(a.split("=")[1] for a in services["s3"]["command"] if a.startswith("-s3.port="))
    for name in ("board", "trainer", "bucket"):
        endpoint = urlparse(services[name]["environment"]["AWS_ENDPOINT_URL"])
        assert endpoint.hostname == "s3" and str(endpoint.port) == port, name


def test_the_bucket_is_made_before_the_trainer_and_board_start(compose):
    services = compose["services"]
    bucket = urlparse(_arg(services["board"]["command"], "--logdir")).netloc
    script = services["bucket"]["command"][2]
    compile(script, "bucket", "exec")
    assert f"'{bucket}'" in script
    for name in ("board", "trainer"):
        assert services[name]["depends_on"]["bucket"]["condition"] == \
            "service_completed_successfully"
