"""Restore, rehearsed in miniature (docs/deploy.md, "Restore the database"): the MariaDB test database is
dumped with mariadb-dump, loaded into a fresh database, and the app pointed at the copy passes
``migrate --check`` and the readiness probe — the checks the runbook runs against a restored RDS instance.

Needs MariaDB/MySQL and Debian's mariadb-client (.ci/run installs it); skipped on SQLite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from urllib.parse import urlparse

import pymysql
import pytest
from django.db import connection

from tests.servers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.django_db]

PROBE = (
    "from django.test import Client; from django.db import connection; "
    "r = Client().get('/api/v1/health/ready/'); "
    "c = connection.cursor(); c.execute('SELECT COUNT(*) FROM django_migrations'); "
    "print(r.status_code, c.fetchone()[0], r.content.decode())"
)


def mysql(url, *args: str, **kwargs) -> subprocess.CompletedProcess:
    parsed = urlparse(url)
    return subprocess.run(
        [*args, "-h", parsed.hostname or "127.0.0.1", "-P", str(parsed.port or 3306), "-u", parsed.username or "root"],
        env={**os.environ, "MYSQL_PWD": parsed.password or ""},
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        timeout=600,
        **kwargs,
    )


def test_a_dump_restored_into_a_fresh_database_passes_migrate_check_and_readiness(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("mysql"):
        pytest.skip("the restore rehearsal needs MariaDB/MySQL (DATABASE_URL=mysql://...)")
    dump = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    client = shutil.which("mariadb") or shutil.which("mysql")
    assert dump and client, "install Debian's mariadb-client (.ci/run does)"
    source = connection.settings_dict["NAME"]  # the migrated test database
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
        (applied,) = cursor.fetchone()
    assert applied > 0

    dump_file = tmp_path / "backup.sql"
    with dump_file.open("wb") as out:
        dumped = mysql(url, dump, "--single-transaction", "--routines", "--triggers", "--hex-blob", source, stdout=out)
    assert dumped.returncode == 0, dumped.stderr.decode()

    restored = f"restore_{uuid.uuid4().hex[:8]}"
    parsed = urlparse(url)
    admin = pymysql.connect(
        host=parsed.hostname, port=parsed.port or 3306, user=parsed.username or "root", password=parsed.password or ""
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{restored}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        with dump_file.open("rb") as backup:
            loaded = mysql(url, client, restored, stdin=backup)
        assert loaded.returncode == 0, loaded.stderr.decode()

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stackpro.settings.test",
            "DATABASE_URL": parsed._replace(path=f"/{restored}").geturl(),
        }
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check", "--noinput"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        probe = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )  # fmt: skip
        assert probe.returncode == 0, probe.stdout + probe.stderr
        status, rows, body = probe.stdout.strip().splitlines()[-1].split(" ", 2)
        assert (status, int(rows)) == ("200", applied), probe.stdout
        assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}, body
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{restored}`")
        admin.close()
