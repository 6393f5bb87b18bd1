"""core's part of a user's data export and erasure: the stored answers of their idempotent requests
(registered in ``CoreConfig.ready`` like every app's ``gdpr.py``)."""

from __future__ import annotations

from typing import Any

from .models import IdempotencyRecord


def export_user(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "method": r.method,
            "path": r.path,
            "idempotency_key": r.key,
            "status": r.response_status,
            "created_at": r.created_at.isoformat(),
            "expires_at": r.expires_at.isoformat(),
        }
        for r in IdempotencyRecord.objects.filter(scope=IdempotencyRecord.user_scope(user.pk)).order_by("created_at")
    ]


def erase_user(user: Any) -> None:
    """Stored answers hold copies of what the user sent and got (names, messages): delete them."""
    IdempotencyRecord.objects.filter(scope=IdempotencyRecord.user_scope(user.pk)).delete()
