"""GDPR export and erasure of a user's notifications data (registered in ``apps.ready``)."""

from __future__ import annotations

from typing import Any

from .models import EmailDelivery, Notification, NotificationPreference, NotificationSettings
from .services import preferences_get


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
                "status": d["status"],
                "created_at": d["created_at"].isoformat(),
            }
            for d in EmailDelivery.objects.filter(user=user).values("subject", "to_email", "status", "created_at")
        ],
    }


def erase_user(user: Any) -> None:
    """Delete everything that is only this user's. Sent-mail rows lose their body and address."""
    Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    NotificationSettings.objects.filter(user=user).delete()
    EmailDelivery.objects.filter(user=user).delete()
