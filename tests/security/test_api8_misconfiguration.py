"""API8 Security misconfiguration: headers on every route, no debug, no leaks, sane production settings."""

import pytest
from django.conf import settings
from django.test import Client

from tests.security.route_matrix import api_routes

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@pytest.mark.django_db
def test_security_headers_on_every_route_without_parameters():
    client = Client(raise_request_exception=False)
    checked = 0
    for route in api_routes():
        if "<" in route.pattern:
            continue
        response = client.get("/" + route.pattern)
        for header, value in EXPECTED_HEADERS.items():
            assert response.get(header) == value, (route.pattern, header, response.get(header))
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], route.pattern
        assert response["Content-Type"].startswith("application/json"), route.pattern
        checked += 1
    assert checked >= 2


def test_cors_never_allows_every_origin_with_credentials():
    assert not getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False)
    assert "*" not in settings.CORS_ALLOWED_ORIGINS


@pytest.mark.django_db
def test_unknown_methods_and_urls_answer_json_without_details():
    client = Client(raise_request_exception=False)
    cases = (
        ("delete", "/api/v1/health/", 405, "method_not_allowed"),
        ("get", "/api/v1/nope/", 404, "not_found"),
        ("patch", "/api/v1/health/ready/", 405, "method_not_allowed"),
    )
    for method, url, status, code in cases:
        response = getattr(client, method)(url)
        assert response.status_code == status, (method, url)
        assert set(response.json()) == {"code", "message"} and response.json()["code"] == code
