"""A user-page action that fails the way a broken upstream does (set via CONSOLE_USER_ACTIONS)."""

from __future__ import annotations

from typing import Any


def failing(*, user: Any, request: Any) -> None:
    raise RuntimeError("Stripe is unreachable")
