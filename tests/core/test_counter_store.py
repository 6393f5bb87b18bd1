"""The database throttle store: limits that hold across processes with no Redis (core/throttling.py).

Two gunicorn servers with no REDIS_URL share the MariaDB test database, and a login limit holds in
total across them, not once per process; the same through two instances of the packaged Lambda
handler is in tests/serverless/test_packaged_limits.py. The cost per hit against Redis:
bench/throttle_store.py (docs/performance.md).
"""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, connections
from django.test import override_settings

from core.jobs import purge_throttle_counters
from core.models import ThrottleCounter
from core.throttling import hit
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.servers import free_port, gunicorn, http
from tests.support import assert_api_error

pytestmark = [pytest.mark.django_db]

LOGIN = "/api/v1/auth/token/"
MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")


def test_without_redis_the_database_is_the_default_store():
    from stackpro.settings import base  # (the test settings pin the cache for the rest of the suite)

    if not os.environ.get("REDIS_URL"):
        assert base.THROTTLE_STORE == "database"
    else:
        assert base.THROTTLE_STORE == "cache"


@override_settings(THROTTLE_STORE="database")
def test_database_hits_count_in_one_window_and_the_job_sweeps_them():
    assert [hit("store:unit", 3, 60)[0] for _ in range(5)] == [True] * 3 + [False] * 2
    assert ThrottleCounter.objects.filter(count=5).count() == 1
    assert purge_throttle_counters() == 0  # the window is not over
    ThrottleCounter.objects.update(expires=0)
    assert purge_throttle_counters() == 1 and not ThrottleCounter.objects.exists()


@pytest.mark.skipif(not MYSQL, reason="needs MariaDB")
@pytest.mark.django_db(transaction=True)
@override_settings(THROTTLE_STORE="database")
def test_concurrent_database_hits_lose_no_count():
    """Eight threads, each with its own connection, 25 hits each: the counter ends at 200."""
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            results = [hit("store:race", 150, 3600)[0] for _ in range(25)]
            with lock:
                allowed.extend(results)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ThrottleCounter.objects.get().count == 200
    assert allowed.count(True) == 150


def _rename_counter_table(to: str, back: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {connection.ops.quote_name(back)} RENAME TO {connection.ops.quote_name(to)}")


@pytest.mark.skipif(not MYSQL, reason="needs MariaDB")
@pytest.mark.django_db(transaction=True)
def test_security_limits_fail_closed_when_no_store_answers(api_client, settings):
    """Redis unreachable and the counter table gone: a login is refused, an ordinary limit is not."""
    user = UserFactory()
    settings.THROTTLE_STORE = "cache"
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "CIRCUIT_BREAKER_SECONDS": 5},
        }
    }
    # Redis down, database up: the security limit counts in the database and still holds.
    settings.THROTTLE_LOGIN = "2/5m"
    statuses = [
        api_client.post(LOGIN, {"email": user.email, "password": "wrong"}, format="json").status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]

    table = ThrottleCounter._meta.db_table
    _rename_counter_table(f"{table}_away", table)
    try:
        assert hit("store:ordinary", 1, 60) == (True, 0)  # fail open, as before
        assert hit("store:security", 1, 60, security=True)[0] is False  # fail closed
        settings.THROTTLE_LOGIN = "100/5m"
        response = api_client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
        assert_api_error(response, 429, "throttled")
    finally:
        _rename_counter_table(table, f"{table}_away")


@pytest.mark.slow
@pytest.mark.skipif(not MYSQL, reason="needs MariaDB")
@pytest.mark.django_db(transaction=True)
def test_a_login_limit_holds_in_total_across_two_servers_without_redis():
    user = UserFactory()
    settings_dict = connection.settings_dict
    url = (
        f"mysql://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST'] or '127.0.0.1'}"
        f":{settings_dict['PORT'] or 3306}/{settings_dict['NAME']}"
    )
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "THROTTLE_STORE": "database",  # the default without Redis (the test settings pin the cache)
        "THROTTLE_LOGIN": "4/5m",
        "THROTTLE_LOGIN_IP": "1000/5m",
    }
    attempt = {"email": user.email, "password": "wrong"}
    with (
        gunicorn(env, settings="stackpro.settings.test") as first,
        gunicorn(env, settings="stackpro.settings.test") as second,
    ):
        statuses = [http("POST", f"{base}{LOGIN}", body=attempt)[0] for base in (first, second) * 4]
    # Four wrong passwords in total are answered; with a per-process memory cache it would be eight.
    assert statuses == [401] * 4 + [429] * 4, statuses
    assert ThrottleCounter.objects.filter(count__gte=8).exists()
