"""The CI skip guard (tests/skip_guard.py): a skip fails the run under CI unless its reason is allowed."""

from __future__ import annotations

import pytest

from tests.servers import ROOT

SUITE = """
import pytest

def test_runs():
    assert True

@pytest.mark.skipif(True, reason="needs a service that is not here")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    pytester.makepyfile(test_inner=SUITE)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    def go(ci: str | None) -> pytest.RunResult:
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        return pytester.runpytest_subprocess("-p", "tests.skip_guard", "-p", "no:django", "-p", "no:cacheprovider")

    return go


def test_a_skip_fails_the_run_under_ci(run):
    result = run("true")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*unexpected skips under CI*", "*test_inner.py::test_skipped: needs a service*"])


def test_a_skip_is_only_a_skip_outside_ci(run):
    result = run(None)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)


def test_an_allowed_reason_may_skip_under_ci(run, pytester: pytest.Pytester):
    pytester.makeconftest("import tests.skip_guard as g\ng.ALLOWED['needs a service'] = 'allowed in this test'\n")
    assert run("true").ret == pytest.ExitCode.OK
