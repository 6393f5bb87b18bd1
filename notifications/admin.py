"""Admin: notifications, preferences, the email outbox and suppressed addresses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet

from .models import EmailDelivery, Notification, NotificationPreference, NotificationSettings, SuppressedAddress


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "category", "read_at", "created_at"]
    list_filter = ["category", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "category", "in_app", "email", "updated_at"]
    list_filter = ["category", "in_app", "email"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "digest_frequency", "updated_at"]
    list_filter = ["digest_frequency"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_email", "kind", "category", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind", "category", "created_at"]
    search_fields = ["to_email", "subject", "idempotency_key", "provider_message_id"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "notification"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EmailDelivery._meta.fields if f.name != "secrets"]
    exclude = ["secrets"]
    actions = ["retry_sending"]

    def lookup_allowed(self, lookup: str, value: Any, request: Any = None) -> bool:
        """No filtering on the live links or the bodies (``?secrets__icontains=`` would be an oracle)."""
        if lookup.split("__")[0] in ("secrets", "text_body", "html_body", "headers"):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.action(description="Retry sending the selected failed emails")
    def retry_sending(self, request: Any, queryset: QuerySet[EmailDelivery]) -> None:
        from .tasks import send_email_delivery_task

        ids = list(queryset.filter(status=EmailDelivery.Status.FAILED).values_list("pk", flat=True))
        for delivery_id in ids:
            send_email_delivery_task.delay(str(delivery_id))
        self.message_user(request, f"{len(ids)} email(s) queued again.", messages.SUCCESS)


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "description", "created_at", "updated_at"]
    list_filter = ["reason", "created_at"]
    search_fields = ["email", "event_id"]
    readonly_fields = ["created_at", "updated_at"]
