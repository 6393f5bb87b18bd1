"""Publishing Celery tasks when the broker may be down: bounded retries, then inline or a clear 503.

``enqueue(task, *args, **kwargs)`` (or tasks declared with ``base=ResilientTask``, whose
``delay``/``apply_async`` do the same) publishes with the bounded retry policy of the settings
(``CELERY_TASK_PUBLISH_RETRY_POLICY``, ``CELERY_BROKER_CONNECTION_TIMEOUT``, the Redis transport's
socket timeouts). When the broker still cannot take the message, ``TASK_BROKER_DOWN`` decides:

- ``"inline"`` (default): run the task here and now, logged as a warning. Tasks are published from
  ``transaction.on_commit`` after the data is committed; refusing then would lose the side effect
  (an email, a webhook reaction) while the client, told "503", retries a write that already happened.
  Running inline keeps the side effect at the cost of latency. A task failing inline is logged, not
  raised: the request it follows has already succeeded.
- ``"refuse"``: raise ``TaskQueueUnavailable`` (503 ``task_queue_unavailable``, Retry-After), for
  callers that enqueue before writing anything.

Tasks must be idempotent either way: at-least-once delivery (SQS, acks_late) can run them twice.

Tasks are declared with ``@task(...)`` (here), which binds them to the project's Celery app
(``TASKS_CELERY_APP``, created on first use): the app and Celery's whole stack (kombu, billiard,
click...) are not imported when Django starts — ~60 ms of a plain Lambda cold start whose request
queues nothing — but when a tasks module is, which is when something first queues work.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError as KombuOperationalError

from .errors import ServiceUnavailable

logger = logging.getLogger(__name__)


def _broker_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [KombuOperationalError, OSError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - redis is a base requirement
        pass
    return tuple(errors)


BROKER_ERRORS = _broker_errors()


class TaskQueueUnavailable(ServiceUnavailable):
    code = "task_queue_unavailable"
    message = "Background work cannot be queued right now. Please retry shortly."


def broker_down_mode() -> str:
    mode = settings.TASK_BROKER_DOWN
    if mode not in {"inline", "refuse"}:
        raise ValueError(f"TASK_BROKER_DOWN must be 'inline' or 'refuse', not {mode!r}")
    return mode


def _on_broker_down(task: Task, args: Any, kwargs: Any, exc: BaseException) -> Any:
    if broker_down_mode() == "refuse":
        logger.error("broker unavailable, refusing task %s: %s", task.name, exc)
        raise TaskQueueUnavailable() from exc
    logger.warning("broker unavailable, running task %s inline: %s", task.name, exc)
    try:
        return task.apply(args=args, kwargs=kwargs)
    except Exception:
        logger.exception("task %s failed while running inline (broker down)", task.name)
        return None


def _publish(task: Task, publish: Any, args: Any, kwargs: Any, options: dict[str, Any]) -> Any:
    if task.app.conf.task_always_eager:
        return publish(args, kwargs, **options)
    options.setdefault("retry", True)
    options.setdefault("retry_policy", task.app.conf.task_publish_retry_policy)
    try:
        return publish(args, kwargs, **options)
    except BROKER_ERRORS as exc:
        return _on_broker_down(task, args, kwargs, exc)


def enqueue(task: Task, *args: Any, **kwargs: Any) -> Any:
    """Publish ``task(*args, **kwargs)``; on a dead broker run it inline or refuse (TASK_BROKER_DOWN)."""
    return _publish(task, Task.apply_async.__get__(task), args, kwargs, {})


def celery_app() -> Any:
    """The project's Celery app (``settings.TASKS_CELERY_APP``), created by its first import."""
    return import_string(settings.TASKS_CELERY_APP)


def task(**options: Any) -> Any:
    """Celery's ``@shared_task(**options)``, bound to the project's app (created here if it is not
    yet) rather than to whichever app is current when the task is first used."""

    def declare(function: Any) -> Any:
        return celery_app().task(**options)(function)

    return declare


class ResilientTask(Task):
    """A Task base whose ``delay``/``apply_async`` follow ``enqueue``'s rules.

    Use per task (``@task(base=ResilientTask)``) or for every task
    (``Celery("stackpro", task_cls="core.tasks:ResilientTask")``).
    """

    abstract = True

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        return _publish(self, super().apply_async, args, kwargs, options)
