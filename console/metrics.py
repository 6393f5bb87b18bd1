"""Dashboard figures: each selector is a plain function returning data (see console.registry).

The built-in ones read what exists in every deployment (users, dj-stripe, console.TaskFailure);
apps that own other figures (AI tokens and cost, storage) register them under the same names.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from . import charts
from .registry import Metric, failure_sources, metrics, register_failure_source, register_metric

__all__ = ["register_metric", "register_failure_source", "dashboard_for"]

logger = logging.getLogger(__name__)

ACTIVE_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due")
# Stripe amounts are in the currency's smallest unit; these currencies have none below the unit.
ZERO_DECIMAL_CURRENCIES = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
MONTHS_PER_INTERVAL = {
    "day": Decimal(365) / Decimal(12) / Decimal(1),
    "week": Decimal(52) / Decimal(12),
    "month": Decimal(1),
    "year": Decimal(1) / Decimal(12),
}


def _days(days: int, today: date) -> list[date]:
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def signups_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int]]:
    """New accounts per UTC day over the last ``days`` days, today included (zeros filled in)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_day = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(start_day, datetime.min.time()))
    rows = (
        get_user_model()
        .objects.filter(date_joined__gte=start)
        .annotate(day=TruncDate("date_joined"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [(day, counts.get(day, 0)) for day in _days(days, today)]


def _ai_usage_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int, Decimal]]:
    """Tokens (input, output, cache reads and writes) and cost of assistant replies per UTC day."""
    from django.apps import apps
    from django.db.models import F, Sum

    Message = apps.get_model("assistant", "Message")
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(today - timedelta(days=days - 1), datetime.min.time()))
    rows = (
        Message.objects.filter(created_at__gte=start, role="assistant")
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            tokens=Sum(F("input_tokens") + F("output_tokens") + F("cache_read_tokens") + F("cache_creation_tokens")),
            cost=Sum("cost_usd"),
        )
        .order_by()
    )
    by_day = {row["day"]: (int(row["tokens"] or 0), Decimal(row["cost"] or 0)) for row in rows}
    return [(day, *by_day.get(day, (0, Decimal(0)))) for day in _days(days, today)]


def ai_tokens_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int]]:
    return [(day, tokens) for day, tokens, _ in _ai_usage_per_day(days=days, now=now)]


def ai_cost_per_day(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, Decimal]]:
    return [(day, cost.quantize(Decimal("0.0001"))) for day, _, cost in _ai_usage_per_day(days=days, now=now)]


def storage_used() -> int:
    """Bytes of every uploaded (ready) project file."""
    from django.apps import apps
    from django.db.models import Sum

    File = apps.get_model("projects", "File")
    return int(File.objects.filter(status="ready").aggregate(total=Sum("size"))["total"] or 0)


def _subscription_model() -> Any:
    from djstripe.models import Subscription

    return Subscription


def _price_of(item: dict) -> dict:
    return item.get("price") or item.get("plan") or {}


def _plan_label(price: dict, product_names: dict[str, str]) -> str:
    product = price.get("product")
    product_id = product.get("id") if isinstance(product, dict) else product
    if isinstance(product, dict) and product.get("name"):
        return str(product["name"])
    return (
        product_names.get(product_id or "")
        or price.get("nickname")
        or price.get("lookup_key")
        or price.get("id")
        or "unknown"
    )


def _active_subscription_items() -> tuple[list[dict], dict[str, str]]:
    """Items of active subscriptions from dj-stripe's stored Stripe data, and product names (2 queries)."""
    from djstripe.models import Product

    data = (
        _subscription_model()
        .objects.filter(stripe_data__status__in=ACTIVE_SUBSCRIPTION_STATUSES)
        .values_list("stripe_data", flat=True)
    )
    items = []
    for sub in data:
        for item in (sub.get("items") or {}).get("data") or []:
            items.append(item)
    product_ids = set()
    for item in items:
        product = _price_of(item).get("product")
        if isinstance(product, str):
            product_ids.add(product)
    names = (
        dict(Product.objects.filter(id__in=product_ids).values_list("id", "stripe_data__name")) if product_ids else {}
    )
    return items, {k: v for k, v in names.items() if v}


def active_subscriptions_by_plan() -> list[tuple[str, int]]:
    """Active (and trialing, past due) subscriptions per plan (product name, else price nickname)."""
    Subscription = _subscription_model()
    from djstripe.models import Product

    rows = Subscription.objects.filter(stripe_data__status__in=ACTIVE_SUBSCRIPTION_STATUSES).values_list(
        "stripe_data", flat=True
    )
    firsts = []
    for sub in rows:
        items = (sub.get("items") or {}).get("data") or []
        firsts.append(_price_of(items[0]) if items else (sub.get("plan") or {}))
    product_ids = {p.get("product") for p in firsts if isinstance(p.get("product"), str)}
    names = (
        dict(Product.objects.filter(id__in=product_ids).values_list("id", "stripe_data__name")) if product_ids else {}
    )
    counts = Counter(_plan_label(price, {k: v for k, v in names.items() if v}) for price in firsts)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def monthly_recurring_revenue() -> list[tuple[str, Decimal]]:
    """MRR per currency in major units: each active item's recurring price normalised to a month."""
    items, _ = _active_subscription_items()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        price = _price_of(item)
        recurring = price.get("recurring") or {}
        interval = recurring.get("interval") or price.get("interval")
        amount = price.get("unit_amount")
        if amount is None and price.get("unit_amount_decimal") is not None:
            amount = Decimal(str(price["unit_amount_decimal"]))
        if amount is None or interval not in MONTHS_PER_INTERVAL:
            continue
        count = Decimal(recurring.get("interval_count") or price.get("interval_count") or 1)
        quantity = Decimal(item.get("quantity") or 1)
        currency = (price.get("currency") or "usd").lower()
        minor = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal(100)
        totals[currency] += Decimal(amount) * quantity * MONTHS_PER_INTERVAL[interval] / count / minor
    return sorted(((c.upper(), v.quantize(Decimal("0.01"))) for c, v in totals.items()), key=lambda kv: -kv[1])


def failed_webhooks(*, since: datetime) -> Any:
    """Stripe webhook triggers received since ``since`` that were invalid, raised, or never processed."""
    from djstripe.models import WebhookEventTrigger

    return WebhookEventTrigger.objects.filter(created__gte=since).filter(
        Q(processed=False) | ~Q(exception="") | Q(valid=False)
    )


def failed_webhooks_24h(*, now: datetime | None = None) -> int:
    return failed_webhooks(since=(now or timezone.now()) - timedelta(hours=24)).count()


def failed_tasks_24h(*, now: datetime | None = None) -> list[tuple[str, int]]:
    """Failures in the last 24 h per source: recorded TaskFailures plus every registered source."""
    from .models import TaskFailure

    since = (now or timezone.now()) - timedelta(hours=24)
    rows = [("recorded tasks", TaskFailure.objects.filter(occurred_at__gte=since).count())]
    for name, fn in failure_sources().items():
        try:
            rows.append((name, int(fn(since))))
        except Exception:  # noqa: BLE001 — one broken source must not hide the others
            logger.exception("failure source %s raised", name)
    return rows


def register_builtin_metrics() -> None:
    register_metric(
        "signups_per_day", signups_per_day, title="Signups per day (30 days)", kind="series", unit="users", order=10
    )
    register_metric(
        "active_subscriptions_by_plan",
        active_subscriptions_by_plan,
        title="Active subscriptions by plan",
        kind="breakdown",
        unit="subscriptions",
        permission="console.view_billing_metrics",
        order=20,
        link="admin:djstripe_subscription_changelist",
    )
    register_metric(
        "mrr",
        monthly_recurring_revenue,
        title="Monthly recurring revenue",
        kind="value",
        permission="console.view_billing_metrics",
        order=30,
        help="Active, trialing and past-due subscriptions, each price normalised to a month.",
    )
    # Figures other apps own: read here when their models exist, else placeholders; an app that
    # registers the same name (in its AppConfig.ready, which runs before console's) keeps its own.
    has_assistant = _model_exists("assistant.Message")
    _builtin(
        "ai_tokens_per_day",
        ai_tokens_per_day if has_assistant else None,
        title="AI tokens per day",
        kind="series",
        chart="line",
        unit="tokens",
        order=40,
    )
    _builtin(
        "ai_cost_per_day",
        ai_cost_per_day if has_assistant else None,
        title="AI estimated cost per day",
        kind="series",
        unit="USD",
        order=50,
    )
    _builtin(
        "storage_used",
        storage_used if _model_exists("projects.File") else None,
        title="Storage used",
        kind="value",
        unit="bytes",
        order=60,
        help="Uploaded files (pending uploads not counted).",
    )
    register_metric(
        "failed_webhooks_24h",
        failed_webhooks_24h,
        title="Failed webhooks (24 h)",
        kind="value",
        order=70,
        link="admin:djstripe_webhookeventtrigger_changelist",
        link_query="status=failed",
    )
    register_metric(
        "failed_tasks_24h",
        failed_tasks_24h,
        title="Failed tasks (24 h)",
        kind="value",
        order=80,
        link="admin:console_taskfailure_changelist",
    )
    register_failure_source("stripe webhooks", lambda since: failed_webhooks(since=since).count())
    # Other apps' outboxes and retry queues, read defensively (no import: absent models count 0).
    register_failure_source(
        "email deliveries",
        lambda since: _count("notifications.EmailDelivery", status="failed", created_at__gte=since),
    )
    register_failure_source(
        "stripe erasures",
        lambda since: _count(
            "billing.StripeErasure", completed_at__isnull=True, created_at__gte=since, exclude={"last_error": ""}
        ),
    )


def _model_exists(label: str) -> bool:
    from django.apps import apps

    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def _builtin(name: str, fn: Any, **kwargs: Any) -> None:
    """Register a console default unless an app already registered a figure under ``name``."""
    from .registry import _metrics

    if name not in _metrics or _metrics[name].fn is None:
        register_metric(name, fn, **kwargs)


def _count(label: str, *, exclude: dict | None = None, **filters: Any) -> int:
    """Rows of ``label`` matching ``filters`` (0 when that app or model is not installed)."""
    from django.apps import apps

    try:
        model = apps.get_model(label)
    except LookupError:
        return 0
    return model.objects.filter(**filters).exclude(**(exclude or {})).count()


@dataclass
class Card:
    metric: Metric
    data: Any = None
    chart: dict | None = None
    total: Any = None
    state: str = "ok"  # ok | missing | error

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def href(self) -> str:
        link = self.metric.link
        if not link or link.startswith("/"):
            return link
        try:
            url = reverse(link)
        except NoReverseMatch:
            return ""
        return f"{url}?{self.metric.link_query}" if self.metric.link_query else url


def _card(metric: Metric) -> Card:
    if metric.fn is None:
        return Card(metric, state="missing")
    try:
        data = metric.fn()
    except Exception:  # noqa: BLE001 — one failing figure must not take the dashboard down
        logger.exception("dashboard metric %s failed", metric.name)
        return Card(metric, state="error")
    card = Card(metric, data=data)
    if metric.kind == "series":
        points = [(d.strftime("%b %d") if hasattr(d, "strftime") else str(d), v) for d, v in data]
        card.chart = charts.line_chart(points) if metric.chart == "line" else charts.bar_chart(points)
        card.total = sum(v for _, v in data)
    elif metric.kind == "breakdown":
        card.chart = charts.hbar_chart([(str(k), v) for k, v in data])
        card.total = sum(v for _, v in data)
    else:
        card.total = data if not isinstance(data, list) else None
    return card


def dashboard_for(user: Any) -> list[Card]:
    """The cards this staff member may see, each computed (errors isolated per card)."""
    return [_card(m) for m in metrics() if m.permission is None or user.has_perm(m.permission)]
