"""Under CI, a skipped test fails the run unless its reason is on ``ALLOWED`` below.

Every skip condition in the suite (no MariaDB, no Redis, no Chromium, …) is met by ``.ci/run`` and by
the GitHub workflow, so a skip there means a missing service or install step quietly turned a check
off. Locally (``CI`` unset) skips stay skips.
"""

from __future__ import annotations

import os

import pytest

# reason substring -> why it may skip even under CI. Keep it short; every entry needs a reason.
ALLOWED: dict[str, str] = {}

_unexpected: list[tuple[str, str]] = []


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _reason(report)
        if not any(allowed in reason for allowed in ALLOWED):
            _unexpected.append((report.nodeid, reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected and os.environ.get("CI", "").lower() in ("1", "true", "yes") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unexpected and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        terminalreporter.section("unexpected skips under CI (tests/skip_guard.py)", red=True)
        for nodeid, reason in _unexpected:
            terminalreporter.line(f"{nodeid}: {reason}")
        terminalreporter.line(f"{len(_unexpected)} failed: skipped under CI without an allowed reason")
