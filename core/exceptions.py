"""The one exception handler: every error becomes ``{"code", "message", "fields"?}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from .errors import ApiError, InvalidInput

logger = logging.getLogger(__name__)

DB_RETRY_AFTER_SECONDS = 5

# DRF's default codes renamed where ours reads better; everything else keeps DRF's default_code.
_DRF_CODES = {
    "invalid": "validation_error",
    "error": "error",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return body


def _flatten_fields(detail: Any) -> dict[str, list[str]]:
    """DRF's nested ValidationError detail → {field: [messages]} (nested keys joined with '.')."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, sub in enumerate(value):
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def _first_code(detail: Any) -> str | None:
    codes = detail
    while isinstance(codes, (list, dict)):
        if not codes:
            return None
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes) if codes else None


def is_database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable_body() -> dict[str, Any]:
    return error_body("service_unavailable", "The database is temporarily unavailable. Please retry shortly.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Keeps DRF's set_rollback() behaviour."""
    headers: dict[str, str] = {}
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() in a service: the same 400 as a serializer's, never a 500.
        model_errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf_exceptions.ValidationError(model_errors)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, ApiError):
        fields = exc.fields if isinstance(exc, InvalidInput) else None
        body = error_body(exc.code, exc.message, fields, **exc.extra)
        headers.update(exc.headers)
        status = exc.status_code
    elif isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        body = error_body("validation_error", "Some fields are invalid.", fields)
        status = exc.status_code
    elif isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail
        message = (
            str(detail)
            if not isinstance(detail, (list, dict))
            else "; ".join(m for msgs in _flatten_fields(detail).values() for m in msgs)
        )
        code = getattr(detail, "code", None) or _first_code(exc.get_codes()) or exc.default_code
        if isinstance(detail, dict) and "code" in detail:  # simplejwt puts its code in the detail
            code = str(detail["code"])
            message = str(detail.get("detail", message))
        body = error_body(_DRF_CODES.get(code, code), message)
        status = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    elif is_database_unavailable(exc):
        logger.error("database unavailable: %s", exc)
        body = database_unavailable_body()
        status = 503
        headers["Retry-After"] = str(DB_RETRY_AFTER_SECONDS)
    elif isinstance(exc, IntegrityError):
        # A constraint a service did not foresee, almost always a concurrent change (the project was
        # deleted while a member was being added): the client may reload and retry.
        logger.warning("integrity error: %s", exc)
        body = error_body("conflict", "The request conflicts with a concurrent change. Reload and try again.")
        status = 409
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        body = error_body("server_error", "An unexpected error occurred.")
        status = 500
    else:
        return None  # Django's handler500 (core.views.server_error) answers in JSON.

    set_rollback()
    return Response(body, status=status, headers=headers)
