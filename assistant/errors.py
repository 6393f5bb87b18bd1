"""The assistant's error codes (rendered by core's exception handler as ``{code, message, ...}``)."""

from __future__ import annotations

from core.errors import InvalidInput, RateLimited, ServiceUnavailable, UpstreamError, UpstreamTimeout


class AssistantUnavailable(ServiceUnavailable):
    code = "assistant_unavailable"
    message = (
        "The assistant is not configured on this server: set the ANTHROPIC_API_KEY environment variable "
        "(and optionally ANTHROPIC_BASE_URL, ANTHROPIC_MODEL) and restart."
    )


class AssistantTimeout(UpstreamTimeout):
    code = "assistant_timeout"
    message = "The assistant did not answer in time. Your message was saved; please try again."


class AssistantRateLimited(RateLimited):
    code = "assistant_rate_limited"
    message = "The assistant is receiving too many requests. Your message was saved; please retry shortly."


class AssistantUpstreamError(UpstreamError):
    code = "assistant_upstream_error"
    message = "The assistant failed to answer. Your message was saved; please try again."


class MessageTooLong(InvalidInput):
    code = "message_too_long"
    message = "The message is too long."
