"""One JSON error body for every error; nothing leaks."""

import pytest
from django.test import Client

from tests.openapi import SchemaCheckedClient
from tests.support import assert_api_error

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]


def test_validation_error_has_fields(api_client):
    response = api_client.post("/api/v1/test/echo/", {"name": "toolong", "age": -1}, format="json")
    body = assert_api_error(response, 400, "validation_error")
    assert set(body["fields"]) == {"name", "age"}
    assert all(isinstance(m, str) for msgs in body["fields"].values() for m in msgs)


def test_malformed_json_is_a_parse_error(api_client):
    response = api_client.generic("POST", "/api/v1/test/echo/", "{not json", content_type="application/json")
    assert_api_error(response, 400, "parse_error")


def test_unknown_url_is_json_404():
    response = SchemaCheckedClient().get("/api/v1/does-not-exist/")
    assert_api_error(response, 404, "not_found")
    assert response["Content-Type"].startswith("application/json")


def test_method_not_allowed(api_client):
    response = api_client.delete("/api/v1/test/echo/")
    assert_api_error(response, 405, "method_not_allowed")


def test_missing_and_bad_credentials(api_client):
    assert_api_error(api_client.get("/api/v1/test/protected/"), 401, "not_authenticated")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_api_error(api_client.get("/api/v1/test/protected/"), 401, "token_not_valid")


def test_authenticated_request_passes(auth_client, user):
    response = auth_client.get("/api/v1/test/protected/")
    assert response.status_code == 200
    assert response.json() == {"id": str(user.pk)}


def test_domain_errors_keep_their_code(api_client):
    assert_api_error(api_client.get("/api/v1/test/error/conflict/"), 409, "conflict")
    body = assert_api_error(api_client.get("/api/v1/test/error/limit/"), 402, "plan_limit_exceeded")
    assert body["limit"] == "projects"


def test_model_validation_in_a_service_is_a_400_with_fields(api_client):
    body = assert_api_error(api_client.get("/api/v1/test/error/model/"), 400, "validation_error")
    assert body["fields"] == {"title": ["Ensure this value has at most 200 characters."]}


def test_a_constraint_broken_by_a_concurrent_change_is_a_409(api_client):
    response = api_client.get("/api/v1/test/error/integrity/")
    body = assert_api_error(response, 409, "conflict")
    assert "foreign key" not in response.content.decode()
    assert set(body) == {"code", "message"}


def test_database_unavailable_is_503_with_retry_after(api_client):
    response = api_client.get("/api/v1/test/error/db/")
    assert_api_error(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0


def test_unexpected_error_is_a_bare_json_500():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/error/boom/")
    body = assert_api_error(response, 500, "server_error")
    assert "SELECT" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert set(body) == {"code", "message"}


def test_request_id_is_returned_and_generated(api_client):
    response = api_client.get("/api/v1/health/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = api_client.get("/api/v1/health/", HTTP_X_REQUEST_ID="bad id\n with spaces")["X-Request-ID"]
    assert generated != "bad id\n with spaces" and len(generated) == 32


def test_security_headers_on_every_response(api_client):
    response = api_client.get("/api/v1/does-not-exist/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


def test_under_debug_api_errors_stay_json(api_client, settings):
    """DEBUG swaps Django's handlers for HTML debug pages; under /api/ the envelope stays
    (``ApiJsonErrorsInDebugMiddleware``). The live runserver check: tests/core/test_runserver.py."""
    settings.DEBUG = True
    unknown = api_client.get("/api/v1/does-not-exist/")
    assert_api_error(unknown, 404, "not_found")
    assert unknown["Content-Type"].startswith("application/json")
    assert_api_error(api_client.get("/api/v1/assistant/conversations/null,null/"), 404, "not_found")
    crash = api_client.get("/api/v1/test/error/boom/")
    assert_api_error(crash, 500, "server_error")
    assert "SELECT secret" not in crash.content.decode()
    assert_api_error(api_client.get("/api/v1/test/error/db/"), 503, "service_unavailable")


def test_under_debug_other_paths_keep_the_debug_page(settings):
    settings.DEBUG = True
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Using the URLconf defined in" in response.content
