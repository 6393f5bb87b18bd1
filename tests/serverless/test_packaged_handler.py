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
import json
import uuid
from collections.abc import Iterator

import boto3
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.notifications.conftest import TOPIC_ARN, WEBHOOK_SECRET, SnsSigner, _sns_certificate_server  # noqa: F401
from tests.notifications.test_bounces import bounce_event
from tests.serverless.packaged import LAMBDA_ENV, packaged_env, run_driver, write_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]

QUEUE = "stackpro-dev-tasks"
# Open sockets in the anthropic client's pool (httpx2 transport → httpcore2 pool).
POOL = "len(claude.get_client()._client._transport._pool.connections)"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}"


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic().start()
    yield fake
    fake.stop()


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
    # One line per request: no second one per Claude call, none per boto3 client created.
    assert not [r for r in records if r.get("logger") in ("httpx2", "botocore.credentials")]

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
