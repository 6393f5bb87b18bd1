"""Scheduled jobs of accounts (plain functions: Celery beat and Zappa events both call them)."""

from __future__ import annotations

import logging

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

logger = logging.getLogger(__name__)


def flush_expired_tokens() -> int:
    """Delete expired refresh tokens and their blacklist rows; returns how many were removed."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    logger.info("flushed %d expired refresh tokens", deleted)
    return deleted
