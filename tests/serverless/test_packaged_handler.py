"""The real Lambda package, driven through the handler Lambda calls in an isolated interpreter.

``make package STAGE=dev`` builds the zip (cached under build/.pkgtest/<hash of the sources>, so only a
change to the code, the requirements or zappa_settings.json rebuilds it); it is unzipped with the
1980 timestamps Lambda gives its files, and the runtime's interpreter (python3.12,
deploy/runtime_python.py) runs tests/serverless/packaged_driver.py with ``-I -S``: only the package
and a stand-in for what the runtime adds (``snapshot_restore_py``) on sys.path. Init happens at import
as on Lambda (``INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT``, SnapStart's init type, so the vendor SDKs are
warmed too). The handler (``core.lambda_handler``; Zappa's for everything but REST requests) then
gets API Gateway proxy events, ``manage``
commands, a scheduled event, an SQS batch published by Celery to a moto SQS server, a signed SNS
bounce (certificate served on loopback), and the SnapStart hooks run around a request.

The database is the machine's MariaDB when DATABASE_URL is MySQL (database ``<name>_lambda``, through
PyMySQL as on Lambda), else a SQLite file kept with the cached package.

A user registers and logs in through the real endpoints, creates a project and lists it with the
access token the login returned.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.notifications.conftest import TOPIC_ARN, WEBHOOK_SECRET, SnsSigner, _sns_certificate_server  # noqa: F401
from tests.notifications.test_bounces import bounce_event
from tests.servers import ROOT, ensure_mysql_database

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DEPLOY_VENV = ROOT / "build" / "lambda" / "venv"
CACHE = ROOT / "build" / ".pkgtest"
DRIVER = Path(__file__).with_name("packaged_driver.py")
HASHED = ["zappa_settings.json", "Makefile", "requirements", "deploy", "stackpro", "core", "accounts", "notifications",
          "billing", "projects", "assistant", "templates"]  # fmt: skip
QUEUE = "stackpro-dev-tasks"
# Open sockets in the anthropic client's pool (httpx2 transport → httpcore2 pool).
POOL = "len(claude.get_client()._client._transport._pool.connections)"
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
def package_dir(runtime_python: str) -> Path:
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
        assert archive.stat().st_size < 40_000_000, "the zip grew past 40 MB: check zappa_settings.json excludes"
        unzip_like_lambda(archive, app)
        (build / "unzipped.ok").write_text(result.stdout)
    for old in CACHE.iterdir():  # keep the cache to the current build
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return app


@pytest.fixture(scope="module")
def runtime_dir(package_dir: Path) -> Path:
    """What the python3.12 Lambda runtime adds to sys.path besides the package: ``snapshot_restore_py``
    (boto3 ships in the zip: docs/serverless.md)."""
    import snapshot_restore_py

    runtime = package_dir.parent / "runtime"
    if not runtime.exists():
        runtime.mkdir()
        (runtime / "snapshot_restore_py.py").symlink_to(snapshot_restore_py.__file__)
    return runtime


@pytest.fixture(scope="module")
def runtime_python() -> str:
    """The Lambda runtime's interpreter (deploy/runtime_python.py): it builds the package and runs it.
    Without it the package tests skip (under CI a skip fails the run: tests/skip_guard.py)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "runtime_python.py")], capture_output=True, text=True
    )
    if result.returncode:
        pytest.skip(result.stderr.strip() or result.stdout.strip())
    return result.stdout.strip()


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic().start()
    yield fake
    fake.stop()


def lambda_database_url(package_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("mysql"):
        parsed = urlparse(url)
        lambda_url = parsed._replace(path=f"/{parsed.path.lstrip('/')}_lambda").geturl()
        ensure_mysql_database(lambda_url)
        return lambda_url
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


# The process environment the runtime gives the function (besides its own variables, in zappa_settings.py).
LAMBDA_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "stackpro-dev",
}


def packaged_env(package_dir: Path, moto_endpoint: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The function's variables for a run: production settings on the test database (no REDIS_URL,
    as on Lambda), Celery on the moto SQS server, mail kept in memory."""
    return {
        "SECRET_KEY": "packaged-test-" + "k" * 40,
        "ALLOWED_HOSTS": "api.stackpro.test",
        "DATABASE_URL": lambda_database_url(package_dir),
        "DB_READ_TIMEOUT": "120",
        "DB_WRITE_TIMEOUT": "120",
        "CELERY_BROKER_URL": f"sqs://@127.0.0.1:{urlparse(moto_endpoint).port}",
        "DJANGO_SUPERUSER_PASSWORD": "Lambda-packaged-pw-1",
        "DJANGO_SUPERUSER_NAME": "Lambda Tester",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **(extra or {}),
    }


def lambda_handler() -> str:
    """The handler Lambda calls (Zappa's ``lambda_handler`` setting; the runtime names it in ``_HANDLER``)."""
    return stage_config_value("dev", "lambda_handler") or "handler.lambda_handler"


def stage_config_value(stage: str, key: str) -> object:
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    config = settings[stage]
    while key not in config and "extends" in config:
        config = settings[config["extends"]]
    return config.get(key)


def run_driver(
    python: str, package_dir: Path, runtime_dir: Path, tmp_path: Path, plan: list[dict], env: dict[str, str]
):
    plan_file, results_file = tmp_path / "plan.json", tmp_path / "results.json"
    plan_file.write_text(json.dumps(plan))
    result = subprocess.run(
        [python, "-I", "-S", "-B", str(DRIVER), str(package_dir), str(runtime_dir), str(plan_file),
         str(results_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,  # a first migrate on a loaded machine
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "TZ": "UTC", "_HANDLER": lambda_handler(), **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return json.loads(results_file.read_text()), result.stdout + "\n" + result.stderr  # EMF on stdout, logs on stderr


def test_the_packaged_handler_serves_http_manage_schedule_and_sqs(
    package_dir,
    runtime_dir,
    runtime_python,
    fake_anthropic,
    moto_endpoint,
    _sns_certificate_server,  # noqa: F811 (the fixture, imported above)
    tmp_path,
):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    write_settings(
        package_dir,
        tmp_path,
        packaged_env(
            package_dir,
            moto_endpoint,
            {
                "CELERY_SQS_QUEUE_URL": queue_url,
                "ANYMAIL_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "ANTHROPIC_API_KEY": "sk-ant-packaged-test",
                "ANTHROPIC_BASE_URL": fake_anthropic.url,
                "NOTIFICATIONS_SES_TOPIC_ARNS": TOPIC_ARN,
            },
        ),
    )
    email = f"lambda-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": "lambda-Password-2026!"}
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
    auth = {"Authorization": "Bearer {jwt}"}
    key, cert_url = _sns_certificate_server
    bounce = SnsSigner(key, cert_url).ses_notification(bounce_event(email))
    plan = [
        {"event": {"manage": "migrate --noinput"}},
        {"event": {"manage": "check"}},
        {"http": {"method": "GET", "path": "/api/v1/health/"}},
        {"http": {"method": "POST", "path": "/api/v1/auth/register/", "body": credentials | {"name": "Lambda"}}},
        {"http": {"method": "POST", "path": "/api/v1/auth/token/", "body": credentials, "save_token": "access"}},
        {
            "http": {
                "method": "POST",
                "path": "/api/v1/projects/",
                "body": {"name": "From Lambda"},
                "headers": {"Authorization": "Bearer {jwt}"},
            }
        },
        {"http": {"method": "GET", "path": "/api/v1/projects/", "headers": {"Authorization": "Bearer {jwt}"}}},
        {"http": {"method": "GET", "path": "/api/v1/projects/", "headers": {"Authorization": "Bearer not-a-token"}}},
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
        # The assistant through the real SDK (to the fake upstream): a send opens a kept connection.
        {
            "eval": f"__import__('django.contrib.auth').contrib.auth.get_user_model().objects.filter(email={email!r}).update(email_verified=True)"
        },
        {
            "http": {
                "method": "POST",
                "path": "/api/v1/assistant/conversations/",
                "body": {},
                "headers": auth,
                "save_id": "conversation",
            }
        },
        {
            "http": {
                "method": "POST",
                "path": "/api/v1/assistant/conversations/{conversation}/messages/",
                "body": {"content": "Before the snapshot"},
                "headers": auth,
            }
        },
        {"eval": POOL},
        # SnapStart: the hooks around a snapshot, then requests on the restored environment.
        {"snapshot": True},
        {"eval": POOL},
        {"http": {"method": "GET", "path": "/api/v1/projects/", "headers": auth}},
        {
            "http": {
                "method": "POST",
                "path": "/api/v1/assistant/conversations/{conversation}/messages/",
                "body": {"content": "After the restore"},
                "headers": auth,
            }
        },
        # The SES bounce webhook: SNS signature checked with cryptography (shipped in the zip).
        {"settings": {"NOTIFICATIONS_SNS_CERT_URL_REGEX": r"^http://127\.0\.0\.1:\d+/[^?#]+\.pem$"}},
        {
            "http": {
                "method": "POST",
                "path": "/anymail/amazon_ses/tracking/",
                "body": bounce,
                "headers": {
                    "Content-Type": "text/plain; charset=UTF-8",
                    "Authorization": "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode(),
                    "X-Amz-Sns-Message-Type": "Notification",
                    "X-Amz-Sns-Message-Id": bounce["MessageId"],
                    "X-Amz-Sns-Topic-Arn": TOPIC_ARN,
                },
            }
        },
        {"eval": f"list(SuppressedAddress.objects.filter(email={email!r}).values_list('reason', flat=True))"},
        # stackpro.lambda_app: the collector is back on after init, with init's objects frozen.
        {"eval": "[__import__('gc').isenabled(), __import__('gc').get_freeze_count() > 100_000]"},
    ]
    env = {
        **LAMBDA_ENV,
        "AWS_REGION": "us-east-1",
        "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true",  # as zappa_settings.json's aws_environment_variables
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",  # init warms the vendor SDKs too, as on prod
    }
    report, stdout = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, plan, env)
    steps = report["results"]
    failed = [s for s in steps if not s["ok"]]
    assert not failed, json.dumps(failed, indent=2)[:5000]
    # Isolated: nothing from a virtualenv or site-packages, only the package and the runtime's stand-in.
    assert not [p for p in report["sys_path"] if "site-packages" in p or ".venv" in p], report["sys_path"]
    migrate, check, health, register, login, create, listing, bad_token, missing, _, job, job_again, sqs_step = steps[
        :13
    ]
    _, conversation, before_send, pool_before, snapshot, pool_after, restored_listing, after_send = steps[13:21]
    _, sns_bounce, suppressed, collector = steps[21:]

    assert migrate["result"] == {} and check["result"] == {}
    assert health["status"] == 200 and health["body"] == {"status": "ok"}
    assert health["headers"]["X-Request-ID"]
    assert register["status"] == 201 and register["body"]["email"] == credentials["email"], register
    assert login["status"] == 200 and set(login["body"]) == {"access", "refresh"}, login
    assert create["status"] == 201, create
    assert listing["status"] == 200 and [p["name"] for p in listing["body"]["results"]] == ["From Lambda"], listing
    assert bad_token["status"] == 401 and bad_token["body"]["code"] == "token_not_valid", bad_token
    assert missing["status"] == 404 and missing["body"]["code"] == "not_found"
    assert job["result"] >= 1  # the expired token (and any left by an interrupted earlier run)
    assert job_again["result"] == 0  # idempotent: nothing left to flush

    good_id, bad_id = sqs_step["sent"]
    by_task = {task: message for message, task in sqs_step["message_task_ids"].items()}
    # The batch also carries the verification email the registration queued on SQS after commit;
    # it runs (console email backend) and succeeds, so only the bad task is reported.
    assert {good_id, bad_id} <= set(by_task)
    assert sqs_step["result"] == {"batchItemFailures": [{"itemIdentifier": by_task[bad_id]}]}

    # Production logging: JSON request lines and CloudWatch EMF metric lines on stdout.
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    emf = [r for r in records if "_aws" in r]
    latency = [r for r in emf if r.get("Route") == "api/v1/health/"]
    assert latency and latency[0]["status"] == 200 and latency[0]["Latency"] >= 0
    assert any(r.get("Service") == "job" and r.get("Name") == "flush_expired_tokens" for r in emf)
    assert any(r.get("Service") == "task" and r.get("Failures") == 1 for r in emf)
    # The audit log: Django's own 4xx lines (logged after the middleware returned) name their request.
    django_lines = [r for r in records if r.get("logger") == "django.request"]
    assert len(django_lines) >= 2 and all(r["request_id"] != "-" for r in django_lines), django_lines
    access = [r for r in records if r.get("logger") == "stackpro.request"]
    assert access and all(r["request_id"] != "-" and r["route"] for r in access), access
    assert not [r for r in records if r.get("logger") == "zappa.wsgi"]

    # SnapStart hooks: registered at init, the database connection closed before the snapshot,
    # random reseeded after the restore, and the next request reconnects.
    assert snapshot["hooks"] == [["stackpro.lambda_app.before_snapshot"], ["stackpro.lambda_app.after_restore"]]
    assert snapshot["open_before"] == ["default"] and snapshot["open_after"] == [] and snapshot["reseeded"]
    assert restored_listing["status"] == 200 and len(restored_listing["body"]["results"]) == 1, restored_listing
    # The anthropic client keeps its transport but not its sockets; the next send opens a new one.
    assert conversation["status"] == 201 and before_send["status"] == 201, (conversation, before_send)
    assert pool_before["result"] == 1 and pool_after["result"] == 0
    assert after_send["status"] == 201 and after_send["body"]["role"] == "assistant", after_send
    assert [r.body["messages"][-1]["content"][0]["text"] for r in fake_anthropic.requests] == [
        "Before the snapshot",
        "After the restore",
    ]
    # The signed bounce was verified (cryptography in the package) and suppressed the address.
    assert sns_bounce["status"] == 200, sns_bounce
    assert suppressed["result"] == ["bounced"]
    # Init happened at import (INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT), with the runtime's Python.
    assert report["python"] == [3, 12] and report["init_ms"] > 0
    assert collector["result"] == [True, True]
