"""DRF permissions of the API that depend on the account's state."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .errors import EmailNotVerified


class VerifiedEmail(BasePermission):
    """Writes need a verified email address (403 ``email_not_verified``); reads stay open.

    On every view whose writes spend our money or mail a third party (docs/security.md lists them):
    the assistant (Anthropic tokens), invitations (mail to any address), checkout (Stripe customers
    and receipts). Accounts farmed with unverified addresses can then neither spend nor mail."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS or getattr(request.user, "email_verified", False):
            return True
        raise EmailNotVerified()
