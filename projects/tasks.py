"""Tasks of projects."""

from __future__ import annotations

import logging

from core.tasks import task

from . import storage

logger = logging.getLogger(__name__)


@task(bind=True, max_retries=5, default_retry_delay=30, acks_late=True)
def storage_delete_task(self, keys: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Delete stored objects whose files are gone. Idempotent (deleting a missing object is a
    no-op), so retries and duplicate deliveries are safe; keys that still fail are retried."""
    failed: list[str] = []
    for key in keys:
        try:
            storage.delete(key)
        except Exception as exc:  # noqa: BLE001 — retried below
            logger.warning("could not delete stored object %s: %s", key, exc)
            failed.append(key)
    if failed:
        raise self.retry(args=[failed])
    return len(keys)
