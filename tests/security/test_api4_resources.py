"""API4 Unrestricted resource consumption: every API view is throttled, pages and bodies are bounded."""

import pytest
from django.conf import settings
from rest_framework.settings import api_settings

from tests.security.route_matrix import api_routes

# Views deliberately without throttles, and why (probes must answer under any load).
UNTHROTTLED = {"health": "liveness probe", "health-ready": "readiness probe"}


def test_every_api_view_is_throttled():
    unthrottled = []
    for route in api_routes():
        view = route.view_class
        if view is None or not hasattr(view, "throttle_classes") or route.name in UNTHROTTLED:
            continue
        if not list(view.throttle_classes):
            unthrottled.append(route.name)
    assert not unthrottled, f"API views without throttles: {unthrottled}"


def test_default_throttles_use_the_shared_cache_counters():
    classes = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert classes == ["core.throttling.UserRateThrottle", "core.throttling.AnonRateThrottle"]
    assert set(api_settings.DEFAULT_THROTTLE_RATES) >= {"user", "anon"}


def test_pages_and_request_bodies_are_bounded():
    from core.pagination import LimitOffsetPagination

    assert LimitOffsetPagination.max_limit == 100
    # Django's default (2.5 MB) caps non-file bodies; files go to S3 with presigned POSTs.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024


@pytest.mark.urls("tests.core.urls")
@pytest.mark.django_db
def test_an_oversized_body_is_refused_as_json(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api_client.post("/api/v1/test/echo/", {"name": "x" * 5000, "age": 1}, format="json")
    # Django refuses it while reading the body (RequestDataTooBig), before any view runs.
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "bad_request", "message": "Bad request."}
