"""Liveness and readiness."""

import pytest
from django.db import connection

from tests.support import assert_api_error


def test_liveness_answers_without_touching_the_database(api_client):
    # No django_db mark: pytest-django makes any database access here an error.
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_database_and_cache(api_client):
    response = api_client.get("/api/v1/health/ready/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readiness_names_the_failing_check(api_client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("database is gone")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = api_client.get("/api/v1/health/ready/")
    body = assert_api_error(response, 503, "service_unavailable")
    assert body["checks"] == {"database": "unavailable", "cache": "ok"}
    assert response["Retry-After"]
