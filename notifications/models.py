"""In-app notifications."""

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
            models.Index(fields=["user", "read_at"], name="notif_user_read_idx"),
            models.Index(fields=["user", "-created_at"], name="notif_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.title}"
