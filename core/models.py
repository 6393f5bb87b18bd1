"""Abstract base models (UUID public ids, timestamps) and core's one table, the idempotency record."""

import uuid
from typing import Any

from django.db import models
from django.utils import timezone


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an ``Idempotency-Key`` (see core/idempotency.py).

    A row is claimed (unique scope + key hash) before the view runs, with no response yet; the
    response is stored when the view answers below 500, or the row is deleted so a retry runs again.
    The key is stored hashed for the unique index: MariaDB's default collation is case-insensitive
    and "abc" and "ABC" are two keys.
    """

    scope = models.CharField(max_length=80, help_text="Whose key: 'user:<id>'.")
    key_hash = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    locked_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key_hash"], name="core_idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"

    @staticmethod
    def user_scope(user_pk: Any) -> str:
        """The scope of one user's keys: what ``IDEMPOTENCY_SCOPE_RESOLVER`` returns for their requests."""
        return f"user:{user_pk}"

    @property
    def in_progress(self) -> bool:
        return self.response_status is None


class ThrottleCounter(models.Model):
    """One fixed-window throttle counter, the shared store where there is no Redis (core/throttling.py).

    ``bucket`` is the counter's name (a keyed hash of the client and the window's start, never a
    person's id); each hit is one atomic ``INSERT … ON DUPLICATE KEY UPDATE`` (``ON CONFLICT`` on
    SQLite). Rows past ``expires`` are dead weight, deleted by the ``purge_throttle_counters`` job.
    """

    bucket = models.CharField(max_length=64, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True, help_text="Unix time after which the window is over.")

    def __str__(self) -> str:
        return f"{self.bucket} = {self.count}"
