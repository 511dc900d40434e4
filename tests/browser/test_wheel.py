"""What `pip install numboard` gives a user: the sdist and the wheel built from it with
`python -m build`, installed (with its dependencies, from pip's index and cache) into a fresh
virtualenv outside the source tree, serve the whole page (SPEC §6, STYLE 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .conftest import Board
from .helpers import traces, wait_card_drawn, wait_scalars_ready
from .logdirs import realistic

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
FRONTEND = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "frontend").rglob("*")
                  if p.is_file())


def _run(argv: list[str], cwd: Path, timeout: float) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist, and the wheel built from that sdist (python -m build's default)."""
    try:
        import build  # noqa: F401  (only to say what is missing)
    except ImportError as exc:
        pytest.skip(f"the build package is missing ({exc}); pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], REPO, 600)
    return out


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh virtualenv, outside the source tree, with the wheel and its dependencies."""
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], home, 120)
    (wheel,) = dist.glob("numboard-*.whl")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
         home, 900)
    return venv


def test_the_sdist_and_the_wheel_carry_every_frontend_file(dist):
    (sdist,) = dist.glob("numboard-*.tar.gz")
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert set(FRONTEND) <= in_sdist, set(FRONTEND) - in_sdist
    (wheel,) = dist.glob("numboard-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
    assert {f"board/{path}" for path in FRONTEND} <= in_wheel
    assert not any(name.startswith("frontend/") for name in in_wheel)  # no top-level package


def test_the_installed_board_serves_the_page_and_draws_scalars(installed, tmp_path,
                                                               playwright_browser):
    venv_python = installed / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import board.static as s; print(s.frontend_dir())"],
        cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(installed), where  # not the checkout's frontend/
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    board = Board(realistic(tmp_path / "logs", steps=40), executable=installed / "bin" / "board",
                  cwd=tmp_path, env=env).wait_loaded()
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        statuses = {}
        page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
        page.goto(board.url)
        wait_scalars_ready(page)
        wait_card_drawn(page, "loss/train")
        assert {t["run"] for t in traces(page, "loss/train")} == {
            "mlp/lr=0.1", "mlp/lr=0.03", "mlp/lr=0.01"}
        plotly = [url for url in statuses if url.endswith("/static/plotly.min.js")]
        assert plotly and all(statuses[url] == 200 for url in plotly), statuses
        assert page.evaluate("typeof Plotly.react") == "function"
        assert page.title() == "numboard"
    finally:
        context.close()
        board.stop()
