"""Every message the accounts app sends, in one place, through the notifications app's services.

Links carrying a token go in ``secrets``: the outbox stores them redacted (docs/security.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.template.loader import render_to_string

from notifications.services import notify, send_transactional_email

from .models import User


def _link(base: str, token: str) -> str:
    return f"{base}?{urlencode({'token': token})}"


def send_verification(*, user: User, email: str, token: str) -> None:
    context = {
        "name": user.name,
        "email": email,
        "is_change": email != user.email,
        "valid_hours": settings.ACCOUNTS_VERIFY_EMAIL_TOKEN_SECONDS // 3600,
    }
    secrets = {"link": _link(settings.ACCOUNTS_VERIFY_EMAIL_URL, token)}
    send_transactional_email(to=email, template="accounts_verify_email", context=context, secrets=secrets)


def send_password_reset(*, user: User, token: str) -> None:
    context = {
        "name": user.name,
        "email": user.email,
        "valid_minutes": settings.ACCOUNTS_PASSWORD_RESET_TOKEN_SECONDS // 60,
    }
    secrets = {"link": _link(settings.ACCOUNTS_PASSWORD_RESET_URL, token)}
    send_transactional_email(to=user.email, template="accounts_password_reset", context=context, secrets=secrets)


def send_email_changed(*, user: User, old_email: str, token: str) -> None:
    """To the address an account just left: the new address and a one-click "this wasn't me" link."""
    context = {
        "name": user.name,
        "old_email": old_email,
        "new_email": user.email,
        "valid_days": settings.ACCOUNTS_EMAIL_REVERT_TOKEN_SECONDS // 86400,
    }
    secrets = {"link": _link(settings.ACCOUNTS_EMAIL_REVERT_URL, token)}
    send_transactional_email(to=old_email, template="accounts_email_changed", context=context, secrets=secrets)


def send_already_registered(*, user: User) -> None:
    """Someone tried to register with an address that has an account: tell its owner, not the caller."""
    context = {"name": user.name, "email": user.email, "reset_link": settings.ACCOUNTS_PASSWORD_RESET_URL}
    send_transactional_email(to=user.email, template="accounts_already_registered", context=context)


def send_account_deleted(*, email: str, name: str) -> None:
    # The address is erased with the account: the outbox row goes once the message is sent.
    send_transactional_email(
        to=email,
        template="accounts_account_deleted",
        context={"name": name, "email": email},
        erase_after_send=True,
    )


def notify_security(*, user: User, title: str, body: str = "", data: dict[str, Any] | None = None) -> None:
    notify(user=user, category="security", title=title, body=body, data=data)


def render_decoy(template: str) -> None:
    """Render ``template`` without sending: the work a known address would have cost (timing)."""
    context = {"product_name": settings.PRODUCT_NAME, "name": "", "email": "", "link": settings.FRONTEND_URL}
    for suffix in ("subject.txt", "txt", "html"):
        render_to_string(f"emails/{template}.{suffix}", context)
