"""Settings: embedded defaults, production refusals, deploy checks, MySQL options, driver choice."""

import os
import subprocess
import sys

import pytest

from core.db import database_config
from tests.servers import ROOT

PROD_KEY = "k" * 20 + "Zq8vX2mPa7Lr4Ns9Bt6Wy1Hc3Jd5Fg0Ke8Ui2Oo7" + "x" * 10


def run_manage(*args, env_overrides, unset=()):
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_manage(
        "check",
        env_overrides={"DJANGO_SETTINGS_MODULE": "stackpro.settings.production", "ALLOWED_HOSTS": "a.example.com"},
        unset=("SECRET_KEY",),
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage(
        "check",
        env_overrides={"DJANGO_SETTINGS_MODULE": "stackpro.settings.production", "SECRET_KEY": PROD_KEY},
        unset=("ALLOWED_HOSTS",),
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB")
def test_pymysql_connections_share_one_tls_context_and_still_require_tls():
    """Parsing the RDS bundle costs 50-80 ms: PyMySQL gets one SSLContext per process (certificate and
    host name checked) instead of one per connection. The local MariaDB has no TLS, so the connection
    is refused — TLS is required, not skipped."""
    code = (
        "import ssl, django; django.setup(); from django.db import connection, connections;"
        "first, second = connection.get_connection_params(), connections.create_connection('default').get_connection_params();"
        "ctx = first['ssl'];"
        "print(type(ctx).__name__, ctx is second['ssl'], ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname,"
        " 'ssl_ca' in first);"
        "from django.db.utils import OperationalError\n"
        "try:\n connection.ensure_connection(); print('connected')\n"
        "except OperationalError as exc:\n print('refused', exc.args[0])"
    )
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/mysql?ssl_ca={RDS_CA}&ssl_verify_identity=true"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DB_DRIVER": "pymysql",
        "DJANGO_SETTINGS_MODULE": "stackpro.settings.local",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SSLContext", "True", "True", "True", "False", "refused", "2026"], result.stdout


RDS_CA = str(ROOT / "stackpro" / "certs" / "rds-global-bundle.pem")
# A complete production environment: every variable production needs, nothing else.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "stackpro.settings.production",
    "SECRET_KEY": PROD_KEY,
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": f"mysql://stackpro:pw@127.0.0.1:1/stackpro?ssl_ca={RDS_CA}&ssl_verify_identity=true",
    "ANYMAIL_WEBHOOK_SECRET": "anymail-user:a-long-random-secret",
    "NOTIFICATIONS_SES_TOPIC_ARNS": "arn:aws:sns:us-east-1:123456789012:stackpro-ses-events",
    "STRIPE_LIVE_SECRET_KEY": "sk_live_" + "Ab1" * 10,
}
# Variables a deployment may already carry that would change the answer.
UNSET = tuple(PRODUCTION_ENV) + ("STRIPE_LIVE_MODE", "REDIS_URL", "DEBUG")


def test_production_passes_deploy_checks_and_uses_argon2():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV, unset=UNSET)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PASSWORD_HASHERS[0]); print(settings.API_DOCS_ACCESS);"
        " print(settings.STRIPE_LIVE_MODE)",
        env_overrides=PRODUCTION_ENV,
        unset=UNSET,
    )
    assert result.stdout.split()[-3:] == ["accounts.hashers.Argon2idHasher", "staff", "True"]


def test_the_committed_rds_bundle_holds_amazon_rds_certificates():
    from cryptography import x509

    certificates = x509.load_pem_x509_certificates((ROOT / "stackpro" / "certs" / "rds-global-bundle.pem").read_bytes())
    assert len(certificates) > 50
    assert all("Amazon RDS" in c.subject.rfc4514_string() for c in certificates)


@pytest.mark.slow
@pytest.mark.parametrize(
    "change, expected",
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": None}, "core.E002"),
        ({"DATABASE_URL": "mysql://stackpro:pw@127.0.0.1:1/stackpro"}, "core.E003"),
        ({"DATABASE_URL": f"mysql://stackpro:pw@127.0.0.1:1/stackpro?ssl_ca={RDS_CA}"}, "core.E004"),
        ({"DATABASE_URL": "mysql://s:pw@127.0.0.1:1/s?ssl_ca=/nowhere/ca.pem&ssl_verify_identity=true"}, "ssl_ca"),
        ({"ANYMAIL_WEBHOOK_SECRET": None}, "notifications.E002"),
        ({"NOTIFICATIONS_SES_TOPIC_ARNS": None}, "notifications.E003"),
        ({"STRIPE_LIVE_SECRET_KEY": None}, "billing.E002"),
        ({"STRIPE_LIVE_MODE": "false"}, "billing.E001"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else v,
)
def test_each_missing_or_unsafe_production_variable_is_an_error(change, expected):
    env = {k: v for k, v in {**PRODUCTION_ENV, **change}.items() if v is not None}
    result = run_manage("check", "--deploy", env_overrides=env, unset=UNSET)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output  # Errors fail `check` at its default level, warnings do not
    assert expected in output, output


def test_embedded_defaults_need_no_variables():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.EMAIL_BACKEND,"
        " s.STORAGES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    keep = {"PATH", "HOME", "LANG"}
    env = {k: v for k, v in os.environ.items() if k in keep} | {"DJANGO_SETTINGS_MODULE": "stackpro.settings.local"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.files.storage.FileSystemStorage",
        "True",
    ]


def test_mysql_url_gets_utf8mb4_strict_mode_timeouts_and_persistent_connections():
    config = database_config(
        "mysql://u:p@127.0.0.1:1/app", connect_timeout=3, read_timeout=3, write_timeout=3, conn_max_age=60
    )
    options = config["OPTIONS"]
    assert options["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in options["init_command"]
    assert (options["connect_timeout"], options["read_timeout"], options["write_timeout"]) == (3, 3, 3)
    assert config["CONN_MAX_AGE"] == 60 and config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("mysql"), reason="needs MariaDB")
@pytest.mark.parametrize("driver", ["pymysql", "auto"])
def test_both_drivers_talk_to_mariadb(driver):
    code = (
        "import django; django.setup(); from django.db import connection;"
        "cur = connection.cursor(); cur.execute('SELECT @@character_set_connection, @@sql_mode'); row = cur.fetchone();"
        # a DATETIME(6) value through our backend's conversion (core/db_backends/mysql)
        "cur.execute(\"SELECT CAST('2026-11-26 11:00:00.123456' AS DATETIME(6))\"); when = cur.fetchone()[0];"
        "import MySQLdb; print(MySQLdb.__name__, row[0], 'STRICT_TRANS_TABLES' in row[1], when.isoformat())"
    )
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/mysql"
    env = {**os.environ, "DATABASE_URL": url, "DB_DRIVER": driver, "DJANGO_SETTINGS_MODULE": "stackpro.settings.local"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    module, charset, strict, when = result.stdout.split()
    assert charset == "utf8mb4" and strict == "True"
    assert when == "2026-11-26T11:00:00.123456"
    if driver == "pymysql":
        assert module == "pymysql"
