"""Lambda entry points besides the WSGI app: Celery tasks from SQS, and the scheduled jobs.

Tasks: on Lambda, ``task.delay()`` publishes to SQS (``CELERY_BROKER_URL=sqs://``) and an SQS event
source mapping invokes ``handle_sqs`` with a batch of messages. Each message is a kombu envelope
(base64 JSON) around a Celery protocol-2 message: ``headers.task`` names the task, ``headers.id`` is
its id and the body is ``[args, kwargs, embed]``. Each task runs in-process once, through Celery's tracer; the
ids of the messages that failed are returned as ``batchItemFailures`` so SQS redelivers only those
(the mapping needs ``FunctionResponseTypes=ReportBatchItemFailures``, which Zappa does not set:
``deploy/lambda_events.py`` sets it). After ``maxReceiveCount`` deliveries SQS moves a message to the
dead-letter queue. SQS delivers at least once, so every task must be idempotent.

- The body is decoded with kombu's own serializer, so datetime, date, time, Decimal and UUID
  arguments arrive as the objects a worker would see, not as ``{"__type__", "__value__"}`` dicts.
- A task's ``self.retry()`` (or ``autoretry_for``) does not run it again inside the invocation: the
  message becomes a batch item failure and SQS redelivers it after the visibility timeout (the
  backoff). ``self.request.retries`` is the record's ``ApproximateReceiveCount`` minus one, so
  ``max_retries`` still ends the attempts.
- A task only starts while more than ``LAMBDA_TASK_TIME_BUDGET_SECONDS`` of the invocation remain;
  the rest of the batch is handed back (batch item failures) before the function's timeout could
  fail, and redeliver, the whole batch.
- Django's request-boundary connection handling (``close_old_connections``) runs before and after
  each batch and each job, as it does around a request: a connection that died while the container
  was frozen is replaced, not used.

Jobs: one function per entry of ``stackpro/schedule.py``, named after the job, so a Zappa event
``"function": "stackpro.lambda_tasks.<name>"`` runs it. An exception propagates: the invocation
fails and is logged, EventBridge's asynchronous retries apply, and after them the event goes to
the function's on-failure destination (``deploy/lambda_events.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .schedule import SCHEDULE, get_job, run_job

logger = logging.getLogger("stackpro.lambda")


class BadMessage(ValueError):
    """A message that is not a Celery task we know: it can never succeed."""


class RetryLater(Exception):
    """The task asked to be retried: its message becomes a batch item failure, redelivered by SQS."""


@contextmanager
def request_boundary() -> Iterator[None]:
    """Django's connection handling around a request (``close_old_connections``), at both ends of a
    batch or a job: a connection past its age or broken is closed, and the next query's health check
    runs. A connection inside a caller's transaction (a test's) is left alone, as the test client does."""
    _close_old_connections()
    try:
        yield
    finally:
        _close_old_connections()


def _close_old_connections() -> None:
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


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
        payload = _kombu_loads(payload, envelope)
    if not (isinstance(payload, list) and len(payload) >= 2):
        raise BadMessage("Celery body is not [args, kwargs, embed]")
    args, kwargs = payload[0], payload[1]
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise BadMessage("Celery body args/kwargs have the wrong types")
    return {"task": headers["task"], "id": headers["id"], "args": args, "kwargs": kwargs, "headers": headers}


def _kombu_loads(payload: str | bytes, envelope: dict[str, Any]) -> Any:
    """The Celery body as a worker decodes it (kombu's JSON: datetime, Decimal, UUID... round-trip)."""
    from kombu.exceptions import ContentDisallowed, DecodeError
    from kombu.serialization import loads

    content_type = envelope.get("content-type") or "application/json"
    try:
        return loads(payload, content_type, envelope.get("content-encoding") or "utf-8", accept={"application/json"})
    except (ContentDisallowed, DecodeError) as exc:
        raise BadMessage(f"Celery body cannot be decoded: {exc}") from None


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
def run_task_message(body: str | bytes, *, receive_count: int = 1) -> str:
    """Run the task one message carries once; returns its state.

    Raises ``RetryLater`` when the task asks for a retry, ``BadMessage`` for a message that can
    never run, and ``RuntimeError`` when the task failed.
    """
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
    info, retval = _trace_once(app, task, message, retries=max(receive_count - 1, 0))
    state = "SUCCESS" if info is None else info.state
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    ok = state == "SUCCESS"
    _metrics().record_work(kind="task", name=name, ok=ok, duration_ms=duration_ms, properties={"task_id": task_id})
    if state == "RETRY":
        raise RetryLater(f"task {name}[{task_id}] asked for a retry (receive {receive_count}): {retval!r}")
    if not ok:
        raise RuntimeError(f"task {name}[{task_id}] ended {state}: {retval!r}")
    logger.info("task %s[%s] succeeded in %.1fms", name, task_id, duration_ms)
    return state


def _trace_once(app: Any, task: Any, message: dict[str, Any], *, retries: int) -> tuple[Any, Any]:
    """One run of the task through Celery's tracer, as ``Task.apply`` does, minus its loop: ``apply``
    runs a retry again at once, in the same invocation; here the retry is returned (state RETRY)."""
    from celery.app.trace import build_tracer
    from celery.utils.nodenames import gethostname

    headers, task_id = message["headers"], message["id"]
    request = {
        "id": task_id,
        "task": task.name,
        "root_id": headers.get("root_id") or task_id,
        "parent_id": headers.get("parent_id"),
        "group": headers.get("group"),
        "retries": retries,
        "is_eager": True,  # Task.retry then returns its Retry instead of publishing one
        "hostname": gethostname(),
        "headers": None,
        "callbacks": None,
        "errbacks": None,
        "delivery_info": {"is_eager": True},
        "timelimit": None,
        "ignore_result": True,
    }
    tracer = build_tracer(task.name, task, eager=True, propagate=False, app=app)
    traced = tracer(task_id, message["args"], message["kwargs"], request)
    retval = traced.retval
    exception = getattr(retval, "exception", None)  # an ExceptionInfo on failure and retry
    return traced.info, exception if exception is not None else retval


def _task_budget_ms() -> int:
    from django.conf import settings

    return int(settings.LAMBDA_TASK_TIME_BUDGET_SECONDS * 1000)


def handle_sqs(event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    """An SQS batch: run every message's task once; report the ones to redeliver (partial batch response)."""
    _setup_django()
    failures = []
    budget_ms = _task_budget_ms()
    with request_boundary():
        for record in event.get("Records", []):
            message_id = record.get("messageId", "")
            receive_count = _receive_count(record)
            remaining = context.get_remaining_time_in_millis() if context is not None else None
            if remaining is not None and remaining < budget_ms:
                logger.warning(
                    "SQS message %s handed back: %d ms left, a task may need %d ms", message_id, remaining, budget_ms
                )
                failures.append({"itemIdentifier": message_id})
                continue
            try:
                run_task_message(record["body"], receive_count=receive_count)
            except RetryLater as exc:
                logger.info("SQS message %s: %s; redelivered after the visibility timeout", message_id, exc)
                failures.append({"itemIdentifier": message_id})
            except Exception:  # noqa: BLE001 — one bad message must not fail the batch
                logger.exception("SQS message %s failed (receive count %s)", message_id, receive_count)
                failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _receive_count(record: dict[str, Any]) -> int:
    try:
        return max(int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1)), 1)
    except (TypeError, ValueError):
        return 1


# ------------------------------------------------------------------------------------------------
# Scheduled jobs: one wrapper per entry of stackpro/schedule.py (Zappa events point at these).
# ------------------------------------------------------------------------------------------------
def run_scheduled(name: str) -> Any:
    _setup_django()
    job = get_job(name)
    started = time.perf_counter()
    ok = False
    try:
        with request_boundary():
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
