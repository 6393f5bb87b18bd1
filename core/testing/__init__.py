"""Helpers for tests of every app."""

from __future__ import annotations

from typing import Any


def assert_api_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the status and the stable error code together; return the body."""
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert body.get("code") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body
