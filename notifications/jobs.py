"""Scheduled jobs of notifications (plain functions: Celery beat and Zappa events both call them)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.tasks import enqueue

from .models import DigestFrequency, EmailDelivery, Notification, NotificationSettings

logger = logging.getLogger(__name__)


def _send_digests(frequency: str, period_key: str, since: datetime) -> int:
    """Fan out, first step: one ``digest_page_task`` per ``NOTIFICATIONS_DIGEST_PAGE_SIZE`` users of
    this frequency, each naming its first and last user id (in id order); returns the pages queued.
    The job reads ids and publishes a few messages, so it ends in seconds at any number of users;
    each page publishes its chunk tasks (services.digest_fan_out), and the chunks queue the emails
    — on Lambda as SQS tasks at the queue mapping's MaximumConcurrency (docs/notifications.md)."""
    from .tasks import digest_page_task

    ids = list(
        NotificationSettings.objects.filter(digest_frequency=frequency, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    size = settings.NOTIFICATIONS_DIGEST_PAGE_SIZE
    pages = 0
    for start in range(0, len(ids), size):
        page = ids[start : start + size]
        enqueue(
            digest_page_task,
            first_id=str(page[0]),
            last_id=str(page[-1]),
            frequency=frequency,
            period_key=period_key,
            since=since,
        )
        pages += 1
    logger.info("%s digests fanned out", frequency, extra={"pages": pages, "users": len(ids), "period": period_key})
    return pages


def send_daily_digests() -> int:
    """Email each daily-digest user a summary of unread notifications of the last 24 hours.

    Idempotent per UTC day: running it twice the same day queues no second email. Returns the
    page tasks queued."""
    now = timezone.now()
    return _send_digests(DigestFrequency.DAILY, now.date().isoformat(), now - timedelta(days=1))


def send_weekly_digests() -> int:
    """Email each weekly-digest user a summary of unread notifications of the last 7 days.

    Idempotent per ISO week. Returns the page tasks queued."""
    now = timezone.now()
    year, week, _ = now.isocalendar()
    return _send_digests(DigestFrequency.WEEKLY, f"{year}-W{week:02d}", now - timedelta(days=7))


def purge_old_notifications() -> int:
    """Delete read notifications older than ``NOTIFICATIONS_RETENTION_DAYS`` (and finished outbox
    rows older than that). Returns how many notifications."""
    cutoff = timezone.now() - timedelta(days=settings.NOTIFICATIONS_RETENTION_DAYS)
    deleted, _ = Notification.objects.filter(read_at__isnull=False, created_at__lt=cutoff).delete()
    EmailDelivery.objects.filter(
        status__in=[EmailDelivery.Status.SENT, EmailDelivery.Status.SKIPPED], created_at__lt=cutoff
    ).delete()
    return deleted


def requeue_stalled_deliveries() -> int:
    """Queue again outbox rows whose task chain was lost: never queued (broker down at commit),
    a worker that died mid-send, or a failure whose Celery retry never came back (and, with no
    broker, where tasks run inline and cannot retry later, every failure). Safe to run any time:
    the task's claim makes extra runs no-ops. Returns how many were queued."""
    from .tasks import send_email_delivery_task

    now = timezone.now()
    max_attempts = 1 + (send_email_delivery_task.max_retries or 0)
    stalled = EmailDelivery.objects.filter(
        Q(status=EmailDelivery.Status.PENDING, created_at__lt=now - timedelta(minutes=5))
        | Q(
            status=EmailDelivery.Status.SENDING,
            claimed_at__lt=now - timedelta(seconds=settings.NOTIFICATIONS_SEND_CLAIM_TIMEOUT),
        )
        | Q(
            status=EmailDelivery.Status.FAILED,
            attempts__lt=max_attempts,
            claimed_at__lt=now - timedelta(seconds=send_email_delivery_task.retry_backoff_max * 2),
        )
    ).values_list("pk", flat=True)[:1000]
    count = 0
    for delivery_id in stalled:
        try:
            send_email_delivery_task.delay(str(delivery_id))
        except Exception:  # noqa: BLE001 — inline mode raises the send error; the row records it
            logger.exception("requeue of %s failed", delivery_id)
        count += 1
    return count
