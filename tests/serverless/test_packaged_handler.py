"""The real Lambda package, driven through Zappa's handler in an isolated interpreter.

``make package STAGE=dev`` builds the zip (cached under build/pkgtest/<hash of the sources>, so only a
change to the code, the requirements or zappa_settings.json rebuilds it); it is unzipped with the
1980 timestamps Lambda gives its files, and ``python -I -S`` runs tests/serverless/packaged_driver.py
with only the package and a stand-in for the runtime's boto3/botocore on sys.path. Zappa's
``LambdaHandler.lambda_handler`` then gets API Gateway proxy events, ``manage`` commands, a scheduled
event and an SQS batch published by Celery to a moto SQS server.

The database is the machine's MariaDB when DATABASE_URL is MySQL (database ``<name>_lambda``, through
PyMySQL as on Lambda), else a SQLite file kept with the cached package.

When the accounts app exposes register and login, replace the ``createsuperuser`` + ``jwt`` steps with
``{"http": {"method": "POST", "path": "/api/v1/auth/register/", "body": {...}}}`` and
``{"http": {"method": "POST", "path": "/api/v1/auth/login/", "body": {...}, "save_token": "access"}}``,
and point the authenticated request at a list endpoint (e.g. ``/api/v1/projects/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from tests.servers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DEPLOY_VENV = ROOT / "build" / "deploy-venv"
CACHE = ROOT / "build" / "pkgtest"
DRIVER = Path(__file__).with_name("packaged_driver.py")
HASHED = ["zappa_settings.json", "requirements", "deploy", "stackpro", "core", "accounts", "notifications",
          "billing", "projects", "assistant", "templates"]  # fmt: skip
QUEUE = "stackpro-dev-tasks"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}"
LAMBDA_EPOCH = time.mktime((1980, 1, 1, 0, 0, 0, 0, 0, -1))


def source_hash() -> str:
    digest = hashlib.sha256()
    for name in HASHED:
        base = ROOT / name
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def unzip_like_lambda(archive: Path, target: Path) -> None:
    """Extract with each entry's own timestamp (1980-01-01 for Zappa's zips), as Lambda does."""
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = Path(zipped.extract(info, target))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def package_dir() -> Path:
    build = CACHE / source_hash()
    app = build / "app"
    if not (build / "unzipped.ok").exists():
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir(parents=True)
        archive = build / "stackpro-dev.zip"
        result = subprocess.run(
            ["make", "--no-print-directory", "package", "STAGE=dev", f"PACKAGE={archive}"],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert archive.stat().st_size < 30_000_000, "the zip grew past 30 MB: check zappa_settings.json excludes"
        unzip_like_lambda(archive, app)
        (build / "unzipped.ok").write_text(result.stdout)
    for old in CACHE.iterdir():  # keep the cache to the current build
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return app


@pytest.fixture(scope="module")
def runtime_dir(package_dir: Path) -> Path:
    """What the python3.11 Lambda runtime adds to sys.path: boto3 and botocore (left out of the zip)."""
    runtime = package_dir.parent / "runtime"
    if not runtime.exists():
        runtime.mkdir()
        site = DEPLOY_VENV / "lib" / "python3.11" / "site-packages"
        for name in ("boto3", "botocore", "s3transfer"):
            (runtime / name).symlink_to(site / name)
    return runtime


def lambda_database_url(package_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("mysql"):
        parsed = urlparse(url)
        name = parsed.path.lstrip("/") + "_lambda"
        import pymysql

        connection = pymysql.connect(
            host=parsed.hostname,
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
        )
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        connection.close()
        return parsed._replace(path=f"/{name}").geturl()
    return f"sqlite:///{package_dir.parent / 'lambda.sqlite3'}"


def write_settings(package_dir: Path, tmp_path: Path, environment: dict[str, str]) -> None:
    """zappa_settings.py for the run, generated by Zappa from zappa_settings.json plus test variables."""
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    settings["dev"]["environment_variables"] = {**settings["dev"]["environment_variables"], **environment}
    source = tmp_path / "zappa_settings.json"
    source.write_text(json.dumps(settings))
    result = subprocess.run(
        [str(DEPLOY_VENV / "bin" / "zappa"), "save-python-settings-file", "dev", "-s", str(source),
         "-o", str(package_dir / "zappa_settings.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "VIRTUAL_ENV": str(DEPLOY_VENV)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def run_driver(package_dir: Path, runtime_dir: Path, tmp_path: Path, plan: list[dict], env: dict[str, str]):
    plan_file, results_file = tmp_path / "plan.json", tmp_path / "results.json"
    plan_file.write_text(json.dumps(plan))
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(DRIVER), str(package_dir), str(runtime_dir), str(plan_file),
         str(results_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "TZ": "UTC", **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return json.loads(results_file.read_text()), result.stdout


def test_the_packaged_handler_serves_http_manage_schedule_and_sqs(package_dir, runtime_dir, moto_endpoint, tmp_path):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    port = urlparse(moto_endpoint).port
    write_settings(
        package_dir,
        tmp_path,
        {
            "SECRET_KEY": "packaged-test-" + "k" * 40,
            "ALLOWED_HOSTS": "api.stackpro.test",
            "DATABASE_URL": lambda_database_url(package_dir),
            "DB_READ_TIMEOUT": "120",
            "DB_WRITE_TIMEOUT": "120",
            "CELERY_BROKER_URL": f"sqs://@127.0.0.1:{port}",
            "CELERY_SQS_QUEUE_URL": queue_url,
            "DJANGO_SUPERUSER_PASSWORD": "Lambda-packaged-pw-1",
            "DJANGO_SUPERUSER_NAME": "Lambda Tester",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
    )
    email = f"lambda-{uuid.uuid4().hex[:10]}@example.com"
    scheduled = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-26T03:17:00Z",
        "region": "us-east-1",
        "resources": [
            "arn:aws:events:us-east-1:123456789012:rule/stackpro-dev-stackpro.lambda_tasks.flush_expired_tokens"
        ],
        "detail": {},
    }
    plan = [
        {"event": {"manage": "migrate --noinput"}},
        {"event": {"manage": "check"}},
        {"http": {"method": "GET", "path": "/api/v1/health/"}},
        {"event": {"manage": f"createsuperuser --noinput --email {email}"}},
        {"jwt": email},
        {"http": {"method": "GET", "path": "/api/schema/", "headers": {"Authorization": "Bearer {jwt}"}}},
        {"http": {"method": "GET", "path": "/api/schema/", "headers": {"Authorization": "Bearer not-a-token"}}},
        {"http": {"method": "GET", "path": "/api/v1/no-such-thing/"}},
        {"expire_token": email},
        {"event": scheduled},
        {"event": scheduled},
        {
            "publish": [
                ["stackpro.run_scheduled_job", ["flush_expired_tokens"]],
                ["stackpro.run_scheduled_job", ["no_such_job"]],
            ],
            "queue_url": queue_url,
            "endpoint_url": moto_endpoint,
            "arn": QUEUE_ARN,
        },
    ]
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "stackpro-dev",
    }
    report, stdout = run_driver(package_dir, runtime_dir, tmp_path, plan, env)
    steps = report["results"]
    failed = [s for s in steps if not s["ok"]]
    assert not failed, json.dumps(failed, indent=2)[:5000]
    # Isolated: nothing from a virtualenv or site-packages, only the package and the runtime's stand-in.
    assert not [p for p in report["sys_path"] if "site-packages" in p or ".venv" in p], report["sys_path"]
    migrate, check, health, _, _, schema, bad_token, missing, _, job, job_again, sqs_step = steps

    assert migrate["result"] == {} and check["result"] == {}
    assert health["status"] == 200 and health["body"] == {"status": "ok"}
    assert health["headers"]["X-Request-ID"]
    assert schema["status"] == 200 and "openapi" in schema["body"], schema
    assert bad_token["status"] == 403 and bad_token["body"]["code"] == "token_not_valid", (
        bad_token
    )  # session auth first: 403
    assert missing["status"] == 404 and missing["body"]["code"] == "not_found"
    assert job["result"] >= 1  # the expired token (and any left by an interrupted earlier run)
    assert job_again["result"] == 0  # idempotent: nothing left to flush

    good_id, bad_id = sqs_step["sent"]
    by_task = {task: message for message, task in sqs_step["message_task_ids"].items()}
    assert set(by_task) == {good_id, bad_id}
    assert sqs_step["result"] == {"batchItemFailures": [{"itemIdentifier": by_task[bad_id]}]}

    # Production logging: JSON request lines and CloudWatch EMF metric lines on stdout.
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    emf = [r for r in records if "_aws" in r]
    latency = [r for r in emf if r.get("Route") == "api/v1/health/"]
    assert latency and latency[0]["status"] == 200 and latency[0]["Latency"] >= 0
    assert any(r.get("Service") == "job" and r.get("Name") == "flush_expired_tokens" for r in emf)
    assert any(r.get("Service") == "task" and r.get("Failures") == 1 for r in emf)
