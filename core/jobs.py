"""Scheduled jobs of core (plain functions with no arguments: Celery beat and Zappa events call them)."""

from __future__ import annotations

import logging

from django.utils import timezone

from .models import IdempotencyRecord

logger = logging.getLogger(__name__)


def purge_idempotency_keys() -> int:
    """Delete idempotency records past their expiry (24 h by default); returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    logger.info("purged %d expired idempotency keys", deleted)
    return deleted
