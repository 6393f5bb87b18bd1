"""core.db_backends.mysql: the per-request ping is skipped on a connection that just finished a
request cleanly, and only then. Real gunicorn, real MariaDB; the test kills the server's
connections from the database side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection

from tests.servers import gunicorn, http

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.mysql,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB"),
]

USERS = "/api/v1/test/users/"


def kill_server_connections(database: str) -> int:
    """KILL every connection to ``database`` (the server's: this test has none there)."""
    import pymysql

    s = connection.settings_dict
    admin = pymysql.connect(
        host=s["HOST"] or "127.0.0.1", port=int(s["PORT"] or 3306), user=s["USER"], password=s["PASSWORD"] or ""
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s", [database])
            ids = [row[0] for row in cursor.fetchall()]
            for pid in ids:
                cursor.execute(f"KILL {int(pid)}")
    finally:
        admin.close()
    return len(ids)


def server_env(idle_seconds: str) -> dict[str, str]:
    s = connection.settings_dict
    url = (
        f"mysql://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 3306}/{s['TEST']['NAME']}"
    )
    return {"DATABASE_URL": url, "DB_HEALTH_CHECK_IDLE_SECONDS": idle_seconds, "DB_CONN_MAX_AGE": "600"}


def get(base: str) -> int:
    return http("GET", f"{base}{USERS}", timeout=20)[0]


def test_a_connection_dropped_after_the_idle_window_is_replaced_before_the_request(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), gunicorn(server_env("0.3")) as base:
        assert get(base) == 200
        assert kill_server_connections(connection.settings_dict["TEST"]["NAME"]) >= 1
        time.sleep(0.5)  # past the window: the ping finds the connection dead and reconnects
        assert get(base) == 200


def test_within_the_window_the_ping_is_skipped_and_a_dropped_connection_fails_one_request(
    django_db_setup, django_db_blocker
):
    with django_db_blocker.unblock(), gunicorn(server_env("60")) as base:
        assert get(base) == 200
        assert get(base) == 200  # the connection proved itself: no ping before this one
        assert kill_server_connections(connection.settings_dict["TEST"]["NAME"]) >= 1
        status, headers, body = http("GET", f"{base}{USERS}", timeout=20)
        assert status == 503 and body["code"] == "service_unavailable" and int(headers["Retry-After"]) > 0
        assert get(base) == 200  # the failed request closed the connection: this one reconnected


def test_with_no_window_every_request_pings_as_django_does(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), gunicorn(server_env("0")) as base:
        assert get(base) == 200
        assert kill_server_connections(connection.settings_dict["TEST"]["NAME"]) >= 1
        assert get(base) == 200


# ------------------------------------------------------------------------------------------------
# A process's first query: one connection, no set-up statement Django would undo
# ------------------------------------------------------------------------------------------------
FIRST_QUERY = """
import json, uuid, django
django.setup()
from django.db import connection
from django.db.backends.signals import connection_created
from accounts.models import User
opened = []
connection_created.connect(lambda sender, connection, **kwargs: opened.append(1))
User._meta.pk.get_db_prep_value(uuid.uuid4(), connection)  # reads features.has_native_uuid_field
with connection.cursor() as cursor:
    cursor.execute("SHOW SESSION STATUS LIKE 'Com_set_option'")
    set_statements = int(cursor.fetchone()[1])
    cursor.execute("SELECT @@autocommit, @@tx_isolation")
    autocommit, isolation = cursor.fetchone()
print(json.dumps({"driver": type(connection.connection).__module__, "connections": len(opened),
                  "set_statements": set_statements, "autocommit": autocommit, "isolation": isolation,
                  "django_autocommit": connection.get_autocommit()}))
"""


@pytest.mark.parametrize("driver", ["mysqlclient", "pymysql"])
def test_a_fresh_process_opens_one_connection_with_three_setup_statements(driver, django_db_setup):
    """What a cold start (a new gunicorn worker, a Lambda container, a SnapStart restore) pays before
    its first query, in a new process with each driver. Django reads the server's version and
    variables the first time a feature flag needs them (a UUID primary key's lookup does) through
    ``temporary_connection()``: a connection opened and closed for that alone, before the real one
    (a second TCP + TLS handshake on RDS). And the drivers set ``autocommit=0`` as they connect,
    which Django sets back to 1 at once: two statements for nothing."""
    env = {
        **os.environ,
        **server_env("2"),
        "DB_DRIVER": driver,
        "DJANGO_SETTINGS_MODULE": "stackpro.settings.local",
    }
    result = subprocess.run(
        [sys.executable, "-c", FIRST_QUERY], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first = json.loads(result.stdout.strip().splitlines()[-1])
    assert first["driver"].split(".")[0] == ("MySQLdb" if driver == "mysqlclient" else "pymysql")
    assert first["connections"] == 1
    # SET NAMES, SET sql_mode (init_command), SET SESSION TRANSACTION ISOLATION LEVEL: no SET autocommit.
    assert first["set_statements"] == 3
    assert (first["autocommit"], first["isolation"], first["django_autocommit"]) == (1, "READ-COMMITTED", True)


# ------------------------------------------------------------------------------------------------
# Transactions: BEGIN, not SET autocommit=0 ... SET autocommit=1
# ------------------------------------------------------------------------------------------------
TRANSACTIONS = """
import json, uuid, django
django.setup()
from django.db import connection, transaction
COUNTERS = ("Com_set_option", "Com_begin", "Com_commit", "Com_rollback", "Com_rollback_to_savepoint")
def status():
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS WHERE Variable_name IN %s", [COUNTERS])
        return {name: int(value) for name, value in cursor.fetchall()}
def insert(bucket):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO core_throttlecounter (bucket, count, expires) VALUES (%s, 1, 0)", [prefix + bucket])
prefix = uuid.uuid4().hex + ":"
before = status()
with transaction.atomic():
    insert("kept")
    try:
        with transaction.atomic():
            insert("savepoint")
            raise ValueError
    except ValueError:
        pass
    in_transaction = not connection.get_autocommit()
try:
    with transaction.atomic():
        insert("rolled-back")
        raise ValueError
except ValueError:
    pass
after = status()
with connection.cursor() as cursor:
    cursor.execute("SELECT bucket FROM core_throttlecounter WHERE bucket LIKE %s", [prefix + "%"])
    rows = sorted(row[0][len(prefix):] for row in cursor.fetchall())
    cursor.execute("DELETE FROM core_throttlecounter WHERE bucket LIKE %s", [prefix + "%"])
    cursor.execute("SELECT @@autocommit")
    server_autocommit = cursor.fetchone()[0]
print(json.dumps({"statements": {name: after[name] - before[name] for name in COUNTERS}, "rows": rows,
                  "in_transaction": in_transaction, "autocommit": [server_autocommit, connection.get_autocommit()]}))
"""


@pytest.mark.parametrize("driver", ["mysqlclient", "pymysql"])
def test_a_transaction_begins_with_begin_and_ends_with_its_commit_or_rollback(driver, django_db_setup):
    """Each ``atomic`` block cost Django's SET autocommit=0 and, after it, SET autocommit=1: one
    round trip more than BEGIN (three transactions in the assistant's send). Same semantics: the
    committed row stays, the rolled-back savepoint and transaction leave nothing."""
    env = {**os.environ, **server_env("2"), "DB_DRIVER": driver, "DJANGO_SETTINGS_MODULE": "stackpro.settings.local"}
    result = subprocess.run(
        [sys.executable, "-c", TRANSACTIONS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["statements"] == {
        "Com_set_option": 0,
        "Com_begin": 2,
        "Com_commit": 1,
        "Com_rollback": 1,
        "Com_rollback_to_savepoint": 1,
    }, report
    assert report["rows"] == ["kept"] and report["in_transaction"] is True
    assert report["autocommit"] == [1, True]


# ------------------------------------------------------------------------------------------------
# DATETIME values read in C
# ------------------------------------------------------------------------------------------------
CASES = [
    "2026-11-26 11:00:00.123456",
    "2026-11-26 11:00:00.123",
    "2026-11-26 11:00:00",
    "1999-12-31 23:59:59.999999",
    "0000-00-00 00:00:00",  # a zero date: the driver's answer
    "2026-11-26",  # a bare date: the driver's answer
    "2026-13-01 00:00:00",  # not a date
]


@pytest.mark.parametrize("text", CASES)
def test_read_datetime_reads_what_each_driver_reads(text):
    import MySQLdb.times
    import pymysql.converters

    from core.db_backends.mysql.base import _DRIVER_DATETIME, read_datetime

    assert read_datetime(text) == _DRIVER_DATETIME(text)
    assert read_datetime(text) == MySQLdb.times.DateTime_or_None(text)  # mysqlclient hands over text
    parsed = pymysql.converters.convert_datetime(text.encode())  # PyMySQL hands over bytes
    if isinstance(parsed, datetime):
        assert read_datetime(text.encode()) == parsed


@pytest.mark.django_db
def test_datetimes_round_trip_through_the_database():
    from datetime import UTC

    from django.db import connection
    from MySQLdb.constants import FIELD_TYPE

    from core.db_backends.mysql.base import read_datetime
    from tests.factories import UserFactory

    connection.ensure_connection()
    if hasattr(connection.connection, "converter"):  # mysqlclient (PyMySQL keeps its decoders elsewhere)
        assert connection.connection.converter[FIELD_TYPE.DATETIME] is read_datetime
    for value in [datetime(2026, 11, 26, 11, 0, 0, 123456, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC)]:
        user = UserFactory(date_joined=value)
        user.refresh_from_db()
        assert user.date_joined == value
