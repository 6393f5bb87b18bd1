"""The SQS task handler: real Celery messages published through kombu's SQS transport to moto."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import boto3
import pytest
from celery import Celery
from django.utils import timezone

from stackpro import lambda_tasks
from stackpro.celery import app
from stackpro.schedule import JOBS_BY_NAME, Job

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

CALLS: list[tuple] = []


@app.task(name="tests.serverless.record")
def record(a, b=0, *, label=""):
    """A test task: remembers its arguments; fails on a negative ``a``."""
    if a < 0:
        raise ValueError("negative")
    CALLS.append((a, b, label))
    return a + b


@pytest.fixture
def queue(moto_endpoint):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    url = sqs.create_queue(QueueName=f"tasks-{len(CALLS)}-{timezone.now().timestamp():.0f}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    port = moto_endpoint.rsplit(":", 1)[1]
    # set_as_current=False: a new Celery app otherwise becomes the current one, and every
    # shared_task called later in the session would publish to this SQS queue instead of running.
    publisher = Celery(
        "publisher",
        set_as_current=False,
        broker=f"sqs://@127.0.0.1:{port}",
        broker_transport_options={"region": "us-east-1", "predefined_queues": {"celery": {"url": url}}},
    )
    CALLS.clear()
    yield sqs, url, arn, publisher


def sqs_event(sqs, url, arn, count):
    messages = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        messages += got.get("Messages", [])
        if len(messages) >= count:
            break
    assert len(messages) == count
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
            }
            for m in messages
        ]
    }


def message_ids_by_task(event):
    return {json.loads(base64.b64decode(r["body"]))["headers"]["id"]: r["messageId"] for r in event["Records"]}


def test_a_batch_runs_good_tasks_and_reports_only_the_failed_message(queue, settings, capsys):
    settings.METRICS_EMF = True
    sqs, url, arn, publisher = queue
    good = publisher.send_task("tests.serverless.record", args=[2], kwargs={"b": 3, "label": "x"})
    bad = publisher.send_task("tests.serverless.record", args=[-1])
    event = sqs_event(sqs, url, arn, 2)
    ids = message_ids_by_task(event)

    response = lambda_tasks.handle_sqs(event, None)

    assert response == {"batchItemFailures": [{"itemIdentifier": ids[bad.id]}]}
    assert CALLS == [(2, 3, "x")]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert sorted((m["Name"], m["Failures"]) for m in metrics) == [
        ("tests.serverless.record", 0),
        ("tests.serverless.record", 1),
    ]
    assert all(m["task_id"] in {good.id, bad.id} for m in metrics)


def test_unknown_tasks_and_garbage_are_failures_not_crashes(queue):
    sqs, url, arn, publisher = queue
    publisher.send_task("no.such.task", args=[])
    event = sqs_event(sqs, url, arn, 1)
    event["Records"].append({"messageId": "garbage", "body": "not json, not base64 !"})
    event["Records"].append({"messageId": "not-celery", "body": json.dumps({"hello": "world"})})
    response = lambda_tasks.handle_sqs(event, None)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        event["Records"][0]["messageId"],
        "garbage",
        "not-celery",
    ]


def test_naive_and_aware_expiry_times_are_read_as_utc():
    past, future = timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(minutes=1)
    assert lambda_tasks._expired({"expires": past.replace(tzinfo=None).isoformat()})
    assert lambda_tasks._expired({"expires": past.isoformat()})
    assert not lambda_tasks._expired({"expires": future.replace(tzinfo=None).isoformat()})
    assert not lambda_tasks._expired({"expires": None}) and not lambda_tasks._expired({"expires": "soon"})


def test_plain_json_bodies_and_expired_tasks(queue):
    sqs, url, arn, publisher = queue
    publisher.send_task("tests.serverless.record", args=[1], expires=timezone.now() - timedelta(minutes=1))
    publisher.send_task("tests.serverless.record", args=[5])
    event = sqs_event(sqs, url, arn, 2)
    for record_ in event["Records"]:  # as sent with sqs_base64_encoding=False
        record_["body"] = base64.b64decode(record_["body"]).decode()
    assert lambda_tasks.handle_sqs(event, None) == {"batchItemFailures": []}
    assert CALLS == [(5, 0, "")]  # the expired one was dropped, not run and not retried


def test_the_production_settings_publish_to_a_predefined_sqs_queue(monkeypatch):
    import subprocess
    import sys

    from tests.servers import ROOT

    code = (
        "from django.conf import settings as s; import django; django.setup();"
        "print(s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_TRANSPORT_OPTIONS['predefined_queues']['celery']['url'],"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['region'], s.METRICS_EMF)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "stackpro.settings.production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "api.example.com",
        "CELERY_BROKER_URL": "sqs://",
        "CELERY_SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/stackpro-prod-tasks",
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "stackpro-prod",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "sqs://",
        "False",
        "https://sqs.eu-west-1.amazonaws.com/1/stackpro-prod-tasks",
        "eu-west-1",
        "True",
    ]


def boom() -> int:
    raise RuntimeError("job failed")


RUNS: list[int] = []


def type_error_job() -> int:
    RUNS.append(1)
    raise TypeError("a bug inside the job")


def test_a_type_error_inside_a_job_is_not_retried_by_zappas_signature_probing(monkeypatch):
    from zappa.handler import LambdaHandler

    monkeypatch.setitem(JOBS_BY_NAME, "buggy", Job("buggy", f"{__name__}.type_error_job", "rate(1 day)"))
    entry_point = lambda_tasks._job_entry_point("buggy")
    RUNS.clear()
    with pytest.raises(RuntimeError, match="a bug inside the job"):
        LambdaHandler.run_function(entry_point, {}, None)
    assert RUNS == [1]


def test_scheduled_entry_points_run_the_job_and_let_failures_fail(user, settings, capsys, monkeypatch):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    settings.METRICS_EMF = True
    refresh = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=refresh["jti"]).update(expires_at=timezone.now() - timedelta(days=1))
    scheduled_event = {"detail-type": "Scheduled Event", "resources": ["arn:aws:events:::rule/x"]}
    assert lambda_tasks.flush_expired_tokens(scheduled_event, None) == 1
    assert lambda_tasks.flush_expired_tokens(scheduled_event, None) == 0

    monkeypatch.setitem(JOBS_BY_NAME, "boom", Job("boom", f"{__name__}.boom", "rate(1 day)"))
    with pytest.raises(RuntimeError, match="job failed"):
        lambda_tasks.run_scheduled("boom")
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert [(m["Name"], m["Failures"]) for m in metrics] == [
        ("flush_expired_tokens", 0),
        ("flush_expired_tokens", 0),
        ("boom", 1),
    ]
