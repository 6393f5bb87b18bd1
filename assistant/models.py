"""Conversations with Claude, their messages, and each user's token usage per month."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import UUIDModel


class Conversation(UUIDModel):
    """A user's conversation, optionally about a project they are a member of.

    ``project_id`` is a plain UUID (not a foreign key) so the assistant's schema does not depend on
    the projects app; access to the project is checked through ``assistant.context`` on every use.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistant_conversations")
    project_id = models.UUIDField(null=True, blank=True)
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-created_at"]
        indexes = [
            models.Index(fields=["user", "-updated_at"], name="asst_conv_user_updated_idx"),
            models.Index(fields=["user", "project_id"], name="asst_conv_user_project_idx"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class Message(UUIDModel):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # a user message while its reply is being fetched
        OK = "ok", "OK"
        FAILED = "failed", "Failed"  # the user message whose reply failed (kept, never sent again)

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    error_code = models.CharField(max_length=50, blank=True)
    # Usage of the upstream call that produced an assistant message (0 on user messages and cache hits).
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_creation_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    model = models.CharField(max_length=100, blank=True)
    stop_reason = models.CharField(max_length=30, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    cached = models.BooleanField(default=False)
    # The response-cache entry this reply was stored under or served from: erasing the
    # conversation deletes the entry too (assistant/gdpr.py).
    response_cache_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="asst_msg_conv_created_idx")]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk}"


class MonthlyUsage(models.Model):
    """One row per user per calendar month (UTC): the token meter and the quota reservation.

    ``used_tokens`` is what counts against the plan's ``ai_tokens_per_month``: input + output + cache
    writes + cache reads weighted by ``ASSISTANT_CACHE_READ_QUOTA_WEIGHT``. ``reserved_tokens`` holds
    the estimates of sends in flight (see ``assistant.quotas``). Signed integers on purpose: the
    quota check subtracts columns inside SQL, which MySQL refuses on unsigned ones.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistant_usage")
    month = models.DateField(help_text="First day of the month (UTC).")
    used_tokens = models.BigIntegerField(default=0)
    reserved_tokens = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    requests = models.IntegerField(default=0)
    cache_hits = models.IntegerField(default=0)
    notified_80_at = models.DateTimeField(null=True, blank=True)
    notified_100_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "monthly usage"
        verbose_name_plural = "monthly usage"
        ordering = ["-month", "-cost_usd"]
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="asst_usage_user_month_uniq")]
        indexes = [models.Index(fields=["month", "-cost_usd"], name="asst_usage_month_cost_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.month:%Y-%m}"
