"""In-app notifications, per-user preferences, the email outbox and suppressed addresses."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import UUIDModel


class Category(models.TextChoices):
    SECURITY = "security", "Security"
    PROJECT = "project", "Projects"
    BILLING = "billing", "Billing"
    ASSISTANT = "assistant", "Assistant"
    PRODUCT = "product", "Product news"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In-app"
    EMAIL = "email", "Email"


class DigestFrequency(models.TextChoices):
    OFF = "off", "Off"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class Notification(UUIDModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    category = models.CharField(max_length=20, choices=Category.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # unread-count: WHERE user_id = ? AND read_at IS NULL — answered from this index alone.
            models.Index(fields=["user", "read_at"], name="notif_user_read_idx"),
            models.Index(fields=["user", "-created_at"], name="notif_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.title}"


class NotificationPreference(models.Model):
    """A user's choice for one category; a category without a row uses ``services.DEFAULTS``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="notif_pref_user_category_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.category}: in_app={self.in_app} email={self.email}"


class NotificationSettings(models.Model):
    """Per-user settings that are not per category (digest frequency)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    digest_frequency = models.CharField(
        max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.OFF, db_index=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"{self.user_id}: digest {self.digest_frequency}"


class EmailDelivery(UUIDModel):
    """The outbox: one row per email, written before the send task is queued.

    ``idempotency_key`` is unique, so the same email can never be queued twice (digests key it by
    user and period); the task claims the row with a conditional UPDATE, so a retried or duplicated
    task never sends a row twice.
    """

    class Kind(models.TextChoices):
        NOTIFICATION = "notification", "Notification"
        TRANSACTIONAL = "transactional", "Transactional"
        DIGEST = "digest", "Digest"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"
        SKIPPED = "skipped", "Skipped"

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    template = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="email_deliveries"
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="email_deliveries"
    )
    to_email = models.EmailField(max_length=254, db_index=True)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    # Mail to an address that must not stay with us (the goodbye of an erased account): the row is
    # deleted once the message is sent or refused for good.
    erase_after_send = models.BooleanField(default=False)
    # Live links (reset, verification, invitation) kept out of the bodies until sent, then cleared;
    # never shown or filterable in the admin (services.send_transactional_email).
    secrets = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "email deliveries"
        indexes = [models.Index(fields=["status", "created_at"], name="notif_delivery_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email}: {self.subject} ({self.status})"


class SuppressedAddress(models.Model):
    """An address that bounced (permanently) or complained: no more non-transactional email to it."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    email = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    description = models.CharField(max_length=300, blank=True)
    event_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"
