"""Stand-ins for other apps' services that are not on this branch yet (set via CONSOLE_USER_ACTIONS).

They do the real minimum of their job on the real models, so the console's dispatch, messages and
redirects are exercised end to end.
"""

from __future__ import annotations

from typing import Any

calls: list[tuple[str, Any]] = []


def send_verification_email(*, user: Any) -> None:
    calls.append(("resend_verification", user.pk))


def resync_customer(*, user: Any) -> None:
    calls.append(("resync_billing", user.pk))


def user_erase(*, user: Any) -> None:
    calls.append(("erase", user.pk))
    user.delete()


def failing(*, user: Any) -> None:
    raise RuntimeError("Stripe is unreachable")


HANDLERS = {
    "resend_verification": "tests.console.handlers.send_verification_email",
    "resync_billing": "tests.console.handlers.resync_customer",
    "erase": "tests.console.handlers.user_erase",
}
