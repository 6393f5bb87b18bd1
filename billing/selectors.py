"""Reads of billing state. ``entitlements_for_user`` is the one answer to "what may this user do now"."""

from __future__ import annotations

from typing import Any

from .entitlements import FREE, Entitlements


def entitlements_for_user(*, user: Any) -> Entitlements:
    """The limits of the user's current plan (Free until subscriptions exist)."""
    return FREE
