"""Admin for core's one table: idempotency records (read-only: they are written by the middleware)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "method", "path", "response_status", "created_at", "expires_at")
    list_filter = ("method", "response_status")
    search_fields = ("key", "scope", "path")
    date_hierarchy = "created_at"
    exclude = ("response_body",)
    readonly_fields = (
        "scope",
        "key",
        "key_hash",
        "fingerprint",
        "method",
        "path",
        "response_status",
        "response_headers",
        "created_at",
        "locked_at",
        "expires_at",
    )

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
