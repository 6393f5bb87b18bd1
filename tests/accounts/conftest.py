"""Fixtures of the accounts tests: run on-commit email sends, read tokens out of the outbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from django.core import mail

STRONG_PASSWORD = "Zebra-Quartz-17-Lamp"


@pytest.fixture(autouse=True)
def _no_response_floor(settings: Any) -> None:
    """The anti-timing floor is tested on its own; elsewhere it would only slow the suite."""
    settings.ACCOUNTS_MIN_RESPONSE_SECONDS = 0


@pytest.fixture
def call(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """``call(client, "post", url, data)``: one request whose on-commit callbacks (emails) run."""

    def _call(client: Any, method: str, url: str, data: Any = None, **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, data, format="json", **extra)

    return _call


def token_in(message: Any) -> str:
    """The token of the link in an email (text part)."""
    match = re.search(r"[?&]token=([^\s&\"<]+)", message.body)
    assert match, message.body
    return unquote(match.group(1))


def last_mail_to(address: str) -> Any:
    sent = [m for m in mail.outbox if address in m.to]
    assert sent, [m.to for m in mail.outbox]
    return sent[-1]
