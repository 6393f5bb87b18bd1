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
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from djstripe.models import Customer, Invoice, Price, Product, Subscription, WebhookEventTrigger

from core import registry
from core.context import request_id_var

from . import stripe_data
from .entitlements import FREE, Entitlements
from .models import Plan, StripeErasure

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


def grace_days() -> int:
    return settings.BILLING_PAST_DUE_GRACE_DAYS


def past_due_grace_ends_at(sub: stripe_data.Subscription) -> datetime | None:
    """A renewal that fails leaves the subscription ``past_due`` from the start of the unpaid period."""
    since = sub.current_period_start or sub.created
    return since + timedelta(days=grace_days()) if since else None


def _is_entitling(sub: stripe_data.Subscription, now: datetime) -> bool:
    if sub.status in ENTITLED_STATUSES:
        return True
    if sub.status == "past_due":
        ends = past_due_grace_ends_at(sub)
        return ends is not None and now < ends
    return False


# ------------------------------------------------------------------------------------------------
# The user's subscription and plan
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurrentBilling:
    subscription: stripe_data.Subscription | None  # the one that decides the plan, or the latest one
    entitled: bool  # whether that subscription grants its plan now
    plan: Plan | None  # None only when the catalogue has no Free plan row
    entitlements: Entitlements


SUBSCRIPTIONS_READ = 20  # a user's newest subscriptions considered for the plan
_NO_DATE = datetime.min  # sorts a subscription without a date last, as the database does


def _subscriptions_for_user(user: Any) -> list[stripe_data.Subscription]:
    """The user's newest subscriptions (at most ``SUBSCRIPTIONS_READ``), newest first.

    Sorted here, not by the database, when there are no more than that (a user has a handful): the
    join's ORDER BY sorts through a temporary table, and one holding the JSON column is an on-disk
    table on MariaDB (0.5-2 ms of every entitlement check, docs/performance.md)."""
    qs = Subscription.objects.filter(
        customer__subscriber_id=user.pk, customer__date_purged__isnull=True, livemode=settings.STRIPE_LIVE_MODE
    )
    columns = ("created", "djstripe_id", "stripe_data")
    rows = list(qs.values_list(*columns)[: SUBSCRIPTIONS_READ + 1])
    if len(rows) > SUBSCRIPTIONS_READ:
        rows = list(qs.order_by("-created", "-djstripe_id").values_list(*columns)[:SUBSCRIPTIONS_READ])
    else:  # as ORDER BY created DESC, djstripe_id DESC: no date sorts last
        rows.sort(key=lambda row: (row[0] is not None, row[0] or _NO_DATE, row[1]), reverse=True)
    return [stripe_data.Subscription.from_stripe(data) for _, _, data in rows]


def current_billing(*, user: Any) -> CurrentBilling:
    """The subscription, plan and entitlements that apply to ``user`` now (two queries)."""
    if user is None or not getattr(user, "pk", None):
        return CurrentBilling(subscription=None, entitled=False, plan=None, entitlements=FREE)
    now = timezone.now()
    subscriptions = _subscriptions_for_user(user)
    chosen = next((s for s in subscriptions if s.status in ENTITLED_STATUSES), None)
    if chosen is None:
        chosen = next((s for s in subscriptions if _is_entitling(s, now)), None)
    entitled = chosen is not None
    if chosen is None and subscriptions:
        chosen = subscriptions[0]

    price_id, lookup_key = (chosen.price_id, chosen.price_lookup_key) if entitled and chosen else ("", "")
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
    in_grace = sub is not None and sub.status == "past_due" and billing.entitled
    limits, exceeded = limits_report(user=user, entitlements=billing.entitlements)
    return {
        "plan": {"code": billing.entitlements.plan_code, "name": billing.entitlements.plan_name},
        "status": (sub.status if sub is not None else None) or "none",
        "subscription_id": sub.id if sub is not None else None,
        "current_period_end": sub.current_period_end if sub is not None else None,
        "cancel_at_period_end": sub.cancel_at_period_end if sub is not None else False,
        "trial_end": sub.trial_end if sub is not None else None,
        "grace_period_ends_at": past_due_grace_ends_at(sub) if in_grace and sub is not None else None,
        "entitlements": asdict(billing.entitlements),
        "limits": limits,
        "exceeded_limits": exceeded,
    }


def customer_ids_for_user(*, user: Any) -> list[str]:
    """Stripe ids of the user's customers that are not purged (any mode)."""
    return list(Customer.objects.filter(subscriber_id=user.pk, date_purged__isnull=True).values_list("id", flat=True))


def billing_summary_for_user(*, user: Any) -> dict[str, Any]:
    """Everything staff need on a user's page: customer, subscription, entitlements, usage."""
    summary = subscription_summary(user=user)
    summary["customer_ids"] = customer_ids_for_user(user=user)
    return summary


def subscription_list_for_user(*, user: Any, limit: int = 10) -> list[stripe_data.Subscription]:
    """The user's Stripe subscriptions as mirrored (any mode or status), newest first."""
    rows = (
        Subscription.objects.filter(customer__subscriber=user)
        .order_by("-created")
        .values_list("stripe_data", flat=True)[:limit]
    )
    return [stripe_data.Subscription.from_stripe(data) for data in rows]


# ------------------------------------------------------------------------------------------------
# Catalogue and invoices
# ------------------------------------------------------------------------------------------------
def plan_list() -> list[tuple[Plan, stripe_data.Price | None]]:
    """Active plans with their (mirrored) Stripe price, in catalogue order. Two queries."""
    plans = list(Plan.objects.filter(active=True))
    keys = [p.stripe_price_lookup_key for p in plans if p.stripe_price_lookup_key]
    ids = [p.stripe_price_id for p in plans if p.stripe_price_id]
    prices: list[Price] = []
    if keys or ids:
        prices = list(
            Price.objects.filter(Q(lookup_key__in=keys) | Q(id__in=ids)).only("id", "lookup_key", "stripe_data")
        )
    parsed = [stripe_data.Price.from_stripe(p.stripe_data) for p in prices]
    by_id = {p.id: p for p in parsed}
    by_key = {p.lookup_key: p for p in parsed if p.lookup_key and p.active}
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


# ------------------------------------------------------------------------------------------------
# Figures for the staff dashboard
# ------------------------------------------------------------------------------------------------
ACTIVE_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due")
MONTHS_PER_INTERVAL = {
    "day": Decimal(365) / Decimal(12) / Decimal(1),
    "week": Decimal(52) / Decimal(12),
    "month": Decimal(1),
    "year": Decimal(1) / Decimal(12),
}


def _active_subscriptions() -> list[stripe_data.Subscription]:
    rows = Subscription.objects.filter(stripe_data__status__in=ACTIVE_SUBSCRIPTION_STATUSES).values_list(
        "stripe_data", flat=True
    )
    return [stripe_data.Subscription.from_stripe(data) for data in rows]


def _plan_label(price: stripe_data.Price | None, product_names: dict[str, str]) -> str:
    if price is None:
        return "unknown"
    return (
        price.product_name
        or product_names.get(price.product_id)
        or price.nickname
        or price.lookup_key
        or price.id
        or "unknown"
    )


def active_subscriptions_by_plan() -> list[tuple[str, int]]:
    """Active (and trialing, past due) subscriptions per plan (product name, else price nickname).
    Two queries: the subscriptions, the names of the products they point at."""
    prices = [sub.price for sub in _active_subscriptions()]
    product_ids = {p.product_id for p in prices if p is not None and p.product_id and not p.product_name}
    names = (
        dict(Product.objects.filter(id__in=product_ids).values_list("id", "stripe_data__name")) if product_ids else {}
    )
    counts = Counter(_plan_label(price, {k: v for k, v in names.items() if v}) for price in prices)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def monthly_recurring_revenue() -> list[tuple[str, Decimal]]:
    """MRR per currency in major units: each active item's recurring price normalised to a month."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for sub in _active_subscriptions():
        for item in sub.items:
            price = item.price
            amount = price.amount
            if amount is None or price.interval not in MONTHS_PER_INTERVAL:
                continue
            currency = (price.currency or "usd").lower()
            monthly = amount * item.quantity * MONTHS_PER_INTERVAL[price.interval] / Decimal(price.interval_count)
            totals[currency] += monthly / stripe_data.minor_units(currency)
    return sorted(((c.upper(), v.quantize(Decimal("0.01"))) for c, v in totals.items()), key=lambda kv: -kv[1])


def webhook_failures_filter() -> Q:
    """Stripe webhook triggers that were invalid, raised, or never processed."""
    return Q(processed=False) | ~Q(exception="") | Q(valid=False)


def failed_webhook_count(*, since: datetime) -> int:
    return WebhookEventTrigger.objects.filter(created__gte=since).filter(webhook_failures_filter()).count()


def failed_stripe_erasure_count(*, since: datetime) -> int:
    """Erasures requested since ``since`` whose Stripe side still fails."""
    return StripeErasure.objects.filter(completed_at__isnull=True, created_at__gte=since).exclude(last_error="").count()
