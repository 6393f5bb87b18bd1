"""A database that refuses or hangs gives 503 JSON with Retry-After fast, and the service recovers.

Runs a real gunicorn against the MariaDB test database through a proxy the test breaks on purpose.
"""

import os
import time

import pytest
from django.db import connection

from tests.servers import gunicorn, http
from tests.support.tcp_proxy import FaultyProxy

pytestmark = [
    pytest.mark.mysql,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB"),
]


def _mysqlclient_installed() -> bool:
    import importlib.util

    spec = importlib.util.find_spec("MySQLdb")
    return spec is not None and "pymysql" not in (spec.origin or "")


def timed_get(url):
    started = time.monotonic()
    status, headers, body = http("GET", url, timeout=20)
    return status, headers, body, time.monotonic() - started


@pytest.mark.parametrize("driver", ["mysqlclient", "pymysql"])
def test_refused_and_hanging_database_then_recovery(django_db_setup, django_db_blocker, driver):
    if driver == "mysqlclient" and not _mysqlclient_installed():
        if os.environ.get("CI"):
            pytest.fail("CI must test mysqlclient: install requirements/mysql.txt (make test does)")
        pytest.skip("mysqlclient not installed")
    settings_dict = connection.settings_dict
    proxy = FaultyProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 3306)).start()
    user = settings_dict["USER"]
    test_name = settings_dict["TEST"]["NAME"]  # the test database pytest-django created
    url = f"mysql://{user}:{settings_dict['PASSWORD'] or ''}@127.0.0.1:{proxy.port}/{test_name}"
    try:
        with gunicorn({"DATABASE_URL": url, "DB_DRIVER": driver, "DB_CONNECT_TIMEOUT": "3"}) as base:
            status, _, body, _ = timed_get(f"{base}/api/v1/test/users/")
            assert status == 200, body

            for mode in (FaultyProxy.REFUSE, FaultyProxy.HANG):
                proxy.set_mode(mode)
                status, headers, body, elapsed = timed_get(f"{base}/api/v1/test/users/")
                assert status == 503, (mode, body)
                assert body["code"] == "service_unavailable"
                assert int(headers["Retry-After"]) > 0
                assert elapsed < 3.5, (mode, elapsed)
                status, _, body, elapsed = timed_get(f"{base}/api/v1/health/ready/")
                assert status == 503 and body["checks"]["database"] == "unavailable"
                assert elapsed < 3.5 + 0.5
                # Liveness never touches the database.
                assert http("GET", f"{base}/api/v1/health/", timeout=2)[0] == 200

            proxy.set_mode(FaultyProxy.FORWARD)
            status, _, body, _ = timed_get(f"{base}/api/v1/test/users/")
            assert status == 200, body
            assert http("GET", f"{base}/api/v1/health/ready/")[0] == 200
    finally:
        proxy.stop()
