"""The console's own records: staff permissions that belong to no model, and failed background work."""

from __future__ import annotations

from django.db import models


class StaffAction(models.Model):
    """Holds the console's custom permissions (no table): what a staff member may do to a user."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("resend_verification", "Can resend a user's verification email"),
            ("revoke_sessions", "Can revoke all of a user's sessions"),
            ("deactivate_user", "Can deactivate and reactivate a user"),
            ("erase_user", "Can erase a user's account"),
            ("resync_billing", "Can resync a user's billing from Stripe"),
            ("reprocess_webhook", "Can re-process a Stripe webhook event"),
            ("view_billing_metrics", "Can see revenue and subscription figures on the dashboard"),
        ]

    def __str__(self) -> str:
        return "staff action"


class TaskFailure(models.Model):
    """A background task or scheduled job that failed (Celery failures are recorded automatically)."""

    task = models.CharField(max_length=200, db_index=True)
    error = models.CharField(max_length=500, blank=True)
    traceback = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.task}: {self.error[:60]}"
