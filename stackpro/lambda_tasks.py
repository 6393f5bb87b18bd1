"""Lambda entry points besides the WSGI app: Celery tasks from SQS, and the scheduled jobs.

Tasks: on Lambda, ``task.delay()`` publishes to SQS (``CELERY_BROKER_URL=sqs://``) and an SQS event
source mapping invokes ``handle_sqs`` with a batch of messages. Each message is a kombu envelope
(base64 JSON) around a Celery protocol-2 message: ``headers.task`` names the task, ``headers.id`` is
its id and the body is ``[args, kwargs, embed]``. Each task runs in-process with ``Task.apply``; the
ids of the messages that failed are returned as ``batchItemFailures`` so SQS redelivers only those
(the mapping needs ``FunctionResponseTypes=ReportBatchItemFailures``, which Zappa does not set: see
docs/serverless.md). After ``maxReceiveCount`` deliveries SQS moves a message to the dead-letter
queue. SQS delivers at least once, so every task must be idempotent.

Jobs: one function per entry of ``stackpro/schedule.py``, named after the job, so a Zappa event
``"function": "stackpro.lambda_tasks.<name>"`` runs it. An exception propagates: the invocation
fails and is logged, and EventBridge's asynchronous retries apply.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .schedule import SCHEDULE, get_job, run_job

logger = logging.getLogger("stackpro.lambda")


class BadMessage(ValueError):
    """A message that is not a Celery task we know: it can never succeed."""


def _setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:  # Zappa's handler has usually set Django up already
        django.setup()


def _metrics() -> Any:
    from core import metrics

    return metrics


# ------------------------------------------------------------------------------------------------
# Decoding
# ------------------------------------------------------------------------------------------------
def _json_or_base64_json(raw: str | bytes) -> Any:
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise BadMessage(f"message body is neither JSON nor base64 JSON: {exc}") from None


def decode_celery_message(body: str | bytes) -> dict[str, Any]:
    """A kombu SQS message body -> {"task", "id", "args", "kwargs", "headers"}."""
    envelope = _json_or_base64_json(body)
    if not isinstance(envelope, dict) or "headers" not in envelope or "body" not in envelope:
        raise BadMessage("not a kombu envelope (no headers/body)")
    headers = envelope["headers"] or {}
    if "task" not in headers or "id" not in headers:
        raise BadMessage("not a Celery protocol 2 message (no headers.task/id)")
    payload = envelope["body"]
    encoding = (envelope.get("properties") or {}).get("body_encoding")
    if encoding == "base64":
        payload = base64.b64decode(payload)
    if isinstance(payload, (str, bytes)):
        payload = json.loads(payload)
    if not (isinstance(payload, list) and len(payload) >= 2):
        raise BadMessage("Celery body is not [args, kwargs, embed]")
    args, kwargs = payload[0], payload[1]
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise BadMessage("Celery body args/kwargs have the wrong types")
    return {"task": headers["task"], "id": headers["id"], "args": args, "kwargs": kwargs, "headers": headers}


def _expired(headers: dict[str, Any]) -> bool:
    expires = headers.get("expires")
    if not expires:
        return False
    from django.utils import timezone

    try:
        moment = datetime.fromisoformat(expires)
    except (TypeError, ValueError):
        return False
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)  # Celery writes UTC
    return moment < timezone.now()


# ------------------------------------------------------------------------------------------------
# SQS
# ------------------------------------------------------------------------------------------------
def run_task_message(body: str | bytes) -> str:
    """Run the task one message carries; returns its state. Raises on failure."""
    from stackpro.celery import app

    message = decode_celery_message(body)
    name, task_id = message["task"], message["id"]
    if _expired(message["headers"]):
        logger.warning("task %s[%s] expired before it ran; dropped", name, task_id)
        return "REVOKED"
    try:
        task = app.tasks[name]
    except KeyError:
        raise BadMessage(f"unknown task {name!r}") from None
    started = time.perf_counter()
    result = task.apply(
        args=message["args"],
        kwargs=message["kwargs"],
        task_id=task_id,
        retries=message["headers"].get("retries") or 0,
        throw=False,
    )
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    ok = result.state == "SUCCESS"
    _metrics().record_work(kind="task", name=name, ok=ok, duration_ms=duration_ms, properties={"task_id": task_id})
    if not ok:
        raise RuntimeError(f"task {name}[{task_id}] ended {result.state}: {result.result!r}")
    logger.info("task %s[%s] succeeded in %.1fms", name, task_id, duration_ms)
    return result.state


def handle_sqs(event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    """An SQS batch: run every message's task; report the failed ones (partial batch response)."""
    _setup_django()
    failures = []
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        try:
            run_task_message(record["body"])
        except Exception:  # noqa: BLE001 — one bad message must not fail the batch
            logger.exception(
                "SQS message %s failed (receive count %s)",
                message_id,
                (record.get("attributes") or {}).get("ApproximateReceiveCount", "?"),
            )
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


# ------------------------------------------------------------------------------------------------
# Scheduled jobs: one wrapper per entry of stackpro/schedule.py (Zappa events point at these).
# ------------------------------------------------------------------------------------------------
def run_scheduled(name: str) -> Any:
    _setup_django()
    job = get_job(name)
    started = time.perf_counter()
    ok = False
    try:
        result = run_job(name)
        ok = True
        return result
    finally:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        _metrics().record_work(kind="job", name=name, ok=ok, duration_ms=duration_ms, properties={"path": job.path})
        if ok:
            logger.info("job %s finished in %.1fms", name, duration_ms)
        else:
            logger.error("job %s failed after %.1fms", name, duration_ms)


def _job_entry_point(name: str) -> Callable[..., Any]:
    def entry_point(event: Any = None, context: Any = None) -> Any:
        try:
            return run_scheduled(name)
        except TypeError as exc:
            # Zappa retries a function that raises TypeError with fewer arguments (it takes it for a
            # signature mismatch): the job would run three times. Make it an ordinary failure.
            raise RuntimeError(f"job {name} failed: {exc!r}") from exc

    entry_point.__name__ = entry_point.__qualname__ = name
    entry_point.__doc__ = f"Scheduled event entry point: runs {get_job(name).path}."
    return entry_point


for _job in SCHEDULE:
    globals()[_job.name] = _job_entry_point(_job.name)
