"""Request id, request log line and security headers."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import metrics, tracing
from .context import request_id_var, user_id_var

request_logger = logging.getLogger("stackpro.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Accept a sane ``X-Request-ID`` or make one; return it; log one line per request.

    The access line (logger ``stackpro.request``) is the audit log: request id, user id, route,
    status and duration, plus the Lambda request id on Lambda (docs/deploy.md shows how to query it).
    The ids are also kept on the request, so lines Django logs after the middleware returns
    (``django.request``'s 4xx/5xx lines) carry them too (core.logging.RequestIdFilter).
    With ``METRICS_EMF`` on (Lambda), each request also prints one CloudWatch EMF line (latency,
    4xx/5xx counts by route pattern; see core/metrics.py); a sampled X-Ray trace gets one subsegment
    annotated with the request and user ids (core/tracing.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request.log_user_id = "-"  # type: ignore[attr-defined]
        rid_token = request_id_var.set(request_id)
        uid_token = user_id_var.set("-")
        started, started_epoch = time.perf_counter(), time.time()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                user_id_var.set(str(user.pk))
                request.log_user_id = str(user.pk)  # type: ignore[attr-defined]
            match = getattr(request, "resolver_match", None)
            route = match.route if match is not None and match.route else "unmatched"
            lambda_context = request.META.get("lambda.context")
            request_logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                latency_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "latency_ms": latency_ms,
                    "route": route,
                    "lambda_request_id": getattr(lambda_context, "aws_request_id", "-"),
                },
            )
            tracing.record_request(
                request_id=request_id,
                user_id=user_id_var.get(),
                route=route,
                method=request.method or "-",
                status=response.status_code,
                start=started_epoch,
                end=started_epoch + latency_ms / 1000,
            )
            if metrics.enabled():
                metrics.record_request(
                    method=request.method or "-",
                    route=route,
                    status=response.status_code,
                    latency_ms=latency_ms,
                    properties={"path": request.path, "request_id": request_id, "user_id": user_id_var.get()},
                )
            return response
        finally:
            request_id_var.reset(rid_token)
            user_id_var.reset(uid_token)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: CSP and Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
