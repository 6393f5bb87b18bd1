"""What staff do to users and to failed work, as services the admin calls (and tests call)."""

from __future__ import annotations

import logging
import traceback as tb
from typing import Any

from django.db import transaction

from .models import TaskFailure

logger = logging.getLogger(__name__)


def user_reactivate(*, user: Any) -> None:
    """Let a deactivated user log in again (their revoked sessions stay revoked)."""
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])


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
