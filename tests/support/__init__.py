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


def wait_for_fresh_window(window: int, needed_seconds: float = 20) -> None:
    """Fixed-window throttles reset at multiples of ``window``: a test that counts hits across
    processes waits here when a reset would fall inside its next ``needed_seconds``."""
    import time

    remaining = window - time.time() % window
    if remaining < needed_seconds:
        time.sleep(remaining + 0.05)
