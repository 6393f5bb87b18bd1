"""``make run`` as a frontend developer meets it: Django's runserver with the local settings (DEBUG on).

Under /api/ every error is the JSON error body, as in production; elsewhere Django's debug pages stay.
On MySQL/MariaDB the open connections stay flat: runserver answers each request in a new thread, so
a persistent connection (``CONN_MAX_AGE`` > 0) would be left open by every request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.servers import free_port, http

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 300


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


@pytest.fixture
def runserver(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """``manage.py runserver`` (threaded, as ``make run`` starts it) on the test database."""
    port = free_port()
    log = open(tmp_path / "runserver.log", "wb")  # noqa: SIM115 (closed below)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stackpro.settings.local",
        "DATABASE_URL": _database_url(),
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DB_CONN_MAX_AGE", None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "runserver.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "runserver did not start"
            try:
                if http("GET", f"{base}/api/v1/health/", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    ["/api/v1/does-not-exist/", "/api/v1/assistant/conversations/null,null/", "/api/v1/notifications/1/read/x/"],
)
def test_api_errors_are_json_under_debug(runserver: str, path: str) -> None:
    status, headers, body = http("GET", runserver + path)
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    assert body == {"code": "not_found", "message": "Not found."}


@pytest.mark.slow
def test_non_api_paths_keep_the_debug_page(runserver: str) -> None:
    status, headers, body = http("GET", runserver + "/no-such-page/")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert "Using the URLconf defined in" in body  # Django's technical 404


def _open_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s", [connection.settings_dict["NAME"]]
        )
        return int(cursor.fetchone()[0])


@pytest.mark.slow
@pytest.mark.mysql
def test_runserver_keeps_database_connections_flat(runserver: str) -> None:
    if connection.vendor != "mysql":
        pytest.skip("counts MySQL/MariaDB connections: needs DATABASE_URL=mysql://...")
    before = _open_connections()
    # The plans read the database; the unknown URL too (the user of a session-less request is lazy,
    # but the JSON 404 path is the one a misrouted frontend hits).
    paths = ["/api/v1/billing/plans/", "/api/v1/billing/plans/", "/api/v1/does-not-exist/"]

    def call(index: int) -> tuple[int, object]:
        status, _, body = http("GET", runserver + paths[index % len(paths)], timeout=30)
        return status, body

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(call, range(REQUESTS)))
    unexpected = [(status, body) for status, body in results if status not in (200, 404)]
    assert unexpected == []
    time.sleep(0.5)  # a request thread closes its connection as it ends
    after = _open_connections()
    # Flat: no connection outlives its request (a max age of 60 s left one per request: +REQUESTS).
    assert after - before <= 2, f"{before} -> {after} open connections after {REQUESTS} requests"
