"""The public routes: what an anonymous caller gets from them, and nothing more."""

import pytest

from tests.security.route_matrix import covers_route


@covers_route("health", "anonymous", methods=("get",))
def test_liveness_is_public_and_reveals_nothing(api_client):
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@covers_route("health-ready", "anonymous", methods=("get",))
@pytest.mark.django_db
def test_readiness_is_public_and_names_backends_only(api_client):
    response = api_client.get("/api/v1/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "checks"}
    assert set(body["checks"].values()) <= {"ok", "unavailable"}
    text = response.content.decode().lower()
    assert "127.0.0.1" not in text and "redis://" not in text and "mysql" not in text
