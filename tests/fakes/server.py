"""The HTTP server under the suite's fake upstreams (Anthropic, Stripe, the S3 gate): a handler's
exception fails the test instead of being printed and forgotten.

socketserver catches whatever a request handler raises, prints it and serves on, so a bug in a fake
(or a request it cannot parse) would leave a test green on a half-answered request. Here it ends the
request's thread with the exception instead; pytest reports a thread's unhandled exception, and
pyproject.toml makes that report an error. A client that hung up first (``ConnectionError``: it
timed out, as the fault tests make it) is the client's business, not the server's, and is let go.
A test that makes a fake's thread die on purpose says so with the ``thread_deaths`` fixture.
"""

from __future__ import annotations

import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any


class StrictHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    thread_name = "fake-http"  # request threads are named "<thread_name>-request"

    def process_request(self, request: Any, client_address: Any) -> None:
        threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{self.thread_name}-request",
            daemon=True,
        ).start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called from socketserver's ``except Exception:`` around the handler: re-raise what it caught.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        raise
