"""notifications' part of a user's data export and erasure (registered in ``NotificationsConfig.ready``,
like every app's ``gdpr.py``)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q
from django.utils.html import escape

from .models import EmailDelivery, Notification, NotificationPreference, NotificationSettings, SuppressedAddress
from .services import normalize_email, preferences_get

# What other people's notifications and emails say instead of an erased person's name or address.
FORMER_MEMBER = "A former member"


def _addresses(user: Any) -> list[str]:
    return [normalize_email(e) for e in (user.email, getattr(user, "pending_email", "")) if e]


def _own_deliveries(user: Any) -> Any:
    return EmailDelivery.objects.filter(Q(user=user) | Q(to_email__in=_addresses(user)))


def export_user(user: Any) -> dict[str, Any]:
    return {
        "preferences": preferences_get(user=user),
        "notifications": [
            {
                "id": str(n["id"]),
                "category": n["category"],
                "title": n["title"],
                "body": n["body"],
                "link": n["link"],
                "read_at": n["read_at"].isoformat() if n["read_at"] else None,
                "created_at": n["created_at"].isoformat(),
            }
            for n in Notification.objects.filter(user=user).values(
                "id", "category", "title", "body", "link", "read_at", "created_at"
            )
        ],
        "emails": [
            {
                "subject": d["subject"],
                "to": d["to_email"],
                "template": d["template"],
                "status": d["status"],
                "created_at": d["created_at"].isoformat(),
            }
            for d in _own_deliveries(user)
            .order_by("created_at")
            .values("subject", "to_email", "template", "status", "created_at")
        ],
        "suppressed_addresses": list(
            SuppressedAddress.objects.filter(email__in=_addresses(user)).values("email", "reason")
        ),
    }


def _mentions(user: Any) -> list[str]:
    """How others' messages name the user: name and addresses, as typed and as HTML-escaped."""
    names = {v for v in (user.name, *_addresses(user)) if v and len(v) >= 3}
    return sorted(names | {escape(v) for v in names}, key=len, reverse=True)


def _scrub(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(FORMER_MEMBER, text)


def erase_user(user: Any) -> None:
    """Delete what is the user's own (inbox, preferences, every email to their addresses, a
    suppression of their address) and, in other people's inboxes and emails, replace their name
    and address with "A former member" (and the user id in notification data with null)."""
    Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    NotificationSettings.objects.filter(user=user).delete()
    _own_deliveries(user).delete()
    SuppressedAddress.objects.filter(email__in=_addresses(user)).delete()

    mentions = _mentions(user)
    if not mentions:
        return
    pattern = re.compile("|".join(re.escape(m) for m in mentions), re.IGNORECASE)
    named = Q(data__user_id=str(user.pk))
    for mention in mentions:
        named |= Q(title__icontains=mention) | Q(body__icontains=mention)
    for notification in Notification.objects.filter(named):
        notification.title = _scrub(notification.title, pattern)[:200]
        notification.body = _scrub(notification.body, pattern)
        if notification.data.get("user_id") == str(user.pk):
            notification.data = {**notification.data, "user_id": None}
        notification.save(update_fields=["title", "body", "data"])

    named = Q()
    for mention in mentions:
        named |= Q(subject__icontains=mention) | Q(text_body__icontains=mention) | Q(html_body__icontains=mention)
    for delivery in EmailDelivery.objects.filter(named):
        delivery.subject = _scrub(delivery.subject, pattern)[:300]
        delivery.text_body = _scrub(delivery.text_body, pattern)
        delivery.html_body = _scrub(delivery.html_body, pattern)
        delivery.save(update_fields=["subject", "text_body", "html_body"])
