"""What staff do to users and to failed work, as services the admin calls (and tests call)."""

from __future__ import annotations

import logging
import traceback as tb
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import TaskFailure

logger = logging.getLogger(__name__)

# Actions carried out by the app that owns the data: looked up by dotted name when a staff member
# clicks, so the console works (and says what is missing) before those apps land. Each is called
# with ``user=<User>`` as its only (keyword) argument. Override in settings.CONSOLE_USER_ACTIONS.
DEFAULT_USER_ACTION_HANDLERS = {
    "resend_verification": "accounts.services.send_verification_email",
    "erase": "accounts.services.user_erase",
    "resync_billing": "billing.services.resync_customer",
}


class ActionUnavailable(Exception):
    """The app that carries out this action does not provide it (yet)."""

    def __init__(self, action: str, dotted: str) -> None:
        super().__init__(f"{dotted} is not available: this action is not wired up yet.")
        self.action = action
        self.dotted = dotted


def action_handler(action: str) -> Callable[..., Any]:
    """The callable for ``action`` or ``ActionUnavailable`` naming the missing dotted path."""
    handlers = {**DEFAULT_USER_ACTION_HANDLERS, **getattr(settings, "CONSOLE_USER_ACTIONS", {})}
    dotted = handlers[action]
    try:
        return import_string(dotted)
    except ImportError:
        raise ActionUnavailable(action, dotted)


def user_run_action(*, action: str, user: Any) -> Any:
    """Run another app's user action (resend verification, erase, resync billing)."""
    return action_handler(action)(user=user)


def user_revoke_sessions(*, user: Any) -> int:
    """Blacklist every refresh token the user holds; return how many were newly blacklisted.

    Access tokens stay valid until they expire (JWT_ACCESS_MINUTES): a refresh is what stops.
    """
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    with transaction.atomic():
        token_ids = list(
            OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now())
            .filter(blacklistedtoken__isnull=True)
            .values_list("id", flat=True)
        )
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=i) for i in token_ids], ignore_conflicts=True)
    return len(token_ids)


def user_set_active(*, user: Any, active: bool) -> None:
    """Deactivate (and sign out everywhere) or reactivate a user."""
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active", "updated_at"])
        if not active:
            user_revoke_sessions(user=user)


def task_failure_record(*, task: str, error: BaseException | str, context: dict | None = None) -> TaskFailure | None:
    """Record a failed task or job for the dashboard; never raises (it runs on failure paths)."""
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        trace = "".join(tb.format_exception(type(error), error, error.__traceback__))
    else:
        message, trace = str(error), ""
    try:
        return TaskFailure.objects.create(
            task=task[:200], error=message[:500], traceback=trace[-20000:], context=context or {}
        )
    except Exception:  # noqa: BLE001 — a database outage must not hide the original failure
        logger.exception("could not record the failure of %s", task)
        return None


def webhook_reprocess(*, trigger: Any) -> bool:
    """Run dj-stripe's processing of a stored webhook again; record the outcome on the trigger.

    Returns True when it processed. Invalid (unverified) triggers are never processed.
    """
    from djstripe.settings import djstripe_settings

    if not trigger.valid:
        return False
    account = trigger.stripe_trigger_account
    livemode = bool(trigger.json_body.get("livemode", False))
    api_key = (account.default_api_key if account else None) or djstripe_settings.get_default_api_key(livemode)
    try:
        with transaction.atomic():
            trigger.process(save=False, api_key=api_key)
            trigger.save()
        return True
    except Exception as exc:  # noqa: BLE001 — the error is stored on the trigger for staff to read
        max_length = type(trigger)._meta.get_field("exception").max_length
        trigger.exception = str(exc)[:max_length]
        trigger.traceback = tb.format_exc()
        trigger.processed = False
        trigger.save(update_fields=["exception", "traceback", "processed", "updated"])
        return False
