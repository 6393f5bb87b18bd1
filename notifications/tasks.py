"""Celery tasks of notifications: sending one outbox row; the digests' pages and chunks."""

from __future__ import annotations

from datetime import datetime

from core.tasks import task

from . import services


@task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def send_email_delivery_task(self, delivery_id: str) -> str:  # noqa: ANN001
    """Send the ``EmailDelivery`` row ``delivery_id`` (an id, never an object).

    Idempotent: the service claims the row with a conditional UPDATE, so a duplicated message
    (SQS and Redis deliver at least once) or a retry after a success sends nothing. On failure the
    row is marked ``failed`` with the error and the task retries with exponential backoff
    (30 s, 60 s, … capped at an hour, jittered; 6 retries). After the last retry the row stays
    ``failed`` for the admin's "retry sending" action.
    """
    return services.email_delivery_send(delivery_id=delivery_id)


@task(acks_late=True)
def digest_page_task(*, first_id: str, last_id: str, frequency: str, period_key: str, since: datetime) -> int:
    """Publish one ``digest_queue_chunk_task`` per ``NOTIFICATIONS_DIGEST_CHUNK_SIZE`` users of the
    id range ``first_id``..``last_id`` (the digest jobs' pages). Returns the chunks queued.

    Idempotent: a redelivered page publishes the same chunks again, and a chunk queues nothing twice.
    """
    return services.digest_fan_out(
        first_id=first_id, last_id=last_id, frequency=frequency, period_key=period_key, since=since
    )


@task(acks_late=True)
def digest_queue_chunk_task(*, user_ids: list[str], frequency: str, period_key: str, since: datetime) -> int:
    """Queue the ``frequency`` digest of each of ``user_ids`` for ``period_key`` (the digest pages
    publish these). Returns how many were queued.

    Idempotent: each digest's outbox key is unique per user and period, so a redelivered chunk, or
    the job run again (EventBridge's retries), queues nothing twice. No retries of its own: on
    Lambda a failed chunk comes back from SQS after the visibility timeout, on a server the
    worker's ``acks_late`` redelivers it.
    """
    return services.digest_queue_for_users(user_ids=user_ids, frequency=frequency, period_key=period_key, since=since)
