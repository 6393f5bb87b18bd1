"""Threads that die fail the test: the fake servers' and the S3 gate's handler errors end their
thread (tests/fakes/server.py), pyproject.toml makes pytest's report of it an error, and a test that
expects a death names it with the ``thread_deaths`` fixture (tests/conftest.py)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from tests.fakes.server import StrictHTTPServer


class _Exploding(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        raise ValueError("a bug in a fake server")

    def log_message(self, *args):
        pass


def test_an_exception_in_a_fake_server_ends_its_thread_where_pytest_sees_it(thread_deaths):
    thread_deaths.expect("exploding-request", ValueError)
    server = StrictHTTPServer(("127.0.0.1", 0), _Exploding)
    server.thread_name = "exploding"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(requests.ConnectionError):  # the handler died without answering
            requests.get(f"http://127.0.0.1:{server.server_address[1]}/", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    deadline = time.monotonic() + 5
    while not thread_deaths.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(name, type(exc)) for name, exc in thread_deaths.seen] == [("exploding-request", ValueError)]


def test_an_unexpected_thread_death_fails_the_test(pytester):
    """pyproject.toml's filter turns pytest's thread-exception warning into a failure."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    filters = config["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert "error::pytest.PytestUnhandledThreadExceptionWarning" in filters
    pytester.makepyfile(
        """
        import threading

        def test_dies():
            thread = threading.Thread(target=lambda: 1 / 0, name="fake-x-request")
            thread.start()
            thread.join()
        """
    )
    warning_args = [arg for f in filters for arg in ("-W", f)]
    result = pytester.runpytest_subprocess(*warning_args, "-p", "no:django", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Exception in thread fake-x-request*"])
