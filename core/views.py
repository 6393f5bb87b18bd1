"""Health endpoints and the JSON error pages Django serves outside DRF."""

from __future__ import annotations

import logging
import sys
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import DB_RETRY_AFTER_SECONDS, database_unavailable_body, error_body, is_database_unavailable

logger = logging.getLogger(__name__)


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()


class ReadyChecksSerializer(serializers.Serializer):
    database = serializers.CharField(help_text="ok or unavailable")
    cache = serializers.CharField(help_text="ok or unavailable")


class ReadySerializer(HealthSerializer):
    checks = ReadyChecksSerializer()


class HealthView(APIView):
    """Liveness: answers without touching the database or the cache (no auth, no throttle)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    schema_public = True

    @extend_schema(responses={200: HealthSerializer}, operation_id="health_live")
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(HealthView):
    """Readiness: the database and the cache both answer, or 503 naming what failed."""

    @extend_schema(responses={200: ReadySerializer}, operation_id="health_ready")
    def get(self, request: Request) -> Response:
        checks = {"database": _check_database(), "cache": _check_cache()}
        failing = [name for name, state in checks.items() if state != "ok"]
        if failing:
            body = error_body("service_unavailable", f"Not ready: {', '.join(failing)} unavailable.", checks=checks)
            return Response(body, status=503, headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)})
        return Response({"status": "ok", "checks": checks})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 — any failure means not ready
        logger.warning("readiness: database failed: %s", exc)
        return "unavailable"


def _check_cache() -> str:
    try:
        probe = uuid.uuid4().hex
        cache.set("health:probe", probe, 10)
        return "ok" if cache.get("health:probe") == probe else "unavailable"
    except Exception as exc:  # noqa: BLE001
        logger.warning("readiness: cache failed: %s", exc)
        return "unavailable"


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body("permission_denied", "You do not have permission to perform this action."), status=403
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """handler500: an unreachable database is a 503 with Retry-After; anything else a bare 500."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        response = JsonResponse(database_unavailable_body(), status=503)
        response["Retry-After"] = str(DB_RETRY_AFTER_SECONDS)
        return response
    return JsonResponse(error_body("server_error", "An unexpected error occurred."), status=500)
