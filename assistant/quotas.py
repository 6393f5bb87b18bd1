"""Token metering and the monthly quota: reserve before calling Claude, settle or release after.

The reservation is one conditional UPDATE on the user's row for the month, found by its unique
(user, month) key::

    UPDATE assistant_monthlyusage SET reserved_tokens = reserved_tokens + X
    WHERE user_id = ? AND month = ? AND used_tokens <= (limit - X) - reserved_tokens

The database evaluates the condition against the latest committed row under the row lock the
UPDATE takes (InnoDB's locking read; SQLite's single writer), so concurrent sends can never reserve
more than the limit together: one statement, no read-modify-write, no lock held afterwards. The
month's first send finds no row and inserts it with its reservation (one statement more; a
concurrent first send that inserted it first makes the INSERT fail and the UPDATE run again). Each
statement commits on its own (autocommit) before Anthropic is called.
"""

from __future__ import annotations

import datetime
import logging
import math
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Value
from django.utils import timezone

from billing.selectors import entitlements_for_user
from core.errors import PlanLimitExceeded
from notifications.services import notify

from .claude import Usage
from .models import MonthlyUsage
from .prices import PRICES

logger = logging.getLogger(__name__)

QUOTA_LIMIT_NAME = "ai_tokens_month"
MILLION = Decimal(1_000_000)
COST_PLACES = Decimal("0.000001")


def current_month(now: datetime.datetime | None = None) -> datetime.date:
    now = now or timezone.now()
    return now.astimezone(datetime.UTC).date().replace(day=1)


def prices_for(model: str) -> dict[str, Decimal]:
    table = PRICES
    entry = table.get(model)
    if entry is None:
        prefixes = sorted((key for key in table if key != "default" and model.startswith(key)), key=len, reverse=True)
        entry = table[prefixes[0]] if prefixes else table["default"]
    return {name: Decimal(str(value)) for name, value in entry.items()}


def cost_usd(model: str, usage: Usage) -> Decimal:
    p = prices_for(model)
    total = (
        usage.input_tokens * p["input"]
        + usage.output_tokens * p["output"]
        + usage.cache_creation_input_tokens * p["cache_write"]
        + usage.cache_read_input_tokens * p["cache_read"]
    ) / MILLION
    return total.quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def metered_tokens(usage: Usage) -> int:
    """What a call counts against the quota (cache reads weighted: they cost a tenth)."""
    weight = settings.ASSISTANT_CACHE_READ_QUOTA_WEIGHT
    return (
        usage.input_tokens
        + usage.output_tokens
        + usage.cache_creation_input_tokens
        + math.ceil(usage.cache_read_input_tokens * weight)
    )


def usage_row(*, user: Any, month: datetime.date | None = None) -> MonthlyUsage:
    """The user's row for the month, created by the month's first use (a cached answer's: a send's
    reservation inserts it itself). Outside a transaction the insert is one statement, not
    ``get_or_create``'s transaction of its own."""
    month = month or current_month()
    try:
        return MonthlyUsage.objects.get(user=user, month=month)
    except MonthlyUsage.DoesNotExist:
        pass
    # None: created by a concurrent request between the get and the insert
    return _insert_row(user_id=user.pk, month=month) or MonthlyUsage.objects.get(user=user, month=month)


def _insert_row(**fields: Any) -> MonthlyUsage | None:
    """The month's row, inserted in one statement; None if it exists already (a concurrent request's)."""
    nested = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with nested:  # inside a transaction, a savepoint keeps it usable if the insert loses a race
            return MonthlyUsage.objects.create(**fields)
    except IntegrityError:
        return None


@dataclass(frozen=True)
class Reservation:
    user_id: Any
    month: datetime.date
    tokens: int
    limit: int

    def row(self) -> QuerySet[MonthlyUsage]:
        """The month's usage row the tokens are reserved on (by its unique key)."""
        return MonthlyUsage.objects.filter(user_id=self.user_id, month=self.month)


def reserve(*, user: Any, tokens: int) -> Reservation:
    """Reserve ``tokens`` against this month's plan limit or raise 402 ``plan_limit_exceeded``."""
    limit = int(entitlements_for_user(user=user).ai_tokens_per_month)
    reservation = Reservation(user_id=user.pk, month=current_month(), tokens=tokens, limit=limit)
    if tokens <= limit and (
        _reserve_on_row(reservation) or _create_reserved(reservation) or _reserve_on_row(reservation)
    ):
        return reservation
    _maybe_notify_exhausted(reservation=reservation, user=user)
    raise PlanLimitExceeded(
        QUOTA_LIMIT_NAME,
        "Your plan's monthly AI token allowance does not cover this message. "
        "It renews at the start of next month, or upgrade your plan.",
    )


def _reserve_on_row(reservation: Reservation) -> bool:
    """The conditional UPDATE: False when the row is missing or the tokens do not fit."""
    limit, tokens = reservation.limit, reservation.tokens
    return bool(
        reservation.row()
        .filter(used_tokens__lte=Value(limit - tokens) - F("reserved_tokens"))
        .update(reserved_tokens=F("reserved_tokens") + tokens)
    )


def _create_reserved(reservation: Reservation) -> bool:
    """The month's first use: the row, created holding the reservation. False if it exists already."""
    row = _insert_row(user_id=reservation.user_id, month=reservation.month, reserved_tokens=reservation.tokens)
    return row is not None


def release(reservation: Reservation) -> None:
    """Give back a reservation whose call failed: nothing is charged."""
    reservation.row().update(reserved_tokens=F("reserved_tokens") - reservation.tokens)


def settle(*, reservation: Reservation, usage: Usage, cost: Decimal) -> None:
    """Release the reservation and add the real usage (call inside the transaction that saves the reply)."""
    reservation.row().update(
        reserved_tokens=F("reserved_tokens") - reservation.tokens,
        used_tokens=F("used_tokens") + metered_tokens(usage),
        input_tokens=F("input_tokens") + usage.input_tokens,
        output_tokens=F("output_tokens") + usage.output_tokens,
        cache_read_tokens=F("cache_read_tokens") + usage.cache_read_input_tokens,
        cache_write_tokens=F("cache_write_tokens") + usage.cache_creation_input_tokens,
        cost_usd=F("cost_usd") + cost,
        requests=F("requests") + 1,
        updated_at=timezone.now(),
    )


def count_cache_hit(*, user: Any) -> None:
    """One UPDATE on the month's row (created first only on the month's first request)."""
    month = current_month()
    changes = {"requests": F("requests") + 1, "cache_hits": F("cache_hits") + 1, "updated_at": timezone.now()}
    if not MonthlyUsage.objects.filter(user=user, month=month).update(**changes):
        row = usage_row(user=user, month=month)
        MonthlyUsage.objects.filter(pk=row.pk).update(**changes)


# ------------------------------------------------------------------------------------------------
# 80% / 100% notifications: each at most once per user per month (a conditional UPDATE claims it).
# ------------------------------------------------------------------------------------------------
def _claim(reservation: Reservation, field: str) -> bool:
    return bool(reservation.row().filter(**{f"{field}__isnull": True}).update(**{field: timezone.now()}))


def _notify(user: Any, *, percent: int, limit: int) -> None:
    if percent >= 100:
        title = "You have used your AI assistant allowance for this month"
        body = f"Your plan includes {limit:,} AI tokens a month. The allowance renews on the 1st; upgrade for more."
    else:
        title = f"You have used {percent}% of your AI assistant allowance"
        body = f"Your plan includes {limit:,} AI tokens a month."
    notify(user=user, category="assistant", title=title, body=body, link="/settings/billing", data={"percent": percent})


def notify_thresholds(*, user: Any, reservation: Reservation) -> None:
    """After a settle: notify at 80% and at 100% of the limit, once each per month."""
    row = reservation.row().values("used_tokens").first()
    if not row or reservation.limit <= 0:
        return
    used = row["used_tokens"]
    try:
        if used >= reservation.limit and _claim(reservation, "notified_100_at"):
            _claim(reservation, "notified_80_at")  # no separate 80% notice after the 100% one
            _notify(user, percent=100, limit=reservation.limit)
        elif used >= reservation.limit * 0.8 and _claim(reservation, "notified_80_at"):
            _notify(user, percent=80, limit=reservation.limit)
    except Exception:  # noqa: BLE001 — a failed notification must not fail a paid-for answer
        logger.exception("assistant quota notification failed")


def _maybe_notify_exhausted(*, reservation: Reservation, user: Any) -> None:
    """A refused send counts as reaching 100% when the user is past 80% and, even with no other send in
    flight, the message would not fit."""
    limit = reservation.limit
    row = reservation.row().values("used_tokens").first()
    if (
        row
        and row["used_tokens"] >= limit * 0.8
        and row["used_tokens"] + reservation.tokens > limit
        and _claim(reservation, "notified_100_at")
    ):
        try:
            with transaction.atomic():
                _notify(user, percent=100, limit=limit)
        except Exception:  # noqa: BLE001
            logger.exception("assistant quota notification failed")
