"""Writes of the assistant: conversations, and sending a message (cache → quota → Claude → settle)."""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import metrics
from core.errors import InvalidInput, RateLimited
from core.throttling import hit, parse_rate

from . import claude, quotas
from .context import project_context_for, project_ensure_readable
from .errors import AssistantUnavailable, MessageTooLong
from .models import Conversation, Message
from .prompting import (
    Turn,
    build_system_blocks,
    estimate_input_tokens,
    response_cache_key,
    to_api_messages,
    trim_history,
)
from .selectors import conversation_get_for_user

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 60


def title_from_message(content: str) -> str:
    """The first line of the message, cut at a word boundary to about 60 characters."""
    line = " ".join(content.strip().split("\n", 1)[0].split())
    if len(line) <= TITLE_MAX_CHARS:
        return line or "New conversation"
    cut = line[:TITLE_MAX_CHARS].rsplit(" ", 1)[0] or line[:TITLE_MAX_CHARS]
    return cut.rstrip(" ,.;:-") + "…"


def conversation_create(*, user: Any, title: str = "", project_id: uuid.UUID | None = None) -> Conversation:
    """Create a conversation; a project must be one the user may read (else 404 ``not_found``)."""
    if project_id is not None:
        project_ensure_readable(project_id=project_id, user=user)
    conversation = Conversation(user=user, title=title.strip(), project_id=project_id)
    conversation.full_clean()
    with transaction.atomic():
        conversation.save()
    return conversation


def conversation_rename(*, user: Any, conversation_id: uuid.UUID, title: str) -> Conversation:
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    title = title.strip()
    if not title:
        raise InvalidInput("Some fields are invalid.", code="validation_error", fields={"title": ["May not be blank."]})
    conversation.title = title
    conversation.updated_at = timezone.now()
    conversation.full_clean()
    with transaction.atomic():
        conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_delete(*, user: Any, conversation_id: uuid.UUID) -> None:
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    with transaction.atomic():
        conversation.delete()


# ------------------------------------------------------------------------------------------------
# Sending a message
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendResult:
    user_message: Message
    reply: Message  # its token fields are this send's usage: all 0 on a cache hit


def check_send_rate(*, user: Any) -> None:
    limit, window = parse_rate(settings.ASSISTANT_SEND_RATE)
    allowed, retry_after = hit(f"assistant:send:{user.pk}", limit, window)
    if not allowed:
        raise RateLimited("You are sending messages too quickly.", retry_after=retry_after)


def validate_content(content: str) -> str:
    content = (content or "").strip()
    if not content:
        raise InvalidInput(
            "Some fields are invalid.", code="validation_error", fields={"content": ["May not be blank."]}
        )
    limit = settings.ASSISTANT_MESSAGE_MAX_CHARS
    if len(content) > limit:
        raise MessageTooLong(
            f"A message may be at most {limit} characters (this one has {len(content)}).",
            fields={"content": [f"Ensure this field has no more than {limit} characters."]},
            max_chars=limit,
        )
    return content


def _history(conversation: Conversation) -> list[Turn]:
    rows = conversation.messages.filter(status=Message.Status.OK).order_by("created_at").values_list("role", "content")
    return [Turn(role=role, content=content) for role, content in rows]


def _cache_get(key: str) -> dict[str, Any] | None:
    try:
        value = cache.get(key)
    except Exception as exc:  # noqa: BLE001 — a broken cache is a miss
        logger.warning("assistant response cache unavailable: %s", exc)
        return None
    return value if isinstance(value, dict) else None


def _cache_set(key: str, reply: claude.Reply) -> None:
    value = {"text": reply.text, "model": reply.model, "stop_reason": reply.stop_reason, "usage": reply.usage.as_dict()}
    try:
        cache.set(key, value, settings.ASSISTANT_CACHE_TTL)
    except Exception as exc:  # noqa: BLE001
        logger.warning("assistant response cache unavailable: %s", exc)


def _after(moment: datetime.datetime) -> datetime.datetime:
    """Now, but strictly after ``moment`` so a reply always sorts after its question."""
    now = timezone.now()
    return now if now > moment else moment + datetime.timedelta(microseconds=1)


def _touch(conversation: Conversation, first_content: str, when: datetime.datetime) -> None:
    fields: dict[str, Any] = {"updated_at": when}
    if not conversation.title:
        fields["title"] = title_from_message(first_content)
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    for name, value in fields.items():
        setattr(conversation, name, value)


def message_send(*, user: Any, conversation_id: uuid.UUID, content: str) -> SendResult:
    """Send ``content`` and return Claude's reply.

    Order: validate → 404 scope → per-user rate limit (429 ``throttled``) → project context (404 if
    the user lost access) → exact-match response cache (a hit: no upstream call, no tokens charged)
    → quota reservation (402 ``plan_limit_exceeded``) → save the user's message → Claude (outside
    any transaction) → save the reply and settle usage in one transaction. On an upstream failure
    the reservation is released (nothing charged), the user's message is kept with status
    ``failed`` and the assistant error is raised (502/503/504/429).
    """
    content = validate_content(content)
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    check_send_rate(user=user)
    context = project_context_for(project_id=conversation.project_id, user=user)

    system = build_system_blocks(context=context)
    turns = trim_history([*_history(conversation), Turn(role="user", content=content)])
    model = settings.ANTHROPIC_MODEL
    max_tokens = claude.clamp_max_tokens()
    key = response_cache_key(
        model=model, max_tokens=max_tokens, system=system, turns=turns, user_id=user.pk, context=context
    )

    cached = _cache_get(key)
    if cached is not None:
        with transaction.atomic():
            question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content=content)
            answer = Message.objects.create(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                content=cached["text"],
                model=cached.get("model", model),
                stop_reason=cached.get("stop_reason", ""),
                cached=True,
                response_cache_key=key,
                latency_ms=0,
                created_at=_after(question.created_at),
            )
            _touch(conversation, content, answer.created_at)
            quotas.count_cache_hit(user=user)
        return SendResult(user_message=question, reply=answer)

    if not claude.is_configured():
        Message.objects.create(
            conversation=conversation,
            role=Message.Role.USER,
            content=content,
            status=Message.Status.FAILED,
            error_code="assistant_unavailable",
        )
        raise AssistantUnavailable()

    reservation = quotas.reserve(user=user, tokens=estimate_input_tokens(system, turns) + max_tokens)
    try:
        question = Message.objects.create(
            conversation=conversation, role=Message.Role.USER, content=content, status=Message.Status.PENDING
        )
    except BaseException:
        quotas.release(reservation)
        raise

    # The network call: no transaction open, no row locked (autocommit committed everything above).
    started = time.monotonic()
    try:
        reply = claude.create_message(system=system, messages=to_api_messages(turns), max_tokens=max_tokens)
    except BaseException as exc:
        _give_back(reservation, question, str(getattr(exc, "code", "") or "error"))
        raise
    latency_ms = int((time.monotonic() - started) * 1000)

    cost = quotas.cost_usd(reply.model, reply.usage)
    try:
        answer = _save_reply(conversation, question, content, reply, cost, latency_ms, reservation, key)
    except BaseException:
        # The reply could not be recorded (database trouble): give the reservation back rather than
        # leak it; the question stays, marked failed.
        _give_back(reservation, question, "server_error")
        raise
    _cache_set(key, reply)
    metrics.record_ai_usage(
        model=reply.model,
        input_tokens=reply.usage.input_tokens,
        output_tokens=reply.usage.output_tokens,
        cost_usd=float(cost),
        cache_read_tokens=reply.usage.cache_read_input_tokens,
        cache_write_tokens=reply.usage.cache_creation_input_tokens,
    )
    quotas.notify_thresholds(user=user, reservation=reservation)
    return SendResult(user_message=question, reply=answer)


def _give_back(reservation: quotas.Reservation, question: Message, code: str) -> None:
    """Release the reservation and mark the question failed; never mask the original error."""
    try:
        quotas.release(reservation)
        Message.objects.filter(pk=question.pk).update(status=Message.Status.FAILED, error_code=code[:50])
    except Exception:  # noqa: BLE001 — the caller re-raises the error that matters
        logger.exception("could not release assistant reservation %s", reservation)


def _save_reply(
    conversation: Conversation,
    question: Message,
    content: str,
    reply: claude.Reply,
    cost: Any,
    latency_ms: int,
    reservation: quotas.Reservation,
    cache_key: str,
) -> Message:
    """One transaction: the question → ok, the reply with its usage, the conversation, the settle."""
    with transaction.atomic():
        Message.objects.filter(pk=question.pk).update(status=Message.Status.OK)
        question.status = Message.Status.OK
        answer = Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            content=reply.text,
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            cache_read_tokens=reply.usage.cache_read_input_tokens,
            cache_creation_tokens=reply.usage.cache_creation_input_tokens,
            cost_usd=cost,
            model=reply.model,
            stop_reason=reply.stop_reason,
            latency_ms=latency_ms,
            response_cache_key=cache_key,
            created_at=_after(question.created_at),
        )
        _touch(conversation, content, answer.created_at)
        quotas.settle(reservation=reservation, usage=reply.usage, cost=cost)
    return answer
