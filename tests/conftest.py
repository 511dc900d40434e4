"""Suite-wide rules: in CI (CI=true) the browser, compat and s3 tiers may not skip; figures a
test measures (never asserts) are printed in a "measurements" section at the end of the run."""

import os

import pytest

MUST_RUN_IN_CI = {"browser", "compat", "s3"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() != "true" or not report.skipped:
        return
    tiers = MUST_RUN_IN_CI & {m.name for m in item.iter_markers()}
    if tiers:
        report.outcome = "failed"
        report.longrepr = f"{sorted(tiers)} tests must run in CI, but this one skipped: {report.longrepr}"


_MEASUREMENTS_KEY = pytest.StashKey[list]()


@pytest.fixture
def report_measurement(request):
    """report_measurement("what: figure") adds a line to the end-of-run measurements section."""
    lines = request.config.stash.setdefault(_MEASUREMENTS_KEY, [])
    return lambda line: lines.append(f"{request.node.nodeid}: {line}")


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(_MEASUREMENTS_KEY, [])
    if lines:
        terminalreporter.section("measurements")
        for line in lines:
            terminalreporter.write_line(line)
