"""The TypeScript client (clients/typescript/) type-checks under ``tsc --strict`` and walks a
frontend's journey against a live server: a schema change that breaks a frontend fails here.

The server is pytest-django's ``live_server`` (this process, the test database) with files on S3 (a
moto server) and the fake Anthropic server. The journey reads the emails a user would click through
from a small mailbox server over the test outbox. ``make client-deps`` installs the pinned npm
packages (``make test`` runs it first); the test runs it too when they are missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"

pytestmark = [pytest.mark.slow, pytest.mark.integration]


class _Mailbox(BaseHTTPRequestHandler):
    """GET /?to=<address> -> {"body": text of the last email to it}, or 404."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        address = parse_qs(urlsplit(self.path).query).get("to", [""])[0]
        sent = [m for m in mail.outbox if address in m.to]
        status, payload = (200, {"body": sent[-1].body}) if sent else (404, {"body": ""})
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def mailbox() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mailbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _npm(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    assert npm, "Node.js and npm are needed for the TypeScript client (clients/typescript/README.md)"
    return subprocess.run(  # noqa: S603 — our own scripts
        [npm, *args], cwd=CLIENT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def client_deps() -> None:
    """The pinned packages (``npm ci``, as ``make client-deps``), installed when missing or stale."""
    marker = CLIENT / "node_modules" / ".package-lock.json"
    lock = CLIENT / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        done = _npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
        assert done.returncode == 0, done.stdout + done.stderr


def test_generated_types_are_those_of_the_committed_schema(client_deps: None, tmp_path: Path) -> None:
    """``make client`` was run after the last schema change (src/schema.d.ts is committed)."""
    out = tmp_path / "schema.d.ts"
    done = subprocess.run(  # noqa: S603
        [
            str(CLIENT / "node_modules" / ".bin" / "openapi-typescript"),
            str(ROOT / "openapi.yaml"),
            "--default-non-nullable",
            "false",
            "--output",
            str(out),
        ],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_text() == (CLIENT / "src" / "schema.d.ts").read_text(), "run `make client` and commit"


def test_client_and_journey_type_check_strictly(client_deps: None) -> None:
    done = subprocess.run(  # noqa: S603
        [str(CLIENT / "node_modules" / ".bin" / "tsc"), "--noEmit", "--strict", "-p", "tsconfig.json"],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_typescript_journey_against_a_live_server(
    client_deps: None, live_server: Any, mailbox: str, s3: Any, fake_anthropic: Any, settings: Any
) -> None:
    # Generous deadlines: the journey runs beside the rest of the suite on two cores.
    settings.ANTHROPIC_TIMEOUT_SECONDS = 10.0
    settings.ASSISTANT_DEADLINE_SECONDS = 20.0
    env = {**os.environ, "STACKPRO_API_URL": live_server.url, "STACKPRO_MAILBOX_URL": mailbox}
    done = _npm("run", "--silent", "journey", env=env, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # node --test's summary: the journey ran and passed.
    assert re.search(r"^# pass 1$", output, re.M), output
    assert re.search(r"^# fail 0$", output, re.M), output
    assert s3.keys(), "the direct upload reached S3"
