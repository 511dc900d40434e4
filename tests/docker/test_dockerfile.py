"""Static checks of docker/Dockerfile and .dockerignore (no Docker engine on these machines).

SPEC §7: slim Python base, non-root user, EXPOSE 6006, `board --logdir /logs --bind_all`,
a HEALTHCHECK on /healthz; plus: every COPY source exists and is not ignored, and the image
installs the wheel a build stage makes from this project (no editable source tree).
"""

from __future__ import annotations

import fnmatch
import re
import sys
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import healthcheck_command, parse, stages

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "docker"))
import healthcheck  # noqa: E402  (docker/ is not a package)

pytestmark = pytest.mark.unit

DOCKERFILE = REPO / "docker" / "Dockerfile"


@pytest.fixture(scope="module")
def all_stages():
    return stages(parse(DOCKERFILE.read_text()))


def stage_named(all_stages, name):
    for stage in all_stages:
        if stage.name == name:
            return stage
    raise AssertionError(f"no stage {name!r}; stages: {[s.name for s in all_stages]}")


def command_of(all_stages, stage) -> list[str]:
    """ENTRYPOINT + CMD in force for a stage, following FROM <earlier stage> inheritance."""
    chain = [stage]
    names = {s.name: s for s in all_stages if s.name}
    while chain[-1].base in names:
        chain.append(names[chain[-1].base])
    entrypoint = cmd = None
    for s in reversed(chain):
        for ins in s.instructions:
            if ins.keyword == "ENTRYPOINT":
                entrypoint, cmd = ins.words(), None  # a new ENTRYPOINT resets CMD
            elif ins.keyword == "CMD":
                cmd = ins.words()
    return (entrypoint or []) + (cmd or [])


def effective_user(all_stages, stage, before_line: int) -> str:
    names = {s.name: s for s in all_stages if s.name}
    chain = [stage]
    while chain[-1].base in names:
        chain.append(names[chain[-1].base])
    user = "root"
    for s in reversed(chain):
        for ins in s.instructions:
            if ins.keyword == "USER" and (s is not stage or ins.line < before_line):
                user = ins.words()[0]
    return user


def test_parser_reads_continuations_and_exec_form():
    text = 'FROM python:3.11-slim AS a\n# c\nRUN echo 1 \\\n    && echo 2\nCMD ["x", "y z"]\n'
    (stage,) = stages(parse(text))
    assert stage.name == "a" and stage.base == "python:3.11-slim"
    assert stage.all("RUN")[0].args == "echo 1 && echo 2"
    assert stage.all("CMD")[0].words() == ["x", "y z"]


def test_every_stage_starts_from_slim_python_or_an_earlier_stage(all_stages):
    seen = set()
    for stage in all_stages:
        assert stage.base in seen or re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", stage.base), (
            f"stage {stage.name!r} starts FROM {stage.base!r}, expected python:3.11-slim"
        )
        seen.add(stage.name)


def test_default_target_serves_board_on_all_interfaces(all_stages):
    final = all_stages[-1]
    assert final.name == "board", "the board must be the last (default) stage"
    assert command_of(all_stages, final) == [
        "board", "--logdir", "/logs", "--bind_all", "--port", "6006"]
    exposed = [w for ins in final.all("EXPOSE") for w in ins.words()]
    assert "6006" in exposed or "6006/tcp" in exposed


@pytest.mark.parametrize("target", ["board", "trainer"])
def test_runs_as_non_root(all_stages, target):
    stage = stage_named(all_stages, target)
    starts = [i.line for i in stage.instructions if i.keyword in ("CMD", "ENTRYPOINT")]
    assert starts, f"stage {target!r} has no CMD/ENTRYPOINT"
    user = effective_user(all_stages, stage, before_line=min(starts))
    assert user.split(":")[0] not in ("root", "0"), f"stage {target!r} runs as {user!r}"


def test_healthcheck_runs_the_healthz_script_with_python(all_stages):
    stage = stage_named(all_stages, "board")
    (check,) = stage.all("HEALTHCHECK")
    words = healthcheck_command(check)
    assert words[0] in ("python", "python3"), f"slim images have no curl: {words[0]!r}"
    copies = {ins.words()[-1]: ins.words()[0] for ins in stage.all("COPY")}
    assert copies.get(words[1]) == "docker/healthcheck.py", (words, copies)
    assert healthcheck.DEFAULT_URL == "http://127.0.0.1:6006/healthz"


def test_trainer_runs_an_example_that_exists(all_stages):
    words = command_of(all_stages, stage_named(all_stages, "trainer"))
    scripts = [w for w in words if w.endswith(".py")]
    assert scripts and all((REPO / s).is_file() for s in scripts), words


def test_a_build_stage_makes_the_wheel_from_the_whole_source(all_stages):
    build = [s for s in all_stages if any(re.search(r"python -m build\b", i.args)
                                          for i in s.all("RUN"))]
    assert len(build) == 1, "one stage runs python -m build"
    copied = {w for ins in build[0].all("COPY") for w in ins.words()[:-1]}
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    needed = {"pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "frontend"}
    needed |= {pattern.rstrip("*") for pattern in packages}
    assert needed <= copied, f"the build stage misses {sorted(needed - copied)}"


@pytest.mark.parametrize("target", ["board", "trainer"])
def test_the_image_installs_the_built_wheel_not_the_source_tree(all_stages, target):
    names = {s.name: s for s in all_stages if s.name}
    chain = [stage_named(all_stages, target)]
    while chain[-1].base in names:
        chain.append(names[chain[-1].base])
    runs = [i.args for s in chain for i in s.all("RUN")]
    assert not any(re.search(r"pip install (-e|--editable)\b", r) for r in runs), runs
    assert any(re.search(r"pip install \S*(\$\(ls )?/dist/numboard-\*\.whl", r) for r in runs), runs
    copies = [i.words() for s in chain for i in s.all("COPY")]
    froms = [w for w in copies if any(x.startswith("--from=") for x in w)]
    assert froms and all(w[-1] == "/dist" for w in froms), froms
    sources = {w for words in copies for w in words[:-1] if not w.startswith("--")}
    assert not sources & {"board", "frontend", "writer", "flow", "."}, sources


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        matched = any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.replace("**/", ""))
                      for p in prefixes)
        if matched:
            result = not negate
    return result


def test_every_copy_source_exists_and_is_not_dockerignored(all_stages):
    patterns = dockerignore_patterns()
    for stage in all_stages:
        for ins in stage.all("COPY"):
            if any(w.startswith("--from=") for w in ins.words()):
                continue  # copies from an earlier stage, not from the build context
            words = [w for w in ins.words() if not w.startswith("--")]
            for source in words[:-1]:
                assert (REPO / source).exists(), f"line {ins.line}: COPY {source!r} is missing"
                assert not ignored(source, patterns), f"line {ins.line}: {source!r} is ignored"


def test_dockerignore_keeps_the_virtualenv_and_logs_out():
    patterns = dockerignore_patterns()
    for path in (".venv", ".git", "logs", "board/__pycache__"):
        assert ignored(path, patterns), path
    assert not ignored("board/app.py", patterns)
