"""The user-page actions, each carried out by the service of the app that owns the data.

Every action is ``fn(*, user, request) -> str | None`` (an optional detail for the staff message).
The console looks them up by dotted name (``console.services.action_handler``), so a deployment
can swap one with the setting ``CONSOLE_USER_ACTIONS``.
"""

from __future__ import annotations

from typing import Any


def _meta(request: Any) -> Any:
    from accounts.services import RequestMeta

    return RequestMeta.from_request(request)


def deactivate(*, user: Any, request: Any) -> str:
    from accounts.services import user_deactivate

    user_deactivate(user=user, meta=_meta(request), actor=request.user)
    return "deactivated; every session revoked"


def reactivate(*, user: Any, request: Any) -> str:
    from .services import user_reactivate

    user_reactivate(user=user)
    return "active again (sessions revoked at deactivation stay revoked)"


def revoke_sessions(*, user: Any, request: Any) -> str:
    from accounts.services import tokens_revoke_all

    count = tokens_revoke_all(user=user, meta=_meta(request), reason=f"staff:{request.user.pk}")
    return f"{count} session(s) revoked"


def resend_verification(*, user: Any, request: Any) -> str:
    from accounts.services import verification_resend

    verification_resend(email=user.email, meta=_meta(request))
    return "verification email sent"


def resync_billing(*, user: Any, request: Any) -> str:
    """Re-read the user's Stripe customers and their subscriptions (billing's drift repair)."""
    from djstripe.models import Customer

    from billing.services import stripe_sync

    ids = list(Customer.objects.filter(subscriber=user, date_purged__isnull=True).values_list("id", flat=True))
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
    from accounts.services import user_erase

    user_erase(user, meta=_meta(request), actor=request.user)
    return "erased"
