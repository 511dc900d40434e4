"""Runs the atheris target (fuzz_atheris.py) for a bounded number of inputs (SPEC §9).

atheris is optional (``pip install atheris``); without it these tests skip and say so.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from relsupport import record_figure

pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")

TARGET = Path(__file__).with_name("fuzz_atheris.py")


def run_atheris(tmp_path, *flags: str, timeout: float) -> None:
    corpus = tmp_path / "corpus"
    out = subprocess.run([sys.executable, str(TARGET), str(corpus), "-seed=1", "-max_len=4096",
                          *flags], capture_output=True, text=True, timeout=timeout)
    log = out.stdout + out.stderr
    assert out.returncode == 0, f"atheris found a crash:\n{log[-4000:]}"
    done = re.search(r"Done (\d+) (?:runs )?in", log)
    cov = re.findall(r"cov: (\d+)", log)
    record_figure("atheris", runs=int(done.group(1)) if done else None,
                  coverage=int(cov[-1]) if cov else None, flags=list(flags))


@pytest.mark.unit
@pytest.mark.timeout(180)
def test_atheris_short(tmp_path):
    run_atheris(tmp_path, "-atheris_runs=20000", timeout=170)


@pytest.mark.unit
@pytest.mark.stress
@pytest.mark.timeout(1500)
def test_atheris_long(tmp_path):
    run_atheris(tmp_path, "-atheris_runs=3000000", "-max_total_time=1200", timeout=1450)
