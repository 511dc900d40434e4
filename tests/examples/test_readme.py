"""README.md stays true: its Python examples run, its flag table is `board --help`'s, and every
repository path it names exists (the compatibility table points at the tests that back it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from board.cli import parser as board_parser

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_has_the_writer_and_flow_examples():
    assert len(PYTHON_BLOCKS) == 2
    assert "from writer import SummaryWriter" in PYTHON_BLOCKS[0]
    assert "import flow as tf" in PYTHON_BLOCKS[1]


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example_runs_and_writes_a_run(tmp_path, index):
    script = tmp_path / "example.py"
    script.write_text(PYTHON_BLOCKS[index])
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "logs").glob("*/events.out.tfevents.*")), done.stdout


def test_flag_table_matches_board_help():
    documented = set(re.findall(r"^\| `(--[a-z_]+)", README, re.M))
    actual = {opt for action in board_parser()._actions for opt in action.option_strings
              if opt.startswith("--") and opt != "--help"}
    assert documented == actual


def test_every_repository_path_named_exists():
    names = set(re.findall(r"`((?:tests|examples|docker|docs|benchmarks)/[\w./-]+)`", README))
    names |= set(re.findall(r"\]\(((?:docs)/[\w./-]+)\)", README))
    assert len(names) > 10
    missing = sorted(n for n in names if not (REPO / n.rstrip("/")).exists())
    assert not missing, missing
