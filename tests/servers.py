"""Start a real WSGI server (gunicorn) on a free port for tests that need another process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_mysql_database(url: str) -> None:
    """Create the database a ``mysql://`` URL names when it does not exist yet (a fresh machine's
    MariaDB has only ``test``); anything else is left alone."""
    if not url.startswith("mysql"):
        return
    from urllib.parse import urlparse

    import pymysql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/").replace("`", "")
    connection = pymysql.connect(
        host=parsed.hostname, port=parsed.port or 3306, user=parsed.username or "root", password=parsed.password or ""
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        connection.close()


def http(method: str, url: str, *, body: dict | None = None, headers: dict | None = None, timeout: float = 30):
    """(status, headers, parsed JSON or text) — never raises for HTTP error statuses."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback only)
            raw, status, resp_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, resp_headers = error.read(), error.code, error.headers
    try:
        return status, resp_headers, json.loads(raw or b"null")
    except ValueError:
        return status, resp_headers, raw.decode(errors="replace")


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    settings: str = "tests.fault_settings",
    workers: int = 1,
    timeout: int = 60,
    log_path: Path | None = None,
) -> Iterator[str]:
    """gunicorn on a free port; its output goes to ``log_path`` when given (a pipe nobody reads would
    block the server once a noisy run fills it)."""
    port = free_port()
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 (closed in finally)
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, **env}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:deploy.gunicorn_conf",  # as deployed: gunicorn's own errors in the JSON error body
            "stackpro.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log or subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a loaded 2-core machine can take a while
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                if log_path:
                    output = Path(log_path).read_text(errors="replace")[-4000:]
                raise RuntimeError(f"server exited: {output}")
            try:
                if http("GET", f"{base}/api/v1/health/", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            log.close()
