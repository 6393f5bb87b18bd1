"""The console's admin: the user page, webhook events, failed tasks, the operations tables
(read-only), and a fallback for every model."""

from __future__ import annotations

import time
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html
from djstripe.models import WebhookEventTrigger
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from billing.selectors import webhook_failures_filter
from core.models import IdempotencyRecord, ThrottleCounter

from . import admin_fallback, admin_user, services
from .models import TaskFailure

admin_user.register(admin.site)


@admin.register(TaskFailure)
class TaskFailureAdmin(admin_fallback.ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "task", "error")
    list_filter = ("task", "occurred_at")
    search_fields = ("task", "error")
    date_hierarchy = "occurred_at"
    readonly_fields = ("task", "error", "traceback", "context", "occurred_at")


# ---- Stripe webhook events (dj-stripe's WebhookEventTrigger) -----------------------------------


class WebhookStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("failed", "Failed (error or not processed)"), ("processed", "Processed"), ("invalid", "Invalid")]

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        if self.value() == "failed":
            return queryset.filter(webhook_failures_filter())
        if self.value() == "processed":
            return queryset.filter(processed=True, exception="")
        if self.value() == "invalid":
            return queryset.filter(valid=False)
        return queryset


class WebhookEventTriggerAdmin(admin_fallback.ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created", "event_type", "event_link", "state", "exception", "remote_ip")
    list_filter = (WebhookStatusFilter, "valid", "processed", "created")
    list_select_related = ("event",)
    search_fields = ("event__id", "exception", "remote_ip")
    date_hierarchy = "created"
    ordering = ("-created",)
    actions = ("reprocess",)
    show_full_result_count = False
    readonly_fields = (
        "created", "updated", "remote_ip", "valid", "processed", "exception", "traceback", "event",
        "webhook_endpoint", "stripe_trigger_account", "djstripe_version", "headers", "body",
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description="type")
    def event_type(self, obj: Any) -> str:
        return obj.event.type if obj.event_id and obj.event else ""

    @admin.display(description="event")
    def event_link(self, obj: Any) -> str:
        return obj.event.id if obj.event_id and obj.event else ""

    @admin.display(description="state")
    def state(self, obj: Any) -> str:
        if not obj.valid:
            text, css = "invalid", "console-bad"
        elif obj.exception:
            text, css = "failed", "console-bad"
        elif obj.processed:
            text, css = "processed", "console-ok"
        else:
            text, css = "pending", "console-warn"
        return format_html('<span class="console-state {}">{}</span>', css, text)

    def has_reprocess_permission(self, request: Any) -> bool:
        return request.user.has_perm("console.reprocess_webhook")

    @admin.action(description="Re-process selected webhook events", permissions=["reprocess"])
    def reprocess(self, request: Any, queryset: QuerySet) -> None:
        done = failed = skipped = 0
        for trigger in queryset.select_related("stripe_trigger_account", "webhook_endpoint"):
            if not trigger.valid:
                skipped += 1
            elif services.webhook_reprocess(trigger=trigger):
                done += 1
            else:
                failed += 1
        level = messages.SUCCESS if not failed else messages.WARNING
        self.message_user(request, f"Re-processed {done}; failed again {failed}; skipped (invalid) {skipped}.", level)


if admin.site.is_registered(WebhookEventTrigger):
    admin.site.unregister(WebhookEventTrigger)
admin.site.register(WebhookEventTrigger, WebhookEventTriggerAdmin)


# ---- Operations: internal tables, read-only (the index groups them under "Operations") ------------
def _read_only(model: type) -> None:
    current = type(admin.site._registry[model])
    admin.site.unregister(model)
    admin.site.register(model, type(current.__name__, (admin_fallback.ReadOnlyAdminMixin, current), {}))


class ExpiredFilter(admin.SimpleListFilter):
    title = "window"
    parameter_name = "expired"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("yes", "over (swept hourly)"), ("no", "current")]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        now = int(time.time())
        if self.value() == "yes":
            return queryset.filter(expires__lte=now)
        if self.value() == "no":
            return queryset.filter(expires__gt=now)
        return queryset


@admin.register(ThrottleCounter)
class ThrottleCounterAdmin(admin_fallback.ReadOnlyAdminMixin, admin.ModelAdmin):
    """The rate-limit counters where there is no Redis (core.throttling): never edited by hand."""

    list_display = ("bucket", "count", "expires")
    search_fields = ("bucket",)
    list_filter = (ExpiredFilter,)


for _model in (IdempotencyRecord, OutstandingToken, BlacklistedToken):
    _read_only(_model)

# Every model of our apps (auth events, notifications, projects, ...) whose owner registered none.
admin_fallback.register_unregistered(
    admin.site, ["core", "accounts", "notifications", "billing", "projects", "assistant", "console"]
)
