"""Reads of notifications, always scoped to the requesting user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, user: Any, unread: bool | None = None, category: str | None = None) -> QuerySet[Notification]:
    """The user's notifications, newest first; ``unread`` True/False filters on read state."""
    queryset = Notification.objects.filter(user=user)
    if unread is True:
        queryset = queryset.filter(read_at__isnull=True)
    elif unread is False:
        queryset = queryset.filter(read_at__isnull=False)
    if category:
        queryset = queryset.filter(category=category)
    return queryset.order_by("-created_at", "-id")


def unread_count(*, user: Any) -> int:
    """One COUNT(*) on the (user_id, read_at) index."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
