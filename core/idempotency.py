"""Safe retries: a POST sent with an ``Idempotency-Key`` header runs once; repeats get the first answer.

Contract (docs/reliability.md):
- Keys are per user: the scope comes from the callable named by ``IDEMPOTENCY_SCOPE_RESOLVER``
  (``accounts.authentication.idempotency_scope``: the API's own authentication, so a token whose user
  is gone, inactive or revoked has no scope; ``core`` knows nothing of authentication). A request
  without a scope is passed through untouched and the view answers it (401): anonymous POSTs
  (register, login, password reset) are not made idempotent, because their answers (tokens) must
  never be handed to a second caller, and ``IDEMPOTENCY_EXCLUDED_PATHS`` keeps the auth routes (token
  refresh, logout) out even with a token. A malformed key is always a 400 ``invalid_idempotency_key``.
- The first request claims ``(scope, sha256(key))`` through the table's unique constraint before the
  view runs, so two concurrent requests cannot both run it. The second one waits up to
  ``IDEMPOTENCY_WAIT_SECONDS`` for the first to finish, then gets the first answer, or a 409
  ``idempotency_key_in_progress`` with Retry-After.
- A repeat with the same key, method, path and body within ``IDEMPOTENCY_TTL_SECONDS`` (24 h) gets the
  stored status, body and headers plus ``Idempotent-Replayed: true``, without running the view; the
  same key with another method, path or body is a 409 ``idempotency_key_reused``.
- Answers of 5xx, 401, 408 and 429 are not stored (the claim is released): the retry runs again.
- A claim left by a process that died mid-request is taken over after ``IDEMPOTENCY_LOCK_SECONDS``.
- Expired rows are deleted by ``core.jobs.purge_idempotency_keys``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string

from .exceptions import error_body
from .models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")  # printable ASCII, 1-255 characters
# Answers a retry should not get back: transient failures and authentication problems.
_NOT_STORED = {401, 408, 425, 429}
# Headers that belong to one exchange, not to the result.
_NOT_REPLAYED_HEADERS = {"set-cookie", "x-request-id", "content-length", "date", "server"}

OWNED, REPLAY, MISMATCH, IN_PROGRESS = "owned", "replay", "mismatch", "in_progress"


def request_fingerprint(request: HttpRequest, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), request.content_type or ""):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def claim(*, scope: str, key: str, fingerprint: str, method: str, path: str) -> tuple[str, IdempotencyRecord | None]:
    """Claim the key, or say why not: (OWNED | REPLAY | MISMATCH | IN_PROGRESS, record)."""
    ttl = int(settings.IDEMPOTENCY_TTL_SECONDS)
    lock_seconds = float(settings.IDEMPOTENCY_LOCK_SECONDS)
    wait_until = time.monotonic() + float(settings.IDEMPOTENCY_WAIT_SECONDS)
    hashed = key_hash(key)
    for _attempt in range(1000):  # bounded: each pass either answers, waits 50 ms or retries a race
        now = timezone.now()
        try:
            with transaction.atomic():  # a savepoint when already inside a transaction
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key_hash=hashed,
                    key=key,
                    fingerprint=fingerprint,
                    method=method[:10],
                    path=path[:500],
                    created_at=now,
                    locked_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
            return OWNED, record
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(scope=scope, key_hash=hashed).first()
        if existing is None:
            continue  # released between our insert and this read: claim again
        if existing.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != fingerprint:
            return MISMATCH, existing
        if not existing.in_progress:
            return REPLAY, existing
        if existing.locked_at <= now - timedelta(seconds=lock_seconds):
            # The owner died mid-request: take the claim over (compare-and-set on locked_at).
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, locked_at=existing.locked_at, response_status__isnull=True
            ).update(locked_at=now)
            if taken:
                logger.warning("idempotency: took over a stale claim %s", existing.pk)
                existing.locked_at = now
                return OWNED, existing
            continue
        if time.monotonic() >= wait_until:
            return IN_PROGRESS, existing
        time.sleep(0.05)
    return IN_PROGRESS, None


def release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def store(record: IdempotencyRecord, response: HttpResponse) -> None:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_REPLAYED_HEADERS}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=response.status_code, response_body=bytes(response.content), response_headers=headers
    )


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.response_status)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def should_store(response: HttpResponse) -> bool:
    return not response.streaming and response.status_code < 500 and response.status_code not in _NOT_STORED


class IdempotencyMiddleware:
    """Applies the contract above to ``IDEMPOTENCY_METHODS`` under ``IDEMPOTENCY_PATH_PREFIXES``.

    Place it last in MIDDLEWARE (closest to the view): it needs the request body and answers for the
    view, and everything outside it (request id, security headers, CORS) still applies to replays.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.methods = {m.upper() for m in settings.IDEMPOTENCY_METHODS}
        self.prefixes = tuple(settings.IDEMPOTENCY_PATH_PREFIXES)
        self.excluded = [re.compile(p) for p in settings.IDEMPOTENCY_EXCLUDED_PATHS]
        self.resolve_scope: Callable[[HttpRequest], str | None] = import_string(settings.IDEMPOTENCY_SCOPE_RESOLVER)

    def applies_to(self, request: HttpRequest) -> bool:
        return (
            request.method in self.methods
            and request.path.startswith(self.prefixes)
            and not any(p.search(request.path) for p in self.excluded)
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or not self.applies_to(request):
            return self.get_response(request)
        if not _VALID_KEY.match(key):
            return _error(
                400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters."
            )
        scope = self.resolve_scope(request)
        if scope is None:
            return self.get_response(request)  # anonymous: not covered (see the module docstring)
        try:
            body = request.body
        except RequestDataTooBig:
            return self.get_response(request)  # the view answers with its own error
        outcome, record = claim(
            scope=scope,
            key=key,
            fingerprint=request_fingerprint(request, body),
            method=request.method or "",
            path=request.get_full_path(),
        )
        if outcome == REPLAY:
            assert record is not None
            return replay(record)
        if outcome == MISMATCH:
            return _error(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request; use a new key.",
            )
        if outcome == IN_PROGRESS:
            return _error(
                409,
                "idempotency_key_in_progress",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                {"Retry-After": "1"},
            )
        assert record is not None
        try:
            response = self.get_response(request)
        except BaseException:
            release(record)
            raise
        if should_store(response):
            store(record, response)
        else:
            release(record)
        return response


def document_idempotency_key(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the optional header and its 409 on authenticated POSTs."""
    methods = {m.lower() for m in settings.IDEMPOTENCY_METHODS}
    prefixes = tuple(settings.IDEMPOTENCY_PATH_PREFIXES)
    excluded = [re.compile(p) for p in settings.IDEMPOTENCY_EXCLUDED_PATHS]
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "description": "Makes a retry safe: a repeat with the same key and body within 24 hours returns the "
        "first response (with `Idempotent-Replayed: true`) without doing the work again. Keys are per user.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
    }
    conflict = {
        "description": "`idempotency_key_reused` (the key was used with another request) or "
        "`idempotency_key_in_progress` (the first request with this key is still running).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(prefixes) or any(p.search(path) for p in excluded):
            continue
        for method, operation in operations.items():
            security = operation.get("security") or []
            if method not in methods or not security or {} in security:
                continue  # anonymous callers are not covered
            params = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER and p.get("in") == "header" for p in params):
                params.append(parameter)
            operation.setdefault("responses", {}).setdefault("409", conflict)
    return result
