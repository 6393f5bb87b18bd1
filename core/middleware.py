"""Request id, request log line and security headers."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from . import metrics, tracing
from .context import request_id_var, user_id_var
from .exceptions import error_body
from .views import server_error

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


# Codes of the JSON bodies that replace Django's HTML error pages under /api/ (DEBUG only).
_DEBUG_ERROR_CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}


class ApiJsonErrorsInDebugMiddleware:
    """Under DEBUG, errors under ``/api/`` are the JSON error body too, as in production.

    With DEBUG on Django answers what happens outside DRF — an unknown URL or a path whose id does
    not match its converter (``/api/v1/assistant/conversations/null,null/``), a refused Host, an
    exception no handler took — with its HTML debug pages, not the ``handler404``/``handler500``
    views. A frontend developer running ``make run`` gets the envelope the API promises; the
    traceback still goes to the console (logger ``django.request``). Other paths (the admin) keep
    Django's debug pages. Without DEBUG this does nothing: the handlers already answer JSON.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and request.path.startswith("/api/")
            and response.status_code >= 400
            and response.get("Content-Type", "").startswith("text/html")
        ):
            status = response.status_code
            code = _DEBUG_ERROR_CODES.get(status, "server_error" if status >= 500 else "error")
            message = "Not found." if status == 404 else response.reason_phrase
            json_response = JsonResponse(error_body(code, message), status=status)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not (settings.DEBUG and request.path.startswith("/api/")):
            return None
        # Django logs the traceback of the exceptions it handles itself; this one stops here.
        logging.getLogger("django.request").exception("Internal Server Error: %s", request.path)
        return server_error(request)
