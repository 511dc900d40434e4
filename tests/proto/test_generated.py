"""The committed *_pb2.py / *_pb2.pyi files are exactly what `make proto` generates."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "writer" / "proto"


@pytest.mark.unit
def test_committed_code_matches_a_fresh_generation(tmp_path):
    sources = sorted(p.relative_to(ROOT).as_posix() for p in PROTO_DIR.glob("*.proto"))
    assert len(sources) >= 20
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", str(ROOT),
         f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", *sources],
        check=True, cwd=ROOT,
    )
    fresh = sorted((tmp_path / "writer" / "proto").iterdir())
    assert len(fresh) == 2 * len(sources)
    stale = [p.name for p in fresh if p.read_bytes() != (PROTO_DIR / p.name).read_bytes()]
    assert not stale, f"run `make proto`: these differ from their .proto sources: {stale}"
