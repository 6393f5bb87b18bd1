"""Reads of billing state. ``entitlements_for_user`` is the one answer to "what may this user do now".

The plan comes from the user's dj-stripe Subscription (through their Customer) of the configured
Stripe mode only (``livemode == STRIPE_LIVE_MODE``: a subscription bought with a test card never
entitles anything in live mode, nor a live one in a test deployment): ``active`` or
``trialing`` gives the plan of its price; ``past_due`` keeps it for ``BILLING_PAST_DUE_GRACE_DAYS``
after the unpaid period started; anything else is Free. Two queries (subscriptions, plans) and the
answer is memoised on the user object for the rest of the request.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from djstripe.models import Customer, Invoice, Price, Subscription

from core import registry
from core.context import request_id_var

from .entitlements import FREE, Entitlements
from .models import Plan

logger = logging.getLogger(__name__)

ENTITLED_STATUSES = ("active", "trialing")
# Usage provider name (core.registry) → the Entitlements field it is measured against.
LIMIT_FIELDS = {
    "projects": "max_projects",
    "members_per_project": "max_members_per_project",
    "storage_bytes": "max_storage_bytes",
    "ai_tokens_month": "ai_tokens_per_month",
}
_MEMO_ATTR = "_billing_entitlements_memo"


# ------------------------------------------------------------------------------------------------
# Reading dj-stripe's stripe_data (the field layout moved between Stripe API versions)
# ------------------------------------------------------------------------------------------------
def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def _first_item(data: dict[str, Any]) -> dict[str, Any]:
    items = ((data.get("items") or {}).get("data")) or []
    return items[0] if items else {}


def subscription_price(data: dict[str, Any]) -> tuple[str, str]:
    """(price id, lookup key) of a subscription's first item."""
    price = _first_item(data).get("price") or {}
    if isinstance(price, str):
        return price, ""
    return price.get("id") or "", price.get("lookup_key") or ""


def subscription_period(data: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """(current period start, end): on the items since API 2025-03-31, at the top before."""
    item = _first_item(data)
    start = item.get("current_period_start") or data.get("current_period_start")
    end = item.get("current_period_end") or data.get("current_period_end")
    return _ts(start), _ts(end)


def grace_days() -> int:
    return settings.BILLING_PAST_DUE_GRACE_DAYS


def past_due_grace_ends_at(data: dict[str, Any]) -> datetime | None:
    """A renewal that fails leaves the subscription ``past_due`` from the start of the unpaid period."""
    start, _ = subscription_period(data)
    since = start or _ts(data.get("created"))
    return since + timedelta(days=grace_days()) if since else None


def _is_entitling(data: dict[str, Any], now: datetime) -> bool:
    status = data.get("status")
    if status in ENTITLED_STATUSES:
        return True
    if status == "past_due":
        ends = past_due_grace_ends_at(data)
        return ends is not None and now < ends
    return False


# ------------------------------------------------------------------------------------------------
# The user's subscription and plan
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurrentBilling:
    subscription: Subscription | None  # the subscription that decides the plan, or the latest one
    entitled: bool  # whether that subscription grants its plan now
    plan: Plan | None  # None only when the catalogue has no Free plan row
    entitlements: Entitlements


def _subscriptions_for_user(user: Any) -> list[Subscription]:
    return list(
        Subscription.objects.filter(
            customer__subscriber_id=user.pk, customer__date_purged__isnull=True, livemode=settings.STRIPE_LIVE_MODE
        )
        .only("djstripe_id", "id", "stripe_data", "created", "customer_id")
        .order_by("-created", "-djstripe_id")[:20]
    )


def current_billing(*, user: Any) -> CurrentBilling:
    """The subscription, plan and entitlements that apply to ``user`` now (two queries)."""
    if user is None or not getattr(user, "pk", None):
        return CurrentBilling(subscription=None, entitled=False, plan=None, entitlements=FREE)
    now = timezone.now()
    subscriptions = _subscriptions_for_user(user)
    chosen = next((s for s in subscriptions if s.stripe_data.get("status") in ENTITLED_STATUSES), None)
    if chosen is None:
        chosen = next((s for s in subscriptions if _is_entitling(s.stripe_data, now)), None)
    entitled = chosen is not None
    if chosen is None and subscriptions:
        chosen = subscriptions[0]

    price_id, lookup_key = subscription_price(chosen.stripe_data) if entitled and chosen else ("", "")
    match = Q(code="free")
    if price_id:
        match |= Q(stripe_price_id=price_id)
    if lookup_key:
        match |= Q(stripe_price_lookup_key=lookup_key)
    plans = list(Plan.objects.filter(match))
    paid = next(
        (p for p in plans if price_id and p.stripe_price_id == price_id),
        next((p for p in plans if lookup_key and p.stripe_price_lookup_key == lookup_key), None),
    )
    free = next((p for p in plans if p.code == "free"), None)
    if entitled and paid is None and chosen is not None:
        logger.error("subscription %s has price %s (%s) that matches no plan", chosen.id, price_id, lookup_key)
    plan = paid if (entitled and paid is not None) else free
    entitlements = plan.entitlements() if plan is not None else FREE
    return CurrentBilling(
        subscription=chosen, entitled=entitled and paid is not None, plan=plan, entitlements=entitlements
    )


def entitlements_for_user(*, user: Any) -> Entitlements:
    """The limits of the user's current plan. Memoised per request on the user object."""
    request_id = request_id_var.get()
    memo = getattr(user, _MEMO_ATTR, None)
    if memo is not None and request_id != "-" and memo[0] == request_id:
        return memo[1]
    entitlements = current_billing(user=user).entitlements
    if user is not None and request_id != "-":
        try:
            setattr(user, _MEMO_ATTR, (request_id, entitlements))
        except AttributeError:
            pass
    return entitlements


# ------------------------------------------------------------------------------------------------
# Usage against limits
# ------------------------------------------------------------------------------------------------
def usage_for_user(*, user: Any) -> dict[str, int]:
    """What the user uses now, from every usage provider registered in core.registry."""
    usage: dict[str, int] = {}
    for name, provider in registry.usage_providers().items():
        if name not in LIMIT_FIELDS:
            continue
        try:
            usage[name] = int(provider(user))
        except Exception:  # noqa: BLE001 - one broken provider must not hide the others
            logger.exception("usage provider %s failed", name)
    return usage


def limits_report(*, user: Any, entitlements: Entitlements) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """({limit: {limit, usage, exceeded}}, [exceeded limits]). Usage above a limit after a downgrade
    is kept (nothing is deleted) but reported here; creation stays blocked until under the limit."""
    usage = usage_for_user(user=user)
    report: dict[str, dict[str, Any]] = {}
    for name, field_name in LIMIT_FIELDS.items():
        limit = getattr(entitlements, field_name)
        used = usage.get(name)
        report[name] = {"limit": limit, "usage": used, "exceeded": used is not None and used > limit}
    report["max_file_size_bytes"] = {"limit": entitlements.max_file_size_bytes, "usage": None, "exceeded": False}
    exceeded = [name for name, row in report.items() if row["exceeded"]]
    return report, exceeded


def subscription_summary(*, user: Any) -> dict[str, Any]:
    """The user's plan, subscription status and usage against each limit (GET subscription/)."""
    billing = current_billing(user=user)
    sub = billing.subscription
    data = sub.stripe_data if sub is not None else {}
    _, period_end = subscription_period(data) if data else (None, None)
    status = data.get("status") if data else None
    in_grace = status == "past_due" and billing.entitled
    limits, exceeded = limits_report(user=user, entitlements=billing.entitlements)
    return {
        "plan": {"code": billing.entitlements.plan_code, "name": billing.entitlements.plan_name},
        "status": status or "none",
        "subscription_id": sub.id if sub is not None else None,
        "current_period_end": period_end,
        "cancel_at_period_end": bool(data.get("cancel_at_period_end", False)),
        "trial_end": _ts(data.get("trial_end")),
        "grace_period_ends_at": past_due_grace_ends_at(data) if in_grace else None,
        "entitlements": asdict(billing.entitlements),
        "limits": limits,
        "exceeded_limits": exceeded,
    }


def billing_summary_for_user(*, user: Any) -> dict[str, Any]:
    """Everything staff need on a user's page: customer, subscription, entitlements, usage."""
    summary = subscription_summary(user=user)
    summary["customer_ids"] = list(
        Customer.objects.filter(subscriber_id=user.pk, date_purged__isnull=True).values_list("id", flat=True)
    )
    return summary


# ------------------------------------------------------------------------------------------------
# Catalogue and invoices
# ------------------------------------------------------------------------------------------------
def plan_list() -> list[tuple[Plan, Price | None]]:
    """Active plans with their (mirrored) Stripe price, in catalogue order. Two queries."""
    plans = list(Plan.objects.filter(active=True))
    keys = [p.stripe_price_lookup_key for p in plans if p.stripe_price_lookup_key]
    ids = [p.stripe_price_id for p in plans if p.stripe_price_id]
    prices: list[Price] = []
    if keys or ids:
        prices = list(
            Price.objects.filter(Q(lookup_key__in=keys) | Q(id__in=ids)).only("id", "lookup_key", "stripe_data")
        )
    by_id = {p.id: p for p in prices}
    by_key = {p.lookup_key: p for p in prices if p.lookup_key and p.stripe_data.get("active", True)}
    return [(plan, by_id.get(plan.stripe_price_id) or by_key.get(plan.stripe_price_lookup_key)) for plan in plans]


def plan_get_purchasable(*, code: str) -> Plan | None:
    return Plan.objects.filter(code=code, active=True).exclude(stripe_price_lookup_key="", stripe_price_id="").first()


def invoice_list_for_user(*, user: Any) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(customer__subscriber_id=user.pk)
        .only("djstripe_id", "id", "stripe_data", "created", "customer_id")
        .order_by("-created", "-djstripe_id")
    )


def customer_for_user(*, user: Any) -> Customer | None:
    return (
        Customer.objects.filter(subscriber_id=user.pk, date_purged__isnull=True, livemode=settings.STRIPE_LIVE_MODE)
        .order_by("djstripe_id")
        .first()
    )
