"""Reads of the assistant, always scoped to the requesting user (another user's id is a 404)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, QuerySet

from billing.selectors import entitlements_for_user
from core.errors import NotFound

from .models import Conversation, Message, MonthlyUsage
from .quotas import current_month

CONVERSATION_NOT_FOUND = "Conversation not found."
DETAIL_MESSAGES = 50  # a conversation's detail carries its latest 50 messages; the rest via messages/


def conversation_list_for_user(*, user: Any, project_id: uuid.UUID | None = None) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(user=user).annotate(message_count=Count("messages"))
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs.order_by("-updated_at", "-created_at")


def conversation_get_for_user(*, user: Any, conversation_id: Any) -> Conversation:
    try:
        return Conversation.objects.get(pk=uuid.UUID(str(conversation_id)), user=user)
    except (ValueError, Conversation.DoesNotExist):
        raise NotFound(CONVERSATION_NOT_FOUND)


def conversation_detail_for_user(*, user: Any, conversation_id: Any) -> tuple[Conversation, list[Message]]:
    """The conversation with its latest ``DETAIL_MESSAGES`` messages in chronological order."""
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    latest = list(conversation.messages.order_by("-created_at")[:DETAIL_MESSAGES])
    latest.reverse()
    return conversation, latest


def message_list_for_conversation(*, user: Any, conversation_id: Any) -> QuerySet[Message]:
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    return Message.objects.filter(conversation=conversation).order_by("created_at")


def usage_tokens_this_month(user: Any) -> int:
    """The usage provider for billing (``core.registry``, limit ``ai_tokens_month``)."""
    row = MonthlyUsage.objects.filter(user=user, month=current_month()).values("used_tokens").first()
    return int(row["used_tokens"]) if row else 0


def usage_summary_for_user(*, user: Any) -> dict[str, Any]:
    month = current_month()
    row = MonthlyUsage.objects.filter(user=user, month=month).first()
    limit = int(entitlements_for_user(user=user).ai_tokens_per_month)
    used = row.used_tokens if row else 0
    return {
        "month": month.strftime("%Y-%m"),
        "tokens_used": used,
        "tokens_limit": limit,
        "tokens_reserved": row.reserved_tokens if row else 0,
        "tokens_remaining": max(0, limit - used),
        "percent_used": round(100 * used / limit, 1) if limit else 0.0,
        "input_tokens": row.input_tokens if row else 0,
        "output_tokens": row.output_tokens if row else 0,
        "cache_read_input_tokens": row.cache_read_tokens if row else 0,
        "cache_creation_input_tokens": row.cache_write_tokens if row else 0,
        "estimated_cost_usd": f"{row.cost_usd:.6f}" if row else "0.000000",
        "requests": row.requests if row else 0,
        "cache_hits": row.cache_hits if row else 0,
    }
