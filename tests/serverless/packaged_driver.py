"""Drive the real Lambda handler inside an unzipped Lambda package (run by test_packaged_handler.py).

Run as ``python -I -S packaged_driver.py PACKAGE_DIR RUNTIME_DIR PLAN.json RESULTS.json``: only the
package and a folder standing in for the Lambda runtime's boto3/botocore are on ``sys.path``.
The handler is the one Lambda would call: ``_HANDLER`` (zappa_settings.json's ``lambda_handler``).
The plan is a list of steps; each step's outcome is written to the results file:

- ``{"http": {"method", "path", "headers"?, "body"?, "source_ip"?, "version"?}}``: an API Gateway
  proxy event, REST (v1, the default) or HTTP API (``"version": "2.0"``); ``{jwt}`` in a header
  value is replaced by the last token (minted, or saved from a response field named by
  ``"save_token"``, e.g. a login's ``"access"``); ``"save_id": "name"`` keeps the
  response's ``id``, which replaces ``{name}`` in later paths;
- ``{"event": {...}}``: any raw event (``manage``, scheduled, SQS...);
- ``{"jwt": "email"}``: mint an access token for that user (stands in for a login endpoint);
- ``{"expire_token": "email"}``: create one already-expired refresh token for that user;
- ``{"publish": [[task, args], ...], "queue_url", "arn"}``: publish the tasks with Celery (to SQS),
  receive them back and hand Zappa an SQS event built from the received messages;
- ``{"settings": {...}}``: override Django settings for the rest of the run (as pytest-django's
  ``settings`` fixture does), e.g. to take the SNS certificate from loopback;
- ``{"eval": "expression"}``: its value (``SuppressedAddress``, ``connections`` and
  ``assistant.claude`` as ``claude`` are in scope);
- ``{"snapshot": true}``: what Lambda does around a SnapStart snapshot: call the hooks registered
  with ``snapshot_restore_py`` before it and after the restore; reports the open database
  connections before and after, whether ``random`` was reseeded, and the garbage collector's
  counts as the snapshot would hold them (``gc_counts``). The database connection is
  opened first (SQLite closes it after each request); ``{"snapshot": "as init left it"}`` leaves
  the connections as they are.

Importing the handler's module runs init when ``INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT`` is set, as on
Lambda; ``init_ms`` in the results is that import, ``gc_counts`` the collector's counts after it.
"""

from __future__ import annotations

import base64
import gc
import importlib
import json
import os
import sys
import time
import traceback
import uuid

PACKAGE_DIR, RUNTIME_DIR, PLAN, RESULTS = sys.argv[1:5]
sys.path[:0] = [PACKAGE_DIR, RUNTIME_DIR]


class Context:
    """The bits of a Lambda context object Zappa reads."""

    function_name = "stackpro-dev"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stackpro-dev"
    memory_limit_in_mb = 1024
    aws_request_id = "driver"
    log_group_name = "/aws/lambda/stackpro-dev"
    log_stream_name = "driver"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_event(
    method: str,
    path: str,
    headers: dict | None = None,
    body: object = None,
    source_ip: str = "203.0.113.7",
    version: str = "1.0",
) -> dict:
    raw = json.dumps(body) if body is not None else None
    all_headers = {
        "Host": "api.stackpro.test",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "X-Forwarded-For": source_ip,
        "Accept": "application/json",
        **({"Content-Type": "application/json"} if raw is not None else {}),
        **(headers or {}),
    }
    if version == "2.0":
        return http_api_event(method, path, all_headers, raw, source_ip)
    path_only, _, query = path.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p) or None
    return {
        "resource": "/{proxy+}",
        "path": path_only,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": {k: [v] for k, v in params.items()} if params else None,
        "pathParameters": {"proxy": path_only.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": "/dev" + path_only,
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": "packaged-driver"},
            "accountId": "123456789012",
            "apiId": "abc123",
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def http_api_event(method: str, path: str, headers: dict, raw: str | None, source_ip: str) -> dict:
    """An HTTP API (payload format 2.0) event: lowercase headers, the address in requestContext.http."""
    path_only, _, query = path.partition("?")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path_only,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": headers["Host"],
            "http": {
                "method": method,
                "path": path_only,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": "packaged-driver",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def main() -> None:
    started = time.perf_counter()
    module, _, name = os.environ.get("_HANDLER", "handler.lambda_handler").rpartition(".")
    handler = getattr(importlib.import_module(module), name)
    init_ms = round((time.perf_counter() - started) * 1000, 1)
    gc_counts = gc.get_count()
    context = Context()
    results: list[dict] = []
    token = ""
    saved: dict[str, str] = {}
    plan = json.load(open(PLAN))
    for step in plan:
        outcome: dict = {"step": step}
        step_started = time.perf_counter()
        try:
            if "http" in step:
                spec = dict(step["http"])
                save_token = spec.pop("save_token", None)
                save_id = spec.pop("save_id", None)
                for name, value in saved.items():
                    spec["path"] = spec["path"].replace("{" + name + "}", value)
                spec["headers"] = {k: v.replace("{jwt}", token) for k, v in (spec.get("headers") or {}).items()}
                response = handler(http_event(**spec), context)
                body = response.get("body") or ""
                if response.get("isBase64Encoded"):
                    body = base64.b64decode(body).decode()
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = body
                outcome.update(status=response["statusCode"], headers=response.get("headers", {}), body=parsed)
                if save_token and isinstance(parsed, dict):
                    token = parsed[save_token]
                if save_id and isinstance(parsed, dict):
                    saved[save_id] = str(parsed["id"])
            elif "event" in step:
                outcome["result"] = handler(step["event"], context)
            elif "jwt" in step:
                from django.contrib.auth import get_user_model
                from rest_framework_simplejwt.tokens import RefreshToken

                user = get_user_model().objects.get(email=step["jwt"])
                token = str(RefreshToken.for_user(user).access_token)
                outcome["result"] = "minted"
            elif "expire_token" in step:
                from datetime import timedelta

                from django.contrib.auth import get_user_model
                from django.utils import timezone
                from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
                from rest_framework_simplejwt.tokens import RefreshToken

                user = get_user_model().objects.get(email=step["expire_token"])
                refresh = RefreshToken.for_user(user)
                OutstandingToken.objects.filter(jti=refresh["jti"]).update(
                    expires_at=timezone.now() - timedelta(days=1)
                )
                outcome["result"] = "expired one"
            elif "publish" in step:
                outcome.update(publish_and_consume(handler, context, step))
            elif "settings" in step:
                from django.conf import settings

                for name, value in step["settings"].items():
                    setattr(settings, name, value)
            elif "eval" in step:
                from django.db import connections

                from assistant import claude
                from notifications.models import SuppressedAddress

                scope = {"SuppressedAddress": SuppressedAddress, "connections": connections, "claude": claude}
                outcome["result"] = eval(step["eval"], scope)  # noqa: S307 — the test's own plan
            elif "snapshot" in step:
                outcome.update(snapshot_and_restore(connect_first=step["snapshot"] is True))
            outcome["ok"] = True
        except Exception as exc:  # noqa: BLE001 — report, the test asserts
            outcome.update(ok=False, error=repr(exc), traceback=traceback.format_exc())
        outcome["ms"] = round((time.perf_counter() - step_started) * 1000, 1)
        results.append(outcome)
    json.dump(
        {
            "results": results,
            "init_ms": init_ms,
            "gc_counts": gc_counts,
            "python": list(sys.version_info[:2]),
            "total_ms": round((time.perf_counter() - started) * 1000, 1),
            "sys_path": sys.path,
        },
        open(RESULTS, "w"),
        default=str,
    )


def snapshot_and_restore(*, connect_first: bool) -> dict:
    import random

    import snapshot_restore_py
    from django.db import connections

    def open_connections() -> list[str]:
        return [alias for alias in connections if connections[alias].connection is not None]

    if connect_first:  # as after a request on MySQL (persistent connections); SQLite closes it after one
        connections["default"].ensure_connection()
    before = open_connections()
    for function, args, kwargs in snapshot_restore_py._before_snapshot_registry:
        function(*args, **kwargs)
    gc_counts = gc.get_count()
    after = open_connections()
    state = random.getstate()
    for function, args, kwargs in snapshot_restore_py._after_restore_registry:
        function(*args, **kwargs)
    return {
        "hooks": [
            [f.__module__ + "." + f.__name__ for f, _, _ in registry]
            for registry in (snapshot_restore_py._before_snapshot_registry, snapshot_restore_py._after_restore_registry)
        ],
        "open_before": before,
        "open_after": after,
        "reseeded": random.getstate() != state,
        "gc_counts": gc_counts,
    }


def publish_and_consume(handler, context, step: dict) -> dict:
    import boto3

    from stackpro.celery import app

    sent = [app.send_task(name, args=args).id for name, args in step["publish"]]
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=step["endpoint_url"])
    messages: list[dict] = []
    for _ in range(10):
        got = sqs.receive_message(
            QueueUrl=step["queue_url"], MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1
        )
        messages += got.get("Messages", [])
        if len(messages) >= len(sent):
            break
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": step["arn"],
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]
    result = handler({"Records": records}, context)
    task_ids = {}
    for record in records:
        envelope = json.loads(base64.b64decode(record["body"]))
        task_ids[record["messageId"]] = envelope["headers"]["id"]
    return {"sent": sent, "message_task_ids": task_ids, "result": result}


if __name__ == "__main__":
    main()
