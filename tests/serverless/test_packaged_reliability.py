"""Through the packaged handler (core/lambda_handler.py, Zappa's for events), in isolated interpreters:

- an SQS batch from a queue the package's event mapping does not name fails the invocation (Zappa
  alone returns None: success, and SQS would delete the batch), and the error names the ARN;
- a login limit holds in total across two instances of the handler (two processes, as two warm
  containers) with no Redis: the counters are in the database (core/throttling.py).
"""

from __future__ import annotations

import json
import random
import uuid

import boto3
import pytest

from tests.serverless.packaged import LAMBDA_ENV, packaged_env, run_driver, write_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]

UNMAPPED = "arn:aws:sqs:us-east-1:999999999999:stackpro-dev-tasks-renamed"


def test_a_batch_from_an_unmapped_queue_fails_the_invocation(
    package_dir,
    runtime_dir,
    runtime_python,
    moto_endpoint,
    tmp_path,
):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    queue_url = sqs.create_queue(QueueName="stackpro-dev-tasks")["QueueUrl"]
    write_settings(package_dir, tmp_path, packaged_env(package_dir, moto_endpoint, {"CELERY_SQS_QUEUE_URL": queue_url}))
    plan = [
        {"event": {"manage": "migrate --noinput"}},
        {
            "publish": [["stackpro.run_scheduled_job", ["purge_throttle_counters"]]],
            "queue_url": queue_url,
            "endpoint_url": moto_endpoint,
            "arn": UNMAPPED,
        },
    ]
    report, output = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, plan, LAMBDA_ENV)
    migrate, batch = report["results"]
    assert migrate["ok"], migrate
    assert not batch["ok"] and "UnmappedEventSource" in batch["error"] and UNMAPPED in batch["error"], batch
    errors = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"ERROR"' in line]
    assert any(UNMAPPED in r.get("message", "") for r in errors), output[-3000:]


def test_a_login_limit_holds_across_two_handler_instances_without_redis(
    package_dir,
    runtime_python,
    runtime_dir,
    moto_endpoint,
    tmp_path,
):
    source = f"198.19.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311 (a test address)
    write_settings(package_dir, tmp_path, packaged_env(package_dir, moto_endpoint, {"THROTTLE_LOGIN": "4/5m"}))
    credentials = {"email": f"limits-{uuid.uuid4().hex[:10]}@example.com", "password": "lambda-Password-2026!"}
    wrong = {**credentials, "password": "not-the-password"}
    login = {"http": {"method": "POST", "path": "/api/v1/auth/token/", "body": wrong, "source_ip": source}}
    first_plan = [
        {"event": {"manage": "migrate --noinput"}},
        {"http": {"method": "POST", "path": "/api/v1/auth/register/", "body": credentials | {"name": "Limits"}}},
        login,
        login,
        login,
    ]
    first, _ = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, first_plan, LAMBDA_ENV)
    second, _ = run_driver(runtime_python, package_dir, runtime_dir, tmp_path, [login, login, login], LAMBDA_ENV)
    steps = first["results"] + second["results"]
    assert all(step["ok"] for step in steps), json.dumps([s for s in steps if not s["ok"]], indent=2)[:3000]
    assert steps[1]["status"] == 201, steps[1]
    statuses = [step["status"] for step in first["results"][2:] + second["results"]]
    # Four wrong passwords answered in total; each process counting alone would have answered six.
    assert statuses == [401, 401, 401, 401, 429, 429], statuses
