"""The assistant's part of a user's data export and erasure (registered in ``AppConfig.ready``)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch

from .models import Conversation, Message, MonthlyUsage

logger = logging.getLogger(__name__)


def export_user(user: Any) -> dict[str, Any]:
    conversations = Conversation.objects.filter(user=user).prefetch_related(
        Prefetch("messages", queryset=Message.objects.order_by("created_at"))
    )
    return {
        "conversations": [
            {
                "id": str(c.pk),
                "title": c.title,
                "project_id": str(c.project_id) if c.project_id else None,
                "created_at": c.created_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
                "messages": [
                    {
                        "id": str(m.pk),
                        "role": m.role,
                        "content": m.content,
                        "status": m.status,
                        "model": m.model,
                        "cached": m.cached,
                        "input_tokens": m.input_tokens,
                        "output_tokens": m.output_tokens,
                        "cache_read_input_tokens": m.cache_read_tokens,
                        "cache_creation_input_tokens": m.cache_creation_tokens,
                        "created_at": m.created_at.isoformat(),
                    }
                    for m in c.messages.all()
                ],
            }
            for c in conversations
        ],
        "usage": [
            {
                "month": u.month.strftime("%Y-%m"),
                "tokens_used": u.used_tokens,
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_read_input_tokens": u.cache_read_tokens,
                "cache_creation_input_tokens": u.cache_write_tokens,
                "estimated_cost_usd": f"{u.cost_usd:.6f}",
                "requests": u.requests,
                "cache_hits": u.cache_hits,
            }
            for u in MonthlyUsage.objects.filter(user=user).order_by("month")
        ],
    }


def erase_user(user: Any) -> None:
    """Delete the user's conversations (messages cascade) and, after commit, the response-cache
    entries their replies were stored under or served from (a cached reply repeats what they
    wrote). Usage rows hold counts only; they go with the user row (CASCADE)."""
    keys = list(
        Message.objects.filter(conversation__user=user)
        .exclude(response_cache_key="")
        .values_list("response_cache_key", flat=True)
        .distinct()
    )
    Conversation.objects.filter(user=user).delete()
    if keys:
        transaction.on_commit(lambda: _forget_cached_replies(keys), robust=True)


def _forget_cached_replies(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception as exc:  # noqa: BLE001 - a cache that is down holds nothing new; entries expire
        logger.warning("could not delete %d cached assistant replies: %s", len(keys), exc)
