"""The one module that talks to Anthropic: ``create_message`` returns our ``Reply`` or raises our errors.

- API key, base URL, model and timeout come from settings (``ANTHROPIC_*``); no key → 503
  ``assistant_unavailable`` without any network call.
- The SDK's own retries are off (``max_retries=0``): its retry loop sleeps for whatever
  ``retry-after`` Anthropic sends (uncapped in anthropic 2.x), which could overrun API Gateway's
  29 s. Instead this module makes at most ``ASSISTANT_MAX_ATTEMPTS`` attempts inside
  ``ASSISTANT_DEADLINE_SECONDS``: each attempt's timeout is ``min(ANTHROPIC_TIMEOUT_SECONDS, the
  deadline's remaining share)``, connection errors and 5xx/529 are retried once after a short
  backoff, a 429 is never retried here (the client gets 429 with Anthropic's Retry-After).
- Errors: timeout → 504 ``assistant_timeout``; 429 → 429 ``assistant_rate_limited``; 5xx, 529,
  connection and other API errors → 502 ``assistant_upstream_error``.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from .errors import AssistantRateLimited, AssistantTimeout, AssistantUnavailable, AssistantUpstreamError

if TYPE_CHECKING:
    import anthropic

# The SDK (and httpx2, its HTTP client) is imported where it is first used, not here: importing it
# builds hundreds of pydantic models (~1 s of CPU), which every Lambda cold start would pay — the
# app's ready() and URLconf import this module — whether or not the container ever sends a message
# (docs/performance.md, cold start). Server workers import it as they start instead (``load_sdk``),
# and so does a SnapStart init (stackpro/lambda_app.py), where it lands in the snapshot.

logger = logging.getLogger(__name__)

RETRY_BACKOFF_SECONDS = 0.3
# An attempt with less time than this left is not worth starting.
MIN_ATTEMPT_SECONDS = 1.0


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }


@dataclass(frozen=True)
class Reply:
    text: str
    usage: Usage
    model: str
    stop_reason: str
    id: str = ""


def is_configured() -> bool:
    return bool(settings.ANTHROPIC_API_KEY)


def clamp_max_tokens(value: int | None = None) -> int:
    requested = settings.ASSISTANT_MAX_TOKENS if value is None else value
    return max(1, min(int(requested), settings.ASSISTANT_MAX_TOKENS_CEILING))


def attempt_timeout_seconds() -> float:
    """Each attempt's timeout: the configured one, shrunk so every attempt fits the deadline."""
    attempts = max(1, settings.ASSISTANT_MAX_ATTEMPTS)
    share = (settings.ASSISTANT_DEADLINE_SECONDS - RETRY_BACKOFF_SECONDS * (attempts - 1)) / attempts
    return max(MIN_ATTEMPT_SECONDS / 2, min(settings.ANTHROPIC_TIMEOUT_SECONDS, share))


def load_sdk() -> Any:
    """The anthropic module, imported if it is not yet (a server worker calls this as it starts:
    deploy/gunicorn_conf.py)."""
    import anthropic

    return anthropic


def warm_up() -> None:
    """Load the SDK and build what its first call builds lazily — the HTTP transport (httpcore2,
    h11, the TLS context of the configured client) and the pydantic schemas of the request options
    and of ``Message`` — by running one call against an in-memory transport: no network, no tokens.
    A SnapStart init calls it (stackpro/lambda_app.py), so the first send after a restore pays only
    its own work."""
    import anthropic
    import httpx2

    answer = {
        "id": "msg_warm_up", "type": "message", "role": "assistant", "model": settings.ANTHROPIC_MODEL,
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
    }  # fmt: skip
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=answer))
    with anthropic.Anthropic(api_key="warm-up", http_client=httpx2.Client(transport=transport), max_retries=0) as sdk:
        _to_reply(
            sdk.messages.create(
                model=settings.ANTHROPIC_MODEL,
                max_tokens=1,
                system=[{"type": "text", "text": "warm-up", "cache_control": {"type": "ephemeral"}}],
                messages=[{"role": "user", "content": "warm-up"}],
                timeout=httpx2.Timeout(5.0, connect=5.0),
            )
        )
    if is_configured():
        get_client()  # the real client: its transport and TLS context, no connection until a send


@functools.lru_cache(maxsize=8)
def _client(api_key: str, base_url: str) -> anthropic.Anthropic:
    # One client (and connection pool) per configuration, shared by threads: httpx2 clients are
    # thread-safe and keep-alive saves a TLS handshake per send.
    import anthropic
    import httpx2

    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url or None,
        timeout=httpx2.Timeout(attempt_timeout_seconds(), connect=min(5.0, attempt_timeout_seconds())),
        max_retries=0,
    )


def get_client() -> anthropic.Anthropic:
    if not is_configured():
        raise AssistantUnavailable()
    return _client(settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL or "")


def _retry_after(error: anthropic.APIStatusError) -> int | None:
    headers = error.response.headers
    for name, scale in (("retry-after", 1.0), ("retry-after-ms", 0.001)):
        raw = headers.get(name)
        if raw:
            try:
                return max(1, math.ceil(float(raw) * scale))
            except ValueError:
                continue
    return None


def _to_reply(message: Any) -> Reply:
    usage = message.usage
    text = "".join(getattr(block, "text", "") for block in message.content if getattr(block, "type", "") == "text")
    return Reply(
        text=text,
        usage=Usage(
            input_tokens=int(usage.input_tokens or 0),
            output_tokens=int(usage.output_tokens or 0),
            cache_read_input_tokens=int(getattr(usage, "cache_read_input_tokens", 0) or 0),
            cache_creation_input_tokens=int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
        ),
        model=str(message.model),
        stop_reason=str(message.stop_reason or ""),
        id=str(message.id or ""),
    )


def create_message(
    *, system: list[dict[str, Any]], messages: list[dict[str, Any]], max_tokens: int | None = None
) -> Reply:
    """One Messages API call (with at most one bounded retry) → ``Reply``; raises assistant errors."""
    # The deadline starts before the SDK's first import in this process (~1 s), so that counts too.
    deadline = time.monotonic() + settings.ASSISTANT_DEADLINE_SECONDS
    client = get_client()  # no key: 503 before any import
    import anthropic  # loaded by get_client: its errors, for the except clauses
    import httpx2

    model = settings.ANTHROPIC_MODEL
    per_attempt = attempt_timeout_seconds()
    attempts = max(1, settings.ASSISTANT_MAX_ATTEMPTS)
    last_error: Exception | None = None
    for attempt in range(attempts):
        remaining = deadline - time.monotonic()
        if attempt and remaining < MIN_ATTEMPT_SECONDS:
            break
        timeout = max(0.1, min(per_attempt, remaining))
        try:
            message = client.messages.create(
                model=model,
                max_tokens=clamp_max_tokens(max_tokens),
                system=system,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
                timeout=httpx2.Timeout(timeout, connect=min(5.0, timeout)),
            )
            return _to_reply(message)
        except anthropic.APITimeoutError as exc:
            logger.warning("anthropic timed out after %.1fs (attempt %d)", timeout, attempt + 1)
            last_error = AssistantTimeout()
            last_error.__cause__ = exc
            # A hung upstream usually stays hung: only retry if a full attempt still fits.
            if deadline - time.monotonic() < per_attempt:
                break
        except anthropic.RateLimitError as exc:
            logger.warning("anthropic rate limited us: %s", exc)
            raise AssistantRateLimited(retry_after=_retry_after(exc)) from exc
        except anthropic.APIStatusError as exc:
            logger.warning("anthropic answered %s: %s", exc.status_code, exc)
            last_error = AssistantUpstreamError()
            last_error.__cause__ = exc
            if exc.status_code < 500:  # 4xx other than 429: retrying sends the same bad request
                break
        except anthropic.APIConnectionError as exc:
            logger.warning("anthropic connection failed: %s", exc)
            last_error = AssistantUpstreamError()
            last_error.__cause__ = exc
        except anthropic.AnthropicError as exc:  # bad response shape, credentials…
            logger.exception("anthropic client error")
            raise AssistantUpstreamError() from exc
        if attempt + 1 < attempts and deadline - time.monotonic() > RETRY_BACKOFF_SECONDS + MIN_ATTEMPT_SECONDS:
            time.sleep(RETRY_BACKOFF_SECONDS)
    assert last_error is not None  # noqa: S101
    raise last_error
