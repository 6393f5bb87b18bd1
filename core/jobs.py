"""Scheduled jobs of core (plain functions with no arguments: Celery beat and Zappa events call them)."""

from __future__ import annotations

import logging
import time

from django.utils import timezone

from .models import IdempotencyRecord, ThrottleCounter

logger = logging.getLogger(__name__)


def purge_idempotency_keys() -> int:
    """Delete idempotency records past their expiry (24 h by default); returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    logger.info("purged %d expired idempotency keys", deleted)
    return deleted


def purge_throttle_counters() -> int:
    """Delete throttle counters whose window is over (the database store, core/throttling.py); returns how many."""
    deleted, _ = ThrottleCounter.objects.filter(expires__lt=int(time.time())).delete()
    logger.info("purged %d expired throttle counters", deleted)
    return deleted
