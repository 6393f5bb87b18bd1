"""A browser app on another origin reads what it needs: the download's file name among them."""

import pytest


@pytest.mark.django_db
def test_cross_origin_answers_expose_the_headers_a_frontend_reads(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:3000"]
    response = api_client.get("/api/v1/health/", HTTP_ORIGIN="http://localhost:3000")
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"content-disposition", "x-request-id", "retry-after", "idempotent-replayed"} <= exposed


@pytest.mark.django_db
def test_preflight_allows_the_headers_the_client_sends(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:3000"]
    response = api_client.options(
        "/api/v1/projects/",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert response.status_code == 200
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
