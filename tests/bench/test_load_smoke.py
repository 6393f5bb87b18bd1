"""The load test's smoke run (bench/load/run.py --smoke) so the scenario cannot rot: a few locust
users for a few seconds against gunicorn with production settings, moto S3 and the fake Anthropic,
on a database of its own copied from the pytest test database (no migrate from scratch): a SQLite
file copy, or on MariaDB ``CREATE TABLE ... LIKE`` plus the rows (data migrations included).
Every endpoint of the scenario must be hit, with no error."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

# Not imported here: importing locust monkey-patches the process with gevent (and breaks ssl).
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is in requirements/dev.txt (make test installs it)"
)

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = {
    "auth:login",
    "auth:register",
    "projects:list",
    "projects:detail",
    "projects:files",
    "projects:create",
    "projects:delete",
    "projects:upload-start",
    "notifications:unread-count",
    "notifications:list",
    "assistant:create",
    "assistant:send",
}


def copy_test_database(tmp_path: Path) -> str:
    """A DATABASE_URL for a copy of the test database (schema and rows)."""
    source = connection.settings_dict
    if connection.vendor == "sqlite":
        target = tmp_path / "load.sqlite3"
        with sqlite3.connect(source["NAME"]) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        # Concurrent gunicorn threads write: wait for the lock instead of failing at once.
        return f"sqlite:///{target}?timeout=20&transaction_mode=IMMEDIATE"
    assert connection.vendor == "mysql", connection.vendor
    name, copy = source["NAME"], f"{source['NAME']}_load"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{copy}`")
        cursor.execute(f"CREATE DATABASE `{copy}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [name])
        for (table,) in cursor.fetchall():
            cursor.execute(f"CREATE TABLE `{copy}`.`{table}` LIKE `{name}`.`{table}`")
            cursor.execute(f"INSERT INTO `{copy}`.`{table}` SELECT * FROM `{name}`.`{table}`")
    user = source["USER"] or "root"
    password = source["PASSWORD"] or ""
    return f"mysql://{user}:{password}@{source['HOST'] or '127.0.0.1'}:{source['PORT'] or 3306}/{copy}"


@pytest.mark.slow
@pytest.mark.integration
# Not for a transaction (none to wrap: the copy is DDL); the marker makes pytest-django set the test
# database up when this module runs alone, which the django_db_setup fixture alone does not.
@pytest.mark.django_db(transaction=True)
def test_load_scenario_smoke(tmp_path):
    database_url = copy_test_database(tmp_path)
    figures = tmp_path / "figures.json"
    command = [
        sys.executable,
        "bench/load/run.py",
        "--smoke",
        "--no-migrate",
        "--workers",
        "2",
        "--threads",
        "4",
        "--database-url",
        database_url,
        "--redis-url",
        settings.REDIS_URL,  # empty: local-memory cache in each gunicorn worker
        "--out",
        str(tmp_path / "out"),
        "--json",
        str(figures),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(figures.read_text())
    assert data["errors"] == 0, data["whole_run"]["errors"]
    assert ENDPOINTS <= set(data["whole_run"]["requests"]), set(data["whole_run"]["requests"])
    assert data["floor"]["errors"] == 0 and data["list"]["errors"] == 0
    assert data["floor"]["cpu_ms_per_request"] > 0 and data["list"]["cpu_ms_per_request"] > 0
