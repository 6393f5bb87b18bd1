"""Celery tasks of notifications: sending one outbox row."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
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
