"""The user-page actions, each carried out by the service of the app that owns the data.

``USER_ACTIONS`` is the table the user page is built from: the button, the permission it needs,
whether it asks for confirmation first, and ``run(*, user, request) -> str`` (the detail of the
message staff see).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.services import RequestMeta, tokens_revoke_all, user_deactivate, user_erase, verification_resend
from billing.selectors import customer_ids_for_user
from billing.services import stripe_sync

from .services import user_reactivate


def deactivate(*, user: Any, request: Any) -> str:
    user_deactivate(user=user, meta=RequestMeta.from_request(request), actor=request.user)
    return "deactivated; every session revoked"


def reactivate(*, user: Any, request: Any) -> str:
    user_reactivate(user=user)
    return "active again (sessions revoked at deactivation stay revoked)"


def revoke_sessions(*, user: Any, request: Any) -> str:
    count = tokens_revoke_all(user=user, meta=RequestMeta.from_request(request), reason=f"staff:{request.user.pk}")
    return f"{count} session(s) revoked"


def resend_verification(*, user: Any, request: Any) -> str:
    verification_resend(email=user.email, meta=RequestMeta.from_request(request))
    return "verification email sent"


def resync_billing(*, user: Any, request: Any) -> str:
    """Re-read the user's Stripe customers and their subscriptions (billing's drift repair)."""
    ids = customer_ids_for_user(user=user)
    if not ids:
        return "no Stripe customer: nothing to resync"
    subscriptions = fixed = errors = 0
    for customer_id in ids:
        result = stripe_sync(customer_id=customer_id)
        subscriptions, fixed, errors = (
            subscriptions + result.subscriptions,
            fixed + result.fixed,
            errors + result.errors,
        )
    if errors:
        raise RuntimeError(f"{errors} object(s) could not be read from Stripe ({fixed} fixed)")
    return f"{len(ids)} customer(s), {subscriptions} subscription(s) checked, {fixed} fixed"


def erase(*, user: Any, request: Any) -> str:
    user_erase(user, meta=RequestMeta.from_request(request), actor=request.user)
    return "erased"


@dataclass(frozen=True)
class UserAction:
    label: str
    permission: str
    confirm: bool  # a confirmation page (type the email) before the POST
    run: Callable[..., str]


USER_ACTIONS: dict[str, UserAction] = {
    "deactivate": UserAction("Deactivate", "console.deactivate_user", False, deactivate),
    "reactivate": UserAction("Reactivate", "console.deactivate_user", False, reactivate),
    "revoke_sessions": UserAction("Revoke all sessions", "console.revoke_sessions", False, revoke_sessions),
    "resend_verification": UserAction(
        "Resend verification email", "console.resend_verification", False, resend_verification
    ),
    "resync_billing": UserAction("Resync billing from Stripe", "console.resync_billing", False, resync_billing),
    "erase": UserAction("Erase account…", "console.erase_user", True, erase),
}
