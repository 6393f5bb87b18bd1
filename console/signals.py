"""Record every failed Celery task as a TaskFailure (the "failed tasks" figure on the dashboard)."""

from __future__ import annotations

from typing import Any


def _on_task_failure(
    sender: Any = None, task_id: str | None = None, exception: BaseException | None = None, **kwargs: Any
) -> None:
    from .services import task_failure_record

    name = getattr(sender, "name", None) or str(sender)
    task_failure_record(task=name, error=exception or "failed", context={"task_id": task_id or ""})


def connect() -> None:
    from celery.signals import task_failure

    task_failure.connect(_on_task_failure, dispatch_uid="console.task_failure", weak=False)
