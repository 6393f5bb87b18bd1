"""Admin: conversation metadata (content only with ASSISTANT_ADMIN_SHOW_CONTENT), messages with cost per
day (date hierarchy + totals), usage per user per month ordered by cost (top users first)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse

from .models import Conversation, Message, MonthlyUsage

CONTENT_FIELDS = ("content",)


def show_content() -> bool:
    return settings.ASSISTANT_ADMIN_SHOW_CONTENT


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "project_id", "shown_title", "message_total", "created_at", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "=id", "=project_id"]
    list_filter = [("project_id", admin.EmptyFieldListFilter), "created_at"]
    date_hierarchy = "created_at"
    ordering = ["-updated_at"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(_messages=Count("messages"))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["id", "user", "project_id", "created_at", "updated_at"]
        return [*fields, "title"] if show_content() else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description="title")
    def shown_title(self, obj: Conversation) -> str:
        return obj.title if show_content() else "(hidden)"

    @admin.display(description="messages", ordering="_messages")
    def message_total(self, obj: Conversation) -> int:
        return int(getattr(obj, "_messages", 0))


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Cost per day: drill down with the date hierarchy; the page shows the filtered totals."""

    change_list_template = "admin/assistant/message/change_list.html"
    list_display = [
        "created_at",
        "user_email",
        "role",
        "status",
        "model",
        "cached",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "cost_usd",
        "latency_ms",
    ]
    list_select_related = ["conversation__user"]
    list_filter = ["role", "status", "cached", "model", "created_at"]
    search_fields = ["conversation__user__email", "=conversation__id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [
            "id",
            "conversation",
            "role",
            "status",
            "error_code",
            "model",
            "stop_reason",
            "cached",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
            "cost_usd",
            "latency_ms",
            "created_at",
        ]
        return [*fields, *CONTENT_FIELDS] if show_content() else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description="user", ordering="conversation__user__email")
    def user_email(self, obj: Message) -> str:
        return obj.conversation.user.email

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        try:
            qs = response.context_data["cl"].queryset  # type: ignore[attr-defined]
        except (AttributeError, KeyError):
            return response
        response.context_data["totals"] = qs.aggregate(  # type: ignore[attr-defined]
            cost=Sum("cost_usd"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cache_read=Sum("cache_read_tokens"),
            cache_write=Sum("cache_creation_tokens"),
            messages=Count("id"),
        )
        return response


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(admin.ModelAdmin):
    """Usage per user per month; the default order is by cost, so the first rows are the top users."""

    list_display = [
        "month",
        "user",
        "used_tokens",
        "reserved_tokens",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "requests",
        "cache_hits",
    ]
    list_select_related = ["user"]
    list_filter = ["month"]
    search_fields = ["user__email"]
    date_hierarchy = "month"
    ordering = ["-month", "-cost_usd"]
    readonly_fields = [
        "user",
        "month",
        "used_tokens",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "requests",
        "cache_hits",
        "notified_80_at",
        "notified_100_at",
        "updated_at",
    ]
    actions = ["release_reservations"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Release leftover reservations (only when no send is in flight)")
    def release_reservations(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.update(reserved_tokens=0)
        self.message_user(request, f"Released reservations on {count} row(s).")
