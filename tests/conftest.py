"""Suite-wide rules: in CI (CI=true) the browser and compat tiers may not skip."""

import os

import pytest

MUST_RUN_IN_CI = {"browser", "compat"}


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
